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
