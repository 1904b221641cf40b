"""Per-code logistic regressions over one shared feature matrix, and their joint scoring.

Each code gets a logistic regression calibrated with sigmoid scaling on folds grouped by
document, and the threshold that maximises F1 on that code's out-of-fold scores. Every code
reads the same matrix. To score, :class:`Scorer` multiplies the matrix once by the weights of
every fold model of every code, then applies each model's calibration: the same numbers as
asking each code's calibrated model in turn (a test checks it), with one pass over the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedGroupKFold

Splits = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, slots=True)
class CodeModel:
    """The fitted model of one code, or the reason there is none (``models`` is empty)."""

    models: tuple[LogisticRegression | CalibratedClassifierCV, ...]
    threshold: float | None
    calibrated: bool
    reason: str
    coef: np.ndarray | None = None


def no_model(reason: str) -> CodeModel:
    return CodeModel((), None, False, reason)


def grouped_splits(y: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> Splits | None:
    """Stratified folds grouped by document, or None when no valid split exists.

    A split is valid when every training and test part holds both classes; no group is ever
    in both parts of a split.
    """
    pos_groups = np.unique(groups[y == 1]).size
    neg_groups = np.unique(groups[y == 0]).size
    n_splits = min(folds, pos_groups, neg_groups)
    if n_splits < 2:
        return None
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    splits = [(train, test) for train, test in cv.split(np.zeros(len(y)), y, groups)]
    for train, test in splits:
        if np.unique(y[train]).size < 2 or np.unique(y[test]).size < 2:
            return None
    return splits


def best_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold with the highest F1 on these (out-of-fold) scores; ties: the higher.

    >>> best_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.35
    """
    precision, recall, thresholds = precision_recall_curve(y, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
    f1 = f1[:-1]  # the last point has no threshold
    best = len(f1) - 1 - int(np.argmax(f1[::-1]))
    return float(thresholds[best])


@dataclass(frozen=True, slots=True)
class CodeFitter:
    """Fits one code's model on rows of a shared matrix: ``c``, folds and the smallest class."""

    c: float
    folds: int
    min_positives: int
    seed: int

    def estimator(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.c, class_weight="balanced", max_iter=1000, random_state=self.seed
        )

    def __call__(self, features: sp.csr_matrix, y: np.ndarray, groups: np.ndarray) -> CodeModel:
        """The model of one code; ``y`` is 1/0/NaN per row (NaN rows are left out)."""
        known = ~np.isnan(y)
        x, y, groups = features[known], y[known].astype(int), groups[known]
        positives, negatives = int(y.sum()), int((1 - y).sum())
        needed = self.min_positives
        if positives < needed or negatives < needed:
            return no_model(
                f"too few reference labels: {positives} positive and {negatives} negative"
                f" segments (need {needed} of each)"
            )
        splits = grouped_splits(y, groups, self.folds, self.seed)
        if splits is None:
            model = self.estimator().fit(x, y)
            return CodeModel(
                (model,),
                0.5,
                False,
                "not calibrated: the positive and negative segments do not spread over enough"
                " documents for grouped folds; threshold 0.5 is not cross-validated",
                model.coef_[0].copy(),
            )
        calibrated = CalibratedClassifierCV(self.estimator(), method="sigmoid", cv=splits)
        calibrated.fit(x, y)
        out_of_fold = np.empty(len(y))
        for (_, test), pair in zip(splits, calibrated.calibrated_classifiers_, strict=True):
            out_of_fold[test] = pair.predict_proba(x[test])[:, 1]
        coef = np.mean([p.estimator.coef_[0] for p in calibrated.calibrated_classifiers_], axis=0)
        return CodeModel((calibrated,), best_threshold(y, out_of_fold), True, "", coef)


class Scorer:
    """Scores of every code from one product of the features with every fold model's weights.

    A calibrated code's score is the mean over its fold models of the sigmoid calibration of
    that model's decision value, summed in the same order as ``CalibratedClassifierCV``; an
    uncalibrated code's score is its regression's probability.
    """

    def __init__(self, models: list[CodeModel]) -> None:
        self.models = models
        weights: list[np.ndarray] = []
        intercepts: list[float] = []
        # Per code: (column, a, b); a and b stay numpy float64, as the calibrator computes.
        self.parts: list[list[tuple[int, np.float64, np.float64]]] = []
        for model in models:
            parts = []
            if model.calibrated:
                (calibrated,) = model.models
                assert isinstance(calibrated, CalibratedClassifierCV)
                for pair in calibrated.calibrated_classifiers_:
                    (sigmoid,) = pair.calibrators
                    parts.append((len(weights), np.float64(sigmoid.a_), np.float64(sigmoid.b_)))
                    weights.append(pair.estimator.coef_[0])
                    intercepts.append(pair.estimator.intercept_[0])
            self.parts.append(parts)
        self.weights = np.column_stack(weights) if weights else None
        self.intercepts = np.asarray(intercepts)

    def __call__(self, features: sp.csr_matrix) -> np.ndarray:
        """Rows x codes of scores in [0, 1]; NaN for a code without a model."""
        values = np.full((features.shape[0], len(self.models)), np.nan)
        decisions = None
        if self.weights is not None:
            decisions = np.asarray(features @ self.weights) + self.intercepts
        for j, (model, parts) in enumerate(zip(self.models, self.parts, strict=True)):
            if parts and decisions is not None:
                total = np.zeros(features.shape[0])
                for column, a, b in parts:
                    total += expit(-(a * decisions[:, column] + b))
                values[:, j] = total / len(parts)
            elif model.models:
                values[:, j] = model.models[0].predict_proba(features)[:, 1]
        return values
