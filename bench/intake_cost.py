"""What one submission costs the Python process, in instructions: a figure that does not move with the machine.

Run: .venv/bin/python bench/intake_cost.py [--requests 300] [--case CASE ...]   (needs valgrind)
     .venv/bin/python bench/intake_cost.py --case action --requests 100   (an action costs ten submissions)
     .venv/bin/python bench/intake_cost.py --case queue

Both endpoints of bench/intake.py, the real one and the reference, are driven in-process (Flask's test
client, PostgreSQL on 127.0.0.1) under callgrind, which counts only the measured loop (instrumentation is
switched on after the warm-up). Throughput on a shared 2-core machine moves by a third from one minute to
the next; instruction counts repeat to about 1%. PostgreSQL's own work is not in them: bench/intake.py
measures the whole.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


CASES = {
    "real": "the intake endpoint as bench/intake.py drives it (no key, rate limits off)",
    "reference": "the validate-and-insert reference",
    "load-submit": "a submission as bench/load.py sends it: app backend's API key, a device id, an "
                   "Idempotency-Key, rate limits on (Redis on 127.0.0.1)",
    "track": "the public tracking view of an existing item (GET /api/v1/feedback/{code})",
    "deliver": "the notifications worker: outbox batches of 50 as the relay makes them (an intake's "
               "item.routed, a signed webhook to its agency on 127.0.0.1; item.received, which nobody is to hear "
               "of here, is not written); per message",
    "action": "an officer's action as bench/load.py sends it (POST /api/v1/triage/items/{id}/actions with If-Match: "
              "accept, then resolve, each answered with the item's detail) on items of one field and one ward, "
              "with 200 other open items of that field and ward as duplicate candidates; per action",
    "queue": "an officer's queue as bench/load.py reads it (GET /api/v1/triage/items?status=routed, then in_progress, "
             "page_size=20; 200 items routed to the agency, 40 in progress)",
}


def serve_webhooks() -> None:
    """A receiver for the agencies' webhooks (run as a process of its own, whose work is not counted): it
    prints its port, then answers every POST with 204."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Hook(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def deliver(app, client, bodies, requests: int) -> None:
    """Count the worker's delivery of `requests` outbox messages (the relay's batches of 50, run in order)."""
    import sqlalchemy as sa

    from feedback_app.extensions import db
    from feedback_app.models import Agency, OutboxMessage
    from feedback_app.services import notifications
    from feedback_app.services.relay import BATCH_SIZE

    # Started by exec, not fork: valgrind does not follow it, so the receiver's work is not counted.
    receiver = subprocess.Popen([sys.executable, __file__, "--serve-webhooks"], stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"
    with app.app_context():
        for agency in db.session.scalars(sa.select(Agency)):
            agency.webhook_url, agency.webhook_secret = f"{url}/hook/{agency.code}", "cost-bench-secret"
        db.session.commit()
    ids, i = [], 0
    while len(ids) < requests + 400:  # one outbox message per submission (item.received has no recipient here)
        for _ in range(requests + 400 - len(ids)):
            assert client.post("/api/v1/feedback", json=bodies[i % len(bodies)]).status_code == 201
            i += 1
        with app.app_context():
            ids = db.session.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    batches = [ids[i:i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
    warm, counted = batches[:400 // BATCH_SIZE], batches[400 // BATCH_SIZE:][:requests // BATCH_SIZE]

    def run(chunk):
        with app.app_context():
            notifications.handle_batch(chunk)
            db.session.remove()

    _counting(run, warm, counted)
    with app.app_context():
        left = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.processed_at.is_(None), OutboxMessage.id <= counted[-1][-1]))
    receiver.kill()
    assert left == 0, f"{left} messages not processed"


def _officer(app, client, items: int):
    """`items` open items of one field and one ward routed to one agency, the oldest first, and an officer of
    that agency: (item ids, their versions, `act(item_id, payload, etag) -> new etag`, the officer's headers)."""
    import csv

    import sqlalchemy as sa

    from feedback_app.extensions import db
    from feedback_app.models import FeedbackItem
    from feedback_app.services.auth import create_staff

    with open(ROOT / "classifier" / "seed" / "seed_vi.csv", encoding="utf-8") as handle:
        texts = [r["text"][:4000] for r in csv.DictReader(handle) if len(r["text"]) >= 10]
    ids = []
    for i in range(items):
        body = {"description": texts[i % len(texts)], "category": "water", "consent_public": True,
                "address": "phường Suối Hoa, TP Bắc Ninh", "contact": {"name": "Người thử", "phone": "0900000000"}}
        response = client.post("/api/v1/feedback", json=body)
        assert response.status_code == 201 and response.get_json()["status"] == "routed", response.get_json()
        ids.append(response.get_json()["id"])
    agency = response.get_json()["agency"]["code"]
    with app.app_context():
        create_staff(username="cost-bench-officer", password="cost-bench-password-1", role="officer",
                     agency_code=agency)
        db.session.commit()
        versions = dict(db.session.execute(sa.select(FeedbackItem.id, FeedbackItem.version)).all())
    token = client.post("/api/v1/auth/token", json={"username": "cost-bench-officer",
                                                    "password": "cost-bench-password-1"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def act(item_id: str, payload: dict, tag: str) -> str:
        response = client.post(f"/api/v1/triage/items/{item_id}/actions", json=payload,
                               headers={**headers, "If-Match": tag})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.headers["ETag"]

    return ids, {str(k): v for k, v in versions.items()}, act, headers


ACCEPT = {"action": "accept", "message": "Đã tiếp nhận, đang xử lý."}
RESOLVE = {"action": "resolve", "text": "Đơn vị đã kiểm tra và khắc phục tại hiện trường.",
           "evidence_reason": "Kiểm tra trực tiếp, không chụp ảnh."}


def _counting(run, warm, counted) -> None:
    """run(x) for each of `warm`, then for each of `counted` with callgrind's instrumentation on."""
    for one in warm:
        run(one)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for one in counted:
        run(one)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def officer_actions(app, client, requests: int) -> None:
    """Count `requests` officer actions: half the items accepted, then resolved, as the load's officers do, each
    item with a pool of 200 open items of the same field and ward (the duplicate candidates of its detail)."""
    warm, counted = 20, -(-requests // 2)
    # Oldest first: the ones acted on; the newest 200 stay open.
    ids, versions, act, _ = _officer(app, client, warm + counted + 200)

    def work(item_id: str) -> None:
        tag = act(item_id, ACCEPT, f'"{item_id}-{versions[item_id]}"')
        act(item_id, RESOLVE, tag)

    _counting(work, ids[:warm], ids[warm:warm + counted])


def officer_queue(app, client, requests: int) -> None:
    """Count `requests` reads of an officer's queue as the load's officers read it (the first page of 20 of the
    'routed' items, then of the 'in_progress' ones, in turn): 240 items routed to the agency, 40 accepted."""
    ids, versions, act, headers = _officer(app, client, 240)
    for item_id in ids[:40]:
        act(item_id, ACCEPT, f'"{item_id}-{versions[item_id]}"')

    def read(i: int) -> None:
        status = ("routed", "in_progress")[i % 2]
        response = client.get(f"/api/v1/triage/items?status={status}&page_size=20", headers=headers)
        assert response.status_code == 200 and len(response.get_json()["items"]) == 20, response.get_data(as_text=True)

    _counting(read, range(200), range(200, 200 + requests))


def _database(case: str) -> str:
    return f"phananh_bench_cost_{case.replace('-', '_')}"


def child(case: str, requests: int) -> None:
    """Inside valgrind: build the app, warm it up, then count `requests` requests of `case`."""
    from bench.common import bench_env, fresh_database, migrate_and_load
    from bench.intake import payloads

    env = bench_env(fresh_database(_database(case)))
    if case == "load-submit":
        env.update(RATELIMIT_ENABLED="1", RATELIMIT_DEFAULT="1000000 per minute",
                   REDIS_URL="redis://127.0.0.1:6379/13")
    migrate_and_load(env)
    os.environ.update(env)
    if case == "reference":
        from bench.reference_app import app, create_table

        create_table()
    else:
        from feedback_app import create_app

        app = create_app()
    client = app.test_client()
    bodies = payloads()
    if case in ("deliver", "action", "queue"):
        if case == "deliver":
            deliver(app, client, bodies, requests)
        else:
            (officer_actions if case == "action" else officer_queue)(app, client, requests)
        shutil.rmtree(env["INSTANCE_PATH"], ignore_errors=True)
        return
    headers = lambda i: {}  # noqa: E731
    if case == "load-submit":
        from feedback_app.extensions import db
        from feedback_app.services.clients import create_api_client

        with app.app_context():
            _, key = create_api_client(name="cost-bench-app-backend", scopes=["intake"])
            db.session.commit()
        headers = lambda i: {"X-API-Key": key, "X-Device-Id": f"device-{i}", "Idempotency-Key": f"key-{i}"}  # noqa: E731
    codes = []

    def one(i: int) -> None:
        if case == "track":
            response = client.get(f"/api/v1/feedback/{codes[i % len(codes)]}")
            assert response.status_code == 200, response.get_data(as_text=True)
            return
        response = client.post("/api/v1/feedback", json=bodies[i % len(bodies)], headers=headers(i))
        assert response.status_code == 201, response.get_data(as_text=True)
        codes.append(response.get_json().get("tracking_code"))

    if case == "track":
        for i in range(200):
            response = client.post("/api/v1/feedback", json=bodies[i % len(bodies)])
            codes.append(response.get_json()["tracking_code"])
    _counting(one, range(200), range(200, 200 + requests))  # 200 to warm caches, pools, prepared statements
    shutil.rmtree(env["INSTANCE_PATH"], ignore_errors=True)


def measure(case: str, requests: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={tmp}/out",
             sys.executable, __file__, "--child", case, "--requests", str(requests)],
            cwd=ROOT, capture_output=True, text=True,
        )
    from bench.common import drop_database

    drop_database(_database(case))
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"callgrind run of {case} failed:\n{result.stderr[-2000:]}")
    if case == "deliver":  # whole batches only
        from feedback_app.services.relay import BATCH_SIZE

        requests = requests // BATCH_SIZE * BATCH_SIZE
    if case == "action":  # whole items: an accept and a resolve each
        requests = -(-requests // 2) * 2
    return int(found.group(1)) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="what to count (repeatable); default: real and reference. " +
                             "; ".join(f"{k}: {v}" for k, v in CASES.items()))
    parser.add_argument("--child", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--serve-webhooks", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_webhooks:
        serve_webhooks()
        return
    if args.child:
        child(args.child, args.requests)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    figures = {case: measure(case, args.requests) for case in (args.case or ["real", "reference"])}
    for case, per_request in figures.items():
        unit = {"deliver": "outbox message", "action": "action"}.get(case, "request")
        print(f"{case:12s} {per_request / 1e6:6.2f} M instructions per {unit} ({args.requests} counted)")
    if "real" in figures and "reference" in figures:
        print(f"reference/real: {figures['reference'] / figures['real']:.2f}")


if __name__ == "__main__":
    main()
