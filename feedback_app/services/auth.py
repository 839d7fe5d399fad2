"""Staff authentication: argon2 hashes, expiring signed bearer tokens, slow-down then lock after failures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, has_request_context, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from feedback_app.extensions import db
from feedback_app.models import Agency, StaffUser
from feedback_app.models.staff import AGENCY_ROLES, ROLES
from feedback_app.models.types import utcnow
from feedback_app.services.errors import Conflict, DomainError, Unauthorized, Unprocessable

_hashers: dict[tuple[int, int], PasswordHasher] = {}


def hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106 low-memory profile) unless settings say otherwise."""
    config = current_app.config
    key = (config.get("ARGON2_TIME_COST", 3), config.get("ARGON2_MEMORY_COST", 65536))
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return _hashers[key]


_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    h = hasher()
    if id(h) not in _dummy_hashes:
        _dummy_hashes[id(h)] = h.hash("not a password")
    return _dummy_hashes[id(h)]
SLOW_DOWN_AFTER = 3
LOCK_AFTER = 10
LOCK_MINUTES = 15
TOKEN_SALT = "staff-token"


class TooManyAttempts(DomainError):
    status = 429
    message_key = "login_slow_down"


class AccountLocked(DomainError):
    status = 423
    message_key = "account_locked"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    token_type: str = "Bearer"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def token_ttl() -> timedelta:
    return timedelta(minutes=current_app.config.get("TOKEN_TTL_MINUTES", 480))


def validate_password(password: str) -> None:
    if len(password) < 10:
        raise Unprocessable(errors={"password": ["at least 10 characters"]})


def create_staff(*, username: str, password: str, role: str, agency_code: str | None = None,
                 display_name: str | None = None, email: str | None = None) -> StaffUser:
    if role not in ROLES:
        raise Unprocessable(errors={"role": [f"one of {', '.join(ROLES)}"]})
    agency = None
    if role in AGENCY_ROLES:
        if not agency_code:
            raise Unprocessable(errors={"agency": [f"a {role} belongs to an agency"]})
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise Unprocessable(errors={"agency": [f"unknown agency '{agency_code}'"]})
    elif agency_code:
        raise Unprocessable(errors={"agency": [f"a {role} does not belong to an agency"]})
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.username == username)):
        raise Conflict(errors={"username": ["taken"]})
    validate_password(password)
    user = StaffUser(username=username, password_hash=hasher().hash(password), role=role,
                     agency_id=agency.id if agency else None, display_name=display_name, email=email)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    validate_password(password)
    user.password_hash = hasher().hash(password)
    user.token_generation += 1  # every token issued before is dead
    user.failed_logins, user.locked_until = 0, None


def _wait_seconds(failures: int) -> int:
    """Each failure past the third doubles the wait before the next try (1, 2, 4 ... 60 s)."""
    return 0 if failures < SLOW_DOWN_AFTER else min(60, 2 ** (failures - SLOW_DOWN_AFTER))


def login(*, username: str, password: str) -> IssuedToken:
    """Trade a password for a token. Failures are committed by the caller even though login fails."""
    now = utcnow()
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.username == username).with_for_update())
    if user is None or not user.active:
        try:  # the same work as a real check, so timing does not reveal which usernames exist
            hasher().verify(_dummy_hash(), password)
        except VerificationError:
            pass
        raise Unauthorized("login_failed")
    if user.locked_until and user.locked_until > now:
        raise AccountLocked(retry_after=int((user.locked_until - now).total_seconds()) + 1)
    if user.locked_until:
        # The lock has run out: one fresh try now, and the next failure slows down at once.
        user.locked_until, user.last_failed_at, user.failed_logins = None, None, SLOW_DOWN_AFTER - 1
    wait = _wait_seconds(user.failed_logins)
    if wait and user.last_failed_at and user.last_failed_at + timedelta(seconds=wait) > now:
        raise TooManyAttempts(retry_after=wait)
    try:
        hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        user.last_failed_at = now
        if user.failed_logins >= LOCK_AFTER:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        raise Unauthorized("login_failed") from None
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hasher().hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    expires_at = now + token_ttl()
    token = _serializer().dumps({"u": user.id, "g": user.token_generation})
    return IssuedToken(access_token=token, expires_at=expires_at)


def staff_for_token(token: str) -> StaffUser | None:
    try:
        claims = _serializer().loads(token, max_age=int(token_ttl().total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(claims, dict):
        return None
    user = db.session.get(StaffUser, claims.get("u"))
    if user is None or not user.active or user.token_generation != claims.get("g"):
        return None
    return user


def current_staff() -> StaffUser | None:
    if not has_request_context():
        return None
    if "staff_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        g.staff_user = staff_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    return g.staff_user
