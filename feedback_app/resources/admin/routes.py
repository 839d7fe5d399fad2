"""Administration routes: admins only."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from feedback_app.extensions import db
from feedback_app.models import ApiClient, StaffUser
from feedback_app.resources.admin.schemas import (
    ApiKeyCreateSchema,
    ApiKeySchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)
from feedback_app.resources.common import transactional
from feedback_app.services import access, auth, clients
from feedback_app.services.errors import NotFound

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Staff accounts and API keys (admins).")
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
        return [_user_view(u) for u in db.session.scalars(sa.select(StaffUser).order_by(StaffUser.id))]

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
        user = db.session.get(StaffUser, user_id) if 0 < user_id < 2**31 else None
        if user is None:
            raise NotFound()
        if "password" in data:
            auth.set_password(user, data["password"])
        if "active" in data and data["active"] != user.active:
            user.active = data["active"]
            user.token_generation += 1
        if "display_name" in data:
            user.display_name = data["display_name"]
        if "email" in data:
            user.email = data["email"]
        return _user_view(user)


@blp.route("/apikeys")
class ApiKeys(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, ApiKeySchema(many=True))
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not an admin")
    def get(self):
        """Every API key (never the key itself)."""
        _admin()
        return db.session.scalars(sa.select(ApiClient).order_by(ApiClient.id)).all()

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
