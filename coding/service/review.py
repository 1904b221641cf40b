"""Disagreements and reviewer decisions: who may decide and why, one decision from the command
line, a choice on a queue item, undo, and notes on codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from coding import review
from coding.errors import CodingError, Conflict, NotFound, PermissionDenied
from coding.model import Decision, Resolution, Role, utcnow
from coding.service import queue
from coding.service.access import get_user, require_role
from coding.store import Store
from coding.store import review as review_store
from coding.store import users as user_store

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
    if not user.can(Role.REVIEWER):
        raise PermissionDenied(
            f"{user.name} is a {user.role}; a decision needs the reviewer or admin role"
        )
    coders = set(review_store.completed_coders(store, segment_id))
    coders |= set(review_store.segment_annotations(store, segment_id)["coder"])
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


def decide(
    store: Store,
    user: str,
    segment_id: str,
    choice: str,
    rationale: str,
    other: Sequence[str] = (),
    seen: Mapping[str, int] | None = None,
) -> list[int]:
    """Record a reviewer's choice on a segment: one resolution per decided code, all in one
    transaction with one audit row. Coders' annotations are left as they are. The reviewer
    must not have coded the segment, and the rationale must say why in words
    (:func:`coding.service.review.check_decision`).

    ``seen`` maps code ids to the standing decision ids the reviewer was shown; when given,
    a decision recorded by someone else since then makes this one fail with Conflict.
    """
    reviewer = require_role(store, user, Role.REVIEWER).name
    check_decision(store, reviewer, segment_id, rationale)
    current = store.codebook()
    unknown = [c for c in other if c not in current.codebook.code_ids]
    if unknown:
        raise NotFound(f"unknown code(s) {', '.join(unknown)} (codebook v{current.version})")
    item = queue.review_item(store, user, segment_id)
    if not item.disputed:
        raise CodingError(f"segment {segment_id}: the coders do not disagree here")
    now = utcnow()
    resolutions = [
        review.decide(segment_id, code_id, str(decision), reviewer, rationale, now, current.version)
        for code_id, decision in queue.final_codes(item, choice, other).items()
    ]
    expected = (
        None
        if seen is None
        else {(segment_id, r.code_id): seen.get(r.code_id) for r in resolutions}
    )
    return store.add_resolutions(resolutions, actor=reviewer, expected=expected)


def undo(
    store: Store,
    user: str,
    segment_id: str,
    rationale: str,
    seen: Mapping[str, int] | None = None,
) -> list[int]:
    """Withdraw the standing decisions on a segment: new rows, nothing erased.

    ``seen`` maps code ids to the standing decision ids the reviewer was shown (as for
    :func:`decide`); when given, any other set of standing decisions (one recorded or
    withdrawn by someone else since) makes the undo fail with Conflict, so an undo never
    withdraws a decision its reviewer did not see.
    """
    reviewer = require_role(store, user, Role.REVIEWER).name
    check_decision(store, reviewer, segment_id, rationale)
    current = store.codebook()
    standing = queue.in_codebook(
        review_store.standing_resolutions(store, segment_id), current.codebook.code_ids
    )
    now_standing = {str(r.code_id): int(r.id) for r in standing.itertuples(index=False)}
    if seen is not None and dict(seen) != now_standing:
        raise Conflict(
            f"segment {segment_id}: the decisions changed since you looked "
            "(another reviewer decided or undid meanwhile); reload and look again"
        )
    if standing.empty:
        raise CodingError(f"segment {segment_id}: no decision to undo")
    version = current.version
    now = utcnow()
    withdrawals: list[Resolution] = [
        review.decide(
            segment_id, code_id, str(Decision.WITHDRAW), reviewer, rationale, now, version
        )
        for code_id in standing["code_id"]
    ]
    expected = {(segment_id, code_id): decision_id for code_id, decision_id in now_standing.items()}
    return store.add_resolutions(withdrawals, actor=reviewer, expected=expected)


def add_code_note(
    store: Store, user: str, code_id: str, note: str, segment_id: str | None = None
) -> int:
    """Record a codebook issue (say, an ambiguous definition) as a note on a code."""
    author = require_role(store, user, Role.REVIEWER).name
    current = store.codebook()
    if code_id not in current.codebook.code_ids:
        raise NotFound(f"unknown code {code_id!r} (codebook v{current.version})")
    if not note.strip():
        raise CodingError("the note is empty")
    return user_store.add_code_note(
        store, code_id, current.version, segment_id, author, note.strip()
    )


def code_notes(store: Store, user: str, code_ids: list[str] | None = None) -> pd.DataFrame:
    require_role(store, user, Role.REVIEWER)
    return user_store.code_notes_frame(store, code_ids)
