"""Intake through a real HTTP server: Redis down loses nothing; parallel retries make exactly one item."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, OutboxMessage
from tests.factories import ROAD_REPORT


def post_json(url: str, payload: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_intake_works_with_redis_down(app, live_server_without_redis):
    codes = []
    for i in range(20):
        status, body = post_json(f"{live_server_without_redis}/api/v1/feedback",
                                 dict(ROAD_REPORT, description=f"{ROAD_REPORT['description']} #{i}"))
        assert status == 201, body
        codes.append(body["tracking_code"])
    try:
        urllib.request.urlopen(f"{live_server_without_redis}/readyz", timeout=10)
        raise AssertionError("readyz must say not ready while Redis is down")
    except urllib.error.HTTPError as err:
        assert err.code == 503
        assert json.loads(err.read())["checks"]["redis"].startswith("error")
    with app.app_context():
        stored = db.session.scalars(sa.select(FeedbackItem.tracking_code)).all()
        assert sorted(stored) == sorted(codes)
        # Every side effect is waiting in the outbox for Redis to come back.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 20  # each item.routed


def test_parallel_retries_with_one_key_make_exactly_one_item(app, live_server):
    url = f"{live_server}/api/v1/feedback"
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(16)

    def retry():
        barrier.wait()
        results.append(post_json(url, ROAD_REPORT, {"Idempotency-Key": "retry-storm-1"}))

    threads = [threading.Thread(target=retry) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    created = {body["id"] for status, body in results if status == 201}
    assert len(created) == 1
    # After the storm, a retry replays the first answer.
    status, body = post_json(url, ROAD_REPORT, {"Idempotency-Key": "retry-storm-1"})
    assert status == 201 and body["id"] in created
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem)) == 1
    # The same key with another body is refused; another key makes another item.
    status, body = post_json(url, dict(ROAD_REPORT, title="khác"), {"Idempotency-Key": "retry-storm-1"})
    assert status == 422 and body["code"] == 422
    status, _ = post_json(url, ROAD_REPORT, {"Idempotency-Key": "retry-storm-2"})
    assert status == 201


def test_two_officers_at_once_one_wins_the_other_gets_412(app, live_server):
    """Both read the same ETag and act at the same moment through a real server: no lost update."""
    from feedback_app.services.auth import create_staff

    with app.app_context():
        for name in ("officer.x", "officer.y"):
            create_staff(username=name, password="correct horse battery", role="officer", agency_code="UBND-TPBN")
        db.session.commit()
    tokens = []
    for name in ("officer.x", "officer.y"):
        _, body = post_json(f"{live_server}/api/v1/auth/token", {"username": name, "password": "correct horse battery"})
        tokens.append({"Authorization": f"Bearer {body['access_token']}"})
    _, created = post_json(f"{live_server}/api/v1/feedback", ROAD_REPORT)
    item_url = f"{live_server}/api/v1/triage/items/{created['id']}"
    request = urllib.request.Request(item_url, headers=tokens[0])
    with urllib.request.urlopen(request, timeout=30) as response:
        etag = response.headers["ETag"]
    results = []
    barrier = threading.Barrier(2)

    def act(headers, message):
        barrier.wait()
        results.append(post_json(f"{item_url}/actions", {"action": "accept", "message": message},
                                 {**headers, "If-Match": etag}))

    threads = [threading.Thread(target=act, args=(tokens[i], f"officer {i}")) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 412], results
    with app.app_context():
        from feedback_app.models import ItemEvent

        accepted = db.session.scalars(sa.select(ItemEvent).where(ItemEvent.to_status == "in_progress")).all()
        assert len(accepted) == 1  # the loser wrote nothing
