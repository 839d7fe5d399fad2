"""Thin jobs: ids in, a service call in the app context, commit, re-raise on failure so RQ retries."""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


_ENGINE_PID: list[int] = []


def _in_app(func, *args):
    """Run a job's work in the worker's app context, with a session of its own that is removed afterwards.

    Jobs run in the worker process itself (RQ's SimpleWorker: no fork per job, so a job costs milliseconds,
    not the ~60 ms of CPU a forked work horse took); a caller that already has an app context (a test, a
    CLI command) manages its own session."""
    from flask import has_app_context

    from feedback_app.extensions import db

    if has_app_context():
        return func(*args)
    from workers.context import worker_app

    with worker_app().app_context():
        # A process forked from the one that opened the pool must not reuse its connections
        # (SQLAlchemy's fork recipe); in the process that opened them they are kept, pooled.
        if _ENGINE_PID != [os.getpid()]:
            db.engine.dispose(close=False)
            _ENGINE_PID[:] = [os.getpid()]
        try:
            return func(*args)
        finally:
            db.session.remove()


def handle_outbox_message(outbox_id: int) -> str:
    """Deliver what an outbox message stands for; idempotent (each delivery has a unique key)."""
    import sqlalchemy as sa

    from feedback_app.extensions import db
    from feedback_app.models import OutboxMessage
    from feedback_app.services import notifications, report_exports
    from feedback_app.services.storage import LocalStorage

    def run(message_id):
        topic = db.session.scalar(sa.select(OutboxMessage.topic).where(OutboxMessage.id == message_id))
        if topic == "report.export":
            from flask import current_app

            result = report_exports.run_export(message_id, LocalStorage(current_app.config["UPLOAD_DIR"]))
        else:
            result = notifications.handle_message(message_id)
        db.session.commit()
        return result

    return _in_app(run, outbox_id)


def handle_outbox_batch(outbox_ids: list[int]) -> dict:
    """Deliver a batch of outbox messages (each committed on its own); fails, for RQ to retry, if any did not go."""
    from feedback_app.services import notifications

    return _in_app(notifications.handle_batch, list(outbox_ids))


def refresh_report_rollups() -> dict:
    """Bring the daily report rollups up to date (enqueued by the scheduler every minute)."""
    from feedback_app.extensions import db
    from feedback_app.services.report_rollups import refresh_rollups

    def run():
        result = refresh_rollups()
        db.session.commit()
        return result

    return _in_app(run)
