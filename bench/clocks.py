"""The clock watcher and the outbox relay at scale: 1,000,000 open items on PostgreSQL.

Run: .venv/bin/python bench/clocks.py [--items 1000000] [--relay 20000]
Prints the time of one watcher pass (the catch-up pass that fires every due alert, then a steady-state
pass with nothing new to fire) and the relay's throughput to Redis in messages per second.
Target: one watcher pass under 5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.common import bench_env, fresh_database, migrate_and_load  # noqa: E402

OPEN = ["routed", "in_progress", "waiting_citizen", "reopened"]


def seed(database_url: str, n: int, due_share: float) -> None:
    """COPY n open items whose marks fall around now: `due_share` of them past their resolve warning."""
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        agencies = [r[0] for r in conn.execute("SELECT id FROM agencies")]
        fields = [r[0] for r in conn.execute("SELECT id FROM fields")]
        columns = ("id", "tracking_code", "citizen_token_hash", "status", "version", "description", "language",
                   "channel", "priority", "anonymous", "consent_public", "category_id", "agency_id", "created_at",
                   "updated_at", "clock_started_at", "ack_warn_at", "ack_due_at", "warn_at", "due_at", "accepted_at",
                   "paused_at")
        with conn.cursor().copy(f"COPY feedback_items ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(n):
                status = rng.choice(OPEN)
                started = now - timedelta(hours=rng.uniform(0, 400))
                # Past the warning for `due_share` of items, ahead of it for the rest.
                warn = now - timedelta(minutes=rng.uniform(1, 600)) if rng.random() < due_share else now + timedelta(hours=rng.uniform(1, 200))
                due = warn + timedelta(hours=rng.uniform(1, 40))
                ack_warn = now - timedelta(minutes=rng.uniform(1, 60)) if rng.random() < due_share else now + timedelta(hours=rng.uniform(1, 8))
                accepted = None if status == "routed" else started + timedelta(hours=1)
                copy.write_row((uuid.uuid4(), f"C{i:07d}", "0" * 64, status, 1, "bench", "vi", "app", "normal", False,
                                False, rng.choice(fields), rng.choice(agencies), started, started, started,
                                ack_warn, ack_warn + timedelta(hours=1), warn, due, accepted,
                                now if status == "waiting_citizen" else None))
        conn.execute("ANALYZE")
        conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.05, help="share of items past their warning")
    parser.add_argument("--relay", type=int, default=20_000, help="outbox messages for the relay measurement")
    args = parser.parse_args()

    database_url = fresh_database("phananh_bench_clocks")
    env = bench_env(database_url)
    migrate_and_load(env)
    started = time.perf_counter()
    seed(database_url, args.items, args.due_share)
    print(f"seeded {args.items} open items in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    os.environ.update({k: env[k] for k in ("DATABASE_URL", "INSTANCE_PATH", "SECRET_KEY", "REDIS_URL")})
    from feedback_app import create_app
    from feedback_app.extensions import db
    from feedback_app.models import OutboxMessage
    from feedback_app.services.clock_watch import watch_clocks
    from feedback_app.services.relay import relay_outbox
    from workers.queues import NOTIFICATIONS, queue

    app = create_app({"LOG_LEVEL": "WARNING"})
    results = {}
    with app.app_context():
        for name in ("catch_up_pass", "steady_pass"):
            t0 = time.perf_counter()
            fired = watch_clocks()
            db.session.commit()
            seconds = time.perf_counter() - t0
            results[name] = {"seconds": round(seconds, 2), "fired": fired}
            print(f"{name:14s} {seconds:6.2f} s   fired {fired}")
        db.session.execute(sa.delete(OutboxMessage))
        db.session.execute(sa.insert(OutboxMessage), [
            {"topic": "item.routed", "job_key": f"bench:{i}", "payload": {"item_id": str(uuid.uuid4())}, "attempts": 0}
            for i in range(args.relay)])
        db.session.commit()
        q = queue(NOTIFICATIONS)
        q.empty()
        t0 = time.perf_counter()
        sent = 0
        while True:
            n = relay_outbox(batch=1000)
            if n == 0:
                break
            sent += n
        seconds = time.perf_counter() - t0
        results["relay"] = {"messages": sent, "seconds": round(seconds, 2), "per_second": round(sent / seconds)}
        print(f"relay          {sent} messages in {seconds:.2f} s: {sent / seconds:,.0f} messages/s")
        q.empty()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
