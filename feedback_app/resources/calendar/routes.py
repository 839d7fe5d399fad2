"""Admin API for decreed days off and make-up working days."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from feedback_app.extensions import Blueprint
from feedback_app.resources.common import transactional
from feedback_app.resources.fields import StrictSchema
from feedback_app.services import access, auth, calendar_admin
from feedback_app.services.errors import NotFound

blp = Blueprint("calendar", __name__, url_prefix="/api/v1/admin", description="The working calendar: decreed days off and make-up days (admins).")
SECURED = {"security": [{"BearerAuth": []}]}


class CalendarDaySchema(StrictSchema):
    day = ma.fields.Date(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(calendar_admin.KINDS))
    note = ma.fields.String(validate=ma.validate.Length(max=200), allow_none=True)


class CalendarQuerySchema(StrictSchema):
    year = ma.fields.Integer(validate=ma.validate.Range(2000, 2100))


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
