"""The supervised engine: one calibrated logistic regression per code, trained on reference labels.

Features are word (1-2) and char_wb (3-5) TF-IDF n-grams plus the rules engine's score for every
code: one matrix, built once per fit and read by every code's model (:mod:`coding.suggest.linear`).
Calibration and the per-code threshold both come from folds grouped by document, so no
document is ever on both sides of a split. See docs/suggestions.md.

The folds of one study (cross-fitting, evaluation) fit on different rows of the same texts:
:meth:`SupervisedSuggester.share` computes the rule hits and n-gram counts of every text once,
and :meth:`~SupervisedSuggester.fit_rows` / :meth:`~SupervisedSuggester.predict_rows` take rows
of it. A fold's vocabulary and idf still come from its own training rows only, so the result is
the same as fitting on those rows' texts.

The linear algebra runs with one BLAS thread: the optimiser's vector steps are too small to gain
from threads, and on a busy machine threads waiting for a core made training many times slower.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from threadpoolctl import threadpool_limits

from coding.model import Codebook, Segment, Suggestion
from coding.suggest import nlp
from coding.suggest.base import (
    SUGGESTERS,
    check_training_input,
    label_matrix,
    suggestions_from_scores,
    version_string,
)
from coding.suggest.explain import Explainer, Neighbours, Prediction
from coding.suggest.features import CharWbTfidf, NgramCounts, WordTfidf
from coding.suggest.linear import (
    CodeFitter,
    CodeModel,
    Scorer,
    best_threshold,
    grouped_splits,
    no_model,
)
from coding.suggest.rules import Hit, RulesSuggester

__all__ = [
    "CodeModel",
    "Prediction",
    "SharedTexts",
    "SupervisedParams",
    "SupervisedSuggester",
    "best_threshold",
    "grouped_splits",
]

CHUNK = 20_000  # texts scored at once: bounds the memory of the feature matrix
BLAS_THREADS: int | None = 1  # None: as many as the BLAS library picks (benchmark baseline)


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
class SharedTexts:
    """Rule hits and n-gram counts of a fixed list of texts, computed once for every fold."""

    texts: list[str]
    hits: list[list[Hit]]
    rules: np.ndarray  # rule score per text and code, as features (float32, NaN as 0)
    counts: NgramCounts

    def __len__(self) -> int:
        return len(self.texts)


def _rows(rows: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.asarray(rows, dtype=np.int64).reshape(-1)


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

    def share(self, texts: Sequence[str]) -> SharedTexts:
        """Rule hits and n-gram counts of ``texts``, for any number of fit_rows/predict_rows."""
        texts = list(texts)
        hits = self.rules.matcher.hits(texts)
        return SharedTexts(texts, hits, self._rule_features(hits), NgramCounts.of(texts))

    def _rule_features(self, hits: list[list[Hit]]) -> np.ndarray:
        rule_scores = self.rules.scores_from_hits(hits).to_numpy()
        features: np.ndarray = np.nan_to_num(rule_scores).astype(np.float32)
        return features

    def fit(self, texts: Sequence[str], labels: pd.DataFrame, groups: Sequence[str]) -> Self:
        check_training_input(texts, labels, groups, self.codebook)
        return self.fit_rows(self.share(texts), np.arange(len(texts)), labels, groups)

    def fit_rows(
        self,
        shared: SharedTexts,
        rows: Sequence[int] | np.ndarray,
        labels: pd.DataFrame,
        groups: Sequence[str],
    ) -> Self:
        """Fit on the texts at ``rows`` of ``shared``; ``labels`` and ``groups`` follow rows."""
        rows = _rows(rows)
        check_training_input(rows, labels, groups, self.codebook)
        code_ids = list(self.codebook.code_ids)
        y_all = label_matrix(labels, code_ids)
        self._fingerprint = _fingerprint([shared.texts[i] for i in rows], y_all, groups)
        self._words = WordTfidf(self.params.min_df, self.params.max_features)
        self._chars = CharWbTfidf(min_df=self.params.min_df)
        self.code_models = {}
        self._scorer: Scorer | None = None
        self.train_hits: list[list[Hit]] = [shared.hits[i] for i in rows]
        if len(rows) == 0:
            self.code_models = {c: no_model("there are no reference labels") for c in code_ids}
            return self
        train_codes = [[c for c, v in zip(code_ids, r, strict=True) if v == 1] for r in y_all]
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            words = self._words.fit_rows(shared.counts, rows)
            ids = [str(i) for i in labels.index]
            self.neighbours: Neighbours = Neighbours.of(words, ids, train_codes)
            chars = self._chars.fit_rows(shared.counts, rows)
            features = sp.hstack([words, chars, sp.csr_matrix(shared.rules[rows])], format="csr")
            group_array = np.asarray([str(g) for g in groups], dtype=object)
            fitter = CodeFitter(
                self.params.c, self.params.folds, self.params.min_positives, self.seed
            )
            for j, code_id in enumerate(code_ids):
                self.code_models[code_id] = fitter(features, y_all[:, j], group_array)
        return self

    # -- predicting ---------------------------------------------------------------------------

    def _has_models(self) -> bool:
        if not self.code_models:
            raise ValueError("fit the supervised engine before predicting")
        return any(m.models for m in self.code_models.values())

    def predict(self, texts: Sequence[str]) -> Prediction:
        """Scores with the features and rule hits behind them."""
        self._has_models()
        hits = self.rules.matcher.hits(texts)
        return self._predict(
            hits,
            self._rule_features(hits),
            lambda part: self._words.transform([texts[i] for i in part]),
            lambda part: self._chars.transform([texts[i] for i in part]),
        )

    def predict_rows(self, shared: SharedTexts, rows: Sequence[int] | np.ndarray) -> Prediction:
        """:meth:`predict` of the texts at ``rows`` of ``shared`` (what :meth:`fit_rows` took)."""
        self._has_models()
        rows = _rows(rows)
        return self._predict(
            [shared.hits[i] for i in rows],
            shared.rules[rows],
            lambda part: self._words.transform_rows(shared.counts, rows[part]),
            lambda part: self._chars.transform_rows(shared.counts, rows[part]),
        )

    def _predict(
        self,
        hits: list[list[Hit]],
        rules: np.ndarray,
        words_of: Callable[[np.ndarray], sp.csr_matrix],
        chars_of: Callable[[np.ndarray], sp.csr_matrix],
    ) -> Prediction:
        """Scores chunk by chunk; only the word features are kept, for evidence."""
        code_ids = list(self.codebook.code_ids)
        n = len(hits)
        values = np.full((n, len(code_ids)), np.nan)
        if not self._has_models() or n == 0:
            words = sp.csr_matrix((n, 0), dtype=np.float32)
            return Prediction(pd.DataFrame(values, columns=code_ids), hits, words, rules)
        if self._scorer is None:
            self._scorer = Scorer([self.code_models[c] for c in code_ids])
        parts = []
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            for start in range(0, n, CHUNK):
                part = np.arange(start, min(start + CHUNK, n))
                words = words_of(part)
                rule_part = sp.csr_matrix(rules[part])
                features = sp.hstack([words, chars_of(part), rule_part], format="csr")
                values[part] = self._scorer(features)
                parts.append(words)
        words = sp.vstack(parts, format="csr")
        return Prediction(pd.DataFrame(values, columns=code_ids), hits, words, rules)

    def scores(self, texts: Sequence[str]) -> pd.DataFrame:
        return self.predict(texts).scores

    def scores_rows(self, shared: SharedTexts, rows: Sequence[int] | np.ndarray) -> pd.DataFrame:
        """:meth:`scores` of the texts at ``rows`` of ``shared``."""
        return self.predict_rows(shared, rows).scores

    def thresholds(self) -> dict[str, float]:
        return {c: m.threshold for c, m in self.code_models.items() if m.threshold is not None}

    def reasons(self) -> dict[str, str]:
        return {c: m.reason for c, m in self.code_models.items() if m.reason}

    @property
    def model_version(self) -> str:
        return self.supervised_version()

    def supervised_version(self) -> str:
        """The version of the supervised models alone (part of the "auto" engine's version)."""
        return version_string(
            SupervisedSuggester.name,
            asdict(self.params),
            f"sklearn-{sklearn.__version__}",
            nlp.PIPELINE_VERSION,
            self.rules.model_version,
            self._fingerprint,
        )

    def suggest(self, segments: Sequence[Segment]) -> list[Suggestion]:
        return self.suggest_from(self.predict([s.text for s in segments]), segments)

    def suggest_rows(
        self, shared: SharedTexts, rows: Sequence[int] | np.ndarray, segments: Sequence[Segment]
    ) -> list[Suggestion]:
        """:meth:`suggest` for ``segments``, whose texts are at ``rows`` of ``shared``."""
        return self.suggest_from(self.predict_rows(shared, rows), segments)

    def suggest_from(self, prediction: Prediction, segments: Sequence[Segment]) -> list[Suggestion]:
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


def _fingerprint(texts: Sequence[str], labels: np.ndarray, groups: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, group in zip(texts, groups, strict=True):
        digest.update(f"{group}\x1f{text}\x1e".encode())
    digest.update(np.nan_to_num(labels, nan=-1).astype(np.int8).tobytes())
    return digest.hexdigest()[:16]


SUGGESTERS["supervised"] = SupervisedSuggester
