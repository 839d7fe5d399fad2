"""The feedback item, its contact (personal data, kept apart), its events and attachments."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback_app.extensions import db
from feedback_app.models.directory import Agency, Area, Field
from feedback_app.models.types import JSONType, UTCDateTime, utcnow

STATUSES = (
    "received",
    "routed",
    "needs_triage",
    "in_progress",
    "waiting_citizen",
    "resolved",
    "reopened",
    "closed",
    "rejected",
)
OPEN_STATUSES = ("received", "routed", "needs_triage", "in_progress", "waiting_citizen", "reopened")
OPEN_FILTER = "status IN ('received', 'routed', 'needs_triage', 'in_progress', 'waiting_citizen', 'reopened')"
# Open items whose clock runs (not waiting for the citizen): the ones that can be overdue.
OVERDUE_FILTER = f"{OPEN_FILTER} AND paused_at IS NULL"
# What a report counts as handled: resolved, closed (after resolving, or merged) or rejected.
HANDLED_STATUSES = ("resolved", "closed", "rejected")
CHANNELS = ("app", "web", "open311", "hotline", "email", "other")
PRIORITIES = ("urgent", "normal", "complex")


class FeedbackItem(db.Model):
    __tablename__ = "feedback_items"
    __table_args__ = (
        # An agency's queue by status, in the page's exact order (deadline, then creation, then id).
        sa.Index("ix_items_agency_status_due", "agency_id", "status", "due_at", "created_at", "id"),
        sa.Index("ix_items_public_feed", "consent_public", "created_at"),
        sa.Index("ix_items_created_day", "created_day"),
        # The coordinator's queue: the few items waiting for triage, oldest first.
        sa.Index("ix_items_needs_triage", "created_at", postgresql_where=sa.text("status = 'needs_triage'"),
                 sqlite_where=sa.text("status = 'needs_triage'")),
        # Merged duplicates are rare: an index on the rest would only cost every insert.
        sa.Index("ix_items_merged_into", "merged_into_id", postgresql_where=sa.text("merged_into_id IS NOT NULL"),
                 sqlite_where=sa.text("merged_into_id IS NOT NULL")),
        # The agency queue: open items only, in deadline order, one walk of the index for the first page.
        sa.Index(
            "ix_items_open_queue", "agency_id", "due_at", "created_at",
            postgresql_where=sa.text(OPEN_FILTER), sqlite_where=sa.text(OPEN_FILTER),
        ),
        # Reports' overdue counts (index-only: the grouping columns are included) and the overdue list's order.
        sa.Index(
            "ix_items_overdue", "due_at", "created_at", "id",
            postgresql_include=["created_day", "agency_id", "category_id", "area_id"],
            postgresql_where=sa.text(OVERDUE_FILTER), sqlite_where=sa.text(OVERDUE_FILTER),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    tracking_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    citizen_token_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(20))
    version: Mapped[int] = mapped_column(default=1)

    title: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(8), default="vi")
    channel: Mapped[str] = mapped_column(sa.String(16), default="app")
    priority: Mapped[str] = mapped_column(sa.String(16), default="normal")
    anonymous: Mapped[bool] = mapped_column(default=False)
    consent_public: Mapped[bool] = mapped_column(default=False)

    # Place: a point, an address, an area; the area is derived when not given.
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(sa.String(500))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"), index=True)
    area_source: Mapped[str | None] = mapped_column(sa.String(16))

    # Routing: what the citizen chose, what the model said, what the item is now.
    citizen_category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fields.id"))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fields.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    predicted_category: Mapped[str | None] = mapped_column(sa.String(64))
    prediction_probability: Mapped[float | None]
    model_version: Mapped[str | None] = mapped_column(sa.String(64))
    routed_by: Mapped[str | None] = mapped_column(sa.String(16))

    # Who sent it: the API client (not a person) and a hash of the forwarded device id.
    client_id: Mapped[str | None] = mapped_column(sa.String(64))
    external_ref: Mapped[str | None] = mapped_column(sa.String(128))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The local day (Asia/Ho_Chi_Minh) it arrived: what reports group and roll up by.
    created_day: Mapped[date | None] = mapped_column(sa.Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Clocks, set when the item is routed: the 75% marks and the deadlines, for acknowledging and resolving.
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While waiting for the citizen the clock stops; leaving that state shifts every mark by the paused time.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Report facts, kept by `transition` with the events that define them (see services/reports.py):
    # when the item was last handled, the working time that took less the time waiting for the citizen,
    # the working time waited so far, how often another agency was given it, and whether the model routed it.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_seconds: Mapped[int | None]
    paused_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    reroutes: Mapped[int] = mapped_column(default=0, server_default="0")
    routed_agency_id: Mapped[int | None]
    auto_routed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    # A duplicate closes into its original; its citizen follows the original.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("feedback_items.id"))
    sent_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(sa.String(32))
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(sa.Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Field | None] = relationship(foreign_keys=[category_id])
    citizen_category: Mapped[Field | None] = relationship(foreign_keys=[citizen_category_id])
    agency: Mapped[Agency | None] = relationship()
    area: Mapped[Area | None] = relationship()
    contact: Mapped["ItemContact | None"] = relationship(back_populates="item", uselist=False)
    events: Mapped[list["ItemEvent"]] = relationship(
        back_populates="item", order_by="ItemEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="item", order_by="Attachment.created_at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class ItemContact(db.Model):
    """Personal data, one row per item: never in a public view, erased by retention."""

    __tablename__ = "item_contacts"

    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("feedback_items.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[FeedbackItem] = relationship(back_populates="contact")


class ItemEvent(db.Model):
    """The timeline and the audit log: every figure a manager reads is recomputed from these rows."""

    __tablename__ = "item_events"
    __table_args__ = (
        sa.Index("ix_events_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("feedback_items.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    public: Mapped[bool] = mapped_column(default=True)
    message: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[FeedbackItem] = relationship(back_populates="events")


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("feedback_items.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("item_events.id"))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(sa.String(16), default="citizen")
    public: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[FeedbackItem] = relationship(back_populates="attachments")
