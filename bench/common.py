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
