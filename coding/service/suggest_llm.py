"""Suggestions from a language model on the team's own server (engine "llm").

Off unless asked for: nothing here runs without an endpoint and a model. The endpoint must be
in the team's network (no global address) unless ``allow_remote`` is set, and the first
progress event of a run that sends anything names the URL that receives the unit texts.
Answers are kept in the study (``llm_answers``), so a second run with the same model and
codebook sends nothing. Suggestions go where every engine's go (a suggestion run, coder 'nlp'
in agreement); they never become codes by themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coding.errors import CodingError
from coding.model import OnProgress, ProgressEvent, Segment, no_progress
from coding.service import suggest as suggest_service
from coding.store import Store
from coding.store.llm_cache import add_llm_answers, llm_answers
from coding.suggest.llm import FEATURES, LLMSession
from coding.suggest.llm_client import EndpointError, LLMSettings, chat_url, check_local, shown_url
from coding.suggest.llm_prompt import Reading, text_hash

ENGINE = "llm"
__all__ = ["ENGINE", "LLMRun", "LLMSettings", "endpoint_url", "evaluate_llm", "run_llm_suggestions"]


@dataclass(frozen=True)
class LLMRun:
    """A stored run of the llm engine and what it took: questions sent, answers from the
    cache, failed units (segment id -> why), quotes and code ids the checks dropped."""

    run_id: int
    model_version: str
    codebook_version: int
    segments: int
    suggestions: int
    endpoint: str
    sent: int
    from_cache: int
    failed: dict[str, str]
    dropped_quotes: int
    unknown_codes: dict[str, int]


def endpoint_url(settings: LLMSettings) -> str:
    """The chat completions URL that will receive the unit texts, as shown to people; raises
    CodingError when the host is outside the team's network and remote is not allowed."""
    url = chat_url(settings.endpoint)
    check_local(url, settings.allow_remote)
    return shown_url(url)


def _session(
    store: Store, actor: str, settings: LLMSettings, on_progress: OnProgress
) -> LLMSession:
    url = endpoint_url(settings)

    def known(prompt_hash: str) -> dict[str, str]:
        return llm_answers(store, settings.model, prompt_hash)

    def save(prompt_hash: str, answers: dict[str, str]) -> None:
        add_llm_answers(store, actor, settings.model, prompt_hash, url, answers)

    return LLMSession(store.codebook().codebook, settings, known, save, on_progress)


def _failed_units(
    session: LLMSession, segments: Sequence[Segment], readings: Sequence[Reading | None]
) -> dict[str, str]:
    return {
        s.id: session.tally.failed.get(text_hash(s.text), "not answered")
        for s, reading in zip(segments, readings, strict=True)
        if reading is None
    }


def run_llm_suggestions(
    store: Store, actor: str, settings: LLMSettings, on_progress: OnProgress = no_progress
) -> LLMRun:
    """Ask the model about every unit (answers kept in the study are not asked again) and
    store its suggestions as a run of engine "llm", model version ``llm:MODEL@PROMPT``.

    Units whose question failed after the retries get no suggestions and are listed in the
    run's ``failed_units``; their documents are not counted as scored (so coder 'nlp' is
    missing there, not absent). When no unit at all is answered, nothing is stored and
    EndpointError names the endpoint.
    """
    segments = store.segments()
    if not segments:
        raise CodingError(f"{store.target}: no documents to suggest codes for")
    session = _session(store, actor, settings, on_progress)
    suggester = session.suggester(session.codebook)
    readings = suggester.share([s.text for s in segments])
    failed = _failed_units(session, segments, readings)
    if len(failed) == len(segments):
        first = next(iter(failed.values()))
        raise EndpointError(f"{session.url}: no unit was answered ({first}); nothing stored")
    suggestions = suggester.suggest_rows(readings, range(len(segments)), segments)
    incomplete = {s.document_id for s in segments if s.id in failed}
    tally = session.tally.as_dict()
    params: dict[str, Any] = {
        "endpoint": session.url,
        "model": settings.model,
        "prompt_hash": session.prompt_hash,
        "timeout": settings.timeout,
        "retries": settings.retries,
        "thresholds": suggester.thresholds(),
        "scored_documents": sorted({s.document_id for s in segments} - incomplete),
        "failed_units": failed,
        **tally,
    }
    current = store.codebook()
    on_progress(ProgressEvent("storing", 0, 1, item=f"{len(suggestions)} suggestions"))
    run_id = store.add_suggestion_run(
        ENGINE, session.model_version, current.version, params, suggestions, actor
    )
    on_progress(ProgressEvent("storing", 1, 1, item=f"run #{run_id}"))
    return LLMRun(
        run_id,
        session.model_version,
        current.version,
        len(segments),
        len(suggestions),
        session.url,
        session.tally.sent,
        session.tally.from_cache,
        failed,
        session.tally.dropped_quotes,
        dict(session.tally.unknown_codes),
    )


def evaluate_llm(
    store: Store,
    actor: str,
    settings: LLMSettings,
    folds: int = 5,
    seed: int = 0,
    on_progress: OnProgress = no_progress,
) -> dict[str, Any]:
    """``suggest evaluate`` for the llm engine: the same units, folds, metrics, baseline and
    human kappa as any engine. Nothing is trained, so each unit is asked once (or read from the
    kept answers) and scored in its test fold. ``result["llm"]`` tells what was sent, taken
    from the cache, failed (units left out of the figures: ``n_scored``) and dropped."""
    session = _session(store, actor, settings, on_progress)
    result = suggest_service.evaluate_suggestions(
        store, ENGINE, folds, seed, factory=session.suggester
    )
    result["features"] = FEATURES
    result["model_version"] = session.model_version
    result["llm"] = {"endpoint": session.url, **session.tally.as_dict()}
    if session.tally.failed and not session.tally.sent and not session.tally.from_cache:
        raise EndpointError(f"{session.url}: no unit was answered; nothing to evaluate")
    return result
