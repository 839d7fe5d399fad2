"""POST /api/v1/auth/token: a username and password for an expiring bearer token."""
from __future__ import annotations

from flask.views import MethodView

from feedback_app.extensions import Blueprint, db, rate_limit
from feedback_app.resources.auth.schemas import TokenRequestSchema, TokenSchema
from feedback_app.services import auth
from feedback_app.services.errors import DomainError

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff sign-in.")


@blp.route("/token")
class Token(MethodView):
    @rate_limit("30 per minute")
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    @blp.alt_response(423, description="Locked after repeated failures")
    @blp.alt_response(429, description="Slow down: wait Retry-After seconds")
    def post(self, credentials):
        """Trade a username and password for a bearer token that expires."""
        try:
            token = auth.login(**credentials)
        except DomainError:
            db.session.commit()  # the failure count must survive the refusal
            raise
        db.session.commit()
        return token
