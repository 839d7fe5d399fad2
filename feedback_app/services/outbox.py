"""Side effects are written as outbox rows in the caller's transaction; a relay moves them to RQ."""
from __future__ import annotations

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import OutboxMessage
from feedback_app.models.types import utcnow
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


RECENT_MESSAGES = 1000


def backlog(now=None) -> dict:
    """How far background work is behind; what `flask outbox status` prints.

    - messages not yet relayed to RQ and not yet done, each with the age of its oldest (partial indexes);
    - the lag of the latest RECENT_MESSAGES messages (by primary key): from a message's commit to its being
      done, or to now while it waits, p50 and p95. This is the figure that grows when the workers fall behind,
      and the one a monitor should read: a message whose delivery was given up on (an agency's server down
      for a day) stays not done, and its age, forever, but it leaves the recent lag once newer messages
      follow it."""
    now = now or utcnow()
    table = OutboxMessage.__table__

    def waiting(condition) -> tuple[int, float | None]:
        count = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(condition))
        oldest = db.session.scalar(sa.select(OutboxMessage.created_at).where(condition)
                                   .order_by(table.c.id).limit(1))
        return count, (now - oldest).total_seconds() if oldest is not None else None

    not_relayed, not_relayed_age = waiting(table.c.dispatched_at.is_(None))
    unprocessed, unprocessed_age = waiting(table.c.processed_at.is_(None))
    recent = db.session.execute(sa.select(OutboxMessage.created_at, OutboxMessage.processed_at)
                                .order_by(table.c.id.desc()).limit(RECENT_MESSAGES)).all()
    lags = sorted(((done or now) - created).total_seconds() for created, done in recent)

    def quantile(q: float) -> float | None:
        return lags[min(len(lags) - 1, int(q * len(lags)))] if lags else None

    return {"not_relayed": not_relayed, "oldest_not_relayed_seconds": not_relayed_age,
            "not_processed": unprocessed, "oldest_not_processed_seconds": unprocessed_age,
            "recent_messages": len(lags), "recent_lag_p50_seconds": quantile(0.5),
            "recent_lag_p95_seconds": quantile(0.95)}
