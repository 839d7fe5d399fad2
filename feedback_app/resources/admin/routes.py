"""Administration routes: admins only."""
from __future__ import annotations

from flask.views import MethodView

from feedback_app.extensions import Blueprint
from feedback_app.models import StaffUser
from feedback_app.resources.admin.schemas import (
    AgencySettingsSchema,
    AgencyUpdateSchema,
    ApiKeyCreateSchema,
    ApiKeySchema,
    DeliveryQuerySchema,
    DeliverySchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)
from feedback_app.resources.common import transactional
from feedback_app.services import access, admin, auth, clients
from feedback_app.services.errors import NotFound

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Staff accounts, API keys, agency settings, deliveries (admins).")
SECURED = {"security": [{"BearerAuth": []}]}


def _admin():
    return access.require_staff(auth.current_staff(), "admin")


def _user_view(user: StaffUser) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "email": user.email,
            "role": user.role,
            "agency": user.agency.code if user.agency else None, "active": user.active,
            "locked_until": user.locked_until, "last_login_at": user.last_login_at}


@blp.route("/users")
class Users(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, UserSchema(many=True))
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    def get(self):
        """Every staff account."""
        _admin()
        return [_user_view(u) for u in admin.list_users()]

    @blp.doc(**SECURED)
    @blp.arguments(UserCreateSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    @blp.alt_response(409, description="Username taken")
    @transactional
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a staff account (officers and agency admins belong to an agency)."""
        _admin()
        user = auth.create_staff(username=data["username"], password=data["password"], role=data["role"],
                                 agency_code=data.get("agency"), display_name=data.get("display_name"),
                                 email=data.get("email"))
        return _user_view(user)


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(UserUpdateSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    @blp.alt_response(404, description="No such user")
    @transactional
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Deactivate, reactivate, rename, or set a new password (which ends every session of the user)."""
        _admin()
        return _user_view(admin.update_user(admin.get_user(user_id), data))


@blp.route("/apikeys")
class ApiKeys(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, ApiKeySchema(many=True))
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    def get(self):
        """Every API key (never the key itself)."""
        _admin()
        return admin.list_api_clients()

    @blp.doc(**SECURED)
    @blp.arguments(ApiKeyCreateSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    @blp.alt_response(409, description="Name taken")
    @transactional
    @blp.response(201, ApiKeySchema)
    def post(self, data):
        """Create an API key for a trusted client; the key is in this answer only."""
        _admin()
        client, raw = clients.create_api_client(name=data["name"], scopes=data["scopes"])
        return {"name": client.name, "key_prefix": client.key_prefix, "scopes": client.scopes,
                "created_at": client.created_at, "revoked_at": None, "api_key": raw}


@blp.route("/apikeys/<string:name>")
class ApiKeyByName(MethodView):
    @blp.doc(**SECURED)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    @blp.alt_response(404, description="No such key")
    @transactional
    @blp.response(204)
    def delete(self, name):
        """Revoke a key at once."""
        _admin()
        if clients.revoke_api_client(name=name) is None:
            raise NotFound()


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
        agency = admin.update_agency_settings(code, data)
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
        return admin.list_deliveries(status=query.get("status"), page=query["page"], page_size=query["page_size"])
