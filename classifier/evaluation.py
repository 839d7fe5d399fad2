"""Figures of a classifier on labelled rows, and the choice of the auto-route threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

__all__ = ["choose_threshold", "classification_metrics"]


def choose_threshold(
    confidence: Sequence[float], correct: Sequence[bool], target_precision: float
) -> tuple[float, float, float | None]:
    """Lowest top-probability threshold whose auto-routed items reach the target precision.

    Returns (threshold, coverage, precision). When no threshold reaches the target,
    the threshold is 1.0: in practice nothing is routed automatically.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    if confidence.size == 0:
        return 1.0, 0.0, None
    order = np.argsort(-confidence, kind="stable")
    sorted_conf = confidence[order]
    precision = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    # Cut only between distinct confidences: every item at the threshold is routed.
    boundary = np.r_[sorted_conf[1:] < sorted_conf[:-1], True]
    feasible = np.flatnonzero(boundary & (precision >= target_precision - 1e-12))
    if feasible.size == 0:
        return 1.0, float(np.mean(confidence >= 1.0)), None
    k = int(feasible.max())
    return float(sorted_conf[k]), (k + 1) / len(order), float(precision[k])


def classification_metrics(
    classes: np.ndarray,
    labels: Sequence[str],
    proba: np.ndarray,
    *,
    threshold: float,
    target_precision: float,
) -> dict:
    """n, accuracy, macro-F1 (over the labels present), auto-route figures, per-class figures."""
    truth = np.asarray([str(label) for label in labels], dtype=object)
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    top = proba.max(axis=1)
    correct = predicted == truth
    routed = top >= threshold
    present = sorted(set(truth.tolist()))
    names = sorted(set(str(c) for c in classes) | set(present))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=names, zero_division=0
    )
    return {
        "n": int(len(truth)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)),
        "auto_route": {
            "threshold": float(threshold),
            "coverage": float(routed.mean()),
            "precision": float(correct[routed].mean()) if routed.any() else None,
            "target_precision": float(target_precision),
            # The most that any threshold could route here at the target precision.
            "best_coverage_at_target": choose_threshold(top, correct, target_precision)[1],
        },
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)
        },
    }
