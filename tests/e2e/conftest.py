"""A real gunicorn serving the app on a free loopback port, sharing the test database."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from feedback_app.config import PROJECT_ROOT


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn_server(app, *, redis_url: str, workers: int = 2, extra_env: dict | None = None):
    port = _free_port()
    env = {
        **os.environ,
        "INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "RATELIMIT_ENABLED": "0",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not answer within 30 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def live_server(app):
    with gunicorn_server(app, redis_url=app.config["REDIS_URL"]) as base:
        yield base


@pytest.fixture
def live_server_without_redis(app):
    # Port 1 on loopback: nothing listens, every connection is refused at once.
    with gunicorn_server(app, redis_url="redis://127.0.0.1:1/0") as base:
        yield base
