"""Agreement reports for a study: coders, NLP suggestions and the consensus as coders."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from coding import review
from coding.errors import CodingError
from coding.store import Store

NLP = "nlp"
CONSENSUS = "consensus"


def _study_frames(store: Store) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    annotations = store.annotations_frame()
    assignments = store.assignments_frame()
    segments = store.segments_frame()
    return annotations, assignments, segments


def default_coders(assignments: pd.DataFrame) -> list[str]:
    """Coders who have completed at least one unit, in name order."""
    done = assignments[assignments["completed"]]
    return sorted(set(done["coder"]))


def nlp_as_coder(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The newest suggestion run as a coder named 'nlp': a stored suggestion is a code.

    An engine stores a suggestion when its score reaches the code's threshold. Every unit of
    the documents the run scored counts as completed by 'nlp' (no suggestion there is a 0).
    """
    suggestions = store.suggestions_frame()
    runs = store.suggestion_runs()
    if runs.empty:
        raise CodingError("no suggestions in this study yet (run 'coding suggest')")
    scored = set(json.loads(runs.iloc[-1]["params"]).get("scored_documents", []))
    segments = store.segments_frame()[["segment_id", "document_id", "start", "end"]]
    units = segments[segments["document_id"].isin(scored)]
    applied = suggestions.merge(units, on="segment_id")
    annotations = pd.DataFrame(
        {
            "segment_id": applied["segment_id"],
            "document_id": applied["document_id"],
            "coder": NLP,
            "code_id": applied["code_id"],
            "start": applied["start"],
            "end": applied["end"],
        }
    )
    assignments = pd.DataFrame(
        {
            "segment_id": units["segment_id"],
            "document_id": units["document_id"],
            "coder": NLP,
            "completed": True,
        }
    )
    return annotations, assignments


def consensus_as_coder(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The consensus coding as a coder: resolved decisions plus codes every coder agreed on.

    A unit counts as completed by 'consensus' once it has no open disagreement left.
    """
    annotations, assignments, segments = _study_frames(store)
    code_ids = store.codebook().codebook.code_ids
    finals = review.final_codes(
        annotations, assignments, store.current_resolutions_frame(), code_ids
    )
    done = assignments[assignments["completed"]]
    multi = done.groupby("segment_id")["coder"].nunique()
    multi_units = set(multi[multi >= 2].index)
    open_units = set(finals.loc[finals["status"] == "open", "segment_id"])
    settled = sorted(multi_units - open_units)
    keep = finals[(finals["final"] == True) & finals["segment_id"].isin(settled)]  # noqa: E712
    where = segments.set_index("segment_id")
    cons_annotations = pd.DataFrame(
        {
            "segment_id": keep["segment_id"],
            "document_id": [where.at[s, "document_id"] for s in keep["segment_id"]],
            "coder": CONSENSUS,
            "code_id": keep["code_id"],
            "start": [int(where.at[s, "start"]) for s in keep["segment_id"]],
            "end": [int(where.at[s, "end"]) for s in keep["segment_id"]],
        }
    )
    cons_assignments = pd.DataFrame(
        {
            "segment_id": settled,
            "document_id": [where.at[s, "document_id"] for s in settled],
            "coder": CONSENSUS,
            "completed": True,
        }
    )
    return cons_annotations, cons_assignments


def agreement_report(
    store: Store,
    coders: Sequence[str] | None = None,
    by: str = "code",
    bootstrap: int = 0,
    seed: int = 0,
    include_nlp: bool = False,
    include_consensus: bool = False,
) -> pd.DataFrame:
    """Per-code (or per-document) agreement among coders, with optional NLP and consensus.

    Coders default to everyone who has completed a unit. 'nlp' and 'consensus' join as
    extra coders when asked for; name them in ``coders`` to compare, say, one coder with NLP.
    """
    from coding.agreement import agreement_table

    annotations, assignments, segments = _study_frames(store)
    extra_ann, extra_asg = (
        [annotations],
        [assignments[["segment_id", "document_id", "coder", "completed"]]],
    )
    wanted = list(coders) if coders else default_coders(assignments)
    if include_nlp or NLP in wanted:
        ann, asg = nlp_as_coder(store)
        extra_ann.append(ann)
        extra_asg.append(asg)
        wanted = wanted if NLP in wanted else [*wanted, NLP]
    if include_consensus or CONSENSUS in wanted:
        ann, asg = consensus_as_coder(store)
        extra_ann.append(ann)
        extra_asg.append(asg)
        wanted = wanted if CONSENSUS in wanted else [*wanted, CONSENSUS]
    all_ann = pd.concat(extra_ann, ignore_index=True)
    all_asg = pd.concat(extra_asg, ignore_index=True)
    known = set(all_asg["coder"]) | set(store.coders())
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise CodingError(f"unknown coder(s): {', '.join(unknown)}")
    if len(wanted) < 2:
        raise CodingError(
            f"agreement needs two coders with completed units; have: {', '.join(wanted) or 'none'}"
        )
    code_ids = list(store.codebook().codebook.code_ids)
    return agreement_table(
        all_ann, all_asg, segments, code_ids, coders=wanted, by=by, bootstrap=bootstrap, seed=seed
    )


def pairwise_report(
    store: Store,
    coders: Sequence[str] | None = None,
    include_nlp: bool = False,
    include_consensus: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """One agreement table per pair of coders, stacked, with a 'pair' column."""
    assignments = store.assignments_frame()
    names = list(coders) if coders else default_coders(assignments)
    if include_nlp and NLP not in names:
        names.append(NLP)
    if include_consensus and CONSENSUS not in names:
        names.append(CONSENSUS)
    tables = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            table = agreement_report(store, [first, second], bootstrap=bootstrap, seed=seed)
            table.insert(0, "pair", f"{first} vs {second}")
            tables.append(table)
    if not tables:
        raise CodingError("pairwise agreement needs at least two coders")
    return pd.concat(tables, ignore_index=True)
