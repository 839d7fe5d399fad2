"""Calibrated class probabilities for one text straight from the fitted coefficients, without per-call sklearn overhead."""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration

__all__ = ["FastScorer"]


class FastScorer:
    """Reproduces ``CalibratedClassifierCV(LinearSVC, method="sigmoid").predict_proba``.

    Pipeline.predict_proba on a single text spends most of its time validating
    inputs and building tiny scipy matrices; this does the same arithmetic on the
    few hundred non-zero features of that text, and for a batch one product of
    the feature matrix with the weights of every member and class at once. Tests
    check all paths agree.
    """

    def __init__(self, calibrated: CalibratedClassifierCV):
        classes = np.asarray(calibrated.classes_)
        self.n_classes = len(classes)
        columns, intercepts, slopes, offsets, targets, members = [], [], [], [], [], []
        for member, cc in enumerate(calibrated.calibrated_classifiers_):
            estimator = cc.estimator
            if not all(isinstance(c, _SigmoidCalibration) for c in cc.calibrators):
                raise TypeError("FastScorer supports sigmoid calibration only")
            positions = np.searchsorted(classes, estimator.classes_)
            if self.n_classes == 2:
                positions = positions[1:]  # one decision function, for the second class
            coef = np.atleast_2d(estimator.coef_)
            columns.append(coef.T)
            intercepts.append(np.broadcast_to(estimator.intercept_, (coef.shape[0],)))
            slopes.extend(c.a_ for c in cc.calibrators)
            offsets.extend(c.b_ for c in cc.calibrators)
            targets.extend(positions)
            members.extend([member] * coef.shape[0])
        # Features in rows so one text's weights are a gather of a few hundred rows.
        self.weights = np.ascontiguousarray(np.hstack(columns), dtype=np.float64)
        self.intercepts = np.concatenate(intercepts).astype(np.float64)
        self.slopes = np.asarray(slopes, dtype=np.float64)
        self.offsets = np.asarray(offsets, dtype=np.float64)
        self.targets = np.asarray(targets, dtype=np.int64)
        self.members = np.asarray(members, dtype=np.int64)
        self.n_members = len(calibrated.calibrated_classifiers_)

    def predict_proba(self, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Probabilities of one row given as its non-zero (ids, values)."""
        return self._calibrated(values @ self.weights[ids] + self.intercepts)

    def predict_proba_rows(self, features) -> np.ndarray:
        """Probabilities of every row of a sparse feature matrix: one product for the whole batch."""
        return self._calibrated(features @ self.weights + self.intercepts)

    def _calibrated(self, decision: np.ndarray) -> np.ndarray:
        """Sigmoid-calibrated, per-member normalised and member-averaged probabilities of
        decision values (one row, or one row per text)."""
        calibrated = expit(-(self.slopes * decision + self.offsets))
        proba = np.zeros((*decision.shape[:-1], self.n_members, self.n_classes))
        proba[..., self.members, self.targets] = calibrated
        if self.n_classes == 2:
            proba[..., 0] = 1.0 - proba[..., 1]
        else:
            total = proba.sum(axis=-1, keepdims=True)
            proba = np.divide(
                proba, total, out=np.full_like(proba, 1.0 / self.n_classes), where=total != 0
            )
        proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba.mean(axis=-2)
