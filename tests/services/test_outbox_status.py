"""`flask outbox status`: how far background work is behind, and a non-zero exit for a monitor past --max-lag."""
from __future__ import annotations

from datetime import timedelta

from feedback_app.extensions import db
from feedback_app.models import OutboxMessage
from feedback_app.models.types import utcnow


def _state(app, *args):
    result = app.test_cli_runner().invoke(args=["outbox", "status", *args])
    rows = dict(line.split("\t") for line in result.stdout.splitlines() if "\t" in line)
    return result.exit_code, rows, result.stderr


def _messages(app, *specs):
    """(created seconds ago, relayed seconds ago or None, done seconds ago or None), oldest first."""
    now = utcnow()
    ago = lambda seconds: None if seconds is None else now - timedelta(seconds=seconds)  # noqa: E731
    with app.app_context():
        db.session.add_all([OutboxMessage(topic="item.routed", job_key=f"m{i}", payload={}, created_at=ago(created),
                                          dispatched_at=ago(relayed), processed_at=ago(done))
                            for i, (created, relayed, done) in enumerate(specs)])
        db.session.commit()


def test_workers_falling_behind_fail_the_check(app):
    _messages(app, *[(5, 4, 4)] * 10, *[(300 - i, 299 - i, None) for i in range(20)])
    code, rows, err = _state(app)
    assert code == 1 and "recent_lag_p95_seconds" in err and "more than 60 s" in err
    assert rows["not_processed"] == "20" and rows["not_relayed"] == "0" and rows["recent_messages"] == "30"
    assert 280 <= float(rows["recent_lag_p95_seconds"]) < 400 and 299 <= float(rows["oldest_not_processed_seconds"])
    assert _state(app, "--max-lag", "3600")[0] == 0


def test_a_message_given_up_on_long_ago_does_not_hide_a_healthy_queue(app):
    """An agency's server down for days leaves its message not done, and its age grows; the recent lag,
    which the check reads, is the newer messages' 1 s."""
    _messages(app, (3 * 86400, 3 * 86400, None), *[(60 - i, 59.5 - i, 59 - i) for i in range(40)])
    code, rows, _ = _state(app)
    assert code == 0
    assert rows["not_processed"] == "1" and float(rows["oldest_not_processed_seconds"]) >= 3 * 86400
    assert float(rows["recent_lag_p50_seconds"]) == 1.0 and float(rows["recent_lag_p95_seconds"]) == 1.0


def test_a_stuck_relay_fails_the_check(app):
    _messages(app, (120, None, None), (1, 0.5, 0.4))
    code, rows, err = _state(app)
    assert code == 1 and "oldest_not_relayed_seconds" in err and rows["not_relayed"] == "1"


def test_nothing_behind_reads_zero_and_exits_0(app):
    code, rows, _ = _state(app)
    assert code == 0
    assert rows == {"not_relayed": "0", "oldest_not_relayed_seconds": "", "not_processed": "0",
                    "oldest_not_processed_seconds": "", "recent_messages": "0", "recent_lag_p50_seconds": "",
                    "recent_lag_p95_seconds": ""}
