"""The outbox relay: committed outbox rows go to RQ with deterministic job ids; Redis down delays, loses nothing."""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import OutboxMessage
from feedback_app.models.types import utcnow

log = logging.getLogger(__name__)


# Messages per RQ job: a job's own cost (a dozen Redis commands, ~5 ms of CPU) is paid once per batch.
BATCH_SIZE = 50
# Topics whose job is long (a report export): one job each, so no batch waits behind them.
ALONE_TOPICS = {"report.export"}


def relay_outbox(*, batch: int = 500) -> int:
    """Enqueue up to `batch` pending messages and mark them dispatched; commits. Returns how many went out.

    On PostgreSQL the rows are locked with SKIP LOCKED, so several relays share the work without doubles.
    Messages go in jobs of up to BATCH_SIZE; a job's id follows from its messages and their attempt, so a
    batch enqueued twice (a crash between enqueue and commit) keeps its id, and RQ replaces rather than
    duplicates a job with the same id. Each message records its job's id for the reconciler.
    """
    from workers.jobs import handle_outbox_batch, handle_outbox_message
    from workers.queues import JOB_TIMEOUT, NOTIFICATIONS, RETRY, queue

    dialect = prepare_pending_scan()
    messages = db.session.scalars(pending_query(batch, dialect)).all()
    if not messages:
        db.session.rollback()
        return 0
    alone = [m for m in messages if m.topic in ALONE_TOPICS]
    together = [m for m in messages if m.topic not in ALONE_TOPICS]
    jobs = [(_job_id(m.job_key), handle_outbox_message, m.id, [m]) for m in alone]
    for start in range(0, len(together), BATCH_SIZE):
        chunk = together[start:start + BATCH_SIZE]
        ids = [m.id for m in chunk]
        job_id = f"outbox-batch-{ids[0]}-{ids[-1]}-{len(ids)}-a{max(m.attempts for m in chunk) + 1}"
        jobs.append((job_id, handle_outbox_batch, ids, chunk))
    q = queue(NOTIFICATIONS)
    try:
        with q.connection.pipeline() as pipe:
            for job_id, func, arg, _chunk in jobs:
                q.enqueue_call(func, args=(arg,), job_id=job_id, timeout=JOB_TIMEOUT, retry=RETRY, pipeline=pipe)
            pipe.execute()
        now = utcnow()
        for job_id, _func, _arg, chunk in jobs:
            for message in chunk:
                message.dispatched_at = now
                message.attempts += 1
                message.job_id = job_id
        db.session.commit()
    except Exception as exc:  # Redis down: leave every row pending for the next pass
        db.session.rollback()
        log.warning("outbox relay paused: %s", type(exc).__name__)
        return 0
    return len(messages)


# For the relay's transaction only: an ordered walk of ix_outbox_pending, never a bitmap scan. Without fresh
# statistics (autovacuum off, or not yet run) the planner takes the index for a few rows and picks a bitmap
# scan and a sort, which visits every stale entry (a message dispatched since the last VACUUM) on every pass;
# an index scan marks those entries dead as it meets them, and the next pass skips them.
_ORDERED_SCAN = sa.text("SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)")


def prepare_pending_scan() -> str:
    """Set the current transaction up for pending_query (PostgreSQL: the ordered index scan above); returns the
    dialect's name."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(_ORDERED_SCAN)
    return dialect


def pending_query(batch: int, dialect: str) -> sa.Select:
    """The oldest `batch` messages not yet dispatched: read in id order from the partial index ix_outbox_pending
    (see migration 0015), locked with SKIP LOCKED on PostgreSQL."""
    query = (sa.select(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None))
             .order_by(OutboxMessage.id).limit(batch))
    return query.with_for_update(skip_locked=True) if dialect == "postgresql" else query


def _job_id(job_key: str) -> str:
    # RQ job ids allow letters, digits, '-' and '_'.
    return "outbox-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in job_key)[:180]


LOST_AFTER_SECONDS = 60


def requeue_lost(*, older_than_seconds: int = LOST_AFTER_SECONDS) -> int:
    """The reconciler: a dispatched message no job has finished is made pending again when its job is lost:
    gone from Redis (a wiped Redis), or stranded (it says queued but is in no queue, or started but no
    worker holds it: a worker killed between taking it off the queue and starting it, which RQ does not
    see). Only messages dispatched at least `older_than_seconds` ago are looked at. A job waiting its turn
    is still in its queue, so a long queue is not mistaken for a lost job; a twin run, if one ever came of
    a look-up racing a worker's start, is harmless: deliveries' unique keys make the second run a no-op."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry

    from workers.queues import NOTIFICATIONS, queue, rq_connection

    connection = rq_connection()
    q = queue(NOTIFICATIONS, connection)
    started = StartedJobRegistry(queue=q)
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    # Plain columns, not ORM rows: a saturated machine can hold thousands of messages waiting in RQ, and this
    # runs every 30 s.
    rows = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.job_id, OutboxMessage.job_key)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.dispatched_at.is_not(None),
               OutboxMessage.dispatched_at <= cutoff)
        .order_by(OutboxMessage.id).limit(5000)
    ).all()
    lost: list[int] = []
    verdicts: dict[str, bool] = {}  # a batch's job is looked up once for all its messages
    for message_id, job_id, job_key in rows:
        job_id = job_id or _job_id(job_key)
        if job_id not in verdicts:
            try:
                status = Job.fetch(job_id, connection=connection).get_status()
            except NoSuchJobError:
                status = None
            verdicts[job_id] = (
                status is None
                or (status == JobStatus.QUEUED and connection.lpos(q.key, job_id) is None)
                or (status == JobStatus.STARTED and job_id not in started)
            )
        if verdicts[job_id]:
            lost.append(message_id)
    restored = 0
    if lost:
        # A message its job finished meanwhile keeps its marks: only the still unprocessed are made pending.
        restored = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(lost), OutboxMessage.processed_at.is_(None))
            .values(dispatched_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    return restored
