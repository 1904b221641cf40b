"""The supervised engine: one calibrated logistic regression per code, trained on reference labels.

Features are word (1-2) and char_wb (3-5) TF-IDF n-grams plus the rules engine's score for every
code. Calibration and the per-code threshold both come from folds grouped by document, so no
document is ever on both sides of a split. See docs/suggestions.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import normalize

from coding.model import Codebook, Segment, Suggestion
from coding.suggest import nlp
from coding.suggest.base import (
    SUGGESTERS,
    check_training_input,
    label_matrix,
    suggestions_from_scores,
    version_string,
)
from coding.suggest.features import CharWbTfidf, WordTfidf
from coding.suggest.rules import Hit, RulesSuggester

Splits = list[tuple[np.ndarray, np.ndarray]]
NEAR_MAX_DF = 0.05  # n-grams in more segments than this share are left out of neighbour search


@dataclass(frozen=True, slots=True)
class SupervisedParams:
    """Settings of the supervised engine; all of them go into its model_version."""

    seed: int = 0
    folds: int = 3  # grouped folds for calibration and thresholds (fewer if too few documents)
    min_positives: int = 5  # fewer positive (or negative) segments: no model for the code
    c: float = 2.0  # inverse regularisation strength of the logistic regression
    min_df: int = 2  # n-grams must occur in this many training segments
    max_features: int | None = 200_000  # word n-grams kept (most frequent)
    neighbours: int = 3  # nearest reference segments in the evidence
    terms: int = 5  # top contributing terms in the evidence


@dataclass(frozen=True, slots=True)
class CodeModel:
    """The fitted model of one code, or the reason there is none (``models`` is empty)."""

    models: tuple[LogisticRegression | CalibratedClassifierCV, ...]
    threshold: float | None
    calibrated: bool
    reason: str
    coef: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """Scores plus what they came from, kept for evidence (and reused by the "auto" engine)."""

    scores: pd.DataFrame
    hits: list[list[Hit]]
    features: sp.csr_matrix
    words: sp.csr_matrix


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


class SupervisedSuggester:
    """Per-code logistic regressions, calibrated with sigmoid scaling on grouped folds."""

    name = "supervised"

    def __init__(
        self, codebook: Codebook, *, seed: int = 0, params: SupervisedParams | None = None
    ) -> None:
        self.codebook = codebook
        self.seed = seed
        self.params = replace(params or SupervisedParams(), seed=seed)
        self.rules = RulesSuggester(codebook)
        self.code_models: dict[str, CodeModel] = {}
        self._fingerprint = ""

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: pd.DataFrame, groups: Sequence[str]) -> Self:
        check_training_input(texts, labels, groups, self.codebook)
        code_ids = list(self.codebook.code_ids)
        y_all = label_matrix(labels, code_ids)
        self._fingerprint = _fingerprint(texts, y_all, groups)
        self._train_ids = [str(i) for i in labels.index]
        self._train_index = {segment_id: i for i, segment_id in enumerate(self._train_ids)}
        self._train_codes = [
            [c for c, v in zip(code_ids, row, strict=True) if v == 1] for row in y_all
        ]
        self._words = WordTfidf(self.params.min_df, self.params.max_features)
        self._chars = CharWbTfidf(min_df=self.params.min_df)
        self.code_models = {}
        self.train_hits: list[list[Hit]] = []
        if len(texts) == 0:
            self.code_models = {c: _no_model("there are no reference labels") for c in code_ids}
            return self
        hits = self.train_hits = self.rules.matcher.hits(texts)
        self._train_words = self._words.fit_transform(texts)
        self._fit_neighbours(self._train_words)
        chars = self._chars.fit_transform(texts)
        features = self._stack(self._train_words, chars, hits)
        group_array = np.asarray([str(g) for g in groups], dtype=object)
        for j, code_id in enumerate(code_ids):
            self.code_models[code_id] = self._fit_code(features, y_all[:, j], group_array)
        return self

    def _fit_neighbours(self, words: sp.csr_matrix) -> None:
        """Word TF-IDF without the most common n-grams, for cosine neighbours.

        N-grams in more than NEAR_MAX_DF of the segments add little to a cosine but make the
        segment x segment product dense; leaving them out keeps evidence fast.
        """
        df = np.asarray((words > 0).sum(axis=0)).ravel()
        self._near_columns = np.flatnonzero(df <= max(2.0, NEAR_MAX_DF * words.shape[0]))
        self._train_near_t = normalize(words[:, self._near_columns]).T.tocsr()

    def _stack(
        self, words: sp.csr_matrix, chars: sp.csr_matrix, hits: list[list[Hit]]
    ) -> sp.csr_matrix:
        rule_scores = self.rules.scores_from_hits(hits).to_numpy()
        rules = sp.csr_matrix(np.nan_to_num(rule_scores).astype(np.float32))
        return sp.hstack([words, chars, rules], format="csr")

    def _estimator(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.params.c,
            class_weight="balanced",
            max_iter=1000,
            random_state=self.seed,
        )

    def _fit_code(self, features: sp.csr_matrix, y: np.ndarray, groups: np.ndarray) -> CodeModel:
        known = ~np.isnan(y)
        x, y, groups = features[known], y[known].astype(int), groups[known]
        positives, negatives = int(y.sum()), int((1 - y).sum())
        needed = self.params.min_positives
        if positives < needed or negatives < needed:
            return _no_model(
                f"too few reference labels: {positives} positive and {negatives} negative"
                f" segments (need {needed} of each)"
            )
        splits = grouped_splits(y, groups, self.params.folds, self.seed)
        if splits is None:
            model = self._estimator().fit(x, y)
            return CodeModel(
                (model,),
                0.5,
                False,
                "not calibrated: the positive and negative segments do not spread over enough"
                " documents for grouped folds; threshold 0.5 is not cross-validated",
                model.coef_[0].copy(),
            )
        calibrated = CalibratedClassifierCV(self._estimator(), method="sigmoid", cv=splits)
        calibrated.fit(x, y)
        out_of_fold = np.empty(len(y))
        for (_, test), pair in zip(splits, calibrated.calibrated_classifiers_, strict=True):
            out_of_fold[test] = pair.predict_proba(x[test])[:, 1]
        coef = np.mean([p.estimator.coef_[0] for p in calibrated.calibrated_classifiers_], axis=0)
        threshold = best_threshold(y, out_of_fold)
        return CodeModel((calibrated,), threshold, True, "", coef)

    # -- predicting ---------------------------------------------------------------------------

    def predict(self, texts: Sequence[str]) -> Prediction:
        """Scores with the features and rule hits behind them."""
        if not self.code_models:
            raise ValueError("fit the supervised engine before predicting")
        code_ids = list(self.codebook.code_ids)
        hits = self.rules.matcher.hits(texts)
        values = np.full((len(texts), len(code_ids)), np.nan)
        if any(m.models for m in self.code_models.values()) and len(texts):
            words = self._words.transform(texts)
            features = self._stack(words, self._chars.transform(texts), hits)
            for j, code_id in enumerate(code_ids):
                model = self.code_models[code_id]
                if model.models:
                    values[:, j] = model.models[0].predict_proba(features)[:, 1]
        else:
            words = features = sp.csr_matrix((len(texts), 0))
        return Prediction(pd.DataFrame(values, columns=code_ids), hits, features, words)

    def scores(self, texts: Sequence[str]) -> pd.DataFrame:
        return self.predict(texts).scores

    def thresholds(self) -> dict[str, float]:
        return {c: m.threshold for c, m in self.code_models.items() if m.threshold is not None}

    def reasons(self) -> dict[str, str]:
        return {c: m.reason for c, m in self.code_models.items() if m.reason}

    @property
    def model_version(self) -> str:
        return version_string(
            self.name,
            asdict(self.params),
            f"sklearn-{sklearn.__version__}",
            nlp.PIPELINE_VERSION,
            self.rules.model_version,
            self._fingerprint,
        )

    def suggest(self, segments: Sequence[Segment]) -> list[Suggestion]:
        prediction = self.predict([s.text for s in segments])
        explain = Explainer(self, prediction, [s.id for s in segments])

        def evidence(row: int, code_id: str) -> str:
            return json.dumps(explain(row, code_id), ensure_ascii=False)

        return suggestions_from_scores(
            segments, prediction.scores, self.thresholds(), evidence, self.name, self.model_version
        )

    def feature_names(self) -> np.ndarray:
        """Names of the word and rule features ("word:..."/"rule:..."); char n-grams are ""."""
        words = [f"word:{n}" for n in self._words.get_feature_names_out()]
        chars = [""] * len(self._chars.vocabulary_)
        rules = [f"rule:{c}" for c in self.codebook.code_ids]
        return np.array(words + chars + rules, dtype=object)


class Explainer:
    """Evidence for supervised suggestions: top terms and nearest reference segments."""

    def __init__(
        self, engine: SupervisedSuggester, prediction: Prediction, segment_ids: Sequence[str]
    ) -> None:
        self.engine = engine
        self.prediction = prediction
        self.segment_ids = list(segment_ids)
        self._names: np.ndarray | None = None
        self._named = np.zeros(0, dtype=bool)
        self._near: dict[int, list[dict[str, object]]] = {}

    def __call__(self, row: int, code_id: str) -> dict[str, object]:
        model = self.engine.code_models[code_id]
        evidence: dict[str, object] = {
            "calibrated": model.calibrated,
            "threshold": None if model.threshold is None else round(model.threshold, 4),
            "terms": self.terms(row, model),
            "neighbours": self.neighbours(row),
        }
        if model.reason:
            evidence["reason"] = model.reason
        return evidence

    def terms(self, row: int, model: CodeModel) -> list[dict[str, object]]:
        """The word n-grams and rule scores that raised this segment's score most."""
        if model.coef is None:
            return []
        if self._names is None:
            self._names = self.engine.feature_names()
            self._named = self._names != ""
        x = self.prediction.features[row]
        indices = x.indices[self._named[x.indices]]
        weights = x.toarray().ravel()[indices] * model.coef[indices]
        named = [
            (float(w), str(self._names[i])) for w, i in zip(weights, indices, strict=True) if w > 0
        ]
        named.sort(key=lambda t: (-t[0], t[1]))
        limit = self.engine.params.terms
        return [{"term": n, "weight": round(w, 4)} for w, n in named[:limit]]

    def neighbours(self, row: int) -> list[dict[str, object]]:
        """The most similar reference segments (cosine of word TF-IDF) with their codes.

        The segment itself is never its own neighbour. Computed for a block of rows at once.
        """
        if row not in self._near:
            self._near.update(self._block(range(row, min(row + 256, len(self.segment_ids)))))
        return self._near[row]

    def _block(self, rows: range) -> dict[int, list[dict[str, object]]]:
        engine = self.engine
        block = self.prediction.words[rows.start : rows.stop][:, engine._near_columns]
        dense = (normalize(block) @ engine._train_near_t).toarray()
        for k, row in enumerate(rows):
            itself = engine._train_index.get(self.segment_ids[row])
            if itself is not None:
                dense[k, itself] = -1.0
        limit = min(engine.params.neighbours, dense.shape[1])
        if limit == 0:
            return {row: [] for row in rows}
        tops = np.argpartition(-dense, limit - 1, axis=1)[:, :limit]
        out = {}
        for k, row in enumerate(rows):
            values, top = dense[k], tops[k]
            top = top[np.lexsort((top, -values[top]))]
            out[row] = [
                {
                    "segment_id": str(engine._train_ids[i]),
                    "similarity": round(float(values[i]), 4),
                    "codes": engine._train_codes[i],
                }
                for i in top
                if values[i] > 0
            ]
        return out


def _no_model(reason: str) -> CodeModel:
    return CodeModel((), None, False, reason)


def _fingerprint(texts: Sequence[str], labels: np.ndarray, groups: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, group in zip(texts, groups, strict=True):
        digest.update(f"{group}\x1f{text}\x1e".encode())
    digest.update(np.nan_to_num(labels, nan=-1).astype(np.int8).tobytes())
    return digest.hexdigest()[:16]


SUGGESTERS["supervised"] = SupervisedSuggester
