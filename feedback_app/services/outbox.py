"""Side effects are written as outbox rows in the caller's transaction; a relay moves them to RQ."""
from __future__ import annotations

from feedback_app.services import bulk
from feedback_app.models import OutboxMessage


def add_outbox_message(*, topic: str, job_key: str, payload: dict) -> OutboxMessage:
    """`payload` carries ids only: never personal data, never an ORM object."""
    return bulk.add_new(OutboxMessage, topic=topic, job_key=job_key, payload=payload)
