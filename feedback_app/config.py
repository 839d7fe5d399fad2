"""Settings from the environment, with embedded defaults that make one command enough on a laptop."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _float_or_none(value: str) -> float | None:
    return None if value.strip().lower() in {"", "none", "off"} else float(value)


MIN_DELIVERY_LEASE_SECONDS = 30


def instance_path() -> Path:
    """INSTANCE_PATH, or instance/ in the checkout: where the embedded defaults live."""
    return Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()


def _secret_key(env: str, instance: Path) -> str:
    """Production must be given a key; development keeps one generated key under instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise RuntimeError("SECRET_KEY must be set when APP_ENV=production")
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings(overrides: dict | None = None) -> dict:
    """Read every setting once; `overrides` (tests, tools) win over the environment."""
    overrides = dict(overrides or {})
    env = overrides.get("APP_ENV") or os.environ.get("APP_ENV", "development")
    instance = Path(overrides.get("INSTANCE_PATH") or instance_path())
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'feedback.db'}"
    settings = {
        "APP_ENV": env,
        "INSTANCE_PATH": str(instance),
        "DEBUG": env == "development" and _bool(os.environ.get("FLASK_DEBUG"), False),
        "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # None means: start (or reuse) the embedded Redis under instance/.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # None means: REDIS_URL. "memory://" keeps the counts in each process.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or None,
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(instance / "uploads"),
        "MODEL_DIR": os.environ.get("MODEL_DIR") or str(instance / "models"),
        "UPLOAD_MAX_BYTES": int(os.environ.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)),
        "UPLOAD_MAX_FILES": int(os.environ.get("UPLOAD_MAX_FILES", 5)),
        # Five 10 MB files plus the form fields; anything larger is refused before it is read.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 52 * 1024 * 1024)),
        "RATELIMIT_ENABLED": _bool(os.environ.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_SUBMIT": os.environ.get("RATELIMIT_SUBMIT", "10 per minute;100 per day"),
        "RATELIMIT_DEFAULT": os.environ.get("RATELIMIT_DEFAULT", "300 per minute"),
        "RATELIMIT_HEADERS_ENABLED": _bool(os.environ.get("RATELIMIT_HEADERS_ENABLED"), True),
        "IDEMPOTENCY_TTL_HOURS": int(os.environ.get("IDEMPOTENCY_TTL_HOURS", 48)),
        "IDEMPOTENCY_LOCK_SECONDS": int(os.environ.get("IDEMPOTENCY_LOCK_SECONDS", 60)),
        # A worker's claim on a delivery: another job takes the key only after this (a worker killed mid-POST).
        # Well above the webhook's timeouts (5 s to connect, 5 s to read), so that a live claim is never taken.
        "DELIVERY_LEASE_SECONDS": int(os.environ.get("DELIVERY_LEASE_SECONDS", 60)),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        # How long a process trusts an API key it has looked up (a revocation reaches every process within it).
        "API_KEY_CACHE_SECONDS": int(os.environ.get("API_KEY_CACHE_SECONDS", 10)),
        # How long a process trusts a staff token's account it has looked up (deactivation through this process
        # is immediate; one made elsewhere reaches every process within it). 0: look up on every request.
        "STAFF_TOKEN_CACHE_SECONDS": int(os.environ.get("STAFF_TOKEN_CACHE_SECONDS", 10)),
        # Open311 GeoReport v2 (/open311/v2): the one jurisdiction served, what discovery tells clients,
        # and whether an Open311 submission is published (GeoReport v2 shows every request's description).
        "OPEN311_JURISDICTION": os.environ.get("OPEN311_JURISDICTION", "bacninh.gov.vn"),
        "OPEN311_CONTACT": os.environ.get(
            "OPEN311_CONTACT", "Phản Ánh, Bắc Ninh province: ask the province's IT desk about this API."),
        "OPEN311_KEY_SERVICE": os.environ.get(
            "OPEN311_KEY_SERVICE", "API keys with the open311 scope are issued by the province's IT desk."),
        "OPEN311_ENDPOINT_TYPE": os.environ.get("OPEN311_ENDPOINT_TYPE")
        or ("production" if env == "production" else "test"),
        "OPEN311_CONSENT_PUBLIC": _bool(os.environ.get("OPEN311_CONSENT_PUBLIC"), True),
        "TIMEZONE": "Asia/Ho_Chi_Minh",
        "DEFAULT_LANGUAGE": os.environ.get("DEFAULT_LANGUAGE", "vi"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # flask-smorest / OpenAPI
        "API_TITLE": "Phản Ánh API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        # Swagger UI assets are served from our own static folder: no CDN.
        "OPENAPI_SWAGGER_UI_URL": os.environ.get("OPENAPI_SWAGGER_UI_URL", "/api/docs/assets/"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Where pool_pre_ping is off (PostgreSQL's default here), a pooled connection that sat idle longer
        # than this is pinged before use ("off": never).
        "DB_PING_IDLE_SECONDS": _float_or_none(os.environ.get("DB_PING_IDLE_SECONDS", "2")),
        "JSON_SORT_KEYS": False,
        # The dashboard's signed session cookie: no script reads it, no other site sends it,
        # HTTPS only in production unless SESSION_COOKIE_SECURE=0 says otherwise; it lives as long as the token.
        "TOKEN_TTL_MINUTES": int(os.environ.get("TOKEN_TTL_MINUTES", 480)),
        "SESSION_COOKIE_NAME": "phananh_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), env == "production"),
    }
    settings.update(overrides)
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
            # Pinged only after sitting idle (plumbing.ping_when_idle), not on every checkout.
            "pool_pre_ping": False,
            "pool_size": int(os.environ.get("DB_POOL_SIZE", 10)),
            "max_overflow": int(os.environ.get("DB_MAX_OVERFLOW", 10)),
            "pool_recycle": 1800,
        }
    settings["SECRET_KEY"] = settings.get("SECRET_KEY") or _secret_key(
        settings["APP_ENV"], Path(settings["INSTANCE_PATH"])
    )
    if settings["APP_ENV"] == "production":
        settings["DEBUG"] = False
    # A lease shorter than a send can last (a webhook's 5 s + 5 s, an e-mail's 10 s timeouts) would let a
    # second job take a key while the first is still sending: refused at start rather than found as doubles.
    if int(settings["DELIVERY_LEASE_SECONDS"]) < MIN_DELIVERY_LEASE_SECONDS:
        raise RuntimeError(f"DELIVERY_LEASE_SECONDS must be at least {MIN_DELIVERY_LEASE_SECONDS}: a shorter lease "
                           "could expire while a worker is still sending")
    settings.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(minutes=settings["TOKEN_TTL_MINUTES"]))
    return settings
