"""Outbox to RQ to a signed webhook, on a real Redis and a real HTTP receiver: once each, nothing lost."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

from feedback_app.extensions import db
from feedback_app.models import Agency, Delivery, ItemEvent, OutboxMessage
from feedback_app.services.notifications import handle_message
from feedback_app.services.relay import relay_outbox
from workers.queues import NOTIFICATIONS, queue

SECRET = "agency-shared-secret"


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open between requests, as most servers do

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": body, "peer": self.client_address})
            if self.path.endswith("/moved"):
                self.send_response(307)
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            else:
                self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # a kept-alive connection holds its thread
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


@pytest.fixture
def water_agency_hook(app, receiver):
    url, received = receiver
    with app.app_context():
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == "NSBN"))
        agency.webhook_url, agency.webhook_secret = url, SECRET
        db.session.commit()
    yield received
    with app.app_context():
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == "NSBN"))
        agency.webhook_url = agency.webhook_secret = None
        db.session.commit()


def submit_water(client):
    return client.post("/api/v1/feedback", json={
        "description": "Mất nước sinh hoạt cả khu phố từ sáng", "category": "water",
        "address": "phường Suối Hoa, TP Bắc Ninh", "contact": {"phone": "0912345678"}}).get_json()


def test_a_routed_item_reaches_its_agency_once_signed(app, client, water_agency_hook):
    received = water_agency_hook
    body = submit_water(client)
    with app.app_context():
        q = queue(NOTIFICATIONS)
        q.empty()
        assert relay_outbox() == 1  # item.routed (item.received has no recipient here: not written)
        assert relay_outbox() == 0
        assert q.count == 1  # one job carries the batch
        SimpleWorker([q], connection=q.connection).work(burst=True)
        assert len(received) == 1
        hook = received[0]
        assert hook["headers"]["X-Signature"] == "sha256=" + hmac.new(SECRET.encode(), hook["body"], hashlib.sha256).hexdigest()
        payload = json.loads(hook["body"])
        assert payload["item"]["tracking_code"] == body["tracking_code"] and payload["topic"] == "item.routed"
        assert "0912345678" not in hook["body"].decode()
        delivery = db.session.scalar(sa.select(Delivery))
        assert delivery.status == "sent" and hook["headers"]["X-Delivery-Id"] == delivery.id
        # Every message is processed.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.processed_at.is_(None))) == 0
        # The same message handled again (a job run twice): nothing is sent twice.
        outbox_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed"))
        assert handle_message(outbox_id) == {"sent": 0, "skipped": 1}
        assert len(received) == 1


def test_the_citizen_app_hears_of_its_own_items_only_when_its_webhook_is_set(app, client, api_key, water_agency_hook, receiver):
    """A message is written only when someone may hear of it: item.received has no recipient but the citizen
    app, and the citizen app hears only of the items sent through an app backend, and only once its webhook
    is set. The agency hears of item.routed either way."""
    url, received = receiver
    app_item = {"description": "Mất nước sinh hoạt cả khu phố từ sáng", "category": "water",
                "address": "phường Suối Hoa, TP Bắc Ninh"}

    def topics_of(code):
        with app.app_context():
            from feedback_app.models import FeedbackItem

            item_id = db.session.scalar(sa.select(FeedbackItem.id).where(FeedbackItem.tracking_code == code))
            return sorted(db.session.scalars(sa.select(OutboxMessage.topic).where(
                OutboxMessage.payload["item_id"].as_string() == str(item_id))))

    quiet = client.post("/api/v1/feedback", json=app_item, headers={"X-API-Key": api_key, "X-Device-Id": "d-1"}).get_json()
    assert topics_of(quiet["tracking_code"]) == ["item.routed"]

    def deliver(expected):
        with app.app_context():
            q = queue(NOTIFICATIONS)
            q.empty()
            assert relay_outbox() == expected
            SimpleWorker([q], connection=q.connection).work(burst=True)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.processed_at.is_(None))) == 0

    deliver(1)
    app.config["CITIZEN_APP_WEBHOOK_URL"], app.config["CITIZEN_APP_WEBHOOK_SECRET"] = url + "/citizen-app", "app-secret"
    try:
        heard = client.post("/api/v1/feedback", json=app_item, headers={"X-API-Key": api_key, "X-Device-Id": "d-2"}).get_json()
        web = client.post("/api/v1/feedback", json=app_item).get_json()
        assert topics_of(heard["tracking_code"]) == ["item.received", "item.routed"]
        assert topics_of(web["tracking_code"]) == ["item.routed"]  # a web submission has no app to tell
        deliver(3)
    finally:
        app.config.pop("CITIZEN_APP_WEBHOOK_URL")
        app.config.pop("CITIZEN_APP_WEBHOOK_SECRET")
    codes = {quiet["tracking_code"]: "quiet", heard["tracking_code"]: "heard", web["tracking_code"]: "web"}

    def signed_by(r):
        return next(name for name, secret in (("agency", SECRET), ("app", "app-secret"))
                    if r["headers"]["X-Signature"] == "sha256=" + hmac.new(secret.encode(), r["body"], hashlib.sha256).hexdigest())

    posts = sorted((codes[json.loads(r["body"])["item"]["tracking_code"]], json.loads(r["body"])["topic"], signed_by(r))
                   for r in received)
    assert posts == sorted([("quiet", "item.routed", "agency"), ("heard", "item.received", "app"),
                            ("heard", "item.routed", "agency"), ("heard", "item.routed", "app"), ("web", "item.routed", "agency")])


def test_webhooks_to_one_agency_share_a_kept_alive_connection(app, client, water_agency_hook):
    received = water_agency_hook
    submit_water(client)
    submit_water(client)
    with app.app_context():
        routed = db.session.scalars(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed")).all()
        for outbox_id in routed:
            assert handle_message(outbox_id) == {"sent": 1, "skipped": 0}
            db.session.commit()
    assert len(received) == 2
    assert received[0]["peer"] == received[1]["peer"]  # the same client socket: no new connection per POST


def test_a_redirecting_webhook_is_a_failed_delivery_not_followed(app, client, water_agency_hook):
    import feedback_app.services.notifications as notifications

    received = water_agency_hook
    submit_water(client)
    with app.app_context():
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == "NSBN"))
        agency.webhook_url += "/moved"
        db.session.commit()
        outbox_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed"))
        with pytest.raises(notifications.DeliveryFailed, match="HTTP 307"):
            handle_message(outbox_id)
        delivery = db.session.scalar(sa.select(Delivery))
        assert delivery.status == "pending" and delivery.attempts == 1 and "307" in delivery.last_error
    assert len(received) == 1  # the redirect's target was never asked


def test_redis_down_leaves_every_message_pending(app, client):
    submit_water(client)
    dead = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        with app.app_context():
            assert relay_outbox() == 0
            pending = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.dispatched_at.is_(None)))
            assert pending == 1
    finally:
        app.config["REDIS_URL"] = dead
    with app.app_context():
        queue(NOTIFICATIONS).empty()
        assert relay_outbox() == 1  # back up: everything pending goes out


def test_a_failing_receiver_is_retried_with_the_same_delivery_id(app, client, water_agency_hook, monkeypatch):
    import feedback_app.services.notifications as notifications

    submit_water(client)
    calls = []

    def flaky(row, url, secret, payload):
        calls.append(row.id)
        if len(calls) == 1:
            raise OSError("connection refused")

    monkeypatch.setattr(notifications, "_post", flaky)
    with app.app_context():
        outbox_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed"))
        with pytest.raises(notifications.DeliveryFailed):
            handle_message(outbox_id)
        assert handle_message(outbox_id) == {"sent": 1, "skipped": 0}
        db.session.commit()
        assert calls[0] == calls[1]
        row = db.session.scalar(sa.select(Delivery))
        assert row.attempts == 2 and row.status == "sent"


def test_a_key_claimed_by_a_twin_job_is_left_to_it_until_its_lease_is_over(app, client, water_agency_hook):
    """A batch looks up its messages' deliveries once; a twin job (the same batch re-queued) may claim one in
    between. While that claim is younger than the lease the key is the twin's: nothing is posted and the
    message is not marked processed (the job fails, to be retried). Once the lease is over (a twin killed
    mid-POST) the key is taken over under the same id; once sent, it is skipped."""
    from datetime import timedelta

    import feedback_app.services.notifications as notifications

    submit_water(client)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.topic == "item.routed"))
        (channel, target, secret, subject), = notifications._targets(message)
        key = f"{message.id}:{channel}:{target}"
        recipients = [(channel, target, secret, subject)]
        with notifications._writer() as writer:
            twin = notifications._claim(writer, key=key, outbox_id=message.id, channel=channel, target=target,
                                        topic=message.topic, known={})
            with pytest.raises(notifications.DeliveryHeld):
                notifications._claim(writer, key=key, outbox_id=message.id, channel=channel, target=target,
                                     topic=message.topic, known={})
        with pytest.raises(notifications.DeliveryFailed, match="held by another job"):
            handle_message(message.id, known={}, targets=recipients)
        db.session.rollback()
        assert water_agency_hook == []
        assert db.session.get(OutboxMessage, message.id).processed_at is None
        # The twin died mid-POST: its claim outlives the lease.
        lease = app.config.get("DELIVERY_LEASE_SECONDS", 60)
        claim = db.session.scalar(sa.select(Delivery))
        claim.claimed_at -= timedelta(seconds=lease + 1)
        db.session.commit()
        assert handle_message(message.id, known={}, targets=recipients) == {"sent": 1, "skipped": 0}
        db.session.commit()
        assert [hook["headers"]["X-Delivery-Id"] for hook in water_agency_hook] == [twin.id]
        row = db.session.scalar(sa.select(Delivery))
        assert (row.id, row.status, row.attempts) == (twin.id, "sent", 1)
        assert handle_message(message.id, known={}, targets=recipients) == {"sent": 0, "skipped": 1}
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1
    assert len(water_agency_hook) == 1


def test_a_message_whose_second_target_is_held_keeps_its_first_as_sent(app, client, water_agency_hook):
    """A twin holds the second target's key: the first is posted and recorded sent, the message stays
    unprocessed for the retry, which skips the first."""
    import feedback_app.services.notifications as notifications

    submit_water(client)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.topic == "item.routed"))
        agency_hook = db.session.scalar(sa.select(Agency.webhook_url).where(Agency.code == "NSBN"))
        held = ("webhook", agency_hook + "/app-backend", None, "")
        with notifications._writer() as writer:
            notifications._claim(writer, key=f"{message.id}:webhook:{held[1]}", outbox_id=message.id,
                                 channel="webhook", target=held[1], topic=message.topic, known={})
        with pytest.raises(notifications.DeliveryFailed, match="held by another job"):
            handle_message(message.id, targets=[("webhook", agency_hook, SECRET, ""), held])
        db.session.rollback()
        states = dict(db.session.execute(sa.select(Delivery.target, Delivery.status)).all())
        assert states == {agency_hook: "sent", held[1]: "sending"} and len(water_agency_hook) == 1
        assert db.session.get(OutboxMessage, message.id).processed_at is None
        with pytest.raises(notifications.DeliveryFailed):
            handle_message(message.id, targets=[("webhook", agency_hook, SECRET, ""), held])
        assert len(water_agency_hook) == 1  # the sent one is not posted again


REFUSED = ("webhook", "http://127.0.0.1:1/app-backend", None, "")  # nothing listens on port 1


def _fail_with_a_refused_target(client, refused_first: bool) -> tuple[int, str]:
    """An item.routed message delivered to its agency's hook and to a refused one, in the order asked; the
    job fails. Returns (message id, the agency's hook). Inside an app context."""
    from feedback_app.services.notifications import DeliveryFailed

    submit_water(client)
    message_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed"))
    agency_hook = db.session.scalar(sa.select(Agency.webhook_url).where(Agency.code == "NSBN"))
    targets = [("webhook", agency_hook, SECRET, ""), REFUSED]
    with pytest.raises(DeliveryFailed):
        handle_message(message_id, targets=targets[::-1] if refused_first else targets)
    db.session.rollback()
    return message_id, agency_hook


def test_a_message_whose_second_target_fails_keeps_its_first_as_sent(app, client, water_agency_hook):
    """Sent deliveries are recorded with their message at its end; when a later target fails, they are
    recorded with the failure, so the retry sends only what did not go."""
    with app.app_context():
        message_id, agency_hook = _fail_with_a_refused_target(client, refused_first=False)
        refused = REFUSED
        states = dict(db.session.execute(sa.select(Delivery.target, Delivery.status)).all())
        assert states == {agency_hook: "sent", refused[1]: "pending"}
        assert len(water_agency_hook) == 1
        retried = handle_message(message_id, targets=[("webhook", agency_hook, SECRET, ""),
                                                      ("log", "staff:1", None, "instead")])
        db.session.commit()
        assert retried == {"sent": 1, "skipped": 1} and len(water_agency_hook) == 1
        assert db.session.get(OutboxMessage, message_id).processed_at is not None


def test_a_message_with_several_targets_records_each_as_sent_with_the_message(app, client, water_agency_hook):
    """One target (the usual case) and several are marked sent by different statements on PostgreSQL."""
    submit_water(client)
    with app.app_context():
        message_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed"))
        agency_hook = db.session.scalar(sa.select(Agency.webhook_url).where(Agency.code == "NSBN"))
        result = handle_message(message_id, targets=[("webhook", agency_hook, SECRET, ""),
                                                     ("webhook", agency_hook + "/app-backend", None, ""),
                                                     ("log", "staff:1", None, "also")])
        db.session.commit()
        assert result == {"sent": 3, "skipped": 0} and len(water_agency_hook) == 2
        rows = db.session.execute(sa.select(Delivery.target, Delivery.status, Delivery.attempts, Delivery.sent_at)).all()
        assert sorted((r.target, r.status, r.attempts) for r in rows) == sorted([
            (agency_hook, "sent", 1), (agency_hook + "/app-backend", "sent", 1), ("staff:1", "sent", 1)])
        assert all(r.sent_at is not None for r in rows)
        assert db.session.get(OutboxMessage, message_id).processed_at is not None


def test_a_failing_delivery_does_not_hold_up_the_rest_of_its_batch(app, client, water_agency_hook, monkeypatch):
    import feedback_app.services.notifications as notifications
    from workers.jobs import handle_outbox_batch

    first, second = submit_water(client), submit_water(client)
    posted = []

    def refuse_the_first(row, url, secret, payload):
        if payload["item"]["tracking_code"] == first["tracking_code"] and not any(
                p == first["tracking_code"] for p, _ in posted):
            posted.append((first["tracking_code"], "refused"))
            raise OSError("connection refused")
        posted.append((payload["item"]["tracking_code"], row.id))

    monkeypatch.setattr(notifications, "_post", refuse_the_first)
    with app.app_context():
        ids = db.session.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
        assert len(ids) == 2  # each item's item.routed
        with pytest.raises(notifications.DeliveryFailed, match="1 of 2"):
            handle_outbox_batch(ids)
        # The other is done: the second item's webhook.
        assert [p for p in posted if p[1] != "refused"] == [(second["tracking_code"], posted[-1][1])]
        unprocessed = db.session.scalars(sa.select(OutboxMessage.topic).where(OutboxMessage.processed_at.is_(None))).all()
        assert unprocessed == ["item.routed"]
        # RQ's retry runs the same batch: only the failed message is handled again, and nothing is sent twice.
        assert handle_outbox_batch(ids) == {"messages": 2, "processed": 1, "sent": 1, "skipped": 0}
        assert handle_outbox_batch(ids) == {"messages": 2, "processed": 0, "sent": 0, "skipped": 0}
        assert sorted(code for code, _ in posted if _ != "refused") == sorted([first["tracking_code"], second["tracking_code"]])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(Delivery.status == "sent")) == 2


def test_a_worker_dying_mid_post_is_retried_with_the_same_delivery_id(app, client, water_agency_hook, monkeypatch):
    """The POST reached the agency, then the worker died: its delivery row was never committed. The retry
    must carry the same X-Delivery-Id, or the agency cannot tell the repeat (found by bench/chaos.py)."""
    import feedback_app.services.notifications as notifications

    submit_water(client)
    calls = []
    monkeypatch.setattr(notifications, "_post", lambda row, url, secret, payload: calls.append(row.id))
    with app.app_context():
        outbox_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed"))
        handle_message(outbox_id)
        # The process died before its commit: nothing of that run is kept (rolled back, and the row removed
        # where SQLite's savepoint already wrote it).
        db.session.rollback()
        db.session.execute(sa.delete(Delivery))
        db.session.commit()
        assert handle_message(outbox_id) == {"sent": 1, "skipped": 0}
        db.session.commit()
    assert len(calls) == 2 and calls[0] == calls[1]


def test_worker_process_delivers_what_the_scheduler_relays(app, client, water_agency_hook):
    """The real entry points as subprocesses: scheduler relays, an RQ worker (forking) delivers."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import process_env, PROJECT_ROOT

    received = water_agency_hook
    body = submit_water(client)
    env = process_env(app)
    with app.app_context():
        queue(NOTIFICATIONS).empty()
    scheduler = subprocess.Popen([sys.executable, "-c", "from workers.context import worker_app; "
                                  "from workers.scheduler import run_scheduler; run_scheduler(worker_app(), stop_after=8)"],
                                 cwd=PROJECT_ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                            .where(OutboxMessage.dispatched_at.is_(None)))
            if pending == 0:
                break
            time.sleep(0.2)
        assert pending == 0
    finally:
        scheduler.wait(timeout=30)
    worker = subprocess.run([sys.executable, "-m", "workers", "worker", "--queues", "notifications", "--burst"],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert len(received) == 1 and json.loads(received[0]["body"])["item"]["tracking_code"] == body["tracking_code"]


def test_admins_see_the_deliveries(app, client, make_staff, water_agency_hook):
    admin = make_staff("deliv.admin", "admin")
    officer = make_staff("deliv.officer", "officer", "NSBN")
    submit_water(client)
    with app.app_context():
        outbox_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "item.routed"))
        handle_message(outbox_id)
        db.session.commit()
    listed = client.get("/api/v1/admin/deliveries?status=sent", headers=admin).get_json()
    assert [(d["topic"], d["channel"], d["status"]) for d in listed] == [("item.routed", "webhook", "sent")]
    assert listed[0]["claimed_at"] is not None and listed[0]["sent_at"] >= listed[0]["claimed_at"]
    assert client.get("/api/v1/admin/deliveries?status=sending", headers=admin).get_json() == []
    assert client.get("/api/v1/admin/deliveries", headers=officer).status_code == 403


def test_full_clock_story_through_redis_warned_breached_escalated(app, client, make_staff):
    """Routed, then time moves on: the agency admin is warned, the coordinator and the manager told of the breach."""
    from datetime import timedelta

    from feedback_app.models import FeedbackItem, StaffUser
    from feedback_app.services.clock_watch import watch_clocks

    make_staff("clock.admin", "agency_admin", "DL-TPBN")
    make_staff("clock.other", "agency_admin", "NSBN")  # another agency's admin: never told
    make_staff("clock.coord", "coordinator")
    make_staff("clock.manager", "manager")
    body = client.post("/api/v1/feedback", json={"description": "Đèn đường trước số 30 Ngô Gia Tự tắt cả tuần",
                                                 "category": "electricity", "address": "phường Suối Hoa, TP Bắc Ninh"}).get_json()
    assert body["agency"]["code"] == "DL-TPBN"
    with app.app_context():
        q = queue(NOTIFICATIONS)
        q.empty()
        item = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == body["tracking_code"]))
        for instant in (item.ack_warn_at, item.ack_due_at + timedelta(minutes=1), item.warn_at, item.due_at + timedelta(minutes=1)):
            watch_clocks(instant)
            db.session.commit()
        relay_outbox()
        SimpleWorker([q], connection=q.connection).work(burst=True)
        users = dict(db.session.execute(sa.select(StaffUser.id, StaffUser.username)).all())
        sent = db.session.execute(sa.select(Delivery.topic, Delivery.target, Delivery.status)
                                  .where(Delivery.topic.like("clock.%"))).all()
        told = sorted((topic, users[int(target.split(":")[1])]) for topic, target, status in sent if status == "sent")
        assert told == sorted([
            ("clock.warning", "clock.admin"), ("clock.warning", "clock.admin"),  # acknowledge, then resolve
            ("clock.breach", "clock.coord"), ("clock.breach", "clock.coord"),
            ("clock.breach", "clock.manager"), ("clock.breach", "clock.manager"),
        ])
        timeline = db.session.scalars(sa.select(ItemEvent.kind).where(ItemEvent.item_id == item.id)).all()
        assert timeline.count("clock_warning") == 2 and timeline.count("clock_breach") == 2


def _one_message_relayed(client):
    """A water report submitted and its one notification relayed to an emptied queue; the queue."""
    submit_water(client)
    q = queue(NOTIFICATIONS)
    q.empty()
    assert relay_outbox() == 1
    return q


def test_a_wiped_redis_is_reconciled_and_nothing_is_sent_twice(app, client, water_agency_hook):
    from feedback_app.services.relay import requeue_lost

    received = water_agency_hook
    with app.app_context():
        q = _one_message_relayed(client)
        q.connection.flushdb()  # Redis loses everything it held
        assert requeue_lost(older_than_seconds=0) == 1
        assert relay_outbox() == 1
        SimpleWorker([q], connection=q.connection).work(burst=True)
        assert len(received) == 1
        # Reconciling again finds nothing lost, even once Redis forgets the finished jobs.
        q.connection.flushdb()
        assert requeue_lost(older_than_seconds=0) == 0
        assert relay_outbox() == 0
        SimpleWorker([q], connection=q.connection).work(burst=True)
        assert len(received) == 1


def test_a_job_a_killed_worker_took_off_its_queue_is_found_within_a_minute(app, client, water_agency_hook):
    """A worker reading several queues pops a job before it marks it started; SIGKILLed in between, the job says
    'queued' but is in no queue and no registry (seen once in bench/chaos.py). The reconciler finds it once its
    message was dispatched a minute ago, and not before; a job still waiting in its queue is never taken for lost."""
    from datetime import timedelta

    from feedback_app.models.types import utcnow
    from feedback_app.services.relay import LOST_AFTER_SECONDS, requeue_lost

    received = water_agency_hook
    with app.app_context():
        q = _one_message_relayed(client)

        def dispatched_ago(seconds):
            db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
                               .values(dispatched_at=utcnow() - timedelta(seconds=seconds)))
            db.session.commit()

        dispatched_ago(LOST_AFTER_SECONDS + 600)
        assert requeue_lost() == 0  # waiting its turn in the queue, however long: not lost
        job_id = q.connection.lpop(q.key).decode()  # the worker takes it, and dies before starting it
        assert q.fetch_job(job_id).get_status() == "queued"
        dispatched_ago(LOST_AFTER_SECONDS - 10)
        assert requeue_lost() == 0  # too recent to judge
        dispatched_ago(LOST_AFTER_SECONDS + 1)
        assert requeue_lost() == 1
        assert relay_outbox() == 1
        SimpleWorker([q], connection=q.connection).work(burst=True)
        assert len(received) == 1
        assert requeue_lost(older_than_seconds=0) == 0


def test_a_message_its_job_finishes_while_the_reconciler_looks_keeps_its_marks(app, client, water_agency_hook,
                                                                               monkeypatch):
    """The reconciler judges a job lost, and the job finishes before the reconciler writes: the message stays
    dispatched and processed, and is not sent again."""
    from rq.job import Job

    from feedback_app.models.types import utcnow
    from feedback_app.services.relay import requeue_lost

    with app.app_context():
        q = _one_message_relayed(client)
        q.connection.flushdb()  # the job is gone from Redis: judged lost
        fetch = Job.fetch.__func__

        def fetch_as_the_job_finishes(cls, job_id, *args, **kwargs):
            db.session.execute(sa.update(OutboxMessage).values(processed_at=utcnow()))
            return fetch(cls, job_id, *args, **kwargs)

        monkeypatch.setattr(Job, "fetch", classmethod(fetch_as_the_job_finishes))
        assert requeue_lost(older_than_seconds=0) == 0
        monkeypatch.undo()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.dispatched_at.is_(None))) == 0
        assert relay_outbox() == 0


def test_a_breach_reaches_the_coordinator_by_email_through_a_real_smtp_server(app, client):
    """A minimal SMTP server on loopback stands in for the province's mail relay."""
    import socketserver
    from datetime import timedelta

    from feedback_app.models import FeedbackItem
    from feedback_app.services.auth import create_staff
    from feedback_app.services.clock_watch import watch_clocks

    mails = []

    class SMTPHandler(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 test\r\n")
            rcpt, data = [], []
            while line := self.rfile.readline():
                command = line.decode().strip()
                if command.upper().startswith(("EHLO", "HELO")):
                    self.wfile.write(b"250 test\r\n")
                elif command.upper().startswith("RCPT TO"):
                    rcpt.append(command.split(":", 1)[1].strip("<> "))
                    self.wfile.write(b"250 ok\r\n")
                elif command.upper() == "DATA":
                    self.wfile.write(b"354 go\r\n")
                    while (body := self.rfile.readline().decode()) not in (".\r\n", ""):
                        data.append(body)
                    mails.append((rcpt, "".join(data)))
                    self.wfile.write(b"250 queued\r\n")
                elif command.upper() == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1])
    try:
        body = client.post("/api/v1/feedback", json={"description": "Đèn đường trước số 30 Ngô Gia Tự tắt cả tuần",
                                                     "category": "electricity", "address": "phường Suối Hoa, TP Bắc Ninh",
                                                     "contact": {"phone": "0933333333"}}).get_json()
        with app.app_context():
            create_staff(username="mail.coord", password="correct horse battery", role="coordinator",
                         email="dieu-phoi@bacninh.example.vn")
            db.session.commit()
            item = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == body["tracking_code"]))
            watch_clocks(item.due_at + timedelta(minutes=1))
            db.session.commit()
            outbox_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "clock.breach"))
            assert handle_message(outbox_id)["sent"] == 1
            db.session.commit()
    finally:
        app.config.pop("SMTP_HOST")
        app.config.pop("SMTP_PORT")
        server.shutdown()
    assert len(mails) == 1
    recipients, text = mails[0]
    assert recipients == ["dieu-phoi@bacninh.example.vn"] and body["tracking_code"] in text
    assert "0933333333" not in text


def _explain(sql_query) -> str:
    bind = db.session.get_bind()
    compiled = sql_query.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True})
    return "\n".join(db.session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars())


def test_the_relays_look_up_skips_what_it_already_relayed(app):
    """PostgreSQL, without a VACUUM in between (autovacuum may be off): the relay's look-up walks the partial
    index ix_outbox_pending in id order, and its second pass no longer visits the stale entries of messages
    dispatched since the first; the reconciler's look-up has an index of its own."""
    from feedback_app.services.relay import pending_query, prepare_pending_scan

    with app.app_context():
        if db.session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's planner and index scans")
        table = OutboxMessage.__table__
        db.session.execute(table.insert(), [
            {"topic": "item.received", "job_key": f"stale-{i}", "payload": {}, "attempts": 0} for i in range(20_000)])
        db.session.commit()
        # Dispatched, then processed, as the relay and the workers do: each row leaves a stale entry behind.
        db.session.execute(sa.update(table).where(table.c.job_key.like("stale-%")).values(dispatched_at=sa.func.now()))
        db.session.commit()
        db.session.execute(sa.update(table).where(table.c.job_key.like("stale-%")).values(processed_at=sa.func.now()))
        db.session.commit()
        db.session.execute(table.insert(), [
            {"topic": "item.received", "job_key": f"new-{i}", "payload": {}, "attempts": 0} for i in range(50)])
        db.session.commit()

        query = pending_query(500, "postgresql")
        prepare_pending_scan()  # as relay_outbox does in its transaction
        first = _explain(query)
        db.session.rollback()
        prepare_pending_scan()
        second = _explain(query)
        db.session.rollback()
        assert "Index Scan using ix_outbox_pending" in first and "Sort" not in first, first
        assert "rows=50 loops=1" in second.splitlines()[0], second  # the 50 pending messages, found again

        def buffers(plan: str) -> int:
            return int(plan.split("Buffers: shared hit=")[1].split()[0])

        # The first pass visits the 20,000 stale entries (and their heap rows) and marks them dead in the index.
        assert buffers(second) * 3 < buffers(first), (first, second)

        unprocessed = sa.select(OutboxMessage.id).where(OutboxMessage.dispatched_at.is_not(None),
                                                        OutboxMessage.processed_at.is_(None)).order_by(OutboxMessage.id)
        assert "ix_outbox_unprocessed" in _explain(unprocessed)
        db.session.rollback()


def test_the_delivery_records_do_not_wait_for_the_disk_and_the_pool_gets_its_connection_back_as_it_was(app):
    """PostgreSQL: the writer's commits (claims, sent records) run with synchronous_commit off; the
    connection goes back to the pool with the setting reset, so a request that takes it next commits to
    disk; a connection cut under the writer is discarded, not returned with the setting on."""
    import feedback_app.services.notifications as notifications

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("synchronous_commit is PostgreSQL's")
        show = "SHOW synchronous_commit"
        with notifications._writer() as writer:
            assert writer.connection.exec_driver_sql(show).scalar() == "off"
            used = writer.connection.connection.dbapi_connection
        assert used in _pooled_settings(show).keys()  # the same connection, back in the pool
        assert set(_pooled_settings(show).values()) == {"on"}
        with pytest.raises(sa.exc.DBAPIError):
            with notifications._writer() as writer:
                cut = writer.connection.connection.dbapi_connection
                cut.close()  # as pg_terminate_backend or a network cut would leave it
                writer.connection.exec_driver_sql("SELECT 1")
        settings = _pooled_settings(show)
        assert cut not in settings and set(settings.values()) == {"on"}


def _pooled_settings(show: str) -> dict:
    """What each connection the pool holds answers to `show` (all of them checked out at once, so that each
    is a different one)."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        connections = [stack.enter_context(db.engine.connect()) for _ in range(db.engine.pool.checkedin())]
        settings = {c.connection.dbapi_connection: c.exec_driver_sql(show).scalar() for c in connections}
        for c in connections:
            c.rollback()
    return settings


def _messages_of_one_item(client, count: int) -> list[int]:
    """`count` item.routed messages of one item (each its own key), straight into the outbox."""
    import uuid

    body = submit_water(client)
    db.session.execute(sa.delete(OutboxMessage))
    db.session.execute(sa.insert(OutboxMessage), [
        {"topic": "item.routed", "job_key": f"chunk:{uuid.uuid4().hex}", "payload": {"item_id": body["id"]},
         "attempts": 0} for _ in range(count)])
    db.session.commit()
    return db.session.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)).all()


def test_a_batch_claims_and_records_its_deliveries_a_chunk_at_a_time(app, client, water_agency_hook, monkeypatch):
    """A claim and a record per delivery were two statements and two commits per notification: a batch
    claims the keys of CLAIM_CHUNK messages with one statement and records their deliveries with one."""
    import feedback_app.services.notifications as notifications
    from workers.jobs import handle_outbox_batch

    monkeypatch.setattr(notifications, "RECORD_SECONDS", 3600)  # records by chunk only, however slow the machine
    statements = []
    with app.app_context():
        ids = _messages_of_one_item(client, 25)
        listener = lambda conn, cursor, statement, *args: statements.append(" ".join(statement.split()[:3]))  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert handle_outbox_batch(ids) == {"messages": 25, "processed": 25, "sent": 25, "skipped": 0}
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.processed_at.is_(None))) == 0
        assert dict(db.session.execute(sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status)).all()) == {"sent": 25}
    assert len(water_agency_hook) == 25 == len({hook["headers"]["X-Delivery-Id"] for hook in water_agency_hook})
    claims = [s for s in statements if s.startswith("INSERT INTO deliveries")]
    records = [s for s in statements if s.startswith(("WITH sent", "UPDATE deliveries"))]
    assert len(claims) == 3  # 10 + 10 + 5 messages
    # PostgreSQL: deliveries and messages in one statement; elsewhere one UPDATE of each.
    assert len(records) == 3


def test_a_message_failing_gives_back_the_claims_it_did_not_use(app, client, water_agency_hook):
    """Its first target refused: the second, claimed with it, is given back at once instead of being held
    until the lease is over, so the retry sends it straight away."""
    with app.app_context():
        message_id, agency_hook = _fail_with_a_refused_target(client, refused_first=True)
        refused = REFUSED
        rows = {r.target: r for r in db.session.scalars(sa.select(Delivery))}
        assert (rows[refused[1]].status, rows[refused[1]].attempts) == ("pending", 1)
        assert (rows[agency_hook].status, rows[agency_hook].claimed_at, rows[agency_hook].attempts) == ("pending", None, 0)
        assert water_agency_hook == []
        assert handle_message(message_id, targets=[("webhook", agency_hook, SECRET, "")]) == {"sent": 1, "skipped": 0}
        db.session.commit()
    assert len(water_agency_hook) == 1


def test_a_claim_is_renewed_before_it_is_a_third_of_the_lease_old_and_a_lost_one_is_not_used(
        app, client, water_agency_hook, monkeypatch):
    """A chunk's POSTs may take long (timeouts): before a claim older than a third of the lease is used, the
    chunk's unused claims are renewed, and one that is no longer this job's (a twin took it over) is not
    posted: its message fails, to be retried."""
    from datetime import timedelta

    import feedback_app.services.notifications as notifications
    from feedback_app.models.types import utcnow
    from workers.jobs import handle_outbox_batch

    lease = timedelta(seconds=app.config.get("DELIVERY_LEASE_SECONDS", 60))
    skew = [timedelta(0)]
    monkeypatch.setattr(notifications, "utcnow", lambda: utcnow() + skew[0])
    real_post = notifications._post
    with app.app_context():
        first, second, third = _messages_of_one_item(client, 3)

        def slow_post(row, url, secret, payload):
            real_post(row, url, secret, payload)
            if row.key.startswith(f"{first}:"):  # the first POST took half the lease; a twin took the third over
                skew[0] = lease / 2
                with db.engine.begin() as connection:
                    connection.execute(sa.update(Delivery).where(Delivery.key.startswith(f"{third}:"))
                                       .values(claimed_at=utcnow() - timedelta(seconds=1)))

        monkeypatch.setattr(notifications, "_post", slow_post)
        before = utcnow()
        with pytest.raises(notifications.DeliveryFailed, match="1 of 3"):
            handle_outbox_batch([first, second, third])
        db.session.rollback()
        rows = {int(r.key.split(":")[0]): r for r in db.session.scalars(sa.select(Delivery))}
        assert rows[first].status == rows[second].status == "sent"
        assert rows[second].claimed_at >= before + lease / 2  # renewed before its POST
        assert rows[third].status == "sending" and rows[third].claimed_at < before  # the twin's, left alone
        assert db.session.get(OutboxMessage, third).processed_at is None
    assert [hook["headers"]["X-Delivery-Id"] for hook in water_agency_hook] == [rows[first].id, rows[second].id]
