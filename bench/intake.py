"""Intake throughput: the real endpoint under gunicorn (2 workers) on PostgreSQL against a minimal reference.

Run: .venv/bin/python bench/intake.py [--connections 16] [--seconds 12] [--rounds 5]
Prints req/s, p50 and p99 for both endpoints and their ratio: the round with the median ratio of `--rounds`
rounds, each running the real endpoint then the reference for `--seconds`. Short rounds, many of them: the
speed of a shared machine drifts over minutes, and both endpoints should meet the same drift. Targets: ratio >= 0.6 (>= 0.45 with
the classifier in the request path), p99 < 50 ms at 16 connections. Uses wrk when installed
(apt-get install wrk), else a Python load generator (which takes CPU from the servers: figures are lower).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env, fresh_database, gunicorn_model, migrate_and_load  # noqa: E402


def payloads(n: int = 200) -> list[dict]:
    seed = ROOT / "classifier" / "seed" / "seed_vi.csv"
    with open(seed, encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if len(r["text"]) >= 10]
    random.Random(7).shuffle(rows)
    return [
        {
            "description": row["text"][:4000],
            "category": row["category"],
            "address": random.Random(i).choice(["phường Suối Hoa, TP Bắc Ninh", "phường Đông Ngàn, Từ Sơn", "xã Phật Tích, Tiên Du", None]),
            "contact": {"name": "Người thử", "phone": "0900000000"},
            "consent_public": True,
        }
        for i, row in enumerate(rows[:n])
    ]


def start(cmd: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except urllib.error.HTTPError:
            return process  # answering, even if with 404
        except OSError:
            time.sleep(0.1)
            continue
        return process
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def run_wrk(url: str, bodies: list[dict], connections: int, seconds: int) -> dict:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    encoded = [json.dumps(b, ensure_ascii=False).replace("\\", "\\\\").replace('"', '\\"') for b in bodies]
    script.write('local bodies = {"' + '","'.join(encoded) + '"}\n')
    script.write(
        'local i = 0\nrequest = function()\n  i = i + 1\n  local body = bodies[(i % #bodies) + 1]\n'
        '  return wrk.format("POST", nil, {["Content-Type"]="application/json"}, body)\nend\n'
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("JSON {\\"p50\\": %f, \\"p99\\": %f, \\"requests\\": %d, \\"errors\\": %d, '
        '\\"status_errors\\": %d}\\n", latency:percentile(50)/1000, latency:percentile(99)/1000, summary.requests, '
        "summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))\nend\n"
    )
    script.close()
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", script.name, url],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"wrk failed: {result.stderr or result.stdout}")
    out = result.stdout
    os.unlink(script.name)
    stats = json.loads(re.search(r"JSON (\{.*\})", out).group(1))
    stats["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return stats


def run_python(url: str, bodies: list[dict], connections: int, seconds: int) -> dict:
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker(offset: int):
        conn = HTTPConnection(host, int(port), timeout=30)
        local, i = [], offset
        while time.monotonic() < stop:
            body = json.dumps(bodies[i % len(bodies)]).encode()
            i += 1
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            local.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(k * 37,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / seconds, "p50": q[49], "p99": q[98], "requests": len(latencies),
            "errors": 0, "status_errors": errors[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=12, help="length of each endpoint's run in a round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of real then reference; the median is shown")
    parser.add_argument("--database", default="phananh_bench_intake")
    parser.add_argument("--classifier", action="store_true", help="train and activate the seed model first")
    args = parser.parse_args()

    env = bench_env(fresh_database(args.database))
    migrate_and_load(env)
    if args.classifier:
        subprocess.run([sys.executable, "-m", "flask", "classifier", "ensure-default"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-c", "from bench.reference_app import create_table; create_table()"],
                   env=env, cwd=ROOT, check=True)
    bodies = payloads()
    load = run_wrk if shutil.which("wrk") else run_python
    print(f"load generator: {'wrk' if load is run_wrk else 'python threads'}; {args.connections} connections, "
          f"{args.seconds} s each; PostgreSQL; gunicorn {gunicorn_model(env)}; classifier {'on' if args.classifier else 'off'}",
          file=sys.stderr)

    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind"]
    endpoints = (("real", "wsgi:app", 5601), ("reference", "bench.reference_app:app", 5602))
    servers = [start(gunicorn + [f"127.0.0.1:{port}", app_path], env, port) for _name, app_path, port in endpoints]
    # Both servers stay up; the load alternates between them round by round, so that a machine whose speed
    # drifts (other work, a neighbour on the host) weighs on both alike. The ratio is the median of the rounds'.
    rounds: list[dict] = []
    try:
        for name, _app_path, port in endpoints:  # warm-up: connection pools, caches, the model
            load(f"http://127.0.0.1:{port}/api/v1/feedback", bodies, args.connections, 3)
        for number in range(args.rounds):
            result = {name: load(f"http://127.0.0.1:{port}/api/v1/feedback", bodies, args.connections, args.seconds)
                      for name, _app_path, port in endpoints}
            result["ratio"] = result["real"]["rps"] / result["reference"]["rps"]
            rounds.append(result)
            print(f"round {number + 1}: real {result['real']['rps']:.1f} req/s (p99 {result['real']['p99']:.1f} ms), "
                  f"reference {result['reference']['rps']:.1f} req/s (p99 {result['reference']['p99']:.1f} ms), "
                  f"ratio {result['ratio']:.2f}", file=sys.stderr)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
    middle = sorted(rounds, key=lambda r: r["ratio"])[(len(rounds) - 1) // 2]  # an even count: the lower one
    for name in ("real", "reference"):
        r = middle[name]
        print(f"{name:10s} {r['rps']:8.1f} req/s   p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms   "
              f"requests {r['requests']}   errors {sum(x[name]['errors'] + x[name]['status_errors'] for x in rounds)}")
    each = ", ".join(f"{r['ratio']:.2f}" for r in rounds)
    print(f"ratio real/reference: {middle['ratio']:.2f} (median of {len(rounds)} rounds: {each})")
    print(json.dumps({"real": middle["real"], "reference": middle["reference"], "ratio": round(middle["ratio"], 3),
                      "rounds": [round(r["ratio"], 3) for r in rounds]}))
    shutil.rmtree(env["INSTANCE_PATH"], ignore_errors=True)


if __name__ == "__main__":
    main()
