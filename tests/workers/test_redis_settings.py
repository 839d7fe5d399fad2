"""Redis and PostgreSQL settings that fit a queue are checked at start: a warning for each one that does not fit."""
from __future__ import annotations

import logging
import os

import pytest

from workers.queues import redis_settings_warnings, warn_about_redis_settings


def _config(connection, name):
    value = connection.config_get(name)
    value = next(iter(value.values()))
    return value.decode() if isinstance(value, bytes) else value


def test_warnings_match_the_settings_found(app):
    from workers.queues import rq_connection

    with app.app_context():
        connection = rq_connection()
        warnings = redis_settings_warnings(connection)
        assert any("appendonly" in w for w in warnings) == (_config(connection, "appendonly") != "yes")
        assert any("noeviction" in w for w in warnings) == (_config(connection, "maxmemory-policy") != "noeviction")


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="changes settings: only on this run's own embedded Redis")
def test_a_misconfigured_redis_is_named(app, caplog):
    from workers.queues import rq_connection

    with app.app_context():
        connection = rq_connection()
        assert redis_settings_warnings(connection) == []  # the embedded Redis is set up as a queue
        connection.config_set("maxmemory-policy", "allkeys-lru")
        try:
            with caplog.at_level(logging.WARNING):
                warnings = warn_about_redis_settings(connection, logging.getLogger("workers"))
        finally:
            connection.config_set("maxmemory-policy", "noeviction")
        assert len(warnings) == 1 and "allkeys-lru" in warnings[0]
        assert "allkeys-lru" in caplog.text


def test_an_unreachable_redis_is_a_warning_not_a_crash():
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    warnings = warn_about_redis_settings(dead, logging.getLogger("workers"))
    assert warnings and "not reachable" in warnings[0]


def test_autovacuum_off_is_named(app):
    """On PostgreSQL the warning follows the server's own autovacuum setting; SQLite has none to check."""
    import sqlalchemy as sa

    from feedback_app.extensions import db
    from workers.queues import database_settings_warnings

    with app.app_context():
        warnings = database_settings_warnings(db.engine)
        if db.engine.dialect.name != "postgresql":
            assert warnings == []
            return
        with db.engine.connect() as conn:
            autovacuum = conn.execute(sa.text("SHOW autovacuum")).scalar()
        assert any("autovacuum" in w for w in warnings) == (autovacuum != "on")
