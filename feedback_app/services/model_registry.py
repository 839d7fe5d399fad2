"""Trained routing models: register a file, activate a version, train from the service's own history or a CSV."""
from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from feedback_app.config import PROJECT_ROOT
from feedback_app.extensions import db
from feedback_app.models import ClassifierModel, FeedbackItem, ItemEvent
from feedback_app.models.types import utcnow
from feedback_app.services.classification import active_model
from feedback_app.services.errors import NotFound, Unprocessable

SEED_CORPUS = PROJECT_ROOT / "classifier" / "seed" / "seed_vi.csv"
# Staff decisions are the labels: a coordinator's route, a correction after a send-back.
LABEL_ACTORS = ("staff",)


def register_model(path: str | Path) -> ClassifierModel:
    from classifier import load_model

    model = load_model(str(path))  # refuses unknown types and other scikit-learn versions
    row = db.session.get(ClassifierModel, model.version)
    if row is None:
        # The figures on the model's own held-out part: what `flask classifier list` shows.
        metrics = model.metadata.get("holdout") or model.metadata.get("metrics") or {}
        summary = {k: metrics.get(k) for k in ("n", "accuracy", "macro_f1", "auto_route")}
        row = ClassifierModel(version=model.version, path=str(Path(path).resolve()), metrics=summary)
        db.session.add(row)
    db.session.flush()
    return row


def activate_model(version: str) -> ClassifierModel:
    row = db.session.get(ClassifierModel, version)
    if row is None:
        raise NotFound(errors={"version": [f"no model {version}; see `flask classifier list`"]})
    db.session.execute(sa.update(ClassifierModel).where(ClassifierModel.version != version).values(active=False))
    row.active = True
    row.activated_at = utcnow()
    db.session.flush()
    active_model.reset()  # this process at once; the others within their check interval
    return row


def history_examples() -> tuple[list[str], list[str], list[str | None]]:
    """Items whose field a staff member set: their text, the final field, and the area."""
    from feedback_app.models import Area, Field

    labelled = (
        sa.select(ItemEvent.item_id)
        .where(ItemEvent.actor_kind.in_(LABEL_ACTORS), ItemEvent.to_status == "routed")
        .distinct()
    )
    rows = db.session.execute(
        sa.select(FeedbackItem.title, FeedbackItem.description, Field.code, Area.code)
        .join(Field, Field.id == FeedbackItem.category_id)
        .outerjoin(Area, Area.id == FeedbackItem.area_id)
        .where(FeedbackItem.id.in_(labelled))
    ).all()
    texts = [f"{t}\n{d}" if t else d for t, d, _, _ in rows]
    return texts, [r[2] for r in rows], [r[3] for r in rows]


def csv_examples(path: str | Path, *, text_columns: list[str], label_column: str) -> tuple[list[str], list[str]]:
    csv.field_size_limit(2**31 - 1)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in [*text_columns, label_column] if c not in (reader.fieldnames or [])]
        if missing:
            raise Unprocessable(errors={"columns": [f"missing {missing}; the file has {reader.fieldnames}"]})
        texts, labels = [], []
        for row in reader:
            text = "\n".join(row[c] or "" for c in text_columns).strip()
            if text and row[label_column]:
                texts.append(text)
                labels.append(row[label_column])
    return texts, labels


def train_and_register(*, texts: list[str], labels: list[str], areas: list[str | None] | None, model_dir: str,
                       activate: bool, progress=None) -> ClassifierModel:
    from classifier import ClassifierInputError, train_model

    try:
        model = train_model(texts, labels, areas, progress=progress)
    except ClassifierInputError as err:
        raise Unprocessable(errors={"training_data": [str(err)]}) from None
    directory = Path(model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{model.version}.skops"
    model.save(str(path))
    row = register_model(path)
    if activate:
        activate_model(row.version)
    return row


def ensure_default_model(*, model_dir: str, progress=None) -> ClassifierModel | None:
    """A fresh install routes Vietnamese text: train the seed corpus when no model is active."""
    active = db.session.scalar(sa.select(ClassifierModel).where(ClassifierModel.active.is_(True)))
    if active is not None and Path(active.path).exists():
        return None
    texts, labels = csv_examples(SEED_CORPUS, text_columns=["text"], label_column="category")
    return train_and_register(texts=texts, labels=labels, areas=None, model_dir=model_dir, activate=True,
                              progress=progress)
