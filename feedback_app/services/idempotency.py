"""Idempotency keys: the same key and body replays the first answer; another body is refused; a running twin waits."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from feedback_app.extensions import db
from feedback_app.models import IdempotencyRecord
from feedback_app.models.types import utcnow
from feedback_app.services import bulk
from feedback_app.services.errors import Conflict, Unprocessable


@dataclass(frozen=True)
class Claim:
    """A committed 'running' claim on a key: the record's id, all that completing or releasing it needs."""

    id: int


@dataclass(frozen=True)
class Replay:
    status: int
    body: str
    headers: dict


def fingerprint(*, method: str, path: str, body: object, files: list[tuple[str, str]] | None = None) -> str:
    """A hash of what the request means, not its bytes: a multipart boundary or key order changes nothing."""
    canonical = json.dumps(
        {"m": method, "p": path, "b": body, "f": sorted(files or [])},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_RECORDS = IdempotencyRecord.__table__
# Built once: SQLAlchemy caches the SQL it compiles for a statement's shape, but building a fresh statement
# and its cache key on every request cost about as much as running it.
_CLAIM = sa.insert(_RECORDS).returning(_RECORDS.c.id)
_COMPLETE = sa.update(_RECORDS).where(_RECORDS.c.id == sa.bindparam("claim_id")).values(
    state="done", response_status=sa.bindparam("answer_status"), response_body=sa.bindparam("answer_body"),
    response_headers=sa.bindparam("answer_headers"))


def new_record(*, scope: str, key: str, request_hash: str, ttl_hours: int) -> dict:
    """The columns of a key's record as a claim writes it ('running'; its answer is added when known)."""
    now = utcnow()
    return {"client_scope": scope, "key": key, "request_hash": request_hash, "state": "running",
            "locked_at": now, "created_at": now, "expires_at": now + timedelta(hours=ttl_hours)}


def claim(*, scope: str, key: str, request_hash: str, ttl_hours: int, lock_seconds: int) -> Claim | Replay:
    """Commit a 'running' claim on the key in its own short transaction, or say why not."""
    now = utcnow()
    for _ in range(3):
        # A Core INSERT ... RETURNING: no unit of work, and no ORM object whose expired id would be loaded
        # again after the commit.
        values = new_record(scope=scope, key=key, request_hash=request_hash, ttl_hours=ttl_hours)
        try:
            # On PostgreSQL one round trip that commits itself, instead of BEGIN, INSERT and COMMIT.
            rows = bulk.execute_self_committing(_CLAIM, values)
            if rows is None:
                rows = db.session.connection().execute(_CLAIM, values).all()
                db.session.commit()
            return Claim(rows[0][0])
        except IntegrityError:
            db.session.rollback()
        existing = db.session.scalar(
            sa.select(IdempotencyRecord).where(
                IdempotencyRecord.client_scope == scope, IdempotencyRecord.key == key
            )
        )
        if existing is None:
            continue
        if existing.expires_at <= now:
            db.session.delete(existing)
            db.session.commit()
            continue
        if existing.request_hash != request_hash:
            raise Unprocessable("idempotency_mismatch", errors={"Idempotency-Key": ["used with another body"]})
        if existing.state == "done":
            return Replay(existing.response_status, existing.response_body or "", existing.response_headers or {})
        if existing.locked_at > now - timedelta(seconds=lock_seconds):
            raise Conflict("idempotency_in_progress")
        # A claim abandoned by a crashed process: nothing of it was committed, so take it over.
        taken = db.session.execute(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.id == existing.id, IdempotencyRecord.locked_at == existing.locked_at)
            .values(locked_at=now)
        ).rowcount
        db.session.commit()
        if taken == 1:
            return Claim(existing.id)
        raise Conflict("idempotency_in_progress")
    raise Conflict("idempotency_in_progress")


def complete(record: Claim, *, status: int, body: str, headers: dict) -> None:
    """Joined to the caller's transaction: the answer is stored exactly when the work is committed."""
    # On the session's connection as a Core statement: no ORM bulk-update bookkeeping for a row no object holds.
    db.session.connection().execute(_COMPLETE, {"claim_id": record.id, "answer_status": status,
                                                "answer_body": body, "answer_headers": headers})


def release(record: Claim) -> None:
    db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
    db.session.commit()


def purge_expired() -> int:
    result = db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < utcnow()))
    return result.rowcount or 0
