"""The Phản Ánh service: create_app builds the Flask app from settings."""
from __future__ import annotations

import logging
from pathlib import Path

import redis
from flask import Flask, send_from_directory

from feedback_app.config import PROJECT_ROOT, load_settings
from feedback_app.extensions import api, db, limiter, migrate
from feedback_app.plumbing import FastJSONProvider, LazySessionInterface, ping_when_idle

log = logging.getLogger(__name__)


def _redis_url(app: Flask) -> str:
    if app.config["REDIS_URL"]:
        return app.config["REDIS_URL"]
    from feedback_app.embedded_redis import ensure_embedded_redis

    app.config["REDIS_URL"] = ensure_embedded_redis(app.config["INSTANCE_PATH"])
    return app.config["REDIS_URL"]


SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                    ("Referrer-Policy", "no-referrer"))


def _security_headers(response):
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}  # one pass, not one per header
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if response.status_code >= 400 and "cache-control" not in present:
        headers.add("Cache-Control", "no-store")
    return response


def create_app(config: dict | None = None) -> Flask:
    settings = load_settings(config)
    Path(settings["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.json = FastJSONProvider(app)
    app.session_interface = LazySessionInterface()
    app.config.update(settings)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    redis_url = _redis_url(app)
    # The app's own client, short timeouts: a dead Redis must slow nothing that does not need it.
    app.extensions["redis"] = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or redis_url
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 1, "socket_connect_timeout": 1})
    # Redis down must not stop intake: limits are kept in memory until it is back (feedback_app/ratelimit.py).

    db.init_app(app)
    if app.config["DB_PING_IDLE_SECONDS"] is not None and not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        with app.app_context():
            ping_when_idle(db.engine, app.config["DB_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    limiter.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme("ApiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    api.spec.components.security_scheme("BearerAuth", {"type": "http", "scheme": "bearer"})

    from feedback_app import models  # noqa: F401  (one metadata for Alembic)
    from feedback_app.errors import register_error_handlers
    from feedback_app.resources.admin.routes import blp as admin_blp
    from feedback_app.resources.auth.routes import blp as auth_blp
    from feedback_app.resources.calendar.routes import blp as calendar_blp
    from feedback_app.resources.directory.routes import blp as directory_blp
    from feedback_app.resources.feedback.routes import blp as feedback_blp
    from feedback_app.resources.open311.routes import blp as open311_blp
    from feedback_app.resources.reports.routes import blp as reports_blp
    from feedback_app.resources.system.routes import blp as system_blp
    from feedback_app.resources.triage.routes import blp as triage_blp

    api.register_blueprint(feedback_blp)
    api.register_blueprint(directory_blp)
    api.register_blueprint(auth_blp)
    api.register_blueprint(triage_blp)
    api.register_blueprint(admin_blp)
    api.register_blueprint(calendar_blp)
    api.register_blueprint(reports_blp)
    app.register_blueprint(system_blp)
    app.register_blueprint(open311_blp)  # GeoReport v2: its own formats and errors, outside the OpenAPI document
    limiter.exempt(system_blp)
    register_error_handlers(app)
    app.after_request(_security_headers)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename):
        import swagger_ui_bundle

        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)

    from feedback_app.dashboard.routes import bp as dashboard_bp

    app.register_blueprint(dashboard_bp)

    from feedback_app.cli import register_cli

    register_cli(app)
    return app
