"""Thin jobs: ids in, a service call in the app context, commit, re-raise on failure so RQ retries."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _in_app(func, *args):
    from flask import has_app_context

    from feedback_app.extensions import db

    if has_app_context():
        return func(*args)
    from workers.context import worker_app

    with worker_app().app_context():
        # A forked work horse must not reuse the parent's pooled connections (SQLAlchemy's fork recipe).
        db.engine.dispose(close=False)
        try:
            return func(*args)
        finally:
            db.session.remove()


def handle_outbox_message(outbox_id: int) -> str:
    """Deliver what an outbox message stands for; idempotent (each delivery has a unique key)."""
    from feedback_app.extensions import db
    from feedback_app.services import notifications

    def run(message_id):
        result = notifications.handle_message(message_id)
        db.session.commit()
        return result

    return _in_app(run, outbox_id)
