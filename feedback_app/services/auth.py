"""Staff authentication: argon2 hashes, expiring signed bearer tokens, slow-down then lock after failures."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, has_request_context, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import make_transient_to_detached

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


def _claims(token: str) -> dict | None:
    try:
        claims = _serializer().loads(token, max_age=int(token_ttl().total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    return claims if isinstance(claims, dict) else None


def staff_for_token(token: str) -> StaffUser | None:
    claims = _claims(token)
    if claims is None:
        return None
    user = db.session.get(StaffUser, claims.get("u"))
    if user is None or not user.active or user.token_generation != claims.get("g"):
        return None
    return user


# Accounts whose token was valid, per process, for a few seconds: every staff request starts with the same
# look-up of its user, a round trip for an answer that rarely changes. Keyed by user id and token generation;
# kept only for an active account whose generation matched. A password change, a deactivation (both bump the
# generation), a new account or any other change of a staff row written through this process's ORM clears it
# at once; a change made by another process (or by hand in the database) reaches this one within
# STAFF_TOKEN_CACHE_SECONDS (default 10; 0 turns the cache off). An expired token is refused at once: its
# signature's age is checked on every request, cached or not.
_VALID: dict[tuple[int, int], tuple[float, int | None, str]] = {}
_VALID_MAX = 10_000
_clock = time.monotonic


def forget_valid_tokens(*_args) -> None:
    _VALID.clear()


for _change in ("after_insert", "after_update", "after_delete"):
    sa.event.listen(StaffUser, _change, forget_valid_tokens)


def _attached(user_id: int, agency_id: int | None, role: str) -> StaffUser:
    """The account as a persistent object of this request's session, without a SELECT: its id, role and agency
    (what authorisation reads) are set; every other column is expired, loaded fresh from the database on first
    use (an admin's view of themself, a password change)."""
    session = db.session()
    key = session.identity_key(StaffUser, user_id)
    user = session.identity_map.get(key)
    if user is not None:
        return user
    user = StaffUser.__mapper__.class_manager.new_instance()
    user.__dict__.update(id=user_id, role=role, agency_id=agency_id)
    make_transient_to_detached(user)
    session.add(user)
    return user


def cached_staff_for_token(token: str) -> StaffUser | None:
    """`staff_for_token`, with a valid account trusted for STAFF_TOKEN_CACHE_SECONDS (see `_VALID`)."""
    claims = _claims(token)
    if claims is None:
        return None
    user_id, generation = claims.get("u"), claims.get("g")
    ttl = current_app.config.get("STAFF_TOKEN_CACHE_SECONDS", 10)
    now = _clock()
    cached = _VALID.get((user_id, generation))
    if cached is not None and cached[0] > now:
        return _attached(user_id, cached[1], cached[2])
    user = staff_for_token(token)
    if user is not None and ttl > 0:
        if len(_VALID) >= _VALID_MAX:
            _VALID.clear()
        _VALID[(user_id, generation)] = (now + ttl, user.agency_id, user.role)
    return user


def current_staff() -> StaffUser | None:
    if not has_request_context():
        return None
    if "staff_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        g.staff_user = cached_staff_for_token(token) if scheme.lower() == "bearer" and token else None
    return g.staff_user
