"""What the benchmarks share: a fresh PostgreSQL database migrated and loaded with the demo directory."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str) -> str:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def bench_env(database_url: str) -> dict:
    instance = tempfile.mkdtemp(prefix="bench-")
    return {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": "0", "LOG_LEVEL": "WARNING", "FLASK_APP": "wsgi.py",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")}


def migrate_and_load(env: dict) -> None:
    flask = [sys.executable, "-m", "flask"]
    subprocess.run(flask + ["db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(flask + ["directory", "load", "feedback_app/seed/bac_ninh.yaml"], env=env, cwd=ROOT, check=True,
                   capture_output=True)


def machine_speed(additions: int = 5_000_000) -> float:
    """Seconds a plain Python loop of 20 M additions takes here now, written at module level as in
    `python -c "for i in range(20_000_000): s += i"` (timed on a quarter, the best of three). This 2-core
    machine's speed drifts by a factor of two or more from one day to the next, so a load figure is read next
    to it. The interpreter times it too: under Debian's 3.11.2 (`.venv` since 6 December) the loop takes about
    0.86 of its time under pyenv's 3.11.7, the interpreter of the figures before (medians of five alternated
    pairs: 1.68 and 1.96 s)."""
    import time

    code = compile(f"s = 0\nfor i in range({additions}):\n    s += i\n", "<machine_speed>", "exec")
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        exec(code, {})
        best = min(best, time.perf_counter() - started)
    return best * 20_000_000 / additions


def gunicorn_model(env: dict, workers: int = 2) -> str:
    """How gunicorn will serve, as gunicorn.conf.py and any GUNICORN_CMD_ARGS in `env` make it: "2 workers of
    2 threads (keep-alive 75 s)" or "2 sync workers"."""
    printed = subprocess.run([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--print-config", "wsgi:app"],
                             env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    settings = {key.strip(): value.strip() for key, _, value in (line.partition("=") for line in printed.splitlines())}
    threads, keepalive = int(settings["threads"]), int(settings["keepalive"])
    if threads > 1:
        return f"{workers} workers of {threads} threads (keep-alive {keepalive} s)"
    return f"{workers} sync workers"
