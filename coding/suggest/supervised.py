"""The supervised engine: one calibrated logistic regression per code, trained on reference labels.

Features are word (1-2) and char_wb (3-5) TF-IDF n-grams plus the rules engine's score for every
code, and what the unit's coders see around it (:mod:`coding.suggest.context`): the neighbouring
units' words, the section heading and the unit's attributes. One matrix, built once per fit and
read by every code's model (:mod:`coding.suggest.linear`). With the codebook's structure, an
exclusive group of codes is one multinomial problem and parents roll up their children
(:mod:`coding.suggest.structure`).
Calibration and the per-code threshold both come from folds grouped by document, so no
document is ever on both sides of a split. See docs/suggestions.md.

The folds of one study (cross-fitting, evaluation) fit on different rows of the same texts:
:meth:`SupervisedSuggester.share` computes the rule hits and n-gram counts of every text once,
and :meth:`~SupervisedSuggester.fit_rows` / :meth:`~SupervisedSuggester.predict_rows` take rows
of it. A fold's vocabulary and idf still come from its own training rows only, so the result is
the same as fitting on those rows' texts.

The linear algebra runs with one BLAS thread: the optimiser's vector steps are too small to gain
from threads, and on a busy machine threads waiting for a core made training many times slower.
Codes are fitted two at a time in Python threads instead (``FIT_THREADS``; the sparse products
and the loss release the GIL, and a waiting thread does not spin): the same models, sooner.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
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
from coding.suggest.context import ContextFeatures, UnitContext
from coding.suggest.explain import Explainer, Neighbours, Prediction
from coding.suggest.features import CharWbTfidf, NgramCounts, WordTfidf
from coding.suggest.linear import (
    CodeFitter,
    CodeModel,
    GroupModel,
    Scorer,
    best_threshold,
    fit_group,
    grouped_splits,
    no_model,
)
from coding.suggest.rules import Hit, RulesSuggester
from coding.suggest.settings import (
    DEFAULT_CONTEXT,
    SharedTexts,
    SupervisedParams,
    neighbourhood,
    training_sample,
)
from coding.suggest.structure import Structure, threshold_decisions

__all__ = [
    "DEFAULT_CONTEXT",
    "CodeModel",
    "Prediction",
    "SharedTexts",
    "SupervisedParams",
    "SupervisedSuggester",
    "UnitContext",
    "best_threshold",
    "grouped_splits",
]

CHUNK = 20_000  # texts scored at once: bounds the memory of the feature matrix
BLAS_THREADS: int | None = 1  # None: as many as the BLAS library picks (benchmark baseline)
FIT_THREADS = 2  # codes fitted at once, each seeded alone (1: in turn, the benchmark's baseline)


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
        self.structure = Structure.of(codebook)
        self.code_models: dict[str, CodeModel] = {}
        self.group_models: list[tuple[list[int], GroupModel]] = []
        self._fingerprint = ""
        self.training: dict[str, int] = {}  # reference units given and fitted on, by fit_rows

    # -- fitting ------------------------------------------------------------------------------

    def share(
        self, texts: Sequence[str], units: Sequence[UnitContext] | None = None
    ) -> SharedTexts:
        """Rule hits and n-gram counts of ``texts`` (and of their neighbours in ``units``), for
        any number of fit_rows/predict_rows."""
        texts = list(texts)
        hits = self.rules.matcher.hits(texts)
        pool_texts, own, near = neighbourhood(texts, units, self.params)
        counts = NgramCounts.of(pool_texts)
        return SharedTexts(texts, hits, self._rule_features(hits), counts, own, near)

    def _rule_features(self, hits: list[list[Hit]]) -> np.ndarray:
        rule_scores = self.rules.scores_from_hits(hits).to_numpy()
        features: np.ndarray = np.nan_to_num(rule_scores).astype(np.float32)
        return features

    def fit(
        self,
        texts: Sequence[str],
        labels: pd.DataFrame,
        groups: Sequence[str],
        units: Sequence[UnitContext] | None = None,
    ) -> Self:
        check_training_input(texts, labels, groups, self.codebook)
        return self.fit_rows(self.share(texts, units), np.arange(len(texts)), labels, groups)

    def _features_of_rows(self, shared: SharedTexts, rows: np.ndarray) -> sp.csr_matrix:
        """Fit the featurisers on ``rows`` and return their matrix (words kept for evidence)."""
        own = shared.own[rows]
        words = self._words.fit_rows(shared.counts, own)
        self._train_words = words
        blocks = [words]
        if self.params.chars:
            blocks.append(self._chars.fit_rows(shared.counts, own))
        blocks.append(sp.csr_matrix(shared.rules[rows]))
        pool_words = shared.counts.words[:, self._words.columns]
        blocks += self._context.fit_rows(shared.near, pool_words, rows)
        return sp.hstack(blocks, format="csr")

    def fit_rows(
        self,
        shared: SharedTexts,
        rows: Sequence[int] | np.ndarray,
        labels: pd.DataFrame,
        groups: Sequence[str],
    ) -> Self:
        """Fit on the texts at ``rows`` of ``shared``; ``labels`` and ``groups`` follow rows."""
        check_training_input(rows, labels, groups, self.codebook)
        rows, labels, groups = self._sample(_rows(rows), labels, groups)
        code_ids = list(self.codebook.code_ids)
        y_all = label_matrix(labels, code_ids)
        self._fingerprint = _fingerprint([shared.texts[i] for i in rows], y_all, groups)
        self._words = WordTfidf(self.params.min_df, self.params.max_features)
        self._chars = CharWbTfidf(min_df=self.params.min_df)
        p = self.params
        self._context = ContextFeatures(
            p.context, p.heading, p.attributes, p.min_df, p.context_weight
        )
        self.code_models, self.group_models = {}, []
        self._scorer: Scorer | None = None
        self.train_hits: list[list[Hit]] = [shared.hits[i] for i in rows]
        if len(rows) == 0:
            self.code_models = {c: no_model("there are no reference labels") for c in code_ids}
            return self
        train_codes = [[c for c, v in zip(code_ids, r, strict=True) if v == 1] for r in y_all]
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            features = self._features_of_rows(shared, rows)
            ids = [str(i) for i in labels.index]
            self.neighbours: Neighbours = Neighbours.of(self._train_words, ids, train_codes)
            group_array = np.asarray([str(g) for g in groups], dtype=object)
            self._fit_models(features, y_all, group_array)
        return self

    def _sample(
        self, rows: np.ndarray, labels: pd.DataFrame, groups: Sequence[str]
    ) -> tuple[np.ndarray, pd.DataFrame, Sequence[str]]:
        """The rows, labels and groups to fit on: all, or a seeded sample of ``max_training``."""
        self.training = {"reference_units": len(rows), "fitted_on": len(rows)}
        picked = training_sample(len(rows), self.params.max_training, self.seed)
        if picked is None:
            return rows, labels, groups
        self.training["fitted_on"] = len(picked)
        return rows[picked], labels.iloc[picked], [groups[i] for i in picked]

    def _fit_models(self, features: sp.csr_matrix, y: np.ndarray, groups: np.ndarray) -> None:
        """Every code's model; with the structure, one multinomial model per exclusive group."""
        code_ids = list(self.codebook.code_ids)
        fitter = CodeFitter(self.params.c, self.params.folds, self.params.min_positives, self.seed)
        grouped: set[int] = set()
        if self.params.structure:
            for columns in self.structure.groups:
                cols = list(columns)
                children = tuple(code_ids[j] for j in cols)
                group = fit_group(fitter, features, y[:, cols], groups, children)
                self.group_models.append((cols, group))
                self.code_models.update(zip(children, group.child_models, strict=True))
                grouped.update(cols)
        alone = [j for j in range(len(code_ids)) if j not in grouped]
        with ThreadPoolExecutor(max(1, FIT_THREADS)) as pool:
            fitted = pool.map(lambda j: fitter(features, y[:, j], groups), alone)
            for j, model in zip(alone, fitted, strict=True):
                self.code_models[code_ids[j]] = model
        if self.training["fitted_on"] < self.training["reference_units"]:
            sample = (
                f" in the random sample of {self.training['fitted_on']:,} of"
                f" {self.training['reference_units']:,} reference units the model is fitted on"
            )
            for code_id, model in self.code_models.items():
                if model.reason.startswith("too few reference labels"):
                    self.code_models[code_id] = replace(model, reason=model.reason + sample)

    # -- predicting ---------------------------------------------------------------------------

    def _has_models(self) -> bool:
        if not self.code_models:
            raise ValueError("fit the supervised engine before predicting")
        return any(m.models for m in self.code_models.values()) or any(
            g.models for _, g in self.group_models
        )

    def predict(
        self, texts: Sequence[str], units: Sequence[UnitContext] | None = None
    ) -> Prediction:
        """Scores with the features and rule hits behind them."""
        fitted = self._has_models()
        texts = list(texts)
        hits = self.rules.matcher.hits(texts)
        pool_texts, _own, near = neighbourhood(texts, units, self.params)
        # Neighbours' n-grams only where there are neighbours (never without unit contexts).
        needed = fitted and self.params.context > 0 and units is not None
        pool_words = self._words.raw_counts(pool_texts) if needed else None
        return self._predict(
            hits,
            self._rule_features(hits),
            lambda part: self._words.transform([texts[i] for i in part]),
            lambda part: self._chars.transform([texts[i] for i in part]),
            lambda part: self._context.transform_rows(near, pool_words, part),
        )

    def predict_rows(self, shared: SharedTexts, rows: Sequence[int] | np.ndarray) -> Prediction:
        """:meth:`predict` of the texts at ``rows`` of ``shared`` (what :meth:`fit_rows` took)."""
        fitted = self._has_models()
        rows = _rows(rows)
        own = shared.own[rows]
        pool_words = shared.counts.words[:, self._words.columns] if fitted else None
        return self._predict(
            [shared.hits[i] for i in rows],
            shared.rules[rows],
            lambda part: self._words.transform_rows(shared.counts, own[part]),
            lambda part: self._chars.transform_rows(shared.counts, own[part]),
            lambda part: self._context.transform_rows(shared.near, pool_words, rows[part]),
        )

    def _predict(
        self,
        hits: list[list[Hit]],
        rules: np.ndarray,
        words_of: Callable[[np.ndarray], sp.csr_matrix],
        chars_of: Callable[[np.ndarray], sp.csr_matrix],
        context_of: Callable[[np.ndarray], list[sp.csr_matrix]],
    ) -> Prediction:
        """Scores chunk by chunk; the word and context features are kept, for evidence."""
        code_ids = list(self.codebook.code_ids)
        n = len(hits)
        values = np.full((n, len(code_ids)), np.nan)
        if not self._has_models() or n == 0:
            words = sp.csr_matrix((n, 0), dtype=np.float32)
            return Prediction(pd.DataFrame(values, columns=code_ids), hits, words, rules, None)
        if self._scorer is None:
            self._scorer = Scorer([self.code_models[c] for c in code_ids], self.group_models)
        parts, extras = [], []
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            for start in range(0, n, CHUNK):
                part = np.arange(start, min(start + CHUNK, n))
                words = words_of(part)
                blocks = [words, *([chars_of(part)] if self.params.chars else [])]
                extra = context_of(part)
                blocks += [sp.csr_matrix(rules[part]), *extra]
                values[part] = self._scorer(sp.hstack(blocks, format="csr"))
                parts.append(words)
                extras.append(sp.hstack(extra, format="csr") if extra else None)
        words = sp.vstack(parts, format="csr")
        kept = sp.vstack(extras, format="csr") if extras[0] is not None else None
        return Prediction(pd.DataFrame(values, columns=code_ids), hits, words, rules, kept)

    def scores(
        self, texts: Sequence[str], units: Sequence[UnitContext] | None = None
    ) -> pd.DataFrame:
        return self.decide(self.predict(texts, units).scores)[0]

    def scores_rows(self, shared: SharedTexts, rows: Sequence[int] | np.ndarray) -> pd.DataFrame:
        """:meth:`scores` of the texts at ``rows`` of ``shared``."""
        return self.decide(self.undecided_rows(shared, rows))[0]

    def undecided_rows(self, shared: SharedTexts, rows: Sequence[int] | np.ndarray) -> pd.DataFrame:
        """Each code's own score for the texts at ``rows``, before :meth:`decide` (no roll-up)."""
        return self.predict_rows(shared, rows).scores

    def decide(self, scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Scores and 1/0/NaN decisions: per-code thresholds, then (with the structure) at most
        one code per exclusive group and parents rolled up from their children."""
        code_ids = list(self.codebook.code_ids)
        values = scores.reindex(columns=code_ids).to_numpy(dtype=float)
        if self.params.structure and self.structure.active:
            values, decided = self.structure.decide(values, self.thresholds())
        else:
            decided = threshold_decisions(values, code_ids, self.thresholds())
        index = scores.index
        return (
            pd.DataFrame(values, columns=code_ids, index=index),
            pd.DataFrame(decided, columns=code_ids, index=index),
        )

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
            repr(self.structure),
        )

    def suggest(
        self, segments: Sequence[Segment], units: Sequence[UnitContext] | None = None
    ) -> list[Suggestion]:
        return self.suggest_from(self.predict([s.text for s in segments], units), segments)

    def suggest_rows(
        self, shared: SharedTexts, rows: Sequence[int] | np.ndarray, segments: Sequence[Segment]
    ) -> list[Suggestion]:
        """:meth:`suggest` for ``segments``, whose texts are at ``rows`` of ``shared``."""
        return self.suggest_from(self.predict_rows(shared, rows), segments)

    def suggest_from(self, prediction: Prediction, segments: Sequence[Segment]) -> list[Suggestion]:
        explain = Explainer(self, prediction, [s.id for s in segments])
        scores, decided = self.decide(prediction.scores)
        structured = self.params.structure and self.structure.active
        rolled = self.structure.rolled_up_from(decided) if structured else {}

        def evidence(row: int, code_id: str) -> str:
            out = explain(row, code_id)
            if code_id in rolled:
                out["rolled_up_from"] = rolled[code_id][row]
            return json.dumps(out, ensure_ascii=False)

        # Only decided pairs are suggested: the others' scores are hidden from the threshold.
        shown = scores.where(decided == 1)
        explain.prepare(shown.notna())
        return suggestions_from_scores(
            segments,
            shown,
            dict.fromkeys(shown.columns, 0.0),
            evidence,
            self.name,
            self.model_version,
        )

    def feature_names(self) -> np.ndarray:
        """Names of the word, rule and context features ("word:...", "rule:...", "before:...",
        "heading:...", "attr:..."); char n-grams are ""."""
        names = self._words.get_feature_names_out()
        words = [f"word:{n}" for n in names]
        chars = [""] * len(self._chars.vocabulary_) if self.params.chars else []
        rules = [f"rule:{c}" for c in self.codebook.code_ids]
        return np.array(words + chars + rules + self._context.names(names), dtype=object)


def _fingerprint(texts: Sequence[str], labels: np.ndarray, groups: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, group in zip(texts, groups, strict=True):
        digest.update(f"{group}\x1f{text}\x1e".encode())
    digest.update(np.nan_to_num(labels, nan=-1).astype(np.int8).tobytes())
    return digest.hexdigest()[:16]


SUGGESTERS["supervised"] = SupervisedSuggester
