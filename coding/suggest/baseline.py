"""The simplest model to beat: TF-IDF word n-grams and one logistic regression per code.

Evaluation runs it on the same folds as the engine, so a team sees whether the engine adds
anything over it. It uses no codebook, no rules and no character n-grams. Like the engine, it picks
each code's threshold inside the training fold only: the F1-best cut on out-of-fold
probabilities of the training rows (:func:`coding.suggest.linear.best_threshold`), or 0.5
where a class has fewer than :data:`INNER_FOLDS` training examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from coding.suggest.linear import best_threshold

BASELINE = (
    "TF-IDF word unigrams and bigrams (sublinear tf) + logistic regression, balanced, "
    "threshold chosen inside each training fold"
)
# liblinear's dual solver: the same L2-regularised problem as the primal one, and many times
# faster where n-grams outnumber units, as they do here.
THRESHOLD = 0.5  # where a training fold is too small to choose one
INNER_FOLDS = 3


def _threshold(matrix: Any, labels: np.ndarray) -> float:
    """The F1-best threshold on out-of-fold probabilities of these training rows."""
    if np.bincount(labels, minlength=2).min() < INNER_FOLDS:
        return THRESHOLD
    model = LogisticRegression(
        class_weight="balanced", solver="liblinear", dual=True, max_iter=1000, random_state=0
    )
    folds = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=0)
    inner = cross_val_predict(model, matrix, labels, cv=folds, method="predict_proba")[:, 1]
    return best_threshold(labels, inner)


def baseline_fold(
    texts: Sequence[str], y: np.ndarray, train: np.ndarray, test: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Probabilities and decisions (test rows x codes, NaN where no model) of a baseline
    trained on ``train``, each code's threshold chosen on ``train`` alone.

    ``y`` is texts x codes of 1/0/NaN; a code whose known training labels are all one value
    gets no model, and its column index maps to the reason.
    """
    scores = np.full((len(test), y.shape[1]), np.nan)
    decided = np.full((len(test), y.shape[1]), np.nan)
    reasons: dict[int, str] = {}
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    try:
        train_matrix = vectorizer.fit_transform([texts[i] for i in train])
    except ValueError:  # no words at all in the training texts
        return scores, decided, dict.fromkeys(range(y.shape[1]), "no words in the training texts")
    test_matrix = vectorizer.transform([texts[i] for i in test])
    for j in range(y.shape[1]):
        column = y[train, j]
        known = ~np.isnan(column)
        if np.unique(column[known]).size < 2:
            reasons[j] = "baseline: one class only in a training fold"
            continue
        labels = column[known].astype(int)
        model = LogisticRegression(
            class_weight="balanced", solver="liblinear", dual=True, max_iter=1000, random_state=0
        )
        model.fit(train_matrix[known], labels)
        scores[:, j] = model.predict_proba(test_matrix)[:, 1]
        decided[:, j] = scores[:, j] >= _threshold(train_matrix[known], labels)
    return scores, decided, reasons


def baseline_scores(
    texts: Sequence[str], y: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray, dict[int, set[str]]]:
    """Held-out probabilities and 0/1 decisions of the baseline over ``splits``, and reasons."""
    text_list = list(texts)
    scores = np.full(y.shape, np.nan)
    decided = np.full(y.shape, np.nan)
    reasons: dict[int, set[str]] = {}
    for train, test in splits:
        fold, fold_decided, why = baseline_fold(text_list, y, np.asarray(train), np.asarray(test))
        scores[test] = fold
        decided[test] = fold_decided
        for j, reason in why.items():
            reasons.setdefault(j, set()).add(reason)
    return scores, decided, reasons
