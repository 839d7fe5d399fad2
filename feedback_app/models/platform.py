"""Rows that keep the service honest: the outbox, idempotency keys and API clients."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback_app.extensions import db
from feedback_app.models.types import JSONType, UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """Committed with the change that caused it; a relay moves it to RQ (ids only, no personal data)."""

    __tablename__ = "outbox_messages"
    # Partial indexes in id order: each holds only what its reader looks for (the relay: not yet dispatched; the
    # reconciler: not yet processed), and the relay's ORDER BY id LIMIT walks its index in order, marking the
    # entries of rows it finds dispatched as dead as it passes. An index on (dispatched_at, id) was read by a
    # bitmap scan that visited every dispatched row's stale entry on each pass until a VACUUM: 24 ms per pass
    # after 150 s of load with autovacuum off, 0.8 ms this way.
    __table_args__ = (
        sa.Index("ix_outbox_pending", "id", postgresql_where=sa.text("dispatched_at IS NULL"),
                 sqlite_where=sa.text("dispatched_at IS NULL")),
        sa.Index("ix_outbox_unprocessed", "id", postgresql_where=sa.text("processed_at IS NULL"),
                 sqlite_where=sa.text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(64))
    # Deterministic: the RQ job id, so a message relayed twice is enqueued once.
    job_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the job once every delivery of the message is done: what the reconciler never touches again.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # The RQ job that carries it (messages travel in batches): what the reconciler looks up.
    job_id: Mapped[str | None] = mapped_column(sa.String(200))


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("client_scope", "key", name="uq_idempotency_scope_key"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    client_scope: Mapped[str] = mapped_column(sa.String(100))
    key: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default="running")
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    response_headers: Mapped[dict] = mapped_column(JSONType, default=dict)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiClient(db.Model):
    """A trusted client (the mobile app's backend, an Open311 app): a hashed key with scopes."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    key_prefix: Mapped[str] = mapped_column(sa.String(16), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClassifierModel(db.Model):
    """A trained model file and its figures; exactly one is active, and every process follows it."""

    __tablename__ = "classifier_models"

    version: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    path: Mapped[str] = mapped_column(sa.String(1000))
    metrics: Mapped[dict] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(db.Model):
    """One notification to one target: the unique key makes it happen once, whatever runs twice."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # also the X-Delivery-Id
    key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    # The message it came from. Not indexed: deliveries are found by their key (which holds the message id,
    # see notifications._key), and an index on this column was kept up on every delivery for no reader.
    outbox_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    channel: Mapped[str] = mapped_column(sa.String(16))  # webhook | email | log
    target: Mapped[str] = mapped_column(sa.String(2000))
    topic: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a worker last took the key to send it ('sending'): another may take it once the lease is over.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
