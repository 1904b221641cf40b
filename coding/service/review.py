"""Disagreements and reviewer decisions: who may decide and why, the list of disagreements,
one way to record decisions (a choice on a segment, or one code from the command line), undo,
and notes on codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from coding import review
from coding.errors import CodingError, Conflict, NotFound, PermissionDenied
from coding.model import Decision, Role, utcnow
from coding.service import queue
from coding.service.access import get_user, require_role
from coding.service.review_list import DISAGREEMENT_COLUMNS, Disagreement, disagreement_rows
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


def disagreements(
    store: Store,
    coders: Sequence[str] | None = None,
    *,
    code_id: str | None = None,
    open_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> pd.DataFrame:
    """:func:`coding.service.review_list.disagreement_rows` as a frame, with the columns of
    :data:`DISAGREEMENT_COLUMNS` (``decision_id`` a nullable integer)."""
    rows = disagreement_rows(
        store, coders, code_id=code_id, open_only=open_only, limit=limit, offset=offset
    )
    return disagreement_frame(rows)


def disagreement_frame(rows: Sequence[Disagreement]) -> pd.DataFrame:
    """Rows of :func:`~coding.service.review_list.disagreement_rows` as a frame."""
    found = pd.DataFrame(rows, columns=DISAGREEMENT_COLUMNS)
    found["decision_id"] = pd.array(found["decision_id"], dtype="Int64")
    return found


def standing_decision(store: Store, user: str, segment_id: str, code_id: str) -> int | None:
    """The id of the decision standing on (segment, code), or None."""
    require_role(store, user, Role.REVIEWER)
    found = review_store.standing_decisions(store, [segment_id]).get((segment_id, code_id))
    return None if found is None else found[0]


def resolve(
    store: Store,
    user: str,
    segment_id: str,
    code_id: str,
    decision: Decision,
    rationale: str,
    supersedes: int | None = None,
    actor: str | None = None,
) -> int:
    """Record one decision on one (segment, code): apply, reject, or withdraw the standing
    one; the command line's way to :func:`decide`, with the same rules and records.

    ``supersedes`` is the standing decision the reviewer saw (None: none); a decision
    recorded since makes this fail with Conflict, so none is overridden unseen. Apply and
    reject need the coders to disagree on the code. ``actor`` is who runs the command (the
    audit trail's "who"; default the reviewer).
    """
    decision = Decision(decision)
    current = store.codebook()
    if code_id not in current.codebook.code_ids:
        raise NotFound(f"unknown code {code_id!r} (codebook v{current.version})")
    if not store.segments(ids=[segment_id]):
        raise NotFound(f"unknown segment {segment_id!r}")
    reviewer = check_decision(store, user, segment_id, rationale)  # the role check too
    if decision is not Decision.WITHDRAW:
        item = queue.review_item(store, reviewer, segment_id)
        if code_id not in item.disputed:
            raise CodingError(
                f"segment {segment_id} code {code_id}: the coders do not disagree "
                "here; there is nothing to resolve"
            )
    decisions = {code_id: decision}
    return _record(store, reviewer, segment_id, decisions, rationale, {code_id: supersedes}, actor)[
        0
    ]


def decide(
    store: Store,
    user: str,
    segment_id: str,
    choice: review.Choice,
    rationale: str,
    seen: Mapping[str, int] | None = None,
) -> list[int]:
    """Record a reviewer's choice on a segment: one resolution per decided code
    (:func:`coding.review.decisions_for`), all in one transaction with one audit row.
    Coders' annotations are left as they are. The reviewer must not have coded the segment,
    and the rationale must say why in words (:func:`check_decision`).

    ``seen`` maps code ids to the standing decision ids the reviewer was shown (none: no
    decision seen); a decision recorded by someone else since makes this fail with Conflict.
    """
    reviewer = check_decision(store, user, segment_id, rationale)  # the role check too
    current = store.codebook()
    unknown = sorted(c for c in choice.codes if c not in current.codebook.code_ids)
    if unknown:
        raise NotFound(f"unknown code(s) {', '.join(unknown)} (codebook v{current.version})")
    item = queue.review_item(store, user, segment_id)
    if not item.disputed:
        raise CodingError(f"segment {segment_id}: the coders do not disagree here")
    return _record(store, reviewer, segment_id, item.decisions(choice), rationale, seen or {})


def undo(
    store: Store,
    user: str,
    segment_id: str,
    rationale: str,
    seen: Mapping[str, int] | None = None,
) -> list[int]:
    """Withdraw the standing decisions on a segment: new rows, nothing erased.

    ``seen`` maps code ids to the standing decision ids the reviewer was shown (as for
    :func:`decide`); any other set of standing decisions (one recorded or withdrawn by
    someone else since) makes the undo fail with Conflict, so an undo never withdraws a
    decision its reviewer did not see.
    """
    reviewer = check_decision(store, user, segment_id, rationale)  # the role check too
    code_ids = store.codebook().codebook.code_ids
    standing = queue.in_codebook(review_store.standing_resolutions(store, segment_id), code_ids)
    now_standing = {str(r.code_id): int(r.id) for r in standing.itertuples(index=False)}
    if seen is not None and dict(seen) != now_standing:
        raise Conflict(
            f"segment {segment_id}: the decisions changed since you looked "
            "(another reviewer decided or undid meanwhile); reload and look again"
        )
    if not now_standing:
        raise CodingError(f"segment {segment_id}: no decision to undo")
    withdraw = dict.fromkeys(now_standing, Decision.WITHDRAW)
    return _record(store, reviewer, segment_id, withdraw, rationale, now_standing)


def _record(
    store: Store,
    reviewer: str,
    segment_id: str,
    decisions: Mapping[str, Decision],
    rationale: str,
    seen: Mapping[str, int | None],
    actor: str | None = None,
) -> list[int]:
    """Write decisions on one segment in one transaction; each must supersede the decision
    ``seen`` for its code (None: none), else Conflict and nothing is written."""
    version = store.codebook().version
    now = utcnow()
    resolutions = [
        review.resolution(segment_id, code_id, decision, reviewer, rationale, now, version)
        for code_id, decision in decisions.items()
    ]
    expected = {(segment_id, code_id): seen.get(code_id) for code_id in decisions}
    return store.add_resolutions(resolutions, actor=actor or reviewer, expected=expected)


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
