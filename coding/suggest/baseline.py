"""The simplest model to beat: TF-IDF word n-grams and one logistic regression per code.

Evaluation runs it on the same folds as the engine, so a team sees whether the engine adds
anything over it. It uses no codebook, no rules and no character n-grams; a code is applied
when its probability reaches 0.5 (balanced class weights make 0.5 a fair cut without tuning).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

BASELINE = "TF-IDF word unigrams and bigrams (sublinear tf) + logistic regression, balanced, 0.5"
THRESHOLD = 0.5


def baseline_fold(
    texts: Sequence[str], y: np.ndarray, train: np.ndarray, test: np.ndarray
) -> tuple[np.ndarray, dict[int, str]]:
    """Probabilities (test rows x codes, NaN where no model) of a baseline trained on ``train``.

    ``y`` is texts x codes of 1/0/NaN; a code whose known training labels are all one value
    gets no model, and its column index maps to the reason.
    """
    scores = np.full((len(test), y.shape[1]), np.nan)
    reasons: dict[int, str] = {}
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    try:
        train_matrix = vectorizer.fit_transform([texts[i] for i in train])
    except ValueError:  # no words at all in the training texts
        return scores, dict.fromkeys(range(y.shape[1]), "no words in the training texts")
    test_matrix = vectorizer.transform([texts[i] for i in test])
    for j in range(y.shape[1]):
        column = y[train, j]
        known = ~np.isnan(column)
        if np.unique(column[known]).size < 2:
            reasons[j] = "baseline: one class only in a training fold"
            continue
        model = LogisticRegression(class_weight="balanced", solver="liblinear")
        model.fit(train_matrix[known], column[known].astype(int))
        scores[:, j] = model.predict_proba(test_matrix)[:, 1]
    return scores, reasons


def baseline_scores(
    texts: Sequence[str], y: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray, dict[int, set[str]]]:
    """Held-out probabilities and 0/1 decisions of the baseline over ``splits``, and reasons."""
    text_list = list(texts)
    scores = np.full(y.shape, np.nan)
    reasons: dict[int, set[str]] = {}
    for train, test in splits:
        fold, why = baseline_fold(text_list, y, np.asarray(train), np.asarray(test))
        scores[test] = fold
        for j, reason in why.items():
            reasons.setdefault(j, set()).add(reason)
    decided = np.where(np.isnan(scores), np.nan, scores >= THRESHOLD)
    return scores, decided, reasons
