"""Training, prediction and evaluation of the one feedback classifier used for every language and dataset."""

from __future__ import annotations

import hashlib
import json
import platform
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sklearn
from joblib import parallel_backend
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from .errors import ClassifierInputError
from .evaluation import choose_threshold, classification_metrics
from .features import FeedbackVectorizer, as_documents
from .scoring import FastScorer

__all__ = [
    "Prediction",
    "TrainedModel",
    "build_pipeline",
    "train_model",
]

SEED = 20240601
HOLDOUT_FRACTION = 0.2
# A class needs this many rows before some of them are held out for the threshold:
# the rest must still feed every calibration fold.
MIN_ROWS_TO_HOLD_OUT = 5
CALIBRATION_FOLDS = 3
SVM_C = 0.3
MIN_DF = 5
CHAR_NGRAMS = (3, 5)
BATCH_SLICE = 1000

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Prediction:
    """The field predicted for one report and whether it may skip the human triage queue."""

    label: str
    probability: float
    auto_route: bool
    top: list[tuple[str, float]]

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "probability": self.probability,
            "auto_route": self.auto_route,
            "top": [[label, p] for label, p in self.top],
        }


def build_pipeline(n_folds: int = CALIBRATION_FOLDS) -> Pipeline:
    """The single pipeline: the same settings for every language and every dataset."""
    svm = LinearSVC(C=SVM_C, random_state=SEED)
    calibrated = CalibratedClassifierCV(
        svm,
        method="sigmoid",
        cv=StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=SEED),
        ensemble=True,
        n_jobs=2,
    )
    features = FeedbackVectorizer(min_df=MIN_DF, char_ngram_range=CHAR_NGRAMS)
    return Pipeline([("features", features), ("classifier", calibrated)])


def _clean_inputs(texts, labels, areas) -> tuple[list[str], list[str], list[str | None] | None]:
    if texts is None or labels is None:
        raise ClassifierInputError("texts and labels are required")
    texts, labels = list(texts), list(labels)
    if not texts:
        raise ClassifierInputError("no training data: the list of texts is empty")
    if len(texts) != len(labels):
        raise ClassifierInputError(f"{len(texts)} texts but {len(labels)} labels: lengths differ")
    if areas is not None:
        areas = list(areas)
        if len(areas) != len(texts):
            raise ClassifierInputError(f"{len(texts)} texts but {len(areas)} areas: lengths differ")
        areas = [None if a is None or str(a).strip() == "" else str(a) for a in areas]
    clean_labels = []
    for row, label in enumerate(labels):
        if label is None or str(label).strip() == "":
            raise ClassifierInputError(f"row {row} has an empty label")
        clean_labels.append(str(label))
    clean_texts = ["" if t is None else str(t) for t in texts]
    return clean_texts, clean_labels, areas


def _check_label_counts(labels: list[str]) -> Counter:
    counts = Counter(labels)
    if len(counts) < 2:
        raise ClassifierInputError(
            f"need at least two different labels, got only {next(iter(counts))!r}"
        )
    singles = sorted(label for label, n in counts.items() if n < 2)
    if singles:
        shown = ", ".join(repr(s) for s in singles[:5]) + (" ..." if len(singles) > 5 else "")
        raise ClassifierInputError(
            f"{len(singles)} label(s) have only one example ({shown}); every label needs at "
            "least two (drop rare labels, e.g. with --min-examples 2)"
        )
    return counts


def _holdout_split(labels: list[str], counts: Counter) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split with a fixed seed; rare labels stay entirely in the fitting part."""
    rng = np.random.RandomState(SEED)
    labels_arr = np.asarray(labels, dtype=object)
    held = []
    for label in sorted(counts):
        rows = np.flatnonzero(labels_arr == label)
        if len(rows) < MIN_ROWS_TO_HOLD_OUT:
            continue
        n_held = max(1, int(round(len(rows) * HOLDOUT_FRACTION)))
        held.extend(rng.permutation(rows)[:n_held])
    held_mask = np.zeros(len(labels), dtype=bool)
    held_mask[held] = True
    return np.flatnonzero(~held_mask), np.flatnonzero(held_mask)


def _pick(values: list | None, rows: np.ndarray) -> list | None:
    return None if values is None else [values[i] for i in rows]


def _data_sha256(texts, labels, areas) -> str:
    digest = hashlib.sha256()
    for i, (text, label) in enumerate(zip(texts, labels)):
        area = areas[i] if areas is not None else None
        digest.update(json.dumps([text, label, area], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _fit_pipeline(texts, labels, areas, progress: Progress) -> Pipeline:
    counts = Counter(labels)
    pipeline = build_pipeline(n_folds=min(CALIBRATION_FOLDS, min(counts.values())))
    documents = as_documents(texts, areas)
    started = time.perf_counter()
    features = pipeline.named_steps["features"]
    matrix = features.fit_transform(documents)
    if features.n_features_out_ == 0:
        raise ClassifierInputError("the texts contain no usable words")
    progress(
        f"  {len(texts)} rows, {features.n_features_out_} features "
        f"({time.perf_counter() - started:.1f} s); fitting {len(counts)} classes"
    )
    started = time.perf_counter()
    with warnings.catch_warnings(), parallel_backend("threading", n_jobs=2):
        # liblinear's dual solver stops at max_iter on some n-gram problems; the
        # model is still the one we measured, so the warning is only noise here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # liblinear releases the GIL, so threads fit the calibration folds in parallel
        # without copying the feature matrix into worker processes. Its random
        # generator is process-wide, so two runs can differ in the last digits.
        pipeline.named_steps["classifier"].fit(matrix, labels)
    for member in pipeline.named_steps["classifier"].calibrated_classifiers_:
        # float32 weights halve the model file; scores move by ~1e-7, far below
        # anything that changes a prediction, and every path uses the same weights.
        member.estimator.coef_ = member.estimator.coef_.astype(np.float32)
    progress(f"  fitted in {time.perf_counter() - started:.1f} s")
    return pipeline


def train_model(
    texts: list[str],
    labels: list[str],
    areas: list[str | None] | None = None,
    *,
    target_precision: float = 0.95,
    progress: Progress | None = None,
) -> TrainedModel:
    """Train the classifier and calibrate its auto-route threshold on held-out rows.

    One global threshold on the calibrated top probability is chosen: per-class
    thresholds would each rest on a handful of held-out rows for the rarer fields
    and so be mostly noise, while the sigmoid calibration is already per class.
    """
    progress = progress or (lambda message: None)
    if not isinstance(target_precision, (int, float)) or not 0.0 < target_precision <= 1.0:
        raise ClassifierInputError(f"target_precision must be in (0, 1], got {target_precision!r}")
    texts, labels, areas = _clean_inputs(texts, labels, areas)
    counts = _check_label_counts(labels)
    started = time.perf_counter()

    fit_rows, held_rows = _holdout_split(labels, counts)
    progress(
        f"choosing the auto-route threshold: fitting on {len(fit_rows)} rows, "
        f"holding out {len(held_rows)}"
    )
    holdout_metrics = None
    threshold = 1.0
    if len(held_rows):
        probe = TrainedModel(
            _fit_pipeline(
                _pick(texts, fit_rows), _pick(labels, fit_rows), _pick(areas, fit_rows), progress
            ),
            metadata={"threshold": 1.0, "target_precision": target_precision},
        )
        proba = probe.predict_proba(_pick(texts, held_rows), _pick(areas, held_rows))
        held_labels = _pick(labels, held_rows)
        top = proba.max(axis=1)
        predicted = probe.labels_array[proba.argmax(axis=1)]
        threshold, _, _ = choose_threshold(top, predicted == np.asarray(held_labels), target_precision)
        probe.metadata["threshold"] = threshold
        holdout_metrics = probe._metrics(held_labels, proba)
        progress(
            f"threshold {threshold:.4f}: covers {holdout_metrics['auto_route']['coverage']:.1%} "
            f"of held-out rows at precision {holdout_metrics['auto_route']['precision']}"
        )
    else:
        progress("too few rows per label to hold any out: nothing will be auto-routed")

    progress(f"refitting on all {len(texts)} rows")
    pipeline = _fit_pipeline(texts, labels, areas, progress)
    created = datetime.now(timezone.utc).astimezone()
    sha = _data_sha256(texts, labels, areas)
    metadata = {
        "version": f"{created:%Y%m%dT%H%M%S}-{sha[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "labels": [str(c) for c in pipeline.classes_],
        "label_counts": {str(k): int(v) for k, v in sorted(counts.items())},
        "n_train": len(texts),
        "uses_area": areas is not None,
        "data_sha256": sha,
        "threshold": threshold,
        "threshold_kind": "global",
        "target_precision": float(target_precision),
        "holdout": holdout_metrics,
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "settings": {
            "classifier": f"CalibratedClassifierCV(LinearSVC(C={SVM_C}), sigmoid, "
            f"cv={pipeline.named_steps['classifier'].cv.n_splits})",
            "min_df": MIN_DF,
            "char_ngrams": list(CHAR_NGRAMS),
            "holdout_fraction": HOLDOUT_FRACTION,
            "seed": SEED,
        },
        "text_columns": None,
        "label_column": None,
        "area_column": None,
        "training_seconds": round(time.perf_counter() - started, 2),
    }
    progress(f"trained in {metadata['training_seconds']:.1f} s, version {metadata['version']}")
    return TrainedModel(pipeline, metadata=metadata)


class TrainedModel:
    """A fitted pipeline with its auto-route threshold and the facts needed to reproduce it."""

    def __init__(self, pipeline: Pipeline, metadata: dict):
        self.pipeline = pipeline
        self.metadata = metadata
        self.labels_array = np.asarray(pipeline.classes_, dtype=object)
        self._features: FeedbackVectorizer = pipeline.named_steps["features"]
        self._scorer = FastScorer(pipeline.named_steps["classifier"])

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.labels_array]

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unversioned"))

    @property
    def threshold(self) -> float:
        return float(self.metadata.get("threshold", 1.0))

    def threshold_for(self, label: str) -> float:
        """The auto-route threshold for a label (one global threshold, see train_model)."""
        return self.threshold

    def __repr__(self) -> str:
        return f"TrainedModel(version={self.version!r}, labels={len(self.labels_array)})"

    # ---- prediction ---------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str], areas: Sequence[str | None] | None = None) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in the order of ``labels``."""
        texts = ["" if t is None else t for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels_array)))
        # The pipeline's own arithmetic (a test checks they agree), without its
        # per-call validation and with one product for every calibrated member.
        # Slices of a large batch keep the temporary arrays small and in the cache.
        documents = as_documents(texts, areas)
        step = BATCH_SLICE
        return np.vstack(
            [
                self._scorer.predict_proba_rows(self._features.transform(documents[i : i + step]))
                for i in range(0, len(documents), step)
            ]
        )

    def predict_proba_one(self, text: str, area: str | None = None) -> np.ndarray:
        """The probabilities of predict_proba for one text, via the fast path."""
        ids, values = self._features.transform_one(text, area)
        return self._scorer.predict_proba(ids, values)

    def _predictions(self, proba: np.ndarray, k: int) -> list[Prediction]:
        """Predictions of rows of probabilities: the k most probable labels of each, best first."""
        k = max(1, min(int(k), proba.shape[1]))
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        # Flat lists of plain str and float: no per-row lists for the garbage collector.
        labels = [str(label) for label in self.labels_array[order].ravel().tolist()]
        probabilities = np.take_along_axis(proba, order, axis=1).ravel().tolist()
        predictions = []
        for start in range(0, len(labels), k):
            top = list(zip(labels[start : start + k], probabilities[start : start + k]))
            label, probability = top[0]
            predictions.append(
                Prediction(
                    label=label,
                    probability=probability,
                    auto_route=probability >= self.threshold_for(label),
                    top=top,
                )
            )
        return predictions

    def predict(
        self, texts: Sequence[str], areas: Sequence[str | None] | None = None, k: int = 3
    ) -> list[Prediction]:
        """Predictions in input order; the numbers are those of predict_proba."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a list of texts; use predict_one() for one text")
        texts = list(texts)
        if areas is not None and len(areas) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(areas)} areas")
        if len(texts) == 1:
            return [self.predict_one(texts[0], areas[0] if areas is not None else None, k)]
        return self._predictions(self.predict_proba(texts, areas), k)

    def predict_one(self, text: str, area: str | None = None, k: int = 3) -> Prediction:
        return self._predictions(self.predict_proba_one(text, area)[None, :], k)[0]

    # ---- evaluation ---------------------------------------------------------------

    def _metrics(self, labels: Sequence[str], proba: np.ndarray) -> dict:
        return classification_metrics(
            self.labels_array,
            labels,
            proba,
            threshold=self.threshold,
            target_precision=float(self.metadata.get("target_precision", 0.95)),
        )

    def evaluate(
        self, texts: Sequence[str], labels: Sequence[str], areas: Sequence[str | None] | None = None
    ) -> dict:
        """Accuracy, macro-F1, auto-route coverage/precision at the model's threshold, per-class figures.

        macro_f1 averages over the labels present in ``labels``.
        """
        texts, labels = list(texts), list(labels)
        if not texts:
            raise ClassifierInputError("no evaluation data")
        if len(texts) != len(labels):
            raise ClassifierInputError(f"{len(texts)} texts but {len(labels)} labels: lengths differ")
        if areas is not None and len(areas) != len(texts):
            raise ClassifierInputError(f"{len(texts)} texts but {len(areas)} areas: lengths differ")
        return self._metrics(labels, self.predict_proba(texts, areas))

    # ---- persistence --------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write MODEL.skops and its sidecar MODEL.skops.json; returns the sidecar path."""
        from .io import save_model

        return save_model(self, path)


