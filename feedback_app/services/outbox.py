"""Side effects are written as outbox rows in the caller's transaction; a relay moves them to RQ."""
from __future__ import annotations

from feedback_app.models import OutboxMessage
from feedback_app.services import bulk
from feedback_app.services.notifications import may_be_heard


def add_outbox_message(*, topic: str, job_key: str, payload: dict) -> OutboxMessage:
    """`payload` carries ids only: never personal data, never an ORM object."""
    return bulk.add_new(OutboxMessage, topic=topic, job_key=job_key, payload=payload)


def add_item_message(item, *, topic: str, job_key: str, payload: dict) -> OutboxMessage | None:
    """An item's message, written only when someone may hear of it (`notifications.may_be_heard`): a message
    with no recipient would cost a row, a relay pass, a job's share and an UPDATE to deliver nothing. The
    timeline and the audit trail are the item's events, which are written whatever happens here."""
    if not may_be_heard(topic, item):
        return None
    return add_outbox_message(topic=topic, job_key=job_key, payload=payload)
