"""Evaluate an engine against reference labels with folds grouped by document.

Each fold trains a fresh engine on the other documents, which picks its thresholds on those
training documents only; the held-out documents are scored once and never tuned on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold

from coding.agreement import kappa
from coding.agreement.ratings import FloatArray, Ratings, from_contingency
from coding.errors import CodingError, InvalidInput, Problem
from coding.model import Codebook
from coding.suggest.base import (
    SUGGESTERS,
    Suggester,
    SuggesterFactory,
    check_training_input,
    label_matrix,
)
from coding.suggest.baseline import BASELINE, baseline_scores
from coding.suggest.context import UnitContext
from coding.suggest.structure import threshold_decisions
from coding.suggest.supervised import (
    DEFAULT_CONTEXT,
    SharedTexts,
    SupervisedParams,
    SupervisedSuggester,
)

Metrics = dict[str, float | int | str | None]
#: What each engine's models look at, as the evaluation reports it.
FEATURES = {
    "rules": "codebook indicator rules",
    "supervised": "word and character n-grams (TF-IDF), codebook indicator rule scores",
    "auto": "word and character n-grams (TF-IDF), codebook indicator rules "
    "(rules alone for a code without a calibrated model)",
}
METRICS = ("precision", "recall", "f1", "cohen_kappa", "gwet_ac1", "pr_auc", "brier")
ABLATION_METRICS = ("f1", "cohen_kappa", "pr_auc")
Splits = list[tuple[np.ndarray, np.ndarray]]


def _two_by_two(tp: int, fp: int, fn: int, tn: int) -> Ratings:
    """The table as ratings of two coders (engine, reference) over the categories 0 and 1."""
    return from_contingency(np.array([[tn, fn], [fp, tp]], dtype=np.float64), (0, 1))


def _defined(values: FloatArray) -> float | None:
    value = float(values[0])
    return None if np.isnan(value) else value


def cohen_kappa(tp: int, fp: int, fn: int, tn: int) -> float | None:
    """Cohen's kappa of a 2x2 table (engine x reference); None when chance agreement is 1.

    >>> round(cohen_kappa(118, 5, 2, 0), 4)  # high agreement, kappa below zero: the paradox
    -0.0234
    """
    ratings = _two_by_two(tp, fp, fn, tn)
    return _defined(kappa.cohen_kappa(ratings, ratings.freq[None, :]))


def gwet_ac1(tp: int, fp: int, fn: int, tn: int) -> float | None:
    """Gwet's AC1 of a 2x2 table, two raters; None for an empty table.

    >>> round(gwet_ac1(118, 5, 2, 0), 4)
    0.9408
    """
    ratings = _two_by_two(tp, fp, fn, tn)
    return _defined(kappa.gwet_ac(ratings, ratings.freq[None, :]))


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def binary_metrics(y: np.ndarray, decided: np.ndarray, scores: np.ndarray) -> Metrics:
    """Precision, recall, F1, kappa, AC1, average precision and Brier score of 0/1 arrays."""
    y, decided = y.astype(bool), decided.astype(bool)
    tp, fp = int((y & decided).sum()), int((~y & decided).sum())
    fn, tn = int((y & ~decided).sum()), int((~y & ~decided).sum())
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "cohen_kappa": cohen_kappa(tp, fp, fn, tn),
        "gwet_ac1": gwet_ac1(tp, fp, fn, tn),
        "pr_auc": float(average_precision_score(y, scores)) if y.any() else None,
        "brier": float(np.mean((scores - y) ** 2)) if y.size else None,
    }


def grouped_folds(
    groups: Sequence[str], folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) row indices; every document is in exactly one test fold and never split.

    Uses ``min(folds, number of documents)`` folds; raises InvalidInput with fewer than two
    documents.
    """
    group_array = np.asarray([str(g) for g in groups], dtype=object)
    n_groups = np.unique(group_array).size
    if min(folds, n_groups) < 2:
        raise InvalidInput(
            "evaluation", [Problem("documents", f"need 2 or more documents, got {n_groups}")]
        )
    cv = GroupKFold(n_splits=min(folds, n_groups), shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(group_array)), groups=group_array))


def evaluate(
    texts: Sequence[str],
    labels: pd.DataFrame,
    groups: Sequence[str],
    engine: str = "auto",
    *,
    codebook: Codebook,
    folds: int = 5,
    seed: int = 0,
    units: Sequence[UnitContext] | None = None,
    params: SupervisedParams | None = None,
    ablation: bool = False,
    factory: SuggesterFactory | None = None,
) -> dict[str, object]:
    """Grouped cross-validation of one engine over reference labels, per code and macro.

    ``factory`` builds the engine when it is not in ``SUGGESTERS`` (the "llm" engine needs
    its server); ``engine`` then only names it.

    Returns ``{"engine", "features", "folds", "seed", "codes": [...], "macro": {...},
    "baseline": {"model", "codes", "macro"}}``. Each code entry has n (reference segments),
    n_scored, prevalence, precision, recall, f1, cohen_kappa, gwet_ac1, pr_auc (average
    precision), brier and ``human_kappa: None`` (filled in by the caller from the agreement
    engine). A metric is None when it is undefined; a code the engine could not score in any
    fold gets a ``reason``. The baseline (:mod:`coding.suggest.baseline`) is trained and
    scored on exactly the same folds, with the same metrics. ``units`` gives each text's
    context (neighbours, heading, attributes) to the engines that use it, and ``params`` the
    supervised engine's settings. With ``ablation`` the supervised engine is also run, on the
    same folds, with text features only and then adding context, attributes and structure
    (``"ablation"``: one entry per step, per code and macro).
    """
    check_training_input(texts, labels, groups, codebook)
    code_ids = list(codebook.code_ids)
    y = label_matrix(labels, code_ids)
    run = _Run(codebook, list(texts), labels, [str(g) for g in groups], units, seed, factory)
    splits = grouped_folds(run.groups, folds, seed)
    settings = _settings(engine, params, seed)
    scores, decided, reasons = run.scores(engine, settings, splits)
    n = int((~np.isnan(y)).any(axis=1).sum())
    per_code = [
        _code_report(code_id, y[:, j], scores[:, j], decided[:, j], reasons[code_id])
        for j, code_id in enumerate(code_ids)
    ]
    result: dict[str, object] = {
        "engine": engine,
        "features": _described(engine, settings),
        "folds": len(splits),
        "seed": seed,
        "codes": per_code,
        "macro": _macro(per_code, n),
        "baseline": _baseline(run.texts, y, splits, code_ids, n),
    }
    if ablation:
        result["ablation"] = _ablation(run, settings or SupervisedParams(seed=seed), splits, y, n)
    return result


def _baseline(
    texts: list[str], y: np.ndarray, splits: Splits, code_ids: list[str], n: int
) -> dict[str, object]:
    """The TF-IDF + logistic regression baseline on the same folds, per code and macro."""
    base_scores, base_decided, base_reasons = baseline_scores(texts, y, splits)
    base_codes = [
        _code_report(code_id, y[:, j], base_scores[:, j], base_decided[:, j], base_reasons.get(j))
        for j, code_id in enumerate(code_ids)
    ]
    return {
        "model": BASELINE,
        "codes": [_without_human(r) for r in base_codes],
        "macro": _without_human(_macro(base_codes, n)),
    }


def _described(engine: str, settings: SupervisedParams | None) -> str | None:
    """What the engine's models look at, in words (None for an engine not described)."""
    if settings is None:
        return FEATURES.get(engine)
    fallback = " (rules alone for a code without a calibrated model)" if engine == "auto" else ""
    return settings.describe() + fallback


def _settings(engine: str, params: SupervisedParams | None, seed: int) -> SupervisedParams | None:
    """The supervised settings of an engine built on the supervised one (None for others)."""
    factory = SUGGESTERS.get(engine)
    if isinstance(factory, type) and issubclass(factory, SupervisedSuggester):
        return replace(params or SupervisedParams(), seed=seed)
    return None


#: Ablation steps: each adds one kind of feature to the one before, on the same folds.
STEPS = ("text", "+ context", "+ attributes", "+ structure")


def _step_params(full: SupervisedParams) -> list[SupervisedParams]:
    context = full.context or DEFAULT_CONTEXT
    text = replace(full, context=0, heading=False, attributes=False, structure=False)
    with_context = replace(text, context=context, heading=True)
    with_attributes = replace(with_context, attributes=True)
    return [text, with_context, with_attributes, replace(with_attributes, structure=True)]


def _ablation(
    run: _Run, full: SupervisedParams, splits: Splits, y: np.ndarray, n: int
) -> list[dict[str, object]]:
    """The supervised engine with each step's features, per code (f1, kappa) and macro."""
    out: list[dict[str, object]] = []
    for step, params in zip(STEPS, _step_params(full), strict=True):
        scores, decided, reasons = run.scores("supervised", params, splits)
        codes = [
            _code_report(c, y[:, j], scores[:, j], decided[:, j], reasons[c])
            for j, c in enumerate(run.codebook.code_ids)
        ]
        macro = _macro(codes, n)
        out.append(
            {
                "step": step,
                "features": params.describe(),
                "codes": [{k: r[k] for k in ("code", *ABLATION_METRICS)} for r in codes],
                "macro": {k: macro[k] for k in ABLATION_METRICS},
            }
        )
    return out


def _without_human(metrics: Metrics) -> Metrics:
    return {k: v for k, v in metrics.items() if k != "human_kappa"}


@dataclass
class _Run:
    """The data of one evaluation; rule hits and n-gram counts are shared by every fold and
    every ablation step (they do not depend on the training rows or the settings)."""

    codebook: Codebook
    texts: list[str]
    labels: pd.DataFrame
    groups: list[str]
    units: Sequence[UnitContext] | None
    seed: int
    factory: SuggesterFactory | None = None  # an engine not in SUGGESTERS (llm)
    _shared: dict[int, object] = field(default_factory=dict)  # context window -> shared texts

    def scores(
        self, engine: str, params: SupervisedParams | None, splits: Splits
    ) -> tuple[np.ndarray, np.ndarray, dict[str, set[str]]]:
        """Held-out scores and 0/1 decisions (texts x codes), and why codes lack a model."""
        code_ids = list(self.codebook.code_ids)
        scores = np.full((len(self.texts), len(code_ids)), np.nan)
        decided = np.full(scores.shape, np.nan)
        reasons: dict[str, set[str]] = {c: set() for c in code_ids}
        for train, test in splits:
            fold_scores, fold_decided, model = self._fold(engine, params, train, test)
            for code_id, reason in model.reasons().items():
                reasons[code_id].add(reason)
            scores[test] = fold_scores
            decided[test] = fold_decided
        return scores, decided, reasons

    def _fold(
        self, engine: str, params: SupervisedParams | None, train: np.ndarray, test: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, Suggester]:
        factory = SUGGESTERS.get(engine) or self.factory
        if factory is None:
            raise CodingError(f"unknown suggestion engine {engine!r}")
        model: Suggester
        if params is not None:
            model = factory(self.codebook, seed=self.seed, params=params)  # type: ignore[call-arg]
        else:
            model = factory(self.codebook, seed=self.seed)
        train_labels, train_groups = self.labels.iloc[train], [self.groups[i] for i in train]
        code_ids = list(self.codebook.code_ids)
        if isinstance(model, SupervisedSuggester):
            window = model.params.context
            if window not in self._shared:
                self._shared[window] = model.share(self.texts, self.units)
            shared = self._shared[window]
            assert isinstance(shared, SharedTexts)
            model.fit_rows(shared, train, train_labels, train_groups)
            values, decisions = model.decide(model.undecided_rows(shared, test))
            return values.to_numpy(float), decisions.to_numpy(float), model
        else:
            model.fit([self.texts[i] for i in train], train_labels, train_groups)
            fold_scores = model.scores([self.texts[i] for i in test])
        values = fold_scores.reindex(columns=code_ids).to_numpy(dtype=float)
        return values, threshold_decisions(values, code_ids, model.thresholds()), model


def _code_report(
    code_id: str,
    y: np.ndarray,
    scores: np.ndarray,
    decided: np.ndarray,
    reasons: set[str] | None,
) -> Metrics:
    known = ~np.isnan(y)
    scored = known & ~np.isnan(scores) & ~np.isnan(decided)
    report: Metrics = {
        "code": code_id,
        "n": int(known.sum()),
        "n_scored": int(scored.sum()),
        "prevalence": float(y[known].mean()) if known.any() else None,
    }
    if scored.any():
        report.update(binary_metrics(y[scored], decided[scored], scores[scored]))
    else:
        report.update(dict.fromkeys(METRICS))
    if reasons:
        report["reason"] = "; ".join(sorted(reasons))
    report["human_kappa"] = None
    return report


def _macro(per_code: list[Metrics], n: int) -> Metrics:
    """Unweighted mean over codes of each metric that is defined for at least one code."""
    macro: Metrics = {"n": n}
    for metric in ("prevalence", *METRICS):
        values = [float(v) for r in per_code if isinstance(v := r[metric], int | float)]
        macro[metric] = float(np.mean(values)) if values else None
    macro["human_kappa"] = None
    return macro


def human_agreement(
    annotations: pd.DataFrame, assignments: pd.DataFrame, code_ids: Sequence[str]
) -> dict[str, object]:
    """Per-code Cohen's kappa between the first two coders to submit each double-coded unit.

    ``assignments`` has segment_id, coder, completed_at (NaN/None when open); ``annotations``
    segment_id, coder, code_id. Units with fewer than two submissions are left out. Returns
    ``{"units": n, "codes": [{"code", "cohen_kappa"}], "macro": {"cohen_kappa"}}``; every
    kappa is None with no double-coded unit (or when both coders never vary on a code).
    """
    done = assignments.dropna(subset=["completed_at"]).drop_duplicates(["segment_id", "coder"])
    done = done.sort_values(["segment_id", "completed_at", "coder"], kind="stable")
    done = done.assign(rank=done.groupby("segment_id").cumcount())
    pairs = done[done["rank"] < 2]
    double = pairs.groupby("segment_id")["coder"].transform("size") == 2
    pairs = pairs[double]
    applied = annotations[["segment_id", "coder", "code_id"]].drop_duplicates()
    applied = applied.merge(pairs[["segment_id", "coder", "rank"]], on=["segment_id", "coder"])
    units = sorted(set(pairs["segment_id"]))
    codes: list[Metrics] = []
    for code_id in code_ids:
        rows = applied[applied["code_id"] == code_id]
        first = set(rows.loc[rows["rank"] == 0, "segment_id"])
        second = set(rows.loc[rows["rank"] == 1, "segment_id"])
        both = len(first & second)
        table = (both, len(first - second), len(second - first))
        value = cohen_kappa(*table, len(units) - len(first | second)) if units else None
        codes.append({"code": code_id, "cohen_kappa": value})
    kappas = [float(v) for c in codes if isinstance(v := c["cohen_kappa"], float)]
    macro = float(np.mean(kappas)) if kappas else None
    return {"units": len(units), "codes": codes, "macro": {"cohen_kappa": macro}}
