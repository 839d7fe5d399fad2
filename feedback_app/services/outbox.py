"""Side effects are written as outbox rows in the caller's transaction; a relay moves them to RQ."""
from __future__ import annotations

from feedback_app.extensions import db
from feedback_app.models import OutboxMessage


def add_outbox_message(*, topic: str, job_key: str, payload: dict) -> OutboxMessage:
    """`payload` carries ids only: never personal data, never an ORM object."""
    message = OutboxMessage(topic=topic, job_key=job_key, payload=payload)
    db.session.add(message)
    return message
