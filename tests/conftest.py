"""Fixtures: one migrated database per run (SQLite by default, PostgreSQL when DATABASE_URL says so)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback_app.config import PROJECT_ROOT

DEMO_DIRECTORY = PROJECT_ROOT / "feedback_app" / "seed" / "bac_ninh.yaml"
# Rows a test may create; the directory stays loaded for the whole run.
PER_TEST_TABLES = [
    "report_exports", "report_rollups", "report_rollups_monthly", "report_rollup_days", "report_rollup_state",
    "deliveries", "clock_alerts", "attachments", "item_contacts", "item_events", "outbox_messages", "feedback_items",
    "idempotency_records", "api_clients", "classifier_models", "staff_users", "calendar_days",
]


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def app_config(instance_path) -> dict:
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'test.db'}"
    if database_url.startswith("postgresql"):
        _reset_postgres(database_url)
    return {
        "INSTANCE_PATH": str(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_SUBMIT": "10000 per minute",
        "UPLOAD_DIR": str(instance_path / "uploads"),
        "MODEL_DIR": str(instance_path / "models"),
        # Cheap hashes in tests only: the suite signs in hundreds of times.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
    }


@pytest.fixture(scope="session")
def app(app_config):
    from flask_migrate import upgrade

    from feedback_app import create_app
    from feedback_app.extensions import db
    from feedback_app.services.directory_loader import load_directory

    app = create_app(app_config)
    redis_client = app.extensions["redis"]
    if os.environ.get("REDIS_URL"):
        redis_client.flushdb()
    with app.app_context():
        upgrade()
        load_directory(DEMO_DIRECTORY.read_text(encoding="utf-8"), source=str(DEMO_DIRECTORY))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if not os.environ.get("REDIS_URL"):
        from feedback_app.embedded_redis import stop_embedded_redis

        stop_embedded_redis(app.config["INSTANCE_PATH"], save=False)  # each run's own redis-server, not left behind


@pytest.fixture(autouse=True)
def _clean_rows(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from feedback_app.extensions import db, limiter
    from feedback_app.services.classification import active_model

    with app.app_context():
        db.session.rollback()
        for table in PER_TEST_TABLES:
            db.session.execute(sa.text(f"DELETE FROM {table}"))
        db.session.commit()
        active_model.reset()
    limiter.reset(app)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def db_session(app_ctx):
    from feedback_app.extensions import db

    yield db.session
    db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api_key(app):
    """A trusted app-backend key with the intake scope."""
    from feedback_app.extensions import db
    from feedback_app.services.clients import create_api_client

    with app.app_context():
        _, raw = create_api_client(name="mobile-backend", scopes=["intake"])
        db.session.commit()
    return raw


PASSWORD = "correct horse battery"


@pytest.fixture
def make_staff(app, client):
    """Create a staff account and sign it in through the real endpoint: returns its Authorization header."""
    from feedback_app.extensions import db
    from feedback_app.services.auth import create_staff

    def make(username: str, role: str, agency: str | None = None) -> dict:
        with app.app_context():
            create_staff(username=username, password=PASSWORD, role=role, agency_code=agency)
            db.session.commit()
        response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    return make


def process_env(app, **extra) -> dict:
    """The environment a subprocess of the app needs to share this run's database, Redis and instance."""
    return {**os.environ, "INSTANCE_PATH": app.config["INSTANCE_PATH"], "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"], "SECRET_KEY": "test-secret", "FLASK_APP": "wsgi.py",
            "LOG_LEVEL": "WARNING", **extra}
