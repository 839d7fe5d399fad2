"""The agency queue at scale: 100,000 items on PostgreSQL, one agency's first page, soonest deadline first.

Run: .venv/bin/python bench/triage.py [--items 100000] [--runs 200]
Prints p50/p95 of the whole request (Flask, SQL, serialisation) with and without the overdue filter, and
the query plan, to show which index serves it. Target: p50 under 20 ms with the overdue filter.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.common import bench_env, fresh_database, migrate_and_load  # noqa: E402

OPEN = ["routed", "in_progress", "waiting_citizen", "reopened", "needs_triage"]
DONE = ["resolved", "closed", "rejected"]


def seed(database_url: str, n: int) -> None:
    engine = sa.create_engine(database_url)
    rng = random.Random(42)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        agencies = [r[0] for r in conn.execute(sa.text("SELECT id FROM agencies"))]
        fields = [r[0] for r in conn.execute(sa.text("SELECT id FROM fields"))]
        areas = [r[0] for r in conn.execute(sa.text("SELECT id FROM areas"))]
        items = sa.table("feedback_items", *[sa.column(c) for c in (
            "id", "tracking_code", "citizen_token_hash", "status", "version", "description", "language", "channel",
            "priority", "anonymous", "consent_public", "area_id", "category_id", "agency_id", "created_at",
            "updated_at", "due_at")])
        batch = []
        for i in range(n):
            created = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            status = rng.choice(OPEN) if rng.random() < 0.3 else rng.choice(DONE)
            batch.append({
                "id": uuid.uuid4(), "tracking_code": f"B{i:07d}", "citizen_token_hash": "0" * 64, "status": status,
                "version": 1, "description": "Bench item: đường hỏng, cần sửa chữa gấp.", "language": "vi",
                "channel": "app", "priority": "normal", "anonymous": False, "consent_public": False,
                "area_id": rng.choice(areas), "category_id": rng.choice(fields),
                "agency_id": None if status == "needs_triage" else rng.choice(agencies),
                "created_at": created, "updated_at": created, "due_at": created + timedelta(days=rng.randint(1, 15)),
            })
            if len(batch) == 5000:
                conn.execute(items.insert(), batch)
                batch = []
        if batch:
            conn.execute(items.insert(), batch)
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    database_url = fresh_database("phananh_bench_triage")
    env = bench_env(database_url)
    migrate_and_load(env)
    started = time.perf_counter()
    seed(database_url, args.items)
    print(f"seeded {args.items} items in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    os.environ.update({k: env[k] for k in ("DATABASE_URL", "INSTANCE_PATH", "SECRET_KEY", "RATELIMIT_ENABLED", "REDIS_URL")})
    from feedback_app import create_app
    from feedback_app.extensions import db
    from feedback_app.models import Agency, FeedbackItem
    from feedback_app.services.auth import create_staff

    app = create_app({"LOG_LEVEL": "WARNING"})
    with app.app_context():
        busiest = db.session.execute(
            sa.select(Agency.code, sa.func.count()).join(FeedbackItem, FeedbackItem.agency_id == Agency.id)
            .where(FeedbackItem.status.in_(OPEN)).group_by(Agency.code).order_by(sa.func.count().desc()).limit(1)
        ).one()
        create_staff(username="bench.officer", password="bench password 1", role="officer", agency_code=busiest[0])
        db.session.commit()
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "bench.officer", "password": "bench password 1"}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    results = {}
    for name, url in (("queue", "/api/v1/triage/items"), ("queue_overdue", "/api/v1/triage/items?overdue=true")):
        for _ in range(10):
            client.get(url, headers=headers)
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        q = statistics.quantiles(timings, n=100)
        results[name] = {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2),
                         "total": response.get_json()["pagination"]["total"]}
        print(f"{name:14s} p50 {q[49]:6.2f} ms  p95 {q[94]:6.2f} ms  ({results[name]['total']} matching items, "
              f"agency {busiest[0]} with {busiest[1]} open of {args.items})")

    with app.app_context():
        from feedback_app.services.triage import list_queue  # noqa: F401  (the same query, explained)

        agency_id = db.session.scalar(sa.select(Agency.id).where(Agency.code == busiest[0]))
        plan = db.session.execute(sa.text(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM feedback_items WHERE agency_id = :a "
            "AND status IN ('received','routed','needs_triage','in_progress','waiting_citizen','reopened') "
            "AND due_at < now() ORDER BY due_at ASC NULLS LAST, created_at, id LIMIT 20"), {"a": agency_id}).scalars().all()
    print("query plan (first page, overdue):")
    for line in plan:
        print("  " + line)
    results["uses_index"] = any("Index" in line for line in plan)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
