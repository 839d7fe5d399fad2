"""Daily rollups: the figures of each local day's items, rebuilt wholesale for a day whose items changed, and
monthly ones, the sums of a month's daily rows, rebuilt with them.

A refresh (an RQ job the scheduler enqueues every minute) rebuilds every closed day not built yet and every
day with an item that has events since the previous refresh, then records when it started. A report reads
the rows of untouched days and counts the others from the items, so it is exact between refreshes too.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import (
    FeedbackItem,
    ItemEvent,
    ReportRollupDay,
    ReportRollupState,
    report_rollups,
    report_rollups_monthly,
)
from feedback_app.models.reports import BUCKET_COLUMNS, COUNT_COLUMNS
from feedback_app.models.types import local_day, utcnow
from feedback_app.services.reports import LATE_COMMIT_MARGIN, days_between, item_figures, month_bounds


COLUMNS = ("agency_id", "category_id", "area_id", *COUNT_COLUMNS, *BUCKET_COLUMNS)


def _day_statements():
    """Built once: the rollup rows of the day bound as :day, counted from that day's items."""
    day = sa.bindparam("day", type_=sa.Date)
    keys = [sa.func.coalesce(FeedbackItem.agency_id, 0), sa.func.coalesce(FeedbackItem.category_id, 0),
            sa.func.coalesce(FeedbackItem.area_id, 0)]
    select = (
        sa.select(day, *keys, *item_figures())
        .where(FeedbackItem.created_day == day)
        .group_by(FeedbackItem.agency_id, FeedbackItem.category_id, FeedbackItem.area_id)
    )
    return (sa.delete(report_rollups).where(report_rollups.c.day == day),
            sa.insert(report_rollups).from_select(["day", *COLUMNS], select))


def _month_statements():
    """The month bound as :first..:last: its monthly rows are the sums of its daily rows."""
    first, last = sa.bindparam("first", type_=sa.Date), sa.bindparam("last", type_=sa.Date)
    daily = report_rollups.c
    select = (
        sa.select(first, daily.agency_id, daily.category_id, daily.area_id,
                  *[sa.func.sum(daily[name]) for name in COUNT_COLUMNS + BUCKET_COLUMNS])
        .where(daily.day >= first, daily.day <= last)
        .group_by(daily.agency_id, daily.category_id, daily.area_id)
    )
    return (sa.delete(report_rollups_monthly).where(report_rollups_monthly.c.month == first),
            sa.insert(report_rollups_monthly).from_select(["month", *COLUMNS], select))


def rebuild_days(days, *, now: datetime | None = None) -> int:
    """Replace the rollup rows of each day by a fresh count of its items, then its month's sums.

    Returns the daily rows written. A month's rows always equal the sum of its daily rows: they are rebuilt in
    the same transaction as any of its days."""
    now = now or utcnow()
    days = sorted(set(days))
    if not days:
        return 0
    delete_day, insert_day = _day_statements()
    written = 0
    for day in days:
        db.session.execute(delete_day, {"day": day})
        result = db.session.execute(insert_day, {"day": day}, execution_options={"preserve_rowcount": True})
        written += max(result.rowcount or 0, 0)
    db.session.execute(sa.delete(ReportRollupDay).where(ReportRollupDay.day.in_(days)))
    db.session.add_all([ReportRollupDay(day=day, built_at=now) for day in days])
    delete_month, insert_month = _month_statements()
    for first, last in sorted({month_bounds(day) for day in days}):
        db.session.execute(delete_month, {"first": first})
        db.session.execute(insert_month, {"first": first, "last": last})
    db.session.flush()
    return written


def refresh_rollups(*, now: datetime | None = None) -> dict:
    """Bring the rollups up to date: unbuilt closed days and days touched since the last refresh."""
    started = now or utcnow()
    yesterday = local_day(started) - timedelta(days=1)
    state = db.session.get(ReportRollupState, 1)
    if state is None:
        state = ReportRollupState(id=1)
        db.session.add(state)
    first = db.session.scalar(sa.select(sa.func.min(FeedbackItem.created_day)))
    if first is not None:  # from the first of that month: whole months can be read from the monthly rows
        first = month_bounds(first)[0]
    todo: set[date] = set()
    if first is not None and first <= yesterday:
        built = set(db.session.scalars(
            sa.select(ReportRollupDay.day).where(ReportRollupDay.day >= first, ReportRollupDay.day <= yesterday)))
        todo |= {d for d in days_between(first, yesterday) if d not in built}
    if state.refreshed_through is not None:
        since = state.refreshed_through - LATE_COMMIT_MARGIN
        todo |= set(db.session.scalars(
            sa.select(FeedbackItem.created_day).distinct()
            .join(ItemEvent, ItemEvent.item_id == FeedbackItem.id)
            .where(ItemEvent.created_at >= since, FeedbackItem.created_day <= yesterday)
        ))
    todo.discard(None)
    rows = rebuild_days(todo, now=started)
    state.refreshed_through = started
    db.session.flush()
    return {"days": len(todo), "rows": rows}
