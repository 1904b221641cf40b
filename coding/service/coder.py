"""A coder's blind work: their own units, drafts, save and submit, and when suggestions show.

Every function takes the acting user's name and checks their role in the study first
(:func:`coding.service.access.require_role`). A coder's reads are limited to their own
annotations in SQL (``coding.store.coder``), never by hiding columns afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from coding.codebook import exclusive_groups
from coding.errors import CodingError, NotFound
from coding.model import Codebook, Role
from coding.service.access import require_role
from coding.service.attributes import AttributeFilter, value_filter
from coding.service.study import SETTING_SUGGESTIONS_VISIBLE
from coding.store import Store, coder_search
from coding.store import coder as coder_store
from coding.store import units as unit_store
from coding.store.units import UnitContext

__all__ = ["UnitContext"]  # the unit between its neighbours, as the Code page shows it

SUGGESTION_MODES = ("after_submit", "always", "never")


# -- settings --------------------------------------------------------------------------------
def suggestions_mode(store: Store) -> str:
    """When coders see NLP suggestions: after_submit (default), always or never."""
    mode = store.settings().get(SETTING_SUGGESTIONS_VISIBLE, "after_submit")
    return mode if mode in SUGGESTION_MODES else "after_submit"


def set_suggestions_mode(store: Store, user: str, mode: str) -> None:
    require_role(store, user, Role.ADMIN)
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


def units_in(documents: pd.DataFrame, column: str) -> int:
    """The sum of a count column (assigned, completed) of a coder's documents frame."""
    return int(documents[column].sum()) if len(documents) else 0


class UnitCounts:
    """Units assigned to and completed by one coder, summed over their ``documents`` frame
    (document_id, title, assigned, completed)."""

    documents: pd.DataFrame

    @property
    def assigned(self) -> int:
        return units_in(self.documents, "assigned")

    @property
    def completed(self) -> int:
        return units_in(self.documents, "completed")


@dataclass(frozen=True)
class CoderPage(UnitCounts):
    coder: str
    units: list[CoderUnit]
    total: int  # units matching the filter
    offset: int
    documents: pd.DataFrame  # document_id, title, assigned, completed
    suggestions_mode: str


def coder_page(
    store: Store,
    user: str,
    *,
    document_id: str | None = None,
    state: str = "all",
    limit: int = 25,
    offset: int = 0,
    attribute: AttributeFilter | None = None,
) -> CoderPage:
    """A page of the signed-in coder's units with their own codes (never anyone else's);
    ``attribute`` keeps the units with one of its values (in SQL)."""
    coder = require_role(store, user, Role.CODER).name
    view = _view(store, document_id, state, limit, offset, attribute)
    units, total, mode = _units(store, coder, view)
    documents = coder_store.coder_documents(store, coder)
    return CoderPage(coder, units, total, offset, documents, mode)


@dataclass(frozen=True)
class CoderView:
    """A page of a coder's units with their progress: the Code page's per-action read (the
    documents are read once, with :func:`coder_documents`)."""

    coder: str
    units: list[CoderUnit]
    total: int  # units matching the filter
    offset: int
    assigned: int
    completed: int
    suggestions_mode: str


def coder_view(
    store: Store,
    user: str,
    *,
    document_id: str | None = None,
    state: str = "all",
    limit: int = 25,
    offset: int = 0,
    attribute: AttributeFilter | None = None,
) -> CoderView:
    """Like :func:`coder_page`, with the coder's overall progress instead of per document."""
    coder = require_role(store, user, Role.CODER).name
    view = _view(store, document_id, state, limit, offset, attribute)
    units, total, mode = _units(store, coder, view)
    assigned, completed = coder_store.coder_progress(store, coder)
    return CoderView(coder, units, total, offset, assigned, completed, mode)


def coder_documents(store: Store, user: str) -> pd.DataFrame:
    """document_id, title, assigned, completed: the coder's units per document."""
    coder = require_role(store, user, Role.CODER).name
    return coder_store.coder_documents(store, coder)


def _view(
    store: Store,
    document_id: str | None,
    state: str,
    limit: int = 25,
    offset: int = 0,
    attribute: AttributeFilter | None = None,
) -> coder_store.UnitView:
    """The store's view of a coder's units, the attribute's values in their stored form."""
    chosen = value_filter(store, attribute)
    return coder_store.UnitView(document_id, state, limit, offset, chosen)


def _units(
    store: Store, coder: str, view: coder_store.UnitView
) -> tuple[list[CoderUnit], int, str]:
    """A page of the coder's units with their own codes and memos, the suggestions where
    the study shows them, the number of units in the view, and the suggestions mode."""
    page, total = coder_store.coder_units(store, coder, view)
    ids = list(page["segment_id"])
    mine = coder_store.own_annotations(store, coder, ids)
    codes_of = {sid: tuple(dict.fromkeys(g["code_id"])) for sid, g in mine.groupby("segment_id")}
    memos = coder_store.unit_memos(store, ids, [coder])
    memo_of = dict(zip(memos["segment_id"], memos["memo"], strict=True))
    mode = suggestions_mode(store)
    done = page["completed_at"].notna()
    visible = {"always": ids, "after_submit": list(page.loc[done, "segment_id"])}.get(mode, [])
    shown_of: dict[str, pd.DataFrame] = {}
    if visible and coder_search.newest_suggestion_run(store) is not None:
        suggested = unit_store.suggestions_for(store, visible)
        parts = dict(list(suggested.groupby("segment_id")))
        empty = suggested.iloc[0:0]
        shown_of = {sid: parts.get(sid, empty).reset_index(drop=True) for sid in visible}
    units = [
        CoderUnit(
            segment_id=row.segment_id,
            document_id=row.document_id,
            title=row.title,
            position=int(row.position),
            label=row.label,
            text=row.text,
            start=int(row.start),
            completed=bool(is_done),
            codes=codes_of.get(row.segment_id, ()),
            memo=str(memo_of.get(row.segment_id, "")),
            suggestions=shown_of.get(row.segment_id),
        )
        for row, is_done in zip(page.itertuples(index=False), done, strict=True)
    ]
    return units, total, mode


def unit_context(store: Store, user: str, segment_id: str) -> UnitContext:
    """A unit's text with the units before and after it (text only, no one's codes)."""
    require_role(store, user, Role.CODER)
    return unit_store.unit_context(store, segment_id)


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
    (:func:`coding.store.coder.save_codes`), and annotations on codes the current codebook no
    longer has are left as they are.
    """
    coder = require_role(store, user, Role.CODER).name
    current = store.codebook()
    unknown = [c for c in code_ids if c not in current.codebook.code_ids]
    if unknown:
        raise NotFound(f"unknown code(s) {', '.join(unknown)} (codebook v{current.version})")
    if submit:
        _one_per_exclusive_group(current.codebook, code_ids)
    coder_store.save_codes(
        store,
        coder,
        segment_id,
        code_ids,
        memo.strip(),
        current.version,
        offered=current.codebook.code_ids,
        complete=submit,
    )


def _one_per_exclusive_group(codebook: Codebook, code_ids: Sequence[str]) -> None:
    """CodingError when a submit applies two codes of a group the codebook marks exclusive
    (a draft may hold both while the coder decides)."""
    chosen = set(code_ids)
    names = {c.id: c.name for c in codebook.codes}
    for parent, children in exclusive_groups(codebook).items():
        both = [names[c] for c in children if c in chosen]
        if len(both) > 1:
            raise CodingError(
                f"{' and '.join(both)} are alternatives under {names[parent]}: "
                "the codebook allows one of them per unit"
            )


# -- after submit: the suggestions on a unit, to calibrate against -------------------------
@dataclass(frozen=True)
class SuggestedUnit:
    """One of a coder's units with their own codes and the newest suggestions on it."""

    segment_id: str
    title: str
    position: int
    label: str
    text: str
    start: int
    codes: tuple[str, ...]
    suggestions: pd.DataFrame  # code_id, score, evidence, engine, model_version


def unit_suggestions(store: Store, user: str, segment_id: str) -> SuggestedUnit | None:
    """The suggestions on one of the coder's units beside the coder's own codes, or None
    when the study's setting hides them: always under "never", and under "after_submit"
    (the default) until the coder has submitted the unit. Coding stays blind."""
    coder = require_role(store, user, Role.CODER).name
    unit = coder_search.assigned_unit(store, coder, segment_id)
    if unit.empty:
        raise NotFound(f"unit {segment_id} is not assigned to {coder}")
    row = unit.iloc[0]
    mode = suggestions_mode(store)
    submitted = row["completed_at"] is not None and not pd.isna(row["completed_at"])
    if mode == "never" or (mode == "after_submit" and not submitted):
        return None
    if coder_search.newest_suggestion_run(store) is None:
        return None
    own = coder_store.own_annotations(store, coder, [segment_id])
    found = unit_store.suggestions_for(store, [segment_id])
    return SuggestedUnit(
        segment_id=segment_id,
        title=str(row["title"]),
        position=int(row["position"]),
        label=str(row["label"]),
        text=str(row["text"]),
        start=int(row["start"]),
        codes=tuple(dict.fromkeys(own["code_id"])),
        suggestions=found.drop(columns=["segment_id"]).reset_index(drop=True),
    )


# -- finding a unit --------------------------------------------------------------------------
@dataclass(frozen=True)
class FoundUnits:
    """The first of a coder's units holding some words, and how many hold them."""

    units: pd.DataFrame  # segment_id, document_id, title, position, label, snippet, completed
    total: int


def find_units(store: Store, user: str, words: str, *, limit: int = 10) -> FoundUnits:
    """The coder's own units whose text holds ``words`` (case ignored), in document order."""
    coder = require_role(store, user, Role.CODER).name
    needle = " ".join(words.split())
    if not needle:
        return FoundUnits(pd.DataFrame(columns=[*FOUND_COLUMNS]), 0)
    frame, total = coder_search.find_units(store, coder, needle, limit)
    frame["snippet"] = [snippet(text, needle) for text in frame["text"]]
    frame["completed"] = frame["completed_at"].notna()
    return FoundUnits(frame[list(FOUND_COLUMNS)].reset_index(drop=True), total)


FOUND_COLUMNS = ("segment_id", "document_id", "title", "position", "label", "snippet", "completed")


def snippet(text: str, needle: str, width: int = 60) -> str:
    """The words around the first place ``needle`` occurs in ``text`` (case ignored).

    >>> snippet("Parents learn to stay calm when the baby cries at night.", "calm", 12)
    '…stay calm when…'
    >>> snippet("short", "x")
    'short'
    """
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    at = max(flat.lower().find(needle.lower()), 0)
    end = min(max(at - (width - len(needle)) // 2, 0) + width, len(flat))
    start = max(end - width, 0)
    while start > 0 and flat[start - 1] != " ":  # whole words only
        start -= 1
    while end < len(flat) and flat[end] != " ":
        end += 1
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def unit_index(
    store: Store,
    user: str,
    segment_id: str,
    *,
    document_id: str | None = None,
    state: str = "all",
    attribute: AttributeFilter | None = None,
) -> int | None:
    """Where one of the coder's units stands in a view of their units (0 is the first),
    None when the view does not hold it."""
    coder = require_role(store, user, Role.CODER).name
    view = _view(store, document_id, state, attribute=attribute)
    return coder_search.unit_index(store, coder, segment_id, view)
