"""Queues named by purpose, on the app's Redis; every enqueue has a timeout and a retry policy."""
from __future__ import annotations

import redis
from flask import current_app
from rq import Queue, Retry

NOTIFICATIONS = "notifications"
CLOCKS = "clocks"
MAINTENANCE = "maintenance"
ALL_QUEUES = (NOTIFICATIONS, CLOCKS, MAINTENANCE)

JOB_TIMEOUT = 60
# Back-off: 10 s, 30 s, 1 min, 5 min, 15 min; after that the delivery row records the failure.
RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])


def rq_connection() -> redis.Redis:
    """RQ's own client (no decode, its own timeouts), separate from the app's cache/limits client."""
    return redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)


def queue(name: str, connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or rq_connection(), default_timeout=JOB_TIMEOUT)


def redis_settings_warnings(connection: redis.Redis) -> list[str]:
    """What in this Redis's settings does not fit a queue: it should keep jobs on disk and never evict."""
    try:
        found = {**connection.config_get("appendonly"), **connection.config_get("maxmemory-policy")}
        found = {(k.decode() if isinstance(k, bytes) else k): v for k, v in found.items()}
        appendonly, policy = found.get("appendonly"), found.get("maxmemory-policy")
    except redis.ResponseError:  # a managed Redis may forbid CONFIG: say so, do not guess
        return ["cannot read the Redis settings (CONFIG refused): make sure appendonly is yes and "
                "maxmemory-policy is noeviction"]
    appendonly = appendonly.decode() if isinstance(appendonly, bytes) else appendonly
    policy = policy.decode() if isinstance(policy, bytes) else policy
    warnings = []
    if appendonly != "yes":
        warnings.append(f"Redis appendonly is {appendonly!r}: queued jobs are lost if Redis restarts "
                        "(the outbox re-sends them, late); set appendonly yes")
    if policy != "noeviction":
        warnings.append(f"Redis maxmemory-policy is {policy!r}: under memory pressure Redis may drop queued jobs; "
                        "set maxmemory-policy noeviction")
    return warnings


def warn_about_redis_settings(connection: redis.Redis, log) -> list[str]:
    try:
        warnings = redis_settings_warnings(connection)
    except redis.RedisError as exc:  # Redis down at start: the worker retries; nothing to check yet
        warnings = [f"Redis not reachable at start ({type(exc).__name__}); its settings are unchecked"]
    for warning in warnings:
        log.warning(warning)
    return warnings


def database_settings_warnings(engine) -> list[str]:
    """What in PostgreSQL's settings does not fit the outbox: every message is updated once or twice, and
    without autovacuum its dead rows pile up and the relay's look-up of pending messages slows down."""
    if engine.dialect.name != "postgresql":
        return []
    import sqlalchemy as sa

    with engine.connect() as conn:
        autovacuum = conn.execute(sa.text("SHOW autovacuum")).scalar()
    if autovacuum != "on":
        return [f"PostgreSQL autovacuum is {autovacuum!r}: the outbox's dead rows pile up and the relay slows "
                "down as they do; set autovacuum = on (the default)"]
    return []
