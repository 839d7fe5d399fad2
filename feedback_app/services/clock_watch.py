"""The clock watcher: one set-based pass marks every 75% warning and 100% breach, each exactly once."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from feedback_app.extensions import db
from feedback_app.models import ClockAlert, FeedbackItem, ItemEvent, OutboxMessage
from feedback_app.models.feedback import OPEN_STATUSES
from feedback_app.models.types import utcnow

# (goal, level, the mark it watches, whether meeting the goal ends the watch)
WATCHES = (
    ("acknowledge", "warning", FeedbackItem.ack_warn_at),
    ("acknowledge", "breach", FeedbackItem.ack_due_at),
    ("resolve", "warning", FeedbackItem.warn_at),
    ("resolve", "breach", FeedbackItem.due_at),
)


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model))


def _json_object(*pairs):
    dialect = db.session.get_bind().dialect.name
    return (sa.func.json_build_object if dialect == "postgresql" else sa.func.json_object)(*pairs)


def watch_clocks(now: datetime | None = None) -> dict[str, int]:
    """Alerts, their events and their outbox rows, all by INSERT ... SELECT: no Python loop over items."""
    now = now or utcnow()
    fired: dict[str, int] = {}
    for goal, level, mark in WATCHES:
        due = sa.select(FeedbackItem.id, sa.literal(goal), sa.literal(level), sa.literal(now, type_=ClockAlert.created_at.type)).where(
            mark <= now,
            mark.is_not(None),
            FeedbackItem.status.in_(OPEN_STATUSES),
            FeedbackItem.paused_at.is_(None),  # waiting for the citizen: the clock is stopped
        )
        if goal == "acknowledge":
            due = due.where(FeedbackItem.accepted_at.is_(None))
        already = sa.select(ClockAlert.id).where(
            ClockAlert.item_id == FeedbackItem.id, ClockAlert.goal == goal, ClockAlert.level == level)
        due = due.where(~sa.exists(already))
        db.session.execute(
            _insert(ClockAlert)
            .from_select(["item_id", "goal", "level", "created_at"], due)
            .on_conflict_do_nothing(index_elements=["item_id", "goal", "level"])
        )
        # Counted by this pass's own instant (the driver's rowcount for INSERT ... SELECT is not reliable).
        inserted = db.session.scalar(sa.select(sa.func.count()).select_from(ClockAlert).where(
            ClockAlert.goal == goal, ClockAlert.level == level, ClockAlert.created_at == now))
        fired[f"{goal}_{level}"] = inserted
        if not inserted:
            continue
        # This pass's alerts carry its own instant: no list of ids (an IN of 100,000 ids is quadratic).
        new_alerts = sa.select(ClockAlert).where(
            ClockAlert.goal == goal, ClockAlert.level == level, ClockAlert.created_at == now).subquery()
        db.session.execute(
            sa.insert(ItemEvent).from_select(
                ["item_id", "kind", "actor_kind", "public", "data", "created_at"],
                sa.select(new_alerts.c.item_id, sa.literal(f"clock_{level}"), sa.literal("system"), sa.false(),
                          _json_object("goal", goal, "alert_id", new_alerts.c.id), sa.literal(now, type_=ItemEvent.created_at.type)),
            )
        )
        db.session.execute(
            sa.insert(OutboxMessage).from_select(
                ["topic", "job_key", "payload", "created_at", "attempts"],
                sa.select(sa.literal(f"clock.{level}"),
                          sa.literal(f"clock.{goal}.{level}:") + sa.cast(new_alerts.c.id, sa.String),
                          _json_object("alert_id", new_alerts.c.id, "goal", goal),
                          sa.literal(now, type_=OutboxMessage.created_at.type), sa.literal(0)),
            )
        )
    if sum(fired.values()) > 10_000 and db.session.get_bind().dialect.name == "postgresql":
        # A large catch-up changes the table's size a lot: fresh statistics keep the next pass's anti-join fast.
        db.session.execute(sa.text("ANALYZE clock_alerts"))
    return fired
