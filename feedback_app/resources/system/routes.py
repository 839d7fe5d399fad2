"""/healthz says the process is alive; /readyz says the database and Redis answer."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from feedback_app.extensions import db

blp = Blueprint("system", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it never raises
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        current_app.extensions["redis"].ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not_ready", checks=checks), 200 if ready else 503
