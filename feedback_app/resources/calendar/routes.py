"""Admin API for decreed days off and make-up working days, and agencies' notification settings."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from feedback_app.extensions import db
from feedback_app.resources.common import transactional
from feedback_app.resources.fields import LocalDateTime, QueryText, StrictSchema
from feedback_app.services import access, auth, calendar_admin
from feedback_app.services.errors import NotFound

blp = Blueprint("calendar", __name__, url_prefix="/api/v1/admin", description="Calendar and agency settings (admins).")
SECURED = {"security": [{"BearerAuth": []}]}


class CalendarDaySchema(StrictSchema):
    day = ma.fields.Date(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(calendar_admin.KINDS))
    note = ma.fields.String(validate=ma.validate.Length(max=200), allow_none=True)


class CalendarQuerySchema(StrictSchema):
    year = ma.fields.Integer(validate=ma.validate.Range(2000, 2100))


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
    status = QueryText(validate=ma.validate.OneOf(("pending", "sent", "failed")))
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


def _admin():
    return access.require_staff(auth.current_staff(), "admin")


@blp.route("/calendar")
class CalendarDays(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, CalendarDaySchema(many=True))
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    def get(self, query):
        """Decreed days off and make-up working days."""
        _admin()
        return calendar_admin.list_days(query.get("year"))

    @blp.doc(**SECURED)
    @blp.arguments(CalendarDaySchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    @transactional
    @blp.response(201, CalendarDaySchema)
    def post(self, data):
        """Declare a day off or a make-up working day (deadlines computed from now on use it)."""
        _admin()
        return calendar_admin.set_day(**data)


@blp.route("/calendar/<string:day>")
class CalendarDayByDate(MethodView):
    @blp.doc(**SECURED)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    @blp.alt_response(404, description="No such decreed day")
    @transactional
    @blp.response(204)
    def delete(self, day):
        """Remove a decreed day."""
        _admin()
        try:
            parsed = ma.fields.Date().deserialize(day)
        except ma.ValidationError:
            raise NotFound() from None
        calendar_admin.remove_day(parsed)


@blp.route("/agencies/<string:code>")
class AgencySettings(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(AgencyUpdateSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    @blp.alt_response(404, description="No such agency")
    @transactional
    @blp.response(200, AgencySettingsSchema)
    def patch(self, data, code):
        """Set an agency's webhook (URL and HMAC secret), e-mail or state."""
        _admin()
        import sqlalchemy as sa

        from feedback_app.models import Agency

        agency = db.session.scalar(sa.select(Agency).where(Agency.code == code))
        if agency is None:
            raise NotFound()
        for key, value in data.items():
            setattr(agency, key, value)
        return {"code": agency.code, "webhook_url": agency.webhook_url, "has_webhook_secret": bool(agency.webhook_secret),
                "email": agency.email, "active": agency.active}


@blp.route("/deliveries")
class Deliveries(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    def get(self, query):
        """Notification deliveries, newest first: what was sent, what is retrying, what failed and why."""
        _admin()
        import sqlalchemy as sa

        from feedback_app.models import Delivery

        statement = sa.select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id)
        if query.get("status"):
            statement = statement.where(Delivery.status == query["status"])
        page, size = query["page"], query["page_size"]
        return db.session.scalars(statement.limit(size).offset((page - 1) * size)).all()
