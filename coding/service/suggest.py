"""NLP suggestions for a study: train on the reference coding, store runs, evaluate, order work."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from coding.errors import CodingError, NotFound
from coding.model import OnProgress, ProgressEvent, Segment, Suggestion, no_progress
from coding.service.agreement import agreement_report
from coding.service.suggest_context import contexts
from coding.service.suggest_models import MAX_CONTEXT as MAX_CONTEXT
from coding.service.suggest_models import Models, engine_params
from coding.store import Store
from coding.store import reference as reference_store

if TYPE_CHECKING:
    from coding.suggest.base import Suggester, SuggesterFactory

ENGINES = ("rules", "supervised", "auto")


@dataclass(frozen=True)
class SuggestRun:
    run_id: int
    engine: str
    model_version: str
    codebook_version: int
    segments: int
    suggestions: int
    reference_segments: int
    reasons: dict[str, str]
    fitted_on: int | None = None  # reference units the full model was fitted on, when sampled


def _reference(store: Store) -> tuple[list[Segment], pd.DataFrame]:
    """Every unit of the study, and the reference labels (units x codes of 1/0/NaN)."""
    from coding.suggest import reference_labels

    codebook = store.codebook().codebook
    resolutions = store.current_resolutions_frame()
    if resolutions.empty:
        resolutions = pd.DataFrame(columns=["segment_id", "code_id", "decision"])
    labels = reference_labels(
        reference_store.applied_codes(store),
        reference_store.unit_submissions(store),
        resolutions[["segment_id", "code_id", "decision"]],
        codebook.code_ids,
    )
    return store.segments(), labels


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise CodingError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def _units(store: Store, engine: str) -> tuple[list[Segment], pd.DataFrame]:
    _check_engine(engine)
    segments, labels = _reference(store)
    if not segments:
        raise CodingError(f"{store.target}: no documents to suggest codes for")
    return segments, labels


def run_suggestions(
    store: Store,
    actor: str,
    engine: str = "auto",
    seed: int = 0,
    folds: int = 5,
    on_progress: OnProgress = no_progress,
    context: int | None = None,
    max_training: int | None = None,
) -> SuggestRun:
    """Fit ``engine`` on the study's reference coding and store its suggestions for every unit.

    Cross-fitted: a unit of a document that has reference codings is scored by a model
    trained on the *other* documents only (folds grouped by document), so that NLP scored as
    a third coder is never compared with the codings it was trained on. Units of documents
    without reference codings are scored by the model trained on everything. The run records
    the engine, model version, codebook version, the study revision it was trained on, the
    per-code thresholds and why a code has no model. Suggestions never become annotations.
    Rule hits and n-gram counts of every unit are computed once and shared by every model.
    ``context``: neighbouring units on each side the supervised engine reads; ``max_training``:
    the most reference units each model is fitted on, a seeded random sample past that (None:
    the defaults; 0: every unit).
    """
    segments, labels = _units(store, engine)
    units = f"{len(segments)} units"
    on_progress(ProgressEvent("preparing", 0, 1, item=units))  # rule hits and n-gram counts
    settings = engine_params(seed, context, max_training)
    models = Models(store, engine, seed, segments, labels, settings)
    on_progress(ProgressEvent("preparing", 1, 1, item=units))
    name_of, labelled, splits = _document_folds(store, models, labels, engine, folds, seed)
    on_progress(ProgressEvent("training", 0, len(splits) + 1, item="every reference unit"))
    suggester = models.fit()
    suggestions, cross_fitted, fold_thresholds = _cross_fit(
        models, segments, name_of, labelled, splits, on_progress
    )
    scored = set(cross_fitted)
    rest = [s for s in segments if s.document_id not in scored]
    suggestions += models.suggest(suggester, rest)
    suggestions.sort(key=lambda g: (-g.score, g.code_id, g.segment_id))
    params = {
        "seed": seed,
        "thresholds": suggester.thresholds(),
        "reasons": suggester.reasons(),
        "reference_segments": len(labels),
        "training": getattr(suggester, "training", None) or None,
        "scored_documents": sorted({s.document_id for s in segments}),
        "cross_fitted_documents": cross_fitted,
        "fold_thresholds": fold_thresholds,
    }
    run_id, version = _store_run(store, actor, engine, suggester, params, suggestions, on_progress)
    counts = (len(segments), len(suggestions), len(labels))
    reasons, sampled = dict(suggester.reasons()), _sampled(params["training"])
    return SuggestRun(run_id, engine, suggester.model_version, version, *counts, reasons, sampled)


def _sampled(training: Any) -> int | None:
    """How many reference units the models were fitted on, when a sample of them."""
    if not training or training["fitted_on"] == training["reference_units"]:
        return None
    return int(training["fitted_on"])


def _document_folds(
    store: Store, models: Models, labels: pd.DataFrame, engine: str, folds: int, seed: int
) -> tuple[dict[str, str], list[str], list[Any]]:
    """Each document id's name, the names of documents with reference codings, and the folds
    over them (none for the rules, or with fewer than two such documents). Folds go by
    document *name*: every version of a manual sits on the same side."""
    from coding.suggest import grouped_folds

    name_of = {d.id: d.name or d.id for d in store.documents()}
    by_id = models.by_id
    labelled = sorted({name_of[by_id[s].document_id] for s in labels.index if s in by_id})
    cross_fit = engine != "rules" and len(labelled) >= 2
    splits = grouped_folds(labelled, min(folds, len(labelled)), seed) if cross_fit else []
    return name_of, labelled, splits


def _cross_fit(
    models: Models,
    segments: list[Segment],
    name_of: dict[str, str],
    labelled: list[str],
    splits: list[tuple[Any, Any]],
    on_progress: OnProgress,
) -> tuple[list[Suggestion], list[str], list[dict[str, float]]]:
    """Suggestions for the units of each held-out fold of documents, by a model trained on
    the other folds; the documents so scored; the thresholds of each fold's model."""
    suggestions: list[Suggestion] = []
    cross_fitted: list[str] = []
    fold_thresholds: list[dict[str, float]] = []
    for done, (train, test) in enumerate(splits, start=1):
        item = f"fold {done} of {len(splits)}"
        on_progress(ProgressEvent("training", done, len(splits) + 1, item=item))
        training = {labelled[i] for i in train}
        trained_on = {d for d, n in name_of.items() if n in training}
        fold_model = models.fit(trained_on)
        fold_thresholds.append(fold_model.thresholds())
        held = {labelled[i] for i in test}
        scored = [s for s in segments if name_of[s.document_id] in held]
        suggestions += models.suggest(fold_model, scored)
        cross_fitted += sorted({s.document_id for s in scored})
    on_progress(ProgressEvent("training", len(splits) + 1, len(splits) + 1))
    return suggestions, cross_fitted, fold_thresholds


def _store_run(
    store: Store,
    actor: str,
    engine: str,
    suggester: Suggester,
    params: dict[str, Any],
    suggestions: list[Suggestion],
    on_progress: OnProgress,
) -> tuple[int, int]:
    """Store the run; its id and the codebook version it was made with."""
    current = store.codebook()
    on_progress(ProgressEvent("storing", 0, 1, item=f"{len(suggestions)} suggestions"))
    run_id = store.add_suggestion_run(
        engine, suggester.model_version, current.version, params, suggestions, actor
    )
    on_progress(ProgressEvent("storing", 1, 1, item=f"run #{run_id}"))
    return run_id, current.version


def evaluate_suggestions(
    store: Store,
    engine: str = "auto",
    folds: int = 5,
    seed: int = 0,
    context: int | None = None,
    ablation: bool = False,
    factory: SuggesterFactory | None = None,
    max_training: int | None = None,
) -> dict[str, Any]:
    """Grouped-by-document cross-validation over the reference coding, next to human kappa.

    The result also holds a TF-IDF + logistic regression ``baseline`` on the same folds and
    ``human``: kappa between the first two coders of each double-coded unit. ``context`` sets
    the supervised engine's window of neighbouring units; ``ablation`` adds the engine's
    figures with text only, then context, attributes and codebook structure, on the same folds;
    ``factory`` builds an engine not in ENGINES (``suggest_llm.evaluate_llm`` passes its own);
    ``max_training`` is as for :func:`run_suggestions`.
    """
    from coding.suggest import evaluate

    if factory is None:
        _check_engine(engine)
    codebook = store.codebook().codebook
    segments, labels = _reference(store)
    by_id = {s.id: s for s in segments}
    labelled = [by_id[s] for s in labels.index if s in by_id]
    documents = {s.document_id for s in labelled}
    if len(documents) < 2:
        raise CodingError(
            f"evaluation needs reference codings in 2+ documents; have "
            f"{len(documents)} (folds are grouped by document)"
        )
    params = engine_params(seed, context, max_training)
    units = contexts(store, segments, MAX_CONTEXT)  # the engine reads its own window of it
    row_of = {s.id: i for i, s in enumerate(segments)}
    result: dict[str, Any] = evaluate(
        [s.text for s in labelled],
        labels.loc[[s.id for s in labelled]],
        [s.document_id for s in labelled],
        engine,
        codebook=codebook,
        folds=min(folds, len(documents)),
        seed=seed,
        factory=factory,
        units=[units[row_of[s.id]] for s in labelled],
        params=params,
        ablation=ablation,
    )
    result["folds_requested"] = folds
    if folds > len(documents):
        result["folds_note"] = _fewer_folds(folds, documents, {s.document_id for s in segments})
    human = _human_kappa(store, agreement_report)
    for entry in result["codes"]:
        entry["human_kappa"] = human.get(entry["code"])
    kappas = [v for v in human.values() if v is not None]
    result["macro"]["human_kappa"] = sum(kappas) / len(kappas) if kappas else None
    result["human"] = _first_two_coders(store, codebook.code_ids)
    return result


def _first_two_coders(store: Store, code_ids: Sequence[str]) -> dict[str, Any]:
    """Per-code kappa between the first two human coders to submit each double-coded unit."""
    from coding.suggest.evaluate import human_agreement

    humans = store.coders(kind="human")
    return human_agreement(
        store.annotations_frame(humans), store.assignments_frame(humans), code_ids
    )


def _fewer_folds(folds: int, referenced: set[str], every: set[str]) -> str:
    """Why evaluation runs fewer folds than asked: one document per fold at most."""
    missing = sorted(every - referenced)
    none_yet = f" (none yet in: {', '.join(missing)})" if missing else ""
    return (
        f"{folds} folds asked for, {len(referenced)} used: folds are grouped by document and "
        f"only {len(referenced)} documents have a reference coding{none_yet}"
    )


def _human_kappa(store: Store, report: Any) -> dict[str, float | None]:
    try:
        table = report(store)
    except CodingError:
        return {}
    if "cohen_kappa" not in table:
        return {}
    rows = (
        table[table["code_id"] != "*"] if "scope" not in table else table[table["scope"] == "code"]
    )
    return {
        str(r.code_id): (None if pd.isna(r.cohen_kappa) else float(r.cohen_kappa))
        for r in rows.itertuples(index=False)
    }


def next_units(
    store: Store,
    coder: str,
    engine: str = "auto",
    seed: int = 0,
    limit: int = 20,
    holdout: float = 0.1,
) -> dict[str, Any]:
    """The coder's open units in active-learning order, and the held-out random sample.

    The held-out share keeps a random sample aside, coded in its own order, so that
    evaluation on it stays unbiased by the model's choices. The engine scores the units with
    the features ``run_suggestions`` uses (neighbours, heading, attributes).
    """
    from coding.suggest import active_order

    if coder not in store.coders(kind="human"):
        raise NotFound(f"unknown coder {coder!r}")
    work = store.assignments_frame([coder])
    open_ids = list(work.loc[~work["completed"], "segment_id"])
    if not open_ids:
        return {"coder": coder, "order": [], "holdout": []}
    segments, labels = _units(store, engine)
    models = Models(store, engine, seed, segments, labels)
    suggester = models.fit()
    by_id = {s.id: s for s in segments}
    units = [by_id[s] for s in open_ids]
    scores = models.scores(suggester, units)
    ids, texts = [u.id for u in units], [u.text for u in units]
    order = active_order(ids, texts, scores, suggester.thresholds(), holdout=holdout, seed=seed)
    first = order.order[:limit]
    shown = [{"segment_id": s, "uncertainty": round(order.uncertainty[s], 4)} for s in first]
    return {"coder": coder, "order": shown, "holdout": list(order.holdout)}


def suggestion_evidence(evidence: str) -> Any:
    """Parsed evidence JSON of a stored suggestion."""
    return json.loads(evidence) if evidence else []
