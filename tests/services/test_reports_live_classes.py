"""Today's live rows are counted by classes of alike items (`item_classes`); the rollups by one sum per
figure (`item_figures`). Both must give the same figures for every group, item by item at every edge:
handled late, on time, without a deadline; open items carrying old resolve times; resolve times at, just
under and beyond the buckets' edges, negative or missing; reroutes, auto-routing, ratings."""
from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from feedback_app.models import FeedbackItem
from feedback_app.models.reports import BUCKETS
from feedback_app.services.directory import directory
from feedback_app.services.reports import EDGE_SECONDS, Tally, item_classes, item_figures

DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


def _items(snapshot) -> list[FeedbackItem]:
    agencies = [a.id for a in list(snapshot.agencies_by_id.values())[:3]] + [None]
    statuses = ["received", "routed", "in_progress", "waiting_citizen", "reopened", "resolved", "closed", "rejected"]
    seconds = [None, -5, 0, 1, EDGE_SECONDS[0] - 1, EDGE_SECONDS[0], EDGE_SECONDS[0] + 1, EDGE_SECONDS[10],
               EDGE_SECONDS[-1] - 1, EDGE_SECONDS[-1], EDGE_SECONDS[-1] * 3]
    deadlines = [None, AT + timedelta(hours=5), AT + timedelta(hours=1)]  # none, after and before handled_at
    items = []
    for n, (agency, status, resolve, due) in enumerate(itertools.product(agencies, statuses, seconds, deadlines)):
        handled = status in ("resolved", "closed", "rejected") or n % 7 == 0  # open items with old times too
        items.append(FeedbackItem(
            id=uuid.uuid4(), tracking_code=f"LC{n:06d}", citizen_token_hash="0" * 64, status=status,
            description="Đèn đường hỏng", agency_id=agency, created_at=AT, updated_at=AT, created_day=DAY,
            due_at=due, handled_at=AT + timedelta(hours=2) if handled else None, resolve_seconds=resolve,
            reroutes=n % 3, auto_routed=(None, True, False)[n % 3] if n % 5 else True,
            rating=(None, 1, 5, 3)[n % 4]))
    return items


def test_item_classes_count_what_item_figures_count(db_session):
    snapshot = directory()
    db_session.add_all(_items(snapshot))
    db_session.flush()
    where = FeedbackItem.tracking_code.like("LC%")

    by_sums = {}
    for row in db_session.execute(sa.select(FeedbackItem.agency_id, *item_figures()).where(where)
                                  .group_by(FeedbackItem.agency_id)):
        by_sums.setdefault(row[0], Tally()).add_counts(row[1:])
    classes, counts = item_classes()
    by_classes = {}
    rows = db_session.execute(sa.select(FeedbackItem.agency_id, *classes, *counts).where(where)
                              .group_by(FeedbackItem.agency_id, *classes)).all()
    for row in rows:
        by_classes.setdefault(row[0], Tally()).add_item_class(*row[1:])

    assert len(by_sums) == 4 and len(rows) > 4 * 8  # every agency, and classes rather than one row each
    for agency, expected in by_sums.items():
        got = by_classes[agency]
        assert got == expected, agency
        assert expected.handled and expected.handled_on_time < expected.handled  # late ones among them
        assert expected.hist[0] and expected.hist[1] and expected.hist[BUCKETS - 1]  # the edges' both sides
        assert expected.rerouted and expected.auto_routed and expected.ratings
    db_session.rollback()
