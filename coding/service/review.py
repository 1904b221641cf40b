"""Disagreements, reviewer decisions and the study's status."""

from __future__ import annotations

from typing import Any

import pandas as pd

from coding import review
from coding.errors import CodingError, NotFound, PermissionDenied
from coding.model import Decision, utcnow
from coding.service.access import get_user
from coding.store import Store
from coding.store import work as work_store

# What a decision's rationale must hold, so the record says why (not "." or "ok").
MIN_RATIONALE_WORDS = 3
MIN_RATIONALE_LETTERS = 15
RATIONALE_RULE = (
    f"at least {MIN_RATIONALE_WORDS} words and {MIN_RATIONALE_LETTERS} letters saying why"
)
ADD_REVIEWER = "add one with 'coding users add STUDY NAME --role reviewer'"


def check_rationale(rationale: str) -> str:
    """The rationale, stripped, if it says why in words; else CodingError.

    A word is a run of characters holding a letter or digit; punctuation alone counts for
    nothing. The rule: :data:`MIN_RATIONALE_WORDS` words and :data:`MIN_RATIONALE_LETTERS`
    letters.

    >>> check_rationale("  Parent calms herself. ")
    'Parent calms herself.'
    >>> check_rationale("ok ok ok")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    coding.errors.CodingError: the rationale 'ok ok ok' is too thin: give at least 3 words ...
    """
    text = rationale.strip()
    if not text:
        raise CodingError(
            f"a decision needs a rationale ({RATIONALE_RULE}): say why, for the record"
        )
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    letters = sum(ch.isalpha() for ch in text)
    if len(words) < MIN_RATIONALE_WORDS or letters < MIN_RATIONALE_LETTERS:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise CodingError(
            f"the rationale {shown!r} is too thin: give {RATIONALE_RULE}, for the record"
        )
    return text


def check_reviewer(store: Store, reviewer: str, segment_id: str) -> str:
    """The reviewer's name if they may decide on this segment; else PermissionDenied.

    A decision needs a registered user of the study with the reviewer or admin role (a
    study without users has no reviewer yet: add one), who is not one of the coders of
    the segment (anyone with an annotation on it, or who submitted it).
    """
    name = reviewer.strip()
    user = get_user(store, name) if name else None
    if user is None:
        raise PermissionDenied(
            f"{name or '(no name)'!r} is not a registered reviewer of this study; a decision "
            f"needs one ({ADD_REVIEWER}, then pass --reviewer NAME or set CONCORD_USER)"
        )
    if not user.can("reviewer"):
        raise PermissionDenied(
            f"{user.name} is a {user.role}; a decision needs the reviewer or admin role"
        )
    coders = set(work_store.completed_coders(store, segment_id))
    coders |= set(work_store.segment_annotations(store, segment_id)["coder"])
    if user.name in coders:
        raise PermissionDenied(
            f"{user.name} coded segment {segment_id}: a coder never decides on their own "
            "unit; another reviewer must"
        )
    return user.name


def check_decision(store: Store, reviewer: str, segment_id: str, rationale: str) -> str:
    """Check who decides and why (:func:`check_reviewer`, :func:`check_rationale`), for the
    command line and the app alike; return the reviewer's name."""
    name = check_reviewer(store, reviewer, segment_id)
    check_rationale(rationale)
    return name


def disagreements(store: Store, coders: list[str] | None = None) -> pd.DataFrame:
    """Open and resolved disagreements with segment text and the standing decision."""
    found = review.find_disagreements(
        store.annotations_frame(coders),
        store.assignments_frame(coders),
        store.codebook().codebook.code_ids,
        coders,
    )
    segments = store.segments_frame().set_index("segment_id")
    found["text"] = [segments.at[s, "text"] for s in found["segment_id"]]
    found["start"] = [int(segments.at[s, "start"]) for s in found["segment_id"]]
    found["end"] = [int(segments.at[s, "end"]) for s in found["segment_id"]]
    decided = store.current_resolutions_frame()
    standing = (
        {}
        if decided.empty
        else {(r.segment_id, r.code_id): r for r in decided.itertuples(index=False)}
    )
    pairs = list(zip(found["segment_id"], found["code_id"], strict=True))
    found["decision"] = [standing[p].decision if p in standing else "" for p in pairs]
    found["decision_id"] = pd.array(
        [int(standing[p].id) if p in standing else None for p in pairs], dtype="Int64"
    )
    return found


def resolve(
    store: Store,
    segment_id: str,
    code_id: str,
    decision: str,
    reviewer: str,
    rationale: str,
    actor: str | None = None,
    expected: int | str | None = "any",
) -> int:
    """Record one reviewer decision (apply, reject, or withdraw the standing one).

    The reviewer must be a registered reviewer or admin who did not code the segment, and
    the rationale must say why in words (:func:`check_decision`).
    ``actor`` is who runs the command (the audit trail's "who", default the reviewer).
    ``expected``: the standing decision id the reviewer saw, or None for none; a decision
    recorded since makes this fail with Conflict. The default "any" skips the check.
    """
    current = store.codebook()
    if code_id not in current.codebook.code_ids:
        raise NotFound(f"unknown code {code_id!r} (codebook v{current.version})")
    if not store.segments(ids=[segment_id]):
        raise NotFound(f"unknown segment {segment_id!r}")
    reviewer = check_decision(store, reviewer, segment_id, rationale)
    resolution = review.decide(
        segment_id, code_id, decision, reviewer, rationale, utcnow(), current.version
    )
    if resolution.decision is not Decision.WITHDRAW:
        open_pairs = review.find_disagreements(
            store.annotations_frame(), store.assignments_frame(), [code_id]
        )
        pairs = set(zip(open_pairs["segment_id"], open_pairs["code_id"], strict=True))
        if (segment_id, code_id) not in pairs:
            raise CodingError(
                f"segment {segment_id} code {code_id}: the coders do not disagree "
                "here; there is nothing to resolve"
            )
    check: dict[tuple[str, str], int | None] | None = None
    if isinstance(expected, str):
        if expected != "any":
            raise ValueError(f"expected must be a decision id, None or 'any', not {expected!r}")
    else:
        check = {(segment_id, code_id): expected}
    return store.add_resolutions([resolution], actor=actor or reviewer, expected=check)[0]


def status(store: Store) -> dict[str, Any]:
    """Counts that describe the study, as one dict with snake_case keys."""
    codebook = store.codebook() if store.codebook_versions() else None
    documents = store.documents()
    segments = store.segments_frame()
    assignments = store.assignments_frame()
    annotations = store.annotations_frame()
    human = store.coders(kind="human")
    progress = {}
    for coder in human:
        mine = assignments[assignments["coder"] == coder]
        progress[coder] = {
            "assigned": len(mine),
            "completed": int(mine["completed"].sum()),
            "annotations": int((annotations["coder"] == coder).sum()),
            "documents_completed": int(mine[mine["completed"]]["document_id"].nunique()),
        }
    code_ids = codebook.codebook.code_ids if codebook else ()
    found = review.find_disagreements(annotations, assignments, code_ids)
    decided = store.current_resolutions_frame()
    standing = (
        set() if decided.empty else set(zip(decided["segment_id"], decided["code_id"], strict=True))
    )
    resolved = sum(
        (s, c) in standing for s, c in zip(found["segment_id"], found["code_id"], strict=True)
    )
    return {
        "study": store.target,
        "schema_version": store.schema_version(),
        "unit": store.settings().get("unit", ""),
        "codebook_version": codebook.version if codebook else None,
        "codes": len(code_ids),
        "documents": len({d.name for d in documents}),
        "document_versions": len(documents),
        "segments": len(segments),
        "coders": sum(p["completed"] > 0 for p in progress.values()),  # who submitted work
        "coders_registered": len(human),
        "annotations": len(annotations),
        "progress": progress,
        "disagreements": len(found),
        "disagreements_resolved": resolved,
        "disagreements_open": len(found) - resolved,
        "resolutions": store.count("resolutions"),
        "suggestions": store.count("suggestions"),
        "events": store.revision(),
    }
