"""What one submission costs the Python process, in instructions: a figure that does not move with the machine.

Run: .venv/bin/python bench/intake_cost.py [--requests 300]     (needs valgrind: apt-get install valgrind)

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


def child(endpoint: str, requests: int) -> None:
    """Inside valgrind: build the app, warm it up, then count `requests` submissions."""
    from bench.common import bench_env, fresh_database, migrate_and_load
    from bench.intake import payloads

    env = bench_env(fresh_database(f"phananh_bench_cost_{endpoint}"))
    migrate_and_load(env)
    os.environ.update(env)
    if endpoint == "real":
        from feedback_app import create_app

        app = create_app()
    else:
        from bench.reference_app import app, create_table

        create_table()
    client = app.test_client()
    bodies = payloads()
    for i in range(200):  # warm-up: caches, pools, prepared statements
        assert client.post("/api/v1/feedback", json=bodies[i % len(bodies)]).status_code == 201
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for i in range(requests):
        response = client.post("/api/v1/feedback", json=bodies[i % len(bodies)])
        assert response.status_code == 201, response.get_data(as_text=True)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    shutil.rmtree(env["INSTANCE_PATH"], ignore_errors=True)


def measure(endpoint: str, requests: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={tmp}/out",
             sys.executable, __file__, "--child", endpoint, "--requests", str(requests)],
            cwd=ROOT, capture_output=True, text=True,
        )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"callgrind run of {endpoint} failed:\n{result.stderr[-2000:]}")
    return int(found.group(1)) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--child", choices=("real", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    figures = {endpoint: measure(endpoint, args.requests) for endpoint in ("real", "reference")}
    for endpoint, per_request in figures.items():
        print(f"{endpoint:10s} {per_request / 1e6:6.2f} M instructions per submission ({args.requests} counted)")
    print(f"reference/real: {figures['reference'] / figures['real']:.2f}")


if __name__ == "__main__":
    main()
