"""Administration schemas: staff accounts, API keys, agency settings and deliveries."""
from __future__ import annotations

import marshmallow as ma

from feedback_app.models.staff import ROLES
from feedback_app.resources.fields import LocalDateTime, QueryText, StrictSchema
from feedback_app.services.clients import KNOWN_SCOPES


class UserCreateSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[a-zA-Z0-9_.-]{3,64}$"))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(10, 200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    agency = ma.fields.String(validate=ma.validate.Length(1, 64))
    display_name = ma.fields.String(validate=ma.validate.Length(1, 200))
    email = ma.fields.Email(validate=ma.validate.Length(max=320))


class UserUpdateSchema(StrictSchema):
    active = ma.fields.Boolean()
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(10, 200))
    display_name = ma.fields.String(validate=ma.validate.Length(1, 200))
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=320))


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    agency = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    locked_until = LocalDateTime(allow_none=True)
    last_login_at = LocalDateTime(allow_none=True)


class ApiKeyCreateSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[a-zA-Z0-9_.-]{3,100}$"))
    scopes = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(KNOWN_SCOPES)), required=True,
                            validate=ma.validate.Length(1, len(KNOWN_SCOPES)))


class ApiKeySchema(ma.Schema):
    name = ma.fields.String()
    key_prefix = ma.fields.String()
    scopes = ma.fields.List(ma.fields.String())
    created_at = LocalDateTime()
    revoked_at = LocalDateTime(allow_none=True)
    api_key = ma.fields.String(metadata={"description": "Only in the answer to its creation: shown once."})


class AgencyUpdateSchema(StrictSchema):
    webhook_url = ma.fields.Url(allow_none=True, require_tld=False, schemes={"http", "https"},
                                validate=ma.validate.Length(max=2000))
    webhook_secret = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=16, max=200), load_only=True)
    email = ma.fields.Email(allow_none=True)
    active = ma.fields.Boolean()


class AgencySettingsSchema(ma.Schema):
    code = ma.fields.String()
    webhook_url = ma.fields.String(allow_none=True)
    has_webhook_secret = ma.fields.Boolean()
    email = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()


class DeliveryQuerySchema(StrictSchema):
    status = QueryText(validate=ma.validate.OneOf(("pending", "sending", "sent", "failed")))
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 100_000))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, 100))


class DeliverySchema(ma.Schema):
    id = ma.fields.String()
    topic = ma.fields.String()
    channel = ma.fields.String()
    target = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    created_at = LocalDateTime()
    sent_at = LocalDateTime(allow_none=True)
    claimed_at = LocalDateTime(allow_none=True)  # 'sending': when a worker took it (see DELIVERY_LEASE_SECONDS)
