"""Idempotency-Key semantics on creating POSTs, through the test client."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, IdempotencyRecord
from feedback_app.models.types import utcnow
from tests.factories import ROAD_REPORT


def count_items(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem))


def test_same_key_and_body_replays_the_first_answer(client, app):
    first = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/v1/feedback", json=dict(reversed(list(ROAD_REPORT.items()))), headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert count_items(app) == 1


def test_same_key_with_another_body_is_422(client, app):
    client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k2"})
    other = client.post("/api/v1/feedback", json=dict(ROAD_REPORT, title="Khác"), headers={"Idempotency-Key": "k2"})
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]
    assert count_items(app) == 1


def test_keys_are_scoped_to_the_client(client, app, api_key):
    client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "shared"})
    backend = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "shared", "X-API-Key": api_key})
    assert backend.status_code == 201 and "Idempotent-Replayed" not in backend.headers
    assert count_items(app) == 2


def test_a_running_twin_gets_409_and_an_abandoned_claim_is_taken_over(client, app):
    from feedback_app.services import idempotency

    with app.app_context():
        body_hash = idempotency.fingerprint(method="POST", path="/api/v1/feedback", body=ROAD_REPORT, files=[])
        now = utcnow()
        db.session.add(IdempotencyRecord(client_scope="anonymous", key="k3", request_hash=body_hash,
                                         state="running", locked_at=now, expires_at=now + timedelta(hours=48)))
        db.session.commit()
    running = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k3"})
    assert running.status_code == 409
    with app.app_context():
        db.session.execute(sa.update(IdempotencyRecord).values(locked_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    taken = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k3"})
    assert taken.status_code == 201
    assert count_items(app) == 1


def test_a_failed_request_releases_its_key(client, app):
    bad = client.post("/api/v1/feedback", json={"description": "short"}, headers={"Idempotency-Key": "k4"})
    assert bad.status_code == 422
    good = client.post("/api/v1/feedback", json={"description": "short"}, headers={"Idempotency-Key": "k4"})
    assert good.status_code == 422  # not a replay of anything: the key was never kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord)) == 0


def test_expired_keys_are_forgotten(client, app):
    client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k5"})
    with app.app_context():
        db.session.execute(sa.update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    again = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k5"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count_items(app) == 2


def test_invalid_key_is_400(client):
    response = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "x" * 201})
    assert response.status_code == 400
