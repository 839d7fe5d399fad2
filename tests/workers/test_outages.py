"""Outages, for real: Redis stopped during 200 submissions; two schedulers side by side."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from feedback_app.embedded_redis import ensure_embedded_redis, stop_embedded_redis
from feedback_app.extensions import db
from feedback_app.models import ClockAlert, FeedbackItem, ItemEvent, OutboxMessage
from feedback_app.models.types import utcnow
from tests.conftest import process_env, PROJECT_ROOT
from tests.e2e.conftest import gunicorn_server
from tests.e2e.test_intake_server import post_json
from tests.workers.test_relay_and_delivery import receiver, water_agency_hook  # noqa: F401  (fixtures)


def _env(app, redis_url):
    return process_env(app, REDIS_URL=redis_url)


def _scheduler(app, redis_url, seconds):
    code = f"from workers.context import worker_app; from workers.scheduler import run_scheduler; run_scheduler(worker_app(), stop_after={seconds})"
    return subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=_env(app, redis_url))


def test_redis_stopped_during_200_submissions_then_every_side_effect_once(app, water_agency_hook, tmp_path):
    received = water_agency_hook
    redis_dir = tmp_path / "redis"
    redis_url = ensure_embedded_redis(redis_dir)
    with gunicorn_server(app, redis_url=redis_url) as base:
        stop_embedded_redis(redis_dir, save=False)  # Redis goes down before the first submission
        codes = []
        for i in range(200):
            status, body = post_json(f"{base}/api/v1/feedback", {
                "description": f"Mất nước sinh hoạt ở tổ {i} từ sáng nay", "category": "water",
                "address": "phường Suối Hoa, TP Bắc Ninh"})
            assert status == 201, body
            codes.append(body["tracking_code"])
    with app.app_context():
        pending = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None)))
        assert pending == 200  # each item's item.routed, all waiting (item.received has no recipient here: not written)
    redis_url = ensure_embedded_redis(redis_dir)  # Redis is back
    started = time.monotonic()
    scheduler = _scheduler(app, redis_url, 15)
    try:
        while time.monotonic() - started < 300:  # a bound on waiting, not a speed requirement
            with app.app_context():
                pending = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                            .where(OutboxMessage.dispatched_at.is_(None)))
            if pending == 0:
                break
            time.sleep(0.5)
        assert pending == 0
        worker = subprocess.run([sys.executable, "-m", "workers", "worker", "--queues", "notifications", "--burst"],
                                cwd=PROJECT_ROOT, env=_env(app, redis_url), capture_output=True, text=True, timeout=300)
        assert worker.returncode == 0, worker.stderr[-2000:]
    finally:
        scheduler.wait(timeout=60)
        stop_embedded_redis(redis_dir, save=False)
    delivered = [json.loads(r["body"])["item"]["tracking_code"] for r in received]
    assert sorted(delivered) == sorted(codes)  # every routed item reached its agency, once


def test_two_schedulers_side_by_side_double_nothing(app, client):
    for i in range(30):
        client.post("/api/v1/feedback", json={"description": f"Đèn đường hỏng ở ngõ {i} Lý Thái Tổ", "category": "electricity",
                                              "address": "phường Suối Hoa, TP Bắc Ninh"})
    with app.app_context():
        past = utcnow() - timedelta(minutes=1)
        db.session.execute(sa.update(FeedbackItem).values(ack_warn_at=past, ack_due_at=past, warn_at=past, due_at=past))
        db.session.commit()
    redis_url = app.config["REDIS_URL"]
    first, second = _scheduler(app, redis_url, 8), _scheduler(app, redis_url, 8)
    first.wait(timeout=60)
    second.wait(timeout=60)
    with app.app_context():
        alerts = db.session.execute(sa.select(ClockAlert.item_id, ClockAlert.goal, ClockAlert.level)).all()
        assert len(alerts) == len(set(alerts)) == 30 * 4
        events = db.session.scalar(sa.select(sa.func.count()).select_from(ItemEvent).where(ItemEvent.kind.like("clock_%")))
        assert events == 120
        outbox = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.topic.like("clock.%")))
        assert outbox == 120


def test_make_stop_shuts_down_the_embedded_redis_that_make_run_leaves_running(tmp_path):
    """The README's `make stop`: the instance's redis-server answers before and not after, and a second stop is
    harmless (nothing to stop)."""
    from feedback_app.embedded_redis import _ping

    instance = tmp_path / "instance"
    ensure_embedded_redis(instance)
    assert _ping(instance / "redis.sock")
    env = {**os.environ, "INSTANCE_PATH": str(instance)}
    try:
        for _ in range(2):
            done = subprocess.run(["make", "--no-print-directory", "stop", f"BIN={os.path.dirname(sys.executable)}"],
                                  cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert not _ping(instance / "redis.sock")
    finally:
        stop_embedded_redis(instance, save=False)  # a failed test leaves no server behind
