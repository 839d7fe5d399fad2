"""Extensions created bare and bound to the app in create_app."""
from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()


def rate_limit_key() -> str:
    """One citizen, not one backend: a trusted app backend forwards its citizen's device or account."""
    from feedback_app.services.clients import current_client

    client = current_client()
    if client.trusted:
        forwarded = request.headers.get("X-Device-Id") or request.headers.get("X-Account-Id")
        if forwarded:
            return f"{client.scope}:citizen:{forwarded[:128]}"
    return f"addr:{request.remote_addr or 'unknown'}"


limiter = Limiter(key_func=rate_limit_key, strategy="moving-window")


def _strict_arguments() -> None:
    """webargs would drop unknown query parameters; our schemas say RAISE, and webargs should listen."""
    from flask_smorest import Blueprint

    Blueprint.ARGUMENTS_PARSER.unknown = None


_strict_arguments()
