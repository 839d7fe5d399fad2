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


def backlog(now=None) -> dict:
    """How far background work is behind: outbox messages not yet relayed to RQ, relayed and not yet done (each
    with the age of its oldest, in seconds), and deliveries waiting for a retry or given up on. Each count
    reads a partial index or the deliveries' status; what `flask outbox status` prints."""
    import sqlalchemy as sa

    from feedback_app.extensions import db
    from feedback_app.models import Delivery
    from feedback_app.models.types import utcnow

    now = now or utcnow()
    table = OutboxMessage.__table__

    def waiting(condition) -> tuple[int, float | None]:
        count = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(condition))
        oldest = db.session.scalar(sa.select(OutboxMessage.created_at).where(condition)
                                   .order_by(table.c.id).limit(1))
        return count, (now - oldest).total_seconds() if oldest is not None else None

    not_relayed, not_relayed_age = waiting(table.c.dispatched_at.is_(None))
    unprocessed, unprocessed_age = waiting(table.c.processed_at.is_(None))
    deliveries = dict(db.session.execute(
        sa.select(Delivery.status, sa.func.count()).where(Delivery.status.in_(("pending", "failed")))
        .group_by(Delivery.status)).all())
    return {"not_relayed": not_relayed, "oldest_not_relayed_seconds": not_relayed_age,
            "not_processed": unprocessed, "oldest_not_processed_seconds": unprocessed_age,
            "deliveries_retrying": deliveries.get("pending", 0), "deliveries_failed": deliveries.get("failed", 0)}
