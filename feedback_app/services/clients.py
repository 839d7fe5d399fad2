"""Who is calling: an API client by its hashed key with scopes, or an anonymous caller."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context, request

from feedback_app.extensions import db
from feedback_app.models import ApiClient
from feedback_app.models.types import utcnow
from feedback_app.services.errors import Conflict, Unprocessable

KNOWN_SCOPES = ("intake", "open311", "triage", "reports", "admin")
KEY_PREFIX = "pak_"


@dataclass(frozen=True)
class Client:
    scope: str
    trusted: bool = False
    client_id: int | None = None
    name: str | None = None
    scopes: tuple[str, ...] = field(default_factory=tuple)


ANONYMOUS = Client(scope="anonymous")


def hash_key(raw_key: str) -> str:
    # Keys are 256 random bits: a fast hash is enough, a slow one would only cost every request.
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def create_api_client(*, name: str, scopes: list[str]) -> tuple[ApiClient, str]:
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown or not scopes:
        raise Unprocessable(errors={"scope": [f"known scopes: {', '.join(KNOWN_SCOPES)}"]})
    if db.session.scalar(sa.select(ApiClient.id).where(ApiClient.name == name)):
        raise Conflict(errors={"name": ["an API client with this name exists"]})
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, key_prefix=raw_key[:10], key_hash=hash_key(raw_key), scopes=list(scopes))
    db.session.add(client)
    db.session.flush()
    return client, raw_key


def revoke_api_client(*, name: str) -> ApiClient | None:
    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name))
    if client and client.revoked_at is None:
        client.revoked_at = utcnow()
        db.session.flush()
    forget_resolved_keys()
    return client


# Resolved keys, per process, for a few seconds: an app backend sends its key with every submission, and a
# database round trip per request for the same answer costs more than the rest of the lookup. A revocation
# clears this process's cache at once and reaches the other processes within API_KEY_CACHE_SECONDS.
# Unknown keys are never cached (a flood of random keys cannot grow it).
_RESOLVED: dict[str, tuple[float, Client]] = {}
_RESOLVED_MAX = 10_000
_clock = time.monotonic


def client_for_key(raw_key: str | None) -> Client | None:
    if not raw_key:
        return None
    digest = hash_key(raw_key)
    ttl = current_app.config.get("API_KEY_CACHE_SECONDS", 10) if has_app_context() else 0
    cached = _RESOLVED.get(digest)
    now = _clock()
    if cached is not None and cached[0] > now:
        return cached[1]
    row = db.session.scalar(
        sa.select(ApiClient).where(ApiClient.key_hash == digest, ApiClient.revoked_at.is_(None))
    )
    if row is None:
        _RESOLVED.pop(digest, None)
        return None
    client = Client(scope=f"client:{row.id}", trusted=True, client_id=row.id, name=row.name, scopes=tuple(row.scopes))
    if ttl > 0:
        if len(_RESOLVED) >= _RESOLVED_MAX:
            _RESOLVED.clear()
        _RESOLVED[digest] = (now + ttl, client)
    return client


def forget_resolved_keys() -> None:
    _RESOLVED.clear()


def current_client() -> Client:
    """Resolved once per request; an unknown key is treated as no key (the route decides if one is needed)."""
    if not has_request_context():
        return ANONYMOUS
    if "api_client" not in g:
        raw = request.headers.get("X-API-Key") or (request.args.get("api_key") if request.query_string else None)
        g.api_client = client_for_key(raw) or ANONYMOUS
        g.api_key_invalid = bool(raw) and g.api_client is ANONYMOUS
    return g.api_client


def authenticate_key(raw_key: str | None) -> Client:
    """Resolve the caller from a key sent outside the X-API-Key header (Open311 sends an `api_key` parameter)."""
    g.api_client = client_for_key(raw_key) or ANONYMOUS
    g.api_key_invalid = bool(raw_key) and g.api_client is ANONYMOUS
    return g.api_client
