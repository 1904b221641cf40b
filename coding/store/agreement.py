"""SQL for agreement: lean reads streamed into arrays (no texts, no timestamps).

Coders and codes come back as integer positions in lists the caller gives (SQL ``CASE``), so
the large reads carry one text column, the segment id. A coder's codes on a segment come
back as bit masks, one grouped row per segment over the covering index of ``annotations``
(``annotation_once``: segment, code, coder), instead of one row per annotation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import BigInteger, and_, case, cast, distinct, func, literal_column, null, select

from coding.model import Decision
from coding.store import schema as t
from coding.store.cursor import collector_paused, driver_rows
from coding.store.store import Store

IntArray = npt.NDArray[np.int64]
MASK_BITS = 62  # codes per mask column: sums of distinct powers of two stay inside int64


def _fetch(store: Store, query: Any, width: int) -> list[tuple[Any, ...]]:
    """The columns of ``query``'s rows, read through the driver's cursor without
    SQLAlchemy's row objects.

    Bound values are sent as they are (no result types are converted), so only for plain
    text and integer columns; IN lists are expanded when the query is compiled."""
    with collector_paused():  # the columns are many tuples too
        return _columns(driver_rows(store, query), width)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _ints(values: Sequence[Any]) -> IntArray:
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _position(column: Any, names: Sequence[str], other: int | None = None) -> Any:
    """``column``'s position in ``names`` as SQL (``other`` when it is not there)."""
    positions: dict[str, Any] = {name: literal_column(str(i)) for i, name in enumerate(names)}
    fallback = null() if other is None else literal_column(str(other))
    return case(positions, value=column, else_=fallback) if positions else fallback


def units(store: Store) -> tuple[list[str], list[str], IntArray]:
    """Every segment: ids, document ids and start offsets, in no particular order."""
    s = t.segments
    ids, documents, starts = _fetch(store, select(s.c.id, s.c.document_id, s.c.start), 3)
    return list(ids), list(documents), _ints(starts)


def assignments(
    store: Store, coders: Sequence[str], segment_ids: Sequence[str] | None = None
) -> tuple[list[str], IntArray, IntArray]:
    """Every assignment (of the given segments): segment id, the coder's position in
    ``coders`` (-1 for another coder) and 1 when the coder has submitted the unit, else 0."""
    asg = t.assignments
    done = asg.c.completed_at.is_not(None)
    query = select(asg.c.segment_id, _position(asg.c.coder, coders, -1), done)
    if segment_ids is not None:
        query = query.where(asg.c.segment_id.in_(list(segment_ids)))
    ids, positions, completed = _fetch(store, query, 3)
    return list(ids), _ints(positions), _ints(completed)


def code_masks(
    store: Store,
    coders: Sequence[str],
    code_ids: Sequence[str],
    segment_ids: Sequence[str] | None = None,
) -> tuple[list[str], IntArray]:
    """Per segment anyone annotated: segment ids, and a segments x coders x blocks array of
    bit masks, bit ``j`` of block ``b`` set when the coder applied code ``b * 62 + j`` of
    ``code_ids`` (saved or submitted: the caller keeps what was submitted). Codes outside
    ``code_ids`` are left out."""
    a = t.annotations
    code = _position(a.c.code_id, code_ids)
    one = cast(literal_column("1"), BigInteger)
    blocks = range(0, max(len(code_ids), 1), MASK_BITS)
    masks = []
    for coder in coders:
        for first in blocks:
            if len(code_ids) <= MASK_BITS:
                mine, bit = a.c.coder == coder, one.op("<<")(code)
            else:
                mine = and_(a.c.coder == coder, code >= first, code < first + MASK_BITS)
                bit = one.op("<<")(code - first)
            total = func.sum(distinct(case((mine, bit), else_=None)))
            masks.append(func.coalesce(cast(total, BigInteger), 0))
    query = select(a.c.segment_id, *masks).group_by(a.c.segment_id)
    if segment_ids is not None:
        query = query.where(a.c.segment_id.in_(list(segment_ids)))
    ids, *columns = _fetch(store, query, 1 + len(masks))
    values = np.stack([_ints(c) for c in columns], axis=1) if masks else np.zeros((len(ids), 0))
    return list(ids), values.astype(np.int64).reshape(len(ids), len(coders), len(blocks))


def decisions(
    store: Store, code_ids: Sequence[str], segment_ids: Sequence[str] | None = None
) -> tuple[list[str], IntArray, IntArray]:
    """The standing decision per (segment, code) of ``code_ids`` (the newest row unless it
    is a withdrawal): segment ids, code positions, and 1 to apply or -1 to reject."""
    r = t.resolutions
    latest = select(func.max(r.c.id)).group_by(r.c.segment_id, r.c.code_id)
    if segment_ids is not None:
        latest = latest.where(r.c.segment_id.in_(list(segment_ids)))
    code = _position(r.c.code_id, code_ids)
    applies = case((r.c.decision == str(Decision.APPLY), literal_column("1")), else_=-1)
    query = select(r.c.segment_id, code, applies).where(
        r.c.id.in_(latest), r.c.decision != str(Decision.WITHDRAW), code.is_not(None)
    )
    ids, codes, values = _fetch(store, query, 3)
    return list(ids), _ints(codes), _ints(values)


def newest_suggestions(
    store: Store, code_ids: Sequence[str]
) -> tuple[list[str], list[str], IntArray] | None:
    """The newest suggestion run (None when there is none): the documents it scored, and the
    segment ids and code positions of its suggestions on ``code_ids``."""
    runs = t.suggestion_runs
    newest = store.frame(select(runs.c.id, runs.c.params).order_by(runs.c.id.desc()).limit(1))
    if newest.empty:
        return None
    run_id = int(newest["id"].iloc[0])
    scored = [str(d) for d in json.loads(newest["params"].iloc[0]).get("scored_documents", [])]
    sg = t.suggestions
    code = _position(sg.c.code_id, code_ids)
    query = select(sg.c.segment_id, code).where(sg.c.run_id == run_id, code.is_not(None))
    ids, codes = _fetch(store, query, 2)
    return scored, list(ids), _ints(codes)
