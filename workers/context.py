"""The worker's Flask app, built once per process."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def worker_app():
    from feedback_app import create_app

    return create_app()
