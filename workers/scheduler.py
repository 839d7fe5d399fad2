"""Periodic work: the outbox relay and RQ's due retries every second, the reconciler every 30 s, the clock watcher and the
report rollups every minute, and the retention of personal data once a day.

Only one scheduler acts at a time: on PostgreSQL a session-level advisory lock, elsewhere a file lock under
instance/. A second scheduler waits, so nothing is ever doubled; if the first dies its lock dies with it.
"""
from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path

import sqlalchemy as sa

log = logging.getLogger(__name__)
LOCK_KEY = 7_431_002  # any constant shared by every scheduler of one database
# How often the reconciler looks for notification jobs Redis lost or a killed worker stranded (it looks at messages
# dispatched a minute ago or more: relay.LOST_AFTER_SECONDS). A worker reading several queues takes a job off its
# queue before it marks it started; killed in between, the job is in no queue and no registry, and only the
# reconciler sees it. Every five minutes, such a notification came 5 to 10 minutes late (bench/chaos.py, once).
RECONCILE_SECONDS = 30


class SingleScheduler:
    def __init__(self, app):
        self.app = app
        self._connection = None
        self._file = None

    def acquire(self) -> bool:
        from feedback_app.extensions import db

        if db.engine.dialect.name == "postgresql":
            if self._connection is None:
                self._connection = db.engine.connect()
            return bool(self._connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
        if self._file is None:
            self._file = open(Path(self.app.config["INSTANCE_PATH"]) / "scheduler.lock", "w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False


def enqueue_rollup_refresh() -> None:
    """The report rollups' refresh, as an RQ job: one per minute at most (its id is the minute)."""
    from workers.jobs import refresh_report_rollups
    from workers.queues import MAINTENANCE, RETRY, queue

    minute = int(time.time() // 60)
    try:
        queue(MAINTENANCE).enqueue_call(refresh_report_rollups, job_id=f"report-rollups-{minute}", timeout=600,
                                        retry=RETRY, result_ttl=3600)
    except Exception as exc:  # Redis down: the next minute's tick tries again; reports stay exact meanwhile
        log.warning("rollup refresh not enqueued: %s", type(exc).__name__)


class RetryMover:
    """RQ's own scheduler duty, done here every tick: retries with back-off (and any job enqueued for later)
    wait in each queue's scheduled registry until something moves them to the queue when due. RQ lets one
    worker do it under a lock; a worker killed with the lock left retries stalled until a surviving worker
    took over, up to ten minutes later (seen in bench/chaos.py). This process is already the one scheduler,
    so workers run without RQ's scheduler and this moves due jobs within a second."""

    CLEANUP_SECONDS = 15

    def __init__(self):
        self.scheduler = None
        self.last_cleanup = 0.0

    def tick(self) -> None:
        from rq.registry import clean_registries
        from rq.scheduler import RQScheduler

        from workers.queues import ALL_QUEUES, queue, rq_connection

        try:
            if self.scheduler is None:
                self.scheduler = RQScheduler(list(ALL_QUEUES), connection=rq_connection(), interval=1)
            self.scheduler.acquire_locks()  # taken, or refreshed; a lock left by an RQ scheduler elsewhere expires
            if self.scheduler.acquired_locks:
                self.scheduler.enqueue_scheduled_jobs()
                # Jobs abandoned by a killed worker (started, and their heartbeat expired) are retried now, not
                # at a worker's ten-minute maintenance pass.
                if time.monotonic() - self.last_cleanup >= self.CLEANUP_SECONDS:
                    for name in self.scheduler.acquired_locks:
                        clean_registries(queue(name, self.scheduler.connection))
                    self.last_cleanup = time.monotonic()
        except Exception as exc:  # Redis down: retries wait; the next tick tries again
            log.warning("RQ retries not moved: %s", type(exc).__name__)
            self.scheduler = None

    def release(self) -> None:
        """On a clean stop: the next scheduler need not wait for the locks to expire."""
        try:
            if self.scheduler is not None:
                self.scheduler.release_locks()
        except Exception:  # Redis down: the locks expire on their own
            pass


def run_scheduler(app, *, stop_after: float | None = None, tick: float = 1.0) -> None:
    started = time.monotonic()
    with app.app_context():
        lock = SingleScheduler(app)
        while not lock.acquire():
            log.info("another scheduler holds the lock; waiting")
            time.sleep(5)
            if stop_after is not None and time.monotonic() - started > stop_after:
                return
        log.info("scheduler active")
        retries = RetryMover()
        try:
            _loop(app, retries, started, stop_after, tick)
        finally:
            retries.release()


def _loop(app, retries: RetryMover, started: float, stop_after: float | None, tick: float) -> None:
    from feedback_app.extensions import db
    from feedback_app.services.clock_watch import watch_clocks
    from feedback_app.services.relay import relay_outbox, requeue_lost
    from feedback_app.services.retention import erase_old_contacts

    last_watch = last_reconcile = last_retention = last_rollups = 0.0
    while stop_after is None or time.monotonic() - started < stop_after:
        now = time.monotonic()
        retries.tick()
        try:
            relay_outbox()
            if now - last_watch >= 60:
                fired = watch_clocks()
                db.session.commit()
                relay_outbox()
                last_watch = now
                log.info("clock watcher: %s", fired)
            if now - last_rollups >= 60:
                enqueue_rollup_refresh()
                last_rollups = now
            if now - last_reconcile >= RECONCILE_SECONDS:
                requeue_lost()
                last_reconcile = now
            if now - last_retention >= 86400:
                erase_old_contacts(months=int(app.config.get("RETENTION_MONTHS", 24)))
                db.session.commit()
                last_retention = now
        except Exception:  # a bad pass is logged and retried on the next tick, never fatal
            db.session.rollback()
            log.exception("scheduler pass failed")
        finally:
            db.session.remove()
        time.sleep(tick)
