"""A coder's blind work: their own units, drafts, save and submit, and when suggestions show.

Every function takes the acting user's name and checks their role in the study first
(:func:`coding.service.access.require_role`). A coder's reads are limited to their own
annotations in SQL (``coding.store.coder``), never by hiding columns afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from coding.errors import CodingError, NotFound
from coding.model import Role
from coding.service.access import require_role
from coding.service.study import SETTING_SUGGESTIONS_VISIBLE
from coding.store import Store
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
) -> CoderPage:
    """A page of the signed-in coder's units with their own codes (never anyone else's)."""
    coder = require_role(store, user, Role.CODER).name
    view = coder_store.UnitView(document_id, state, limit, offset)
    page, total = coder_store.coder_units(store, coder, view)
    ids = list(page["segment_id"])
    mine = coder_store.own_annotations(store, coder, ids)
    memos = coder_store.unit_memos(store, ids, [coder])
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
    suggested = unit_store.suggestions_for(store, visible) if visible else None
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
    documents = coder_store.coder_documents(store, coder)
    return CoderPage(coder, units, total, offset, documents, mode)


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
