"""`flask outbox status`: how far background work is behind, and a non-zero exit for a monitor past --max-lag."""
from __future__ import annotations

from datetime import timedelta

from feedback_app.extensions import db
from feedback_app.models import Delivery, OutboxMessage
from feedback_app.models.types import utcnow


def _state(app, *args):
    result = app.test_cli_runner().invoke(args=["outbox", "status", *args])
    rows = dict(line.split("\t") for line in result.stdout.splitlines() if "\t" in line)
    return result.exit_code, rows, result.stderr


def test_the_backlog_is_counted_and_a_monitor_is_told_when_it_is_too_old(app):
    now = utcnow()
    with app.app_context():
        db.session.add_all([
            OutboxMessage(topic="item.routed", job_key="a", payload={}, created_at=now - timedelta(seconds=300)),
            OutboxMessage(topic="item.routed", job_key="b", payload={}, created_at=now - timedelta(seconds=100),
                          dispatched_at=now - timedelta(seconds=99)),
            OutboxMessage(topic="item.routed", job_key="c", payload={}, created_at=now - timedelta(seconds=50),
                          dispatched_at=now, processed_at=now),
            Delivery(id="d1", key="k1", channel="webhook", target="http://127.0.0.1:9/", topic="item.routed",
                     status="pending", attempts=1),
            Delivery(id="d2", key="k2", channel="webhook", target="http://127.0.0.1:9/", topic="item.routed",
                     status="failed", attempts=6),
            Delivery(id="d3", key="k3", channel="webhook", target="http://127.0.0.1:9/", topic="item.routed",
                     status="sent", attempts=1),
        ])
        db.session.commit()
    code, rows, err = _state(app)
    assert code == 1 and "more than 60 s" in err
    assert rows["not_relayed"] == "1" and rows["not_processed"] == "2"
    assert 299 <= float(rows["oldest_not_relayed_seconds"]) < 400
    assert 299 <= float(rows["oldest_not_processed_seconds"]) < 400
    assert (rows["deliveries_retrying"], rows["deliveries_failed"]) == ("1", "1")
    assert _state(app, "--max-lag", "3600")[0] == 0


def test_nothing_behind_reads_zero_and_exits_0(app):
    code, rows, _ = _state(app)
    assert code == 0
    assert rows == {"not_relayed": "0", "oldest_not_relayed_seconds": "", "not_processed": "0",
                    "oldest_not_processed_seconds": "", "deliveries_retrying": "0", "deliveries_failed": "0"}
