"""The reviewer's queue: segments with disagreements, one item with all its context, and the
decisions a reviewer's choice on an item makes (no writes; :mod:`coding.service.review` records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from coding import review
from coding.model import Decision, Role
from coding.review import Choice, ChoiceKind, choices
from coding.service.access import Operator, require_role
from coding.service.attributes import AttributeFilter, value_filter
from coding.service.overview import QueueCounts
from coding.store import Store
from coding.store import coder as coder_store
from coding.store import review as review_store
from coding.store import units as unit_store
from coding.store import users as user_store
from coding.store.attributes import ValueFilter, newest_event, values_written_since
from coding.store.units import UnitContext

__all__ = [
    "AttributeFilter",
    "Choice",
    "ChoiceKind",
    "QueueCounts",
    "QueueItem",
    "QueueState",
    "choices",
    "disagreement_counts",
    "disagreement_pairs",
    "in_codebook",
    "review_item",
    "review_queue",
]

# (study, codes, coders, attribute filter, fingerprint) -> (pairs, the newest event before)
_PAIRS: dict[tuple[Any, ...], tuple[pd.DataFrame, int]] = {}
_PAIRS_MAX = 8


class QueueState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ALL = "all"


@dataclass(frozen=True)
class QueueItem:
    """One segment with disagreements, as the reviewer sees it."""

    context: UnitContext
    unit: review.UnitCodings  # who submitted the segment, and each one's codes
    memos_by_coder: dict[str, str]
    spans: pd.DataFrame  # coder, code_id, start, end of annotations narrower than the unit
    open_codes: list[str]  # disputed codes without a standing decision
    standing: pd.DataFrame  # code_id, decision, reviewer, rationale, at, id
    suggestions: pd.DataFrame  # code_id, score, evidence, engine, model_version
    notes: pd.DataFrame = field(default_factory=pd.DataFrame)  # notes on the disputed codes

    @property
    def segment_id(self) -> str:
        return self.context.segment.id

    @property
    def coders(self) -> tuple[str, ...]:
        return self.unit.coders

    @property
    def disputed(self) -> list[str]:
        """Codes on which the coders differ."""
        return self.unit.disputed()

    def codes_of(self, coder: str) -> list[str]:
        return sorted(self.unit.codes_by_coder.get(coder, ()))

    def decisions(self, choice: review.Choice) -> dict[str, Decision]:
        """What recording ``choice`` on this segment would decide, per code."""
        return review.decisions_for(self.unit, choice, list(self.standing.get("code_id", ())))


PAIR_COLUMNS = ["segment_id", "code_id", "applied", "submitted"]
PLACE_COLUMNS = ["document_id", "kind", "position"]


def disagreement_pairs(
    store: Store,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
    *,
    places: bool = True,
    attribute: ValueFilter | None = None,
) -> pd.DataFrame:
    """Every disagreement (:func:`coding.review.is_disagreement`, in SQL) and whether a
    decision stands on it: segment_id, code_id, applied, submitted, resolved, and with
    ``places`` the segment's document_id, kind and position; ``attribute`` keeps those on
    units with one of its values (in SQL).

    One query (``store/review.disputed_places``) reads the pairs with their places; they are
    kept in memory per study until an annotation or a submission changes them (or, under an
    attribute filter, an import that writes values), so a reviewer's decision costs two
    small queries, not a pass over the whole study.
    """
    pairs = _cached_pairs(store, code_ids, coders, attribute)
    standing = review_store.standing_pairs(store)
    keys = zip(pairs["segment_id"], pairs["code_id"], strict=True)
    found = pairs.assign(resolved=[k in standing for k in keys])
    return found if places else found.drop(columns=PLACE_COLUMNS)


def _cached_pairs(
    store: Store,
    code_ids: Sequence[str],
    coders: Sequence[str] | None,
    attribute: ValueFilter | None,
) -> pd.DataFrame:
    """The disputed pairs with their places, read again only when the coding fingerprint
    changed or, under an attribute filter, an import has written values since."""
    key = (store.target, tuple(code_ids), coders and tuple(coders), attribute)
    fingerprint = review_store.coding_fingerprint(store)
    cached = _PAIRS.get((*key, fingerprint))
    if cached is not None and attribute is not None and values_written_since(store, cached[1]):
        cached = None
    if cached is None:
        before = newest_event(store)
        rows = review_store.disputed_places(store, code_ids, coders, attribute)
        cached = (pd.DataFrame(rows, columns=PAIR_COLUMNS + PLACE_COLUMNS), before)
        for stale in [k for k in _PAIRS if k[:4] == key]:
            del _PAIRS[stale]
        if len(_PAIRS) >= _PAIRS_MAX:
            del _PAIRS[next(iter(_PAIRS))]
        _PAIRS[(*key, fingerprint)] = cached
    return cached[0]


def disagreement_counts(store: Store, user: str | Operator) -> QueueCounts:
    """How many segments and (segment, code) pairs are disputed, and how many pairs have a
    standing decision (SQL counts, as the overview's)."""
    require_role(store, user, Role.REVIEWER)
    code_ids = store.codebook().codebook.code_ids if store.codebook_versions() else ()
    return QueueCounts(*review_store.disagreement_totals(store, code_ids))


def review_queue(
    store: Store,
    user: str | Operator,
    *,
    code_id: str | None = None,
    document_id: str | None = None,
    coder: str | None = None,
    attribute: AttributeFilter | None = None,
    state: QueueState = QueueState.OPEN,
    limit: int = 25,
    offset: int = 0,
) -> tuple[pd.DataFrame, QueueCounts]:
    """A page of segments with disagreements (segment_id, document_id, kind, position, pairs,
    open) in document order, and counts: items in this queue, and resolved of all pairs under
    the code/document/coder/attribute filters (for a progress bar that does not shrink as you
    work). The attribute filter keeps units with one of its values, in SQL."""
    require_role(store, user, Role.REVIEWER)
    state = QueueState(state)
    chosen = value_filter(store, attribute)
    pairs = disagreement_pairs(store, store.codebook().codebook.code_ids, attribute=chosen)
    if code_id is not None:
        pairs = pairs[pairs["code_id"] == code_id]
    if document_id is not None:
        pairs = pairs[pairs["document_id"] == document_id]
    if coder is not None:
        pairs = pairs[pairs["segment_id"].isin(review_store.submitted_segments(store, coder))]
    counts = (len(pairs), int(pairs["resolved"].sum()))
    items = (
        pairs.assign(open=~pairs["resolved"])
        .groupby(["document_id", "kind", "position", "segment_id"], sort=True)
        .agg(pairs=("code_id", "size"), open=("open", "sum"))
        .reset_index()
    )
    if state is QueueState.OPEN:
        items = items[items["open"] > 0]
    elif state is QueueState.RESOLVED:
        items = items[items["open"] == 0]
    page = items.iloc[offset : offset + limit]
    page = page[["segment_id", "document_id", "kind", "position", "pairs", "open"]]
    return page.reset_index(drop=True), QueueCounts(len(items), *counts)


def review_item(store: Store, user: str, segment_id: str) -> QueueItem:
    """Everything the reviewer needs to decide one segment."""
    require_role(store, user, Role.REVIEWER)
    code_ids = store.codebook().codebook.code_ids
    context = unit_store.unit_context(store, segment_id)
    coders = review_store.completed_coders(store, segment_id)
    annotations = review_store.segment_annotations(store, segment_id)
    # Codes a later codebook version removed are left out: nothing is decided on them.
    annotations = annotations[
        annotations["coder"].isin(coders) & annotations["code_id"].isin(code_ids)
    ]
    unit = review.UnitCodings(
        tuple(coders),
        {c: frozenset(annotations.loc[annotations["coder"] == c, "code_id"]) for c in coders},
    )
    memos = coder_store.unit_memos(store, [segment_id], coders)  # submitted coders only
    memo_of = dict(zip(memos["coder"], memos["memo"], strict=True))
    standing = in_codebook(review_store.standing_resolutions(store, segment_id), code_ids)
    disputed = unit.disputed()
    partial = annotations[annotations["whole_segment"] == 0][["coder", "code_id", "start", "end"]]
    suggestions = unit_store.suggestions_for(store, [segment_id])
    return QueueItem(
        context=context,
        unit=unit,
        memos_by_coder={c: str(memo_of.get(c, "")) for c in coders},
        spans=partial.reset_index(drop=True),
        open_codes=[c for c in disputed if c not in set(standing["code_id"])],
        standing=standing,
        suggestions=suggestions[suggestions["code_id"].isin(disputed)].reset_index(drop=True),
        notes=user_store.code_notes_frame(store, disputed) if disputed else pd.DataFrame(),
    )


def in_codebook(frame: pd.DataFrame, code_ids: Sequence[str]) -> pd.DataFrame:
    """Rows of a frame with a code_id column whose code is in the current codebook."""
    return frame[frame["code_id"].isin(list(code_ids))].reset_index(drop=True)
