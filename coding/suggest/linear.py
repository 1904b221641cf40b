"""Per-code logistic regressions over one shared feature matrix, and their joint scoring.

Each code gets a logistic regression calibrated with sigmoid scaling on folds grouped by
document, and the threshold that maximises F1 on that code's out-of-fold scores. Every code
reads the same matrix. To score, :class:`Scorer` multiplies the matrix once by the weights of
every fold model of every code, then applies each model's calibration: the same numbers as
asking each code's calibrated model in turn (a test checks it), with one pass over the matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class GroupModel:
    """One multinomial problem for an exclusive group: class 0 is "none", class k child k."""

    children: tuple[str, ...]
    models: tuple[LogisticRegression, ...]  # one per grouped fold (or one, uncalibrated)
    child_models: tuple[CodeModel, ...]  # per child: its threshold, reason and weights
    calibrated: bool


def group_classes(y: np.ndarray) -> np.ndarray:
    """Class per row of a units x children 0/1/NaN array: 0 none, k child k, -1 unknown.

    A row is unknown where a child's label is unknown or several children apply.

    >>> group_classes(np.array([[0, 1], [0, 0], [1, 1], [np.nan, 0]])).tolist()
    [2, 0, -1, -1]
    """
    total = np.nansum(y, axis=1)
    classes = np.where(total == 1, np.argmax(np.nan_to_num(y), axis=1) + 1, 0)
    return np.where(np.isnan(y).any(axis=1) | (total > 1), -1, classes)


def _probabilities(models: tuple[LogisticRegression, ...], x: sp.csr_matrix, k: int) -> np.ndarray:
    """Mean class probabilities (rows x k classes) over the models, 0 for a class one lacks."""
    out = np.zeros((x.shape[0], k))
    for model in models:
        out[:, model.classes_] += model.predict_proba(x)
    return out / len(models)


def _group_estimator(fitter: CodeFitter) -> LogisticRegression:
    return LogisticRegression(C=fitter.c, max_iter=1000, random_state=fitter.seed)


def fit_group(
    fitter: CodeFitter,
    features: sp.csr_matrix,
    y: np.ndarray,
    groups: np.ndarray,
    children: tuple[str, ...],
) -> GroupModel:
    """The multinomial model of an exclusive group; ``y`` is units x children of 1/0/NaN.

    Fold models are fitted on grouped folds of the training rows; each child's threshold is
    the F1-best cut on its out-of-fold probabilities. A child with fewer than
    ``min_positives`` units gets no threshold (its reason says why).
    """
    classes = group_classes(y)
    known = classes >= 0
    x, c, g = features[known], classes[known], groups[known]
    k = y.shape[1] + 1
    counts = np.bincount(c, minlength=k)
    splits = grouped_splits((c > 0).astype(int), g, fitter.folds, fitter.seed)
    if counts.min() == counts.sum() or np.count_nonzero(counts) < 2:
        why = no_model("too few reference labels in the exclusive group")
        return GroupModel(children, (), (why,) * (k - 1), False)
    if splits is None:
        models = (_group_estimator(fitter).fit(x, c),)
        out_of_fold = None
    else:
        models = tuple(_group_estimator(fitter).fit(x[tr], c[tr]) for tr, _ in splits)
        out_of_fold = np.empty((len(c), k))
        for model, (_, test) in zip(models, splits, strict=True):
            out_of_fold[test] = _probabilities((model,), x[test], k)
    fitted = []
    for j in range(1, k):
        coef = np.mean([_class_coef(m, j) for m in models], axis=0)
        if counts[j] < fitter.min_positives:
            fitted.append(
                CodeModel(
                    (),
                    None,
                    False,
                    f"too few reference labels: {counts[j]} positive"
                    f" segments in the exclusive group (need {fitter.min_positives})",
                    coef,
                )
            )
        elif out_of_fold is None:
            fitted.append(
                CodeModel(
                    (),
                    0.5,
                    False,
                    "not calibrated: too few documents for "
                    "grouped folds; threshold 0.5 is not cross-validated",
                    coef,
                )
            )
        else:
            threshold = best_threshold((c == j).astype(int), out_of_fold[:, j])
            fitted.append(CodeModel((), threshold, True, "", coef))
    return GroupModel(children, models, tuple(fitted), out_of_fold is not None)


def _class_coef(model: LogisticRegression, j: int) -> np.ndarray:
    at = np.flatnonzero(model.classes_ == j)
    coef: np.ndarray = model.coef_
    if at.size == 0:
        return np.zeros(coef.shape[1])
    row: np.ndarray = coef[0] if coef.shape[0] == 1 else coef[at[0]]
    # Two classes give one row, for the second class.
    return -row if coef.shape[0] == 1 and at[0] == 0 else row


class Scorer:
    """Scores of every code from one product of the features with every fold model's weights.

    A calibrated code's score is the mean over its fold models of the sigmoid calibration of
    that model's decision value, summed in the same order as ``CalibratedClassifierCV``; an
    uncalibrated code's score is its regression's probability.
    """

    def __init__(
        self, models: list[CodeModel], groups: Sequence[tuple[list[int], GroupModel]] = ()
    ) -> None:
        self.models = models
        self.groups = list(groups)  # (columns of the children, the group's model)
        weights: list[np.ndarray] = []
        intercepts: list[float] = []
        # Per code: (column, a, b); a and b stay numpy float64, as the calibrator computes.
        self.parts: list[list[tuple[int, np.float64, np.float64]]] = []
        for model in models:
            parts = []
            if model.calibrated and model.models:
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
        for columns, group in self.groups:
            if group.models:
                values[:, columns] = _probabilities(group.models, features, len(columns) + 1)[:, 1:]
        return values
