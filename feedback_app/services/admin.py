"""What admins read and set outside the workflow: accounts, API keys, agency settings, deliveries."""
from __future__ import annotations

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Agency, ApiClient, Delivery, StaffUser
from feedback_app.services.errors import NotFound


def list_users() -> list[StaffUser]:
    return list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.id)))


def get_user(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound()
    return user


def update_user(user: StaffUser, changes: dict) -> StaffUser:
    """Deactivating (or a new password) ends every session of the user: their tokens carry a generation."""
    from feedback_app.services.auth import set_password

    if "password" in changes:
        set_password(user, changes["password"])
    if "active" in changes and changes["active"] != user.active:
        user.active = changes["active"]
        user.token_generation += 1
    for key in ("display_name", "email"):
        if key in changes:
            setattr(user, key, changes[key])
    return user


def list_api_clients() -> list[ApiClient]:
    return list(db.session.scalars(sa.select(ApiClient).order_by(ApiClient.id)))


def update_agency_settings(code: str, changes: dict) -> Agency:
    """An agency's webhook (URL and HMAC secret), e-mail or state; nothing else of it changes here."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound()
    for key in ("webhook_url", "webhook_secret", "email", "active"):
        if key in changes:
            setattr(agency, key, changes[key])
    db.session.flush()
    return agency


def list_deliveries(*, status: str | None, page: int, page_size: int) -> list[Delivery]:
    """Newest first: what was sent, what is retrying, what failed and why."""
    statement = sa.select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id)
    if status:
        statement = statement.where(Delivery.status == status)
    return list(db.session.scalars(statement.limit(page_size).offset((page - 1) * page_size)))
