"""What one submission costs the Python process, in instructions: a figure that does not move with the machine.

Run: .venv/bin/python bench/intake_cost.py [--requests 300] [--case CASE ...]   (needs valgrind)

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


CASES = {
    "real": "the intake endpoint as bench/intake.py drives it (no key, rate limits off)",
    "reference": "the validate-and-insert reference",
    "load-submit": "a submission as bench/load.py sends it: app backend's API key, a device id, an "
                   "Idempotency-Key, rate limits on (Redis on 127.0.0.1)",
    "track": "the public tracking view of an existing item (GET /api/v1/feedback/{code})",
}


def child(case: str, requests: int) -> None:
    """Inside valgrind: build the app, warm it up, then count `requests` requests of `case`."""
    from bench.common import bench_env, fresh_database, migrate_and_load
    from bench.intake import payloads

    env = bench_env(fresh_database(f"phananh_bench_cost_{case.replace('-', '_')}"))
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
    for i in range(200):  # warm-up: caches, pools, prepared statements
        one(i)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for i in range(200, 200 + requests):
        one(i)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    shutil.rmtree(env["INSTANCE_PATH"], ignore_errors=True)


def measure(case: str, requests: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={tmp}/out",
             sys.executable, __file__, "--child", case, "--requests", str(requests)],
            cwd=ROOT, capture_output=True, text=True,
        )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"callgrind run of {case} failed:\n{result.stderr[-2000:]}")
    return int(found.group(1)) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="what to count (repeatable); default: real and reference. " +
                             "; ".join(f"{k}: {v}" for k, v in CASES.items()))
    parser.add_argument("--child", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    figures = {case: measure(case, args.requests) for case in (args.case or ["real", "reference"])}
    for case, per_request in figures.items():
        print(f"{case:12s} {per_request / 1e6:6.2f} M instructions per request ({args.requests} counted)")
    if "real" in figures and "reference" in figures:
        print(f"reference/real: {figures['reference'] / figures['real']:.2f}")


if __name__ == "__main__":
    main()
