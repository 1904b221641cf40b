"""Find disagreements between coders and turn reviewer decisions into Resolutions (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from coding.errors import CodingError
from coding.model import Decision, Resolution

DISAGREEMENT_COLUMNS = ("segment_id", "document_id", "code_id", "applied_by", "not_applied_by")


def find_disagreements(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """(segment, code) pairs where the coders who completed the segment differ.

    Only completed assignments count: a coder who has not submitted a segment has no
    opinion on it yet. Needs at least two completed coders on the segment.

    >>> ann = pd.DataFrame({"segment_id": ["s1", "s1"], "coder": ["a", "b"],
    ...                     "code_id": ["x", "y"]})
    >>> asg = pd.DataFrame({"segment_id": ["s1", "s1"], "document_id": ["d", "d"],
    ...                     "coder": ["a", "b"], "completed": [True, True]})
    >>> find_disagreements(ann, asg, ["x", "y"])[["code_id", "applied_by"]].values.tolist()
    [['x', ['a']], ['y', ['b']]]
    """
    done = assignments[assignments["completed"]]
    if coders is not None:
        done = done[done["coder"].isin(coders)]
    by_segment = done.groupby("segment_id", sort=False)["coder"].apply(lambda s: sorted(set(s)))
    by_segment = by_segment[by_segment.map(len) >= 2]
    documents = dict(zip(done["segment_id"], done["document_id"], strict=False))
    applied: dict[tuple[str, str], set[str]] = {}
    for row in annotations.itertuples(index=False):
        applied.setdefault((row.segment_id, row.code_id), set()).add(row.coder)
    rows = []
    for segment_id, seg_coders in by_segment.items():
        for code_id in code_ids:
            yes = sorted(applied.get((str(segment_id), code_id), set()) & set(seg_coders))
            if yes and len(yes) < len(seg_coders):
                rows.append(
                    (
                        segment_id,
                        documents[segment_id],
                        code_id,
                        yes,
                        [c for c in seg_coders if c not in yes],
                    )
                )
    return pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS))


def decide(
    segment_id: str,
    code_id: str,
    decision: str,
    reviewer: str,
    rationale: str,
    at: datetime,
    codebook_version: int,
) -> Resolution:
    """A Resolution from a reviewer's choice, refusing an empty rationale or unknown decision."""
    try:
        choice = Decision(decision)
    except ValueError:
        options = ", ".join(d.value for d in Decision)
        raise CodingError(f"unknown decision {decision!r}; choose one of {options}") from None
    if not rationale.strip():
        raise CodingError("a decision needs a rationale: say why, for the record")
    if not reviewer.strip():
        raise CodingError("a decision needs the reviewer's name")
    return Resolution(
        segment_id=segment_id,
        code_id=code_id,
        decision=choice,
        reviewer=reviewer.strip(),
        rationale=rationale.strip(),
        at=at,
        codebook_version=codebook_version,
    )


def final_codes(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    resolutions: pd.DataFrame,
    code_ids: Sequence[str],
) -> pd.DataFrame:
    """Final code per (segment, code) that anyone applied: its status and whether it stands.

    status is ``resolved`` (a standing reviewer decision), ``agreed`` (every completed coder
    applied it), ``single`` (only one coder completed the segment) or ``open`` (coders differ,
    no decision yet). ``final`` is True when the code is part of the segment's final coding;
    None while the status is open. Only submitted work counts: a code a coder has saved on a
    unit they have not submitted is invisible here, as it is to everyone but that coder.

    >>> ann = pd.DataFrame({"segment_id": ["s", "s"], "coder": ["a", "c"], "code_id": ["x", "y"]})
    >>> asg = pd.DataFrame({"segment_id": ["s", "s", "s"], "coder": ["a", "b", "c"],
    ...                     "completed": [True, True, False]})
    >>> none = pd.DataFrame(columns=["segment_id", "code_id", "decision", "rationale", "reviewer"])
    >>> final_codes(ann, asg, none, ["x", "y"])[["code_id", "applied_by", "status"]].values.tolist()
    [['x', ['a'], 'open']]
    """
    done = assignments[assignments["completed"]]
    completed = done.groupby("segment_id")["coder"].apply(lambda s: set(s)).to_dict()
    decided = {(r.segment_id, r.code_id): r for r in resolutions.itertuples(index=False)}
    applied: dict[tuple[str, str], set[str]] = {}
    for row in annotations.itertuples(index=False):
        if row.code_id in code_ids:
            applied.setdefault((row.segment_id, row.code_id), set()).add(row.coder)
    keys = sorted(set(applied) | {k for k in decided if k[1] in code_ids})
    rows = []
    for segment_id, code_id in keys:
        coders = completed.get(segment_id, set())
        yes = applied.get((segment_id, code_id), set()) & coders
        resolution = decided.get((segment_id, code_id))
        if not yes and resolution is None:
            continue  # only unsubmitted drafts applied it
        if resolution is not None:
            status, final = "resolved", resolution.decision == Decision.APPLY
        elif len(coders) >= 2:
            status = "agreed" if yes >= coders else "open"
            final = True if status == "agreed" else None
        else:
            status, final = "single", bool(yes)
        rows.append(
            {
                "segment_id": segment_id,
                "code_id": code_id,
                "applied_by": sorted(yes),
                "status": status,
                "final": final,
                "rationale": resolution.rationale if resolution is not None else "",
                "reviewer": resolution.reviewer if resolution is not None else "",
            }
        )
    columns = ["segment_id", "code_id", "applied_by", "status", "final", "rationale", "reviewer"]
    return pd.DataFrame(rows, columns=columns)
