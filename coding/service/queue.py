"""The reviewer's queue: segments with disagreements, one item with all its context, and the
decisions a reviewer's choice on an item makes (no writes; :mod:`coding.service.review` records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from coding.errors import CodingError
from coding.model import Decision, Role
from coding.service.access import require_role
from coding.store import Store
from coding.store import coder as coder_store
from coding.store import review as review_store
from coding.store import units as unit_store
from coding.store import users as user_store
from coding.store.review import QueueCounts
from coding.store.units import UnitContext

MERGE, NEITHER, OTHER, ACCEPT = "merge", "neither", "other", "accept:"


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
    require_role(store, user, Role.REVIEWER)
    code_ids = store.codebook().codebook.code_ids
    return review_store.queue_page(
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
    require_role(store, user, Role.REVIEWER)
    code_ids = store.codebook().codebook.code_ids
    context = unit_store.unit_context(store, segment_id)
    coders = review_store.completed_coders(store, segment_id)
    annotations = review_store.segment_annotations(store, segment_id)
    # Codes a later codebook version removed are left out: nothing is decided on them.
    annotations = annotations[
        annotations["coder"].isin(coders) & annotations["code_id"].isin(code_ids)
    ]
    codes_by_coder = {
        c: sorted(set(annotations.loc[annotations["coder"] == c, "code_id"])) for c in coders
    }
    memos = coder_store.unit_memos(store, [segment_id], coders)  # submitted coders only
    memo_of = dict(zip(memos["coder"], memos["memo"], strict=True))
    memos_by_coder = {c: str(memo_of.get(c, "")) for c in coders}
    pairs = review_store.segment_pairs(store, code_ids, segment_id)
    partial = annotations[annotations["whole_segment"] == 0][["coder", "code_id", "start", "end"]]
    suggestions = unit_store.suggestions_for(store, [segment_id])
    disputed = list(pairs["code_id"])
    return QueueItem(
        context=context,
        coders=coders,
        codes_by_coder=codes_by_coder,
        memos_by_coder=memos_by_coder,
        spans=partial.reset_index(drop=True),
        disputed=disputed,
        open_codes=list(pairs.loc[pairs["resolved"] == 0, "code_id"]),
        standing=in_codebook(review_store.standing_resolutions(store, segment_id), code_ids),
        suggestions=suggestions[suggestions["code_id"].isin(disputed)].reset_index(drop=True),
        notes=user_store.code_notes_frame(store, disputed) if disputed else pd.DataFrame(),
    )


def in_codebook(frame: pd.DataFrame, code_ids: Sequence[str]) -> pd.DataFrame:
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
