"""Clocks: SLA policies, decreed calendar days, and the alerts fired once per item, goal and level."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback_app.extensions import db
from feedback_app.models.types import UTCDateTime, utcnow


class SlaPolicy(db.Model):
    """Acknowledge within N working hours, resolve within M working days; field None = the default."""

    __tablename__ = "sla_policies"
    __table_args__ = (sa.UniqueConstraint("field_id", "priority", name="uq_sla_field_priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fields.id"))
    priority: Mapped[str] = mapped_column(sa.String(16))
    ack_hours: Mapped[float]
    resolve_days: Mapped[float]


class CalendarDay(db.Model):
    """A decreed exception to the ordinary week: an extra day off, or a make-up working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # day_off | working_day
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClockAlert(db.Model):
    """A warning (75%) or breach (100%) of one goal of one item: the unique key makes each fire exactly once."""

    __tablename__ = "clock_alerts"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "goal", "level", name="uq_clock_alert"),
        sa.Index("ix_clock_alerts_pass", "goal", "level", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("feedback_items.id"), index=True)
    goal: Mapped[str] = mapped_column(sa.String(16))  # acknowledge | resolve
    level: Mapped[str] = mapped_column(sa.String(16))  # warning | breach
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
