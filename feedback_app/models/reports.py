"""Report rollups (one row per local day and agency x field x area) and export requests."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback_app.extensions import db
from feedback_app.models.types import JSONType, UTCDateTime, utcnow

# Working hours to resolve are counted in buckets, so that percentiles add up across days: upper edges.
RESOLVE_BUCKET_EDGES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64,
                        80, 96, 112, 128, 160, 192, 224, 256, 320, 400, 480)
BUCKETS = len(RESOLVE_BUCKET_EDGES) + 1  # the last one: 480 working hours and more
BUCKET_COLUMNS = tuple(f"r{i:02d}" for i in range(BUCKETS))
COUNT_COLUMNS = ("received", "handled", "handled_on_time", "rerouted", "auto_routed", "ratings", "rating_sum")

# A Core table: reports read and write it with set-based statements only.
report_rollups = sa.Table(
    "report_rollups",
    db.metadata,
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("agency_id", sa.Integer, nullable=False),  # 0: none
    sa.Column("category_id", sa.Integer, nullable=False),
    sa.Column("area_id", sa.Integer, nullable=False),
    *[sa.Column(name, sa.Integer, nullable=False) for name in COUNT_COLUMNS + BUCKET_COLUMNS],
    sa.PrimaryKeyConstraint("day", "agency_id", "category_id", "area_id", name="pk_report_rollups"),
)


# The sum of a month's daily rows, rebuilt with them: what a report over whole months reads.
report_rollups_monthly = sa.Table(
    "report_rollups_monthly",
    db.metadata,
    sa.Column("month", sa.Date, nullable=False),  # its first day
    sa.Column("agency_id", sa.Integer, nullable=False),
    sa.Column("category_id", sa.Integer, nullable=False),
    sa.Column("area_id", sa.Integer, nullable=False),
    *[sa.Column(name, sa.Integer, nullable=False) for name in COUNT_COLUMNS + BUCKET_COLUMNS],
    sa.PrimaryKeyConstraint("month", "agency_id", "category_id", "area_id", name="pk_report_rollups_monthly"),
)


class ReportRollupDay(db.Model):
    """A day whose rollup rows are built (a day with no items has no rows but is still built)."""

    __tablename__ = "report_rollup_days"
    __table_args__ = (sa.PrimaryKeyConstraint("day", name="pk_report_rollup_days"),)

    day: Mapped[date] = mapped_column(sa.Date)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportRollupState(db.Model):
    """Events created before `refreshed_through` are in the rollups (less a margin for late commits)."""

    __tablename__ = "report_rollup_state"
    __table_args__ = (sa.PrimaryKeyConstraint("id", name="pk_report_rollup_state"),)

    id: Mapped[int] = mapped_column(sa.Integer, autoincrement=False)
    refreshed_through: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportExport(db.Model):
    __tablename__ = "report_exports"
    __table_args__ = (sa.PrimaryKeyConstraint("id", name="pk_report_exports"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, default=uuid.uuid4)
    report: Mapped[str] = mapped_column(sa.String(32))
    format: Mapped[str] = mapped_column(sa.String(8))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    requested_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_users.id", name="fk_report_exports_requested_by"))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    rows: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
