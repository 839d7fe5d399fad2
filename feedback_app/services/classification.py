"""The active routing model: loaded once per process, followed when another is activated, never fatal."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import ClassifierModel

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 10.0


@dataclass(frozen=True)
class FieldPrediction:
    label: str
    probability: float
    auto_route: bool
    model_version: str
    top: list


class _ActiveModel:
    """Per-process cache; the database says which version is active, so every process and machine agrees."""

    def __init__(self):
        self._lock = threading.Lock()
        self._version: str | None = None
        self._model = None
        self._checked_at = 0.0

    def reset(self) -> None:
        with self._lock:
            self._version, self._model, self._checked_at = None, None, 0.0

    def get(self):
        now = time.monotonic()
        if now - self._checked_at < CHECK_EVERY_SECONDS:
            return self._model
        with self._lock:
            self._checked_at = now
            row = db.session.execute(
                sa.select(ClassifierModel.version, ClassifierModel.path).where(ClassifierModel.active.is_(True))
            ).first()
            if row is None:
                self._version, self._model = None, None
            elif row.version != self._version:
                from classifier import load_model

                try:
                    self._model = load_model(row.path)
                    self._version = row.version
                    log.info("classifier model %s loaded", row.version)
                except Exception:  # a bad file must not stop intake: items go to triage instead
                    log.exception("classifier model %s could not be loaded", row.version)
                    self._version, self._model = row.version, None
            return self._model


active_model = _ActiveModel()


def predict_field(text: str, area_code: str | None) -> FieldPrediction | None:
    """None when there is no model or it fails: the caller sends the item to triage."""
    try:
        model = active_model.get()
        if model is None:
            return None
        p = model.predict_one(text, area_code)
        return FieldPrediction(
            label=p.label, probability=float(p.probability), auto_route=bool(p.auto_route),
            model_version=model.version, top=[(label, float(prob)) for label, prob in p.top],
        )
    except Exception:
        log.exception("classifier prediction failed")
        return None
