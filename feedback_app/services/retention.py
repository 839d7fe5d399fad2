"""Retention: the contact data of items closed long ago is erased; the items and their figures stay."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, ItemContact
from feedback_app.models.types import utcnow

FINAL = ("closed", "rejected")


def erase_old_contacts(*, months: int) -> int:
    """One UPDATE: name, phone and e-mail of items finished more than `months` months ago become NULL."""
    cutoff = utcnow() - timedelta(days=30 * months)
    finished = sa.select(FeedbackItem.id).where(
        FeedbackItem.status.in_(FINAL),
        sa.func.coalesce(FeedbackItem.closed_at, FeedbackItem.rejected_at) < cutoff,
    )
    result = db.session.execute(
        sa.update(ItemContact)
        .where(ItemContact.item_id.in_(finished), ItemContact.erased_at.is_(None))
        .values(name=None, phone=None, email=None, erased_at=utcnow())
    )
    return result.rowcount or 0
