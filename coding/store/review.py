"""SQL for the reviewer's queue: disagreement pairs (cached per coding state), a filtered page
with counts, and one segment's annotations, submitters and standing decisions.

Every function takes a Store; paging is LIMIT/OFFSET in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select

from coding.model import Decision
from coding.store import schema as t
from coding.store.store import Store

QUEUE_STATES = ("open", "resolved", "all")
PAIR_COLUMNS = ["segment_id", "code_id", "document_id", "kind", "position"]
_PAIRS: dict[str, tuple[tuple[Any, ...], pd.DataFrame]] = {}  # target -> (fingerprint, pairs)
_PAIRS_MAX = 8


def _coding_fingerprint(store: Store, code_ids: Sequence[str]) -> tuple[Any, ...]:
    """Changes whenever an annotation is added or removed or a unit is submitted."""
    a, asg = t.annotations, t.assignments
    with store.engine.connect() as conn:
        top, n = conn.execute(select(func.max(a.c.id), func.count())).one()
        done = conn.execute(select(func.count(asg.c.completed_at))).scalar_one()
    return (tuple(code_ids), top, n, done)


def _raw_pairs(store: Store, code_ids: Sequence[str]) -> pd.DataFrame:
    """(segment, code) pairs where the coders who submitted the segment differ (2+ coders)."""
    a, asg, s = t.annotations, t.assignments, t.segments
    yes = (
        select(a.c.segment_id, a.c.code_id, func.count(a.c.coder.distinct()).label("yes"))
        .select_from(
            a.join(asg, and_(asg.c.segment_id == a.c.segment_id, asg.c.coder == a.c.coder))
        )
        .where(asg.c.completed_at.is_not(None), a.c.code_id.in_(list(code_ids)))
        .group_by(a.c.segment_id, a.c.code_id)
    ).subquery("yes")
    d = asg.alias("d")
    n = (
        select(func.count())
        .select_from(d)
        .where(d.c.segment_id == yes.c.segment_id, d.c.completed_at.is_not(None))
        .scalar_subquery()
    )
    query = (
        select(yes.c.segment_id, yes.c.code_id, s.c.document_id, s.c.kind, s.c.position)
        .join(s, s.c.id == yes.c.segment_id)
        .where(n >= 2, yes.c.yes < n)
    )
    return store.frame(query)


def disagreement_pairs(store: Store, code_ids: Sequence[str]) -> pd.DataFrame:
    """Every disagreement with its place and whether a decision stands on it.

    Columns: segment_id, code_id, document_id, kind, position, resolved (bool). The pairs
    themselves are kept in memory per study until an annotation or submission changes them,
    so a reviewer's decision costs one small query, not a pass over the whole study.
    """
    key = _coding_fingerprint(store, code_ids)
    cached = _PAIRS.get(store.target)
    if cached is not None and cached[0] == key:
        pairs = cached[1]
    else:
        pairs = _raw_pairs(store, code_ids)
        if len(_PAIRS) >= _PAIRS_MAX:
            _PAIRS.pop(next(iter(_PAIRS)))
        _PAIRS[store.target] = (key, pairs)
    standing = _standing_pairs(store)
    result = pairs.copy()
    keys = pd.MultiIndex.from_frame(result[["segment_id", "code_id"]]) if len(result) else []
    result["resolved"] = [k in standing for k in keys]
    return result


def _standing_pairs(store: Store) -> set[tuple[str, str]]:
    r = t.resolutions
    latest = select(func.max(r.c.id)).group_by(r.c.segment_id, r.c.code_id)
    query = select(r.c.segment_id, r.c.code_id).where(
        r.c.id.in_(latest), r.c.decision != str(Decision.WITHDRAW)
    )
    with store.engine.connect() as conn:
        return {(row.segment_id, row.code_id) for row in conn.execute(query)}


@dataclass(frozen=True, slots=True)
class QueueCounts:
    items: int  # segments in the queue (all filters, including open/resolved)
    pairs: int  # (segment, code) disagreements under the code/document/coder filters
    resolved: int  # of those pairs, how many have a standing decision


def queue_page(
    store: Store,
    code_ids: Sequence[str],
    *,
    code_id: str | None = None,
    document_id: str | None = None,
    coder: str | None = None,
    state: str = "open",
    limit: int = 25,
    offset: int = 0,
) -> tuple[pd.DataFrame, QueueCounts]:
    """A page of segments with disagreements (segment_id, document_id, kind, position, pairs,
    open) in document order, and counts: items in this queue, and resolved of all pairs under
    the code/document/coder filters (for a progress bar that does not shrink as you work)."""
    if state not in QUEUE_STATES:
        raise ValueError(f"unknown state {state!r}")
    pairs = disagreement_pairs(store, code_ids)
    if code_id is not None:
        pairs = pairs[pairs["code_id"] == code_id]
    if document_id is not None:
        pairs = pairs[pairs["document_id"] == document_id]
    if coder is not None:
        asg = t.assignments
        with store.engine.connect() as conn:
            theirs = set(
                conn.execute(
                    select(asg.c.segment_id).where(
                        asg.c.coder == coder, asg.c.completed_at.is_not(None)
                    )
                ).scalars()
            )
        pairs = pairs[pairs["segment_id"].isin(theirs)]
    counts = (len(pairs), int(pairs["resolved"].sum()))
    items = (
        pairs.assign(open=~pairs["resolved"])
        .groupby(["document_id", "kind", "position", "segment_id"], sort=True)
        .agg(pairs=("code_id", "size"), open=("open", "sum"))
        .reset_index()
    )
    if state == "open":
        items = items[items["open"] > 0]
    elif state == "resolved":
        items = items[items["open"] == 0]
    page = items.iloc[offset : offset + limit]
    page = page[["segment_id", "document_id", "kind", "position", "pairs", "open"]]
    return page.reset_index(drop=True), QueueCounts(len(items), *counts)


def segment_pairs(store: Store, code_ids: Sequence[str], segment_id: str) -> pd.DataFrame:
    """code_id, resolved (0/1) for the disagreements on one segment."""
    pairs = disagreement_pairs(store, code_ids)
    mine = pairs[pairs["segment_id"] == segment_id].sort_values("code_id")
    return pd.DataFrame(
        {"code_id": mine["code_id"].to_numpy(), "resolved": mine["resolved"].astype(int).to_numpy()}
    )


def segment_annotations(store: Store, segment_id: str) -> pd.DataFrame:
    """Every coder's annotations on one segment (for the reviewer): coder, code_id,
    whole_segment, start, end, memo."""
    a = t.annotations
    query = (
        select(
            a.c.coder,
            a.c.code_id,
            a.c.whole_segment,
            a.c.span_start.label("start"),
            a.c.span_end.label("end"),
            a.c.memo,
        )
        .where(a.c.segment_id == segment_id)
        .order_by(a.c.coder, a.c.code_id)
    )
    return store.frame(query)


def completed_coders(store: Store, segment_id: str) -> list[str]:
    """Coders who submitted a segment, in name order."""
    asg = t.assignments
    query = (
        select(asg.c.coder)
        .where(asg.c.segment_id == segment_id, asg.c.completed_at.is_not(None))
        .order_by(asg.c.coder)
    )
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def standing_resolutions(store: Store, segment_id: str) -> pd.DataFrame:
    """The standing decision per code on one segment: code_id, decision, reviewer,
    rationale, at, id (withdrawn decisions are left out)."""
    r = t.resolutions
    latest = select(func.max(r.c.id)).where(r.c.segment_id == segment_id).group_by(r.c.code_id)
    query = (
        select(r.c.code_id, r.c.decision, r.c.reviewer, r.c.rationale, r.c.at, r.c.id)
        .where(r.c.id.in_(latest), r.c.decision != str(Decision.WITHDRAW))
        .order_by(r.c.code_id)
    )
    return store.frame(query)
