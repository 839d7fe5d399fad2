"""What an Open311 client may send: the spec's form fields for a request, and the query of GET requests."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import marshmallow as ma

from feedback_app.resources.feedback.schemas import PHONE
from feedback_app.resources.fields import VIETNAM, StrictSchema

# attribute[CODE]=value, and attribute[CODE][]=value once per value of a multivaluelist.
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class CommaList(ma.fields.Field):
    """The spec's 'comma delimited' parameter: a,b,c."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Not a valid comma-separated list.")
        return [part.strip() for part in value.split(",") if part.strip()]


class W3CDateTime(ma.fields.Field):
    """A w3 date-time (2010-01-01T00:00:00Z, or with an offset); without one, Vietnam's time is meant."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Not a valid date-time.")
        # An unencoded '+' in a query string arrives as a space: 2010-01-01T00:00:00 07:00.
        value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ma.ValidationError("Not a valid w3 date-time, e.g. 2010-01-01T00:00:00Z.") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=VIETNAM)
        return parsed.astimezone(timezone.utc)


class Open311Schema(StrictSchema):
    @ma.pre_load
    def _empty_is_absent(self, data, **kwargs):
        # The spec: "a null parameter should be treated as equivalent to a non-declared parameter".
        return {key: value for key, value in data.items() if value not in ("", None, [])}


class RequestCreateSchema(Open311Schema):
    """POST requests: the spec's fields, checked as strictly as the native intake checks its own."""

    jurisdiction_id = ma.fields.String(load_only=True)
    api_key = ma.fields.String(load_only=True)
    service_code = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    lat = ma.fields.Float(validate=ma.validate.Range(-90, 90), allow_nan=False)
    long = ma.fields.Float(validate=ma.validate.Range(-180, 180), allow_nan=False)
    address_string = ma.fields.String(validate=ma.validate.Length(max=500))
    address_id = ma.fields.String(validate=ma.validate.Length(1, 32))
    email = ma.fields.Email(validate=ma.validate.Length(max=320))
    device_id = ma.fields.String(validate=ma.validate.Length(max=128))
    account_id = ma.fields.String(validate=ma.validate.Length(max=128))
    first_name = ma.fields.String(validate=ma.validate.Length(max=99))
    last_name = ma.fields.String(validate=ma.validate.Length(max=100))
    phone = ma.fields.String(validate=ma.validate.Regexp(PHONE, error="Not a valid phone number."))
    description = ma.fields.String(validate=ma.validate.Length(max=4000))
    media_url = ma.fields.Url(schemes={"http", "https"}, require_tld=False, validate=ma.validate.Length(max=2000))
    attributes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))

    @ma.pre_load
    def _collect_attributes(self, data, **kwargs):
        fields, answers = {}, {}
        for key, value in data.items():
            match = ATTRIBUTE_KEY.match(key)
            if match is None:
                fields[key] = value
            else:
                given = [v for v in (value if isinstance(value, list) else [value]) if v not in ("", None)]
                if given:  # an empty answer is no answer
                    answers.setdefault(match.group(1), []).extend(given)
        if answers:
            fields["attributes"] = answers
        return fields

    @ma.validates_schema
    def _location(self, data, **kwargs):
        if ("lat" in data) != ("long" in data):
            raise ma.ValidationError("lat and long go together.", "lat")
        if "lat" not in data and not data.get("address_string") and not data.get("address_id"):
            raise ma.ValidationError("A location is required: lat and long, address_string or address_id.", "location")


class RequestsQuerySchema(Open311Schema):
    """GET requests. Parameters the spec does not know are ignored: clients send their own extensions."""

    class Meta(StrictSchema.Meta):
        unknown = ma.EXCLUDE

    service_request_id = CommaList(validate=ma.validate.Length(max=1000))
    service_code = CommaList(validate=ma.validate.Length(max=100))
    start_date = W3CDateTime()
    end_date = W3CDateTime()
    status = CommaList(validate=ma.validate.ContainsOnly(("open", "closed")))
    updated_after = W3CDateTime()
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 100_000))
    page_size = ma.fields.Integer(load_default=1000, validate=ma.validate.Range(1, 1000))
