"""The app's actions: a coder's blind work on their units, the reviewer's queue and decisions.

Every function takes the acting user's name and checks their role in the study first
(:func:`coding.service.access.require_role`). A coder's reads are limited to their own
annotations in SQL (``coding.store.work``), never by hiding columns afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from coding import review
from coding.errors import CodingError, Conflict, NotFound, PermissionDenied
from coding.model import Decision, Resolution, utcnow
from coding.service.access import get_user, require_role
from coding.service.review import check_decision
from coding.service.study import SETTING_SUGGESTIONS_VISIBLE
from coding.store import Store
from coding.store import users as user_store
from coding.store import work as work_store
from coding.store.work import QueueCounts, UnitContext

SUGGESTION_MODES = ("after_submit", "always", "never")
MERGE, NEITHER, OTHER, ACCEPT = "merge", "neither", "other", "accept:"


# -- settings --------------------------------------------------------------------------------
def suggestions_mode(store: Store) -> str:
    """When coders see NLP suggestions: after_submit (default), always or never."""
    mode = store.settings().get(SETTING_SUGGESTIONS_VISIBLE, "after_submit")
    return mode if mode in SUGGESTION_MODES else "after_submit"


def set_suggestions_mode(store: Store, user: str, mode: str) -> None:
    require_role(store, user, "admin")
    if mode not in SUGGESTION_MODES:
        raise CodingError(f"unknown mode {mode!r}; choose one of {', '.join(SUGGESTION_MODES)}")
    store.set_setting(SETTING_SUGGESTIONS_VISIBLE, mode, user)


# -- coders ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoderUnit:
    """One of a coder's units with that coder's own codes and memo only."""

    segment_id: str
    document_id: str
    title: str
    position: int
    label: str
    text: str
    start: int
    completed: bool
    codes: tuple[str, ...]
    memo: str
    suggestions: pd.DataFrame | None  # None: hidden by the study's blinding setting


@dataclass(frozen=True)
class CoderPage:
    coder: str
    units: list[CoderUnit]
    total: int  # units matching the filter
    offset: int
    documents: pd.DataFrame  # document_id, title, assigned, completed
    suggestions_mode: str

    @property
    def assigned(self) -> int:
        return int(self.documents["assigned"].sum()) if len(self.documents) else 0

    @property
    def completed(self) -> int:
        return int(self.documents["completed"].sum()) if len(self.documents) else 0


def coder_page(
    store: Store,
    user: str,
    *,
    document_id: str | None = None,
    state: str = "all",
    limit: int = 25,
    offset: int = 0,
) -> CoderPage:
    """A page of the signed-in coder's units with their own codes (never anyone else's)."""
    coder = require_role(store, user, "coder").name
    page, total = work_store.coder_units(
        store, coder, document_id=document_id, state=state, limit=limit, offset=offset
    )
    ids = list(page["segment_id"])
    mine = work_store.own_annotations(store, coder, ids)
    memos = work_store.unit_memos(store, ids, [coder])
    memo_of = dict(zip(memos["segment_id"], memos["memo"], strict=True))
    mode = suggestions_mode(store)
    visible = (
        ids
        if mode == "always"
        else (
            list(page.loc[page["completed_at"].notna(), "segment_id"])
            if mode == "after_submit"
            else []
        )
    )
    suggested = work_store.suggestions_for(store, visible) if visible else None
    units = []
    for row in page.itertuples(index=False):
        own = mine[mine["segment_id"] == row.segment_id]
        shown = None
        if suggested is not None and row.segment_id in visible:
            shown = suggested[suggested["segment_id"] == row.segment_id].reset_index(drop=True)
        units.append(
            CoderUnit(
                segment_id=row.segment_id,
                document_id=row.document_id,
                title=row.title,
                position=int(row.position),
                label=row.label,
                text=row.text,
                start=int(row.start),
                completed=row.completed_at is not None and not pd.isna(row.completed_at),
                codes=tuple(dict.fromkeys(own["code_id"])),
                memo=str(memo_of.get(row.segment_id, "")),
                suggestions=shown,
            )
        )
    documents = work_store.coder_documents(store, coder)
    return CoderPage(coder, units, total, offset, documents, mode)


def unit_context(store: Store, user: str, segment_id: str) -> UnitContext:
    """A unit's text with the units before and after it (text only, no one's codes)."""
    if get_user(store, user) is None:
        raise PermissionDenied("sign in first: no such user in this study")
    return work_store.unit_context(store, segment_id)


def save_unit(
    store: Store,
    user: str,
    segment_id: str,
    code_ids: Sequence[str],
    memo: str = "",
    *,
    submit: bool = False,
) -> None:
    """Save the coder's codes and memo on one unit; ``submit`` marks it finished (then locked).

    Nothing is erased: what the save removes or replaces is kept in the study's history
    (:func:`coding.store.work.save_codes`), and annotations on codes the current codebook no
    longer has are left as they are.
    """
    coder = require_role(store, user, "coder").name
    current = store.codebook()
    unknown = [c for c in code_ids if c not in current.codebook.code_ids]
    if unknown:
        raise NotFound(f"unknown code(s) {', '.join(unknown)} (codebook v{current.version})")
    work_store.save_codes(
        store,
        coder,
        segment_id,
        code_ids,
        memo.strip(),
        current.version,
        offered=current.codebook.code_ids,
        complete=submit,
    )


# -- reviewers -------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueItem:
    """One segment with disagreements, as the reviewer sees it."""

    context: UnitContext
    coders: list[str]  # who submitted the segment
    codes_by_coder: dict[str, list[str]]
    memos_by_coder: dict[str, str]
    spans: pd.DataFrame  # coder, code_id, start, end of annotations narrower than the unit
    disputed: list[str]  # codes on which the coders differ
    open_codes: list[str]  # disputed codes without a standing decision
    standing: pd.DataFrame  # code_id, decision, reviewer, rationale, at, id
    suggestions: pd.DataFrame  # code_id, score, evidence, engine, model_version
    notes: pd.DataFrame = field(default_factory=pd.DataFrame)  # notes on the disputed codes

    @property
    def segment_id(self) -> str:
        return self.context.segment.id

    def agreed(self) -> set[str]:
        """Codes every coder who submitted the segment applied."""
        sets = [set(self.codes_by_coder.get(c, [])) for c in self.coders]
        return set.intersection(*sets) if sets else set()


def review_queue(
    store: Store,
    user: str,
    *,
    code_id: str | None = None,
    document_id: str | None = None,
    coder: str | None = None,
    state: str = "open",
    limit: int = 25,
    offset: int = 0,
) -> tuple[pd.DataFrame, QueueCounts]:
    """A page of segments with disagreements, filtered, plus counts over the whole queue."""
    require_role(store, user, "reviewer")
    code_ids = store.codebook().codebook.code_ids
    return work_store.queue_page(
        store,
        code_ids,
        code_id=code_id,
        document_id=document_id,
        coder=coder,
        state=state,
        limit=limit,
        offset=offset,
    )


def review_item(store: Store, user: str, segment_id: str) -> QueueItem:
    """Everything the reviewer needs to decide one segment."""
    require_role(store, user, "reviewer")
    code_ids = store.codebook().codebook.code_ids
    context = work_store.unit_context(store, segment_id)
    coders = work_store.completed_coders(store, segment_id)
    annotations = work_store.segment_annotations(store, segment_id)
    # Codes a later codebook version removed are left out: nothing is decided on them.
    annotations = annotations[
        annotations["coder"].isin(coders) & annotations["code_id"].isin(code_ids)
    ]
    codes_by_coder = {
        c: sorted(set(annotations.loc[annotations["coder"] == c, "code_id"])) for c in coders
    }
    memos = work_store.unit_memos(store, [segment_id], coders)  # submitted coders only
    memo_of = dict(zip(memos["coder"], memos["memo"], strict=True))
    memos_by_coder = {c: str(memo_of.get(c, "")) for c in coders}
    pairs = work_store.segment_pairs(store, code_ids, segment_id)
    partial = annotations[annotations["whole_segment"] == 0][["coder", "code_id", "start", "end"]]
    suggestions = work_store.suggestions_for(store, [segment_id])
    disputed = list(pairs["code_id"])
    return QueueItem(
        context=context,
        coders=coders,
        codes_by_coder=codes_by_coder,
        memos_by_coder=memos_by_coder,
        spans=partial.reset_index(drop=True),
        disputed=disputed,
        open_codes=list(pairs.loc[pairs["resolved"] == 0, "code_id"]),
        standing=_current(work_store.standing_resolutions(store, segment_id), code_ids),
        suggestions=suggestions[suggestions["code_id"].isin(disputed)].reset_index(drop=True),
        notes=user_store.code_notes_frame(store, disputed) if disputed else pd.DataFrame(),
    )


def _current(frame: pd.DataFrame, code_ids: Sequence[str]) -> pd.DataFrame:
    """Rows of a frame with a code_id column whose code is in the current codebook."""
    return frame[frame["code_id"].isin(list(code_ids))].reset_index(drop=True)


def choices(item: QueueItem) -> list[str]:
    """The decisions offered for an item: accept each coder's codes, merge, neither, other."""
    return [f"{ACCEPT}{c}" for c in item.coders] + [MERGE, NEITHER, OTHER]


def final_codes(item: QueueItem, choice: str, other: Sequence[str] = ()) -> dict[str, Decision]:
    """Decision per code for a reviewer's choice on an item.

    accept:<coder>, merge (union) and neither decide the disputed codes: apply those in the
    chosen set, reject the rest. ``other`` takes the reviewer's own set: every disputed code
    is decided, plus codes no coder applied that the reviewer adds, and codes all coders
    agreed on that the reviewer leaves out. Every code with a standing decision is decided
    again too, so no earlier choice outlives this one: applied when it is in the chosen set
    (or, except for ``other``, when all coders agreed on it), rejected otherwise.
    """
    if choice.startswith(ACCEPT):
        coder = choice.removeprefix(ACCEPT)
        if coder not in item.codes_by_coder:
            raise CodingError(f"{coder} did not submit this segment")
        chosen = set(item.codes_by_coder[coder])
    elif choice == MERGE:
        chosen = set().union(*map(set, item.codes_by_coder.values()))
    elif choice == NEITHER:
        chosen = set()
    elif choice == OTHER:
        chosen = set(other)
    else:
        raise CodingError(f"unknown choice {choice!r}; choose one of {', '.join(choices(item))}")
    decided = {c: Decision.APPLY if c in chosen else Decision.REJECT for c in item.disputed}
    if choice == OTHER:
        applied_by_any = set().union(*map(set, item.codes_by_coder.values()))
        decided.update({c: Decision.APPLY for c in chosen - applied_by_any})
        decided.update({c: Decision.REJECT for c in item.agreed() - chosen})
    kept = chosen if choice == OTHER else chosen | item.agreed()
    for code_id in item.standing.get("code_id", ()):
        decided.setdefault(str(code_id), Decision.APPLY if code_id in kept else Decision.REJECT)
    return dict(sorted(decided.items()))


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
    reviewer = require_role(store, user, "reviewer").name
    check_decision(store, reviewer, segment_id, rationale)
    current = store.codebook()
    unknown = [c for c in other if c not in current.codebook.code_ids]
    if unknown:
        raise NotFound(f"unknown code(s) {', '.join(unknown)} (codebook v{current.version})")
    item = review_item(store, user, segment_id)
    if not item.disputed:
        raise CodingError(f"segment {segment_id}: the coders do not disagree here")
    now = utcnow()
    resolutions = [
        review.decide(segment_id, code_id, str(decision), reviewer, rationale, now, current.version)
        for code_id, decision in final_codes(item, choice, other).items()
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
    reviewer = require_role(store, user, "reviewer").name
    check_decision(store, reviewer, segment_id, rationale)
    current = store.codebook()
    standing = _current(
        work_store.standing_resolutions(store, segment_id), current.codebook.code_ids
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
    author = require_role(store, user, "reviewer").name
    current = store.codebook()
    if code_id not in current.codebook.code_ids:
        raise NotFound(f"unknown code {code_id!r} (codebook v{current.version})")
    if not note.strip():
        raise CodingError("the note is empty")
    return user_store.add_code_note(
        store, code_id, current.version, segment_id, author, note.strip()
    )


def code_notes(store: Store, user: str, code_ids: list[str] | None = None) -> pd.DataFrame:
    require_role(store, user, "reviewer")
    return user_store.code_notes_frame(store, code_ids)


# -- study overview and export -----------------------------------------------------------------
@dataclass(frozen=True)
class Overview:
    codebook_version: int | None
    codes: int
    documents: pd.DataFrame  # id, name, version, title, programme, units
    coders: list[str]
    progress: pd.DataFrame  # coder, document_id, title, assigned, completed
    disagreements: QueueCounts
    suggestions: int
    next_steps: list[str]


def study_overview(store: Store, user: str) -> Overview:
    """What is in the study and what to do next (SQL counts; fast on large studies).

    For reviewers and admins only: it holds every coder's progress and the study's
    disagreement counts, from which a coder could work out other coders' codes.
    """
    require_role(store, user, "reviewer")
    versions = store.codebook_versions()
    code_ids = store.codebook().codebook.code_ids if versions else ()
    documents = work_store.documents_overview(store)
    coders = store.coders(kind="human")
    progress = work_store.progress_frame(store)
    _, counts = work_store.queue_page(store, code_ids, state="all", limit=0)
    suggestions = store.count("suggestions")
    steps = _next_steps(bool(versions), documents, coders, progress, counts)
    return Overview(
        versions[-1] if versions else None,
        len(code_ids),
        documents,
        coders,
        progress,
        counts,
        suggestions,
        steps,
    )


@dataclass(frozen=True)
class CoderOverview:
    """A coder's own view of the study: their assignments and nothing about anyone else."""

    coder: str
    codebook_version: int | None
    codes: int
    documents: pd.DataFrame  # document_id, title, assigned, completed (this coder's units)
    next_steps: list[str]

    @property
    def assigned(self) -> int:
        return int(self.documents["assigned"].sum()) if len(self.documents) else 0

    @property
    def completed(self) -> int:
        return int(self.documents["completed"].sum()) if len(self.documents) else 0


def coder_overview(store: Store, user: str) -> CoderOverview:
    """The signed-in coder's progress per document; no other coder, no disagreement counts."""
    coder = require_role(store, user, "coder").name
    versions = store.codebook_versions()
    code_ids = store.codebook().codebook.code_ids if versions else ()
    documents = work_store.coder_documents(store, coder)
    assigned = int(documents["assigned"].sum()) if len(documents) else 0
    left = assigned - (int(documents["completed"].sum()) if len(documents) else 0)
    if not assigned:
        steps = ["No units are assigned to you yet: ask an admin to assign some."]
    elif left:
        steps = [f"{left} unit(s) still to code on the Code page."]
    else:
        steps = ["All your units are submitted. Thank you!"]
    return CoderOverview(coder, versions[-1] if versions else None, len(code_ids), documents, steps)


def document_ids(store: Store) -> list[str]:
    """Every document id (all versions), for filters."""
    return [str(d) for d in work_store.documents_overview(store)["id"]]


def _next_steps(
    has_codebook: bool,
    documents: pd.DataFrame,
    coders: list[str],
    progress: pd.DataFrame,
    counts: QueueCounts,
) -> list[str]:
    if not has_codebook:
        return ["Load a codebook: `coding codebook load STUDY codebook.yaml`."]
    if documents.empty:
        return ["Import documents: `coding import STUDY manuals/*.docx`."]
    if not coders:
        return ["Add coders: `coding users add STUDY NAME --role coder`."]
    steps = []
    if progress.empty:
        steps.append("Assign units: `coding assign STUDY --coder NAME`.")
    left = progress.assign(left=progress["assigned"] - progress["completed"])
    for coder, n in left.groupby("coder")["left"].sum().items():
        if n:
            steps.append(f"{coder}: {n} unit(s) still to code.")
    open_pairs = counts.pairs - counts.resolved
    if open_pairs:
        steps.append(f"Reviewer: resolve {open_pairs} open disagreement(s) on the Resolve page.")
    if not steps:
        steps.append("All coded and resolved: read the Agreement page and download exports.")
    return steps


def available_exports() -> list[tuple[str, str, str]]:
    """(kind, format, file name) of every download on offer."""
    from coding.service import export as export_service

    return [
        (kind, fmt, f"{export_service.BASENAME.get(kind, kind)}.{fmt}")
        for kind, formats in export_service.FORMATS.items()
        for fmt in formats
    ]


def export_download(store: Store, user: str, kind: str, fmt: str) -> tuple[str, bytes]:
    """One export as (file name, bytes) for a reviewer or admin (it shows every coder's work)."""
    require_role(store, user, "reviewer")
    from coding.service import export as export_service

    return export_service.export_bytes(store, kind, fmt)


def assign_as(store: Store, admin: str, coder: str, documents: Sequence[str]) -> int:
    """Give a coder the units of some documents (all when none are named), as an admin."""
    from coding.service.codings import assign

    actor = require_role(store, admin, "admin").name
    return assign(store, coder, actor, list(documents))
