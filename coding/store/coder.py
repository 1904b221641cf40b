"""SQL for a coder's own units: the page of units, their own annotations and memos, drafts,
progress per document, and saving a unit (with the history of what a save replaces).

Every function takes a Store. Paging is LIMIT/OFFSET in SQL so that a page never loads a whole
study. A coder's view reads annotations filtered by that coder in the query itself (blinding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, select, union, update

from coding.errors import Conflict, NotFound
from coding.model import utcnow
from coding.store import schema as t
from coding.store.attributes import ValueFilter
from coding.store.base import read_columns
from coding.store.store import Store

UNIT_STATES = ("all", "todo", "done")


@dataclass(frozen=True, slots=True)
class UnitView:
    """Which of a coder's units a page shows: one document (None: all), a state (all, todo:
    not yet submitted, done), the page (``limit`` units from ``offset``), and the units with
    some values of an attribute (None: any)."""

    document_id: str | None = None
    state: str = "all"
    limit: int = 25
    offset: int = 0
    attribute: ValueFilter | None = None

    def __post_init__(self) -> None:
        if self.state not in UNIT_STATES:
            raise ValueError(f"unknown state {self.state!r}")


def coder_units(store: Store, coder: str, view: UnitView) -> tuple[pd.DataFrame, int]:
    """One page of the units assigned to ``coder`` (document order) and the total count.

    Columns: segment_id, document_id, title, kind, position, start, end, text, label,
    completed_at.
    """
    a, s, d = t.assignments, t.segments, t.documents
    conditions = view_conditions(coder, view)
    joined = a.join(s, s.c.id == a.c.segment_id).join(d, d.c.id == s.c.document_id)
    query = (
        select(
            *read_columns(s, "segment_id", "document_id"),
            d.c.title,
            *read_columns(s, "kind", "position", "start", "end", "text", "label"),
            a.c.completed_at,
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(s.c.document_id, s.c.kind, s.c.position)
        .limit(view.limit)
        .offset(view.offset)
    )
    # Without a document or an attribute the count needs no segment: the assignments alone.
    bare = view.document_id is None and view.attribute is None
    counted = a if bare else joined
    count = select(func.count()).select_from(counted).where(*conditions)
    with store.engine.connect() as conn:
        total = int(conn.execute(count).scalar_one())
    return store.frame(query), total


def coder_progress(store: Store, coder: str) -> tuple[int, int]:
    """How many units are assigned to ``coder``, and how many of them are submitted."""
    a = t.assignments
    query = select(func.count(), func.count(a.c.completed_at)).where(a.c.coder == coder)
    with store.engine.connect() as conn:
        assigned, completed = conn.execute(query).one()
    return int(assigned), int(completed)


def view_conditions(coder: str, view: UnitView) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a coder's view over assignments joined to segments."""
    a, s = t.assignments, t.segments
    conditions = [a.c.coder == coder]
    if view.document_id is not None:
        conditions.append(s.c.document_id == view.document_id)
    if view.state == "todo":
        conditions.append(a.c.completed_at.is_(None))
    elif view.state == "done":
        conditions.append(a.c.completed_at.is_not(None))
    if view.attribute is not None:
        conditions.append(view.attribute.holds(a.c.segment_id, s.c.document_id))
    return conditions


def own_annotations(store: Store, coder: str, segment_ids: Sequence[str]) -> pd.DataFrame:
    """The annotations of ``coder`` (and nobody else) on some segments.

    Columns: segment_id, code_id, whole_segment, start, end, memo.
    """
    a = t.annotations
    query = (
        select(*read_columns(a, "segment_id", "code_id", "whole_segment", "start", "end", "memo"))
        .where(a.c.coder == coder, a.c.segment_id.in_(list(segment_ids)))
        .order_by(a.c.segment_id, a.c.code_id, a.c.span_start)
    )
    return store.frame(query)


def unit_memos(store: Store, segment_ids: Sequence[str], coders: Sequence[str]) -> pd.DataFrame:
    """segment_id, coder, memo: the memos of some coders on some segments.

    A coder's view passes only that coder. Where a coder has no row in ``unit_memos`` (memos
    imported with codings, or saved before it existed), the distinct memos on their
    annotations of the unit are joined with "; ".
    """
    um, a = t.unit_memos, t.annotations
    ids, names = list(segment_ids), list(coders)
    stored = store.frame(
        select(um.c.segment_id, um.c.coder, um.c.memo).where(
            um.c.segment_id.in_(ids), um.c.coder.in_(names)
        ),
    )
    on_codes = store.frame(
        select(a.c.segment_id, a.c.coder, a.c.memo)
        .where(a.c.segment_id.in_(ids), a.c.coder.in_(names), a.c.memo != "")
        .order_by(a.c.segment_id, a.c.coder, a.c.code_id, a.c.span_start, a.c.span_end),
    )
    if on_codes.empty:
        return stored if len(stored) else pd.DataFrame(columns=["segment_id", "coder", "memo"])
    have = set(zip(stored["segment_id"], stored["coder"], strict=True))
    keys = zip(on_codes["segment_id"], on_codes["coder"], strict=True)
    older = on_codes[pd.Series([k not in have for k in keys], index=on_codes.index, dtype=bool)]
    joined = (
        older.groupby(["segment_id", "coder"], sort=True)["memo"].agg(_joined_memo).reset_index()
    )
    frames = [f for f in (stored, joined) if len(f)]
    if not frames:
        return pd.DataFrame(columns=["segment_id", "coder", "memo"])
    return pd.concat(frames, ignore_index=True)


def draft_units(store: Store, coders: Sequence[str]) -> set[tuple[str, str]]:
    """(segment_id, coder) of units assigned to some coders and not submitted on which the
    coder has saved work: annotations, or a non-empty memo."""
    asg, a, um = t.assignments, t.annotations, t.unit_memos
    if not coders:
        return set()
    mine = and_(asg.c.coder.in_(list(coders)), asg.c.completed_at.is_(None))
    coded = select(asg.c.segment_id, asg.c.coder).where(
        mine,
        select(a.c.id).where(a.c.segment_id == asg.c.segment_id, a.c.coder == asg.c.coder).exists(),
    )
    memo = select(asg.c.segment_id, asg.c.coder).where(
        mine,
        select(um.c.memo)
        .where(um.c.segment_id == asg.c.segment_id, um.c.coder == asg.c.coder, um.c.memo != "")
        .exists(),
    )
    with store.engine.connect() as conn:
        return {(r.segment_id, r.coder) for r in conn.execute(union(coded, memo))}


def coder_documents(store: Store, coder: str) -> pd.DataFrame:
    """document_id, title, assigned, completed for one coder's assignments."""
    a, s, d = t.assignments, t.segments, t.documents
    query = (
        select(
            s.c.document_id,
            d.c.title,
            func.count().label("assigned"),
            func.count(a.c.completed_at).label("completed"),
        )
        .select_from(a.join(s, s.c.id == a.c.segment_id).join(d, d.c.id == s.c.document_id))
        .where(a.c.coder == coder)
        .group_by(s.c.document_id, d.c.title)
        .order_by(s.c.document_id)
    )
    return store.frame(query)


def save_codes(
    store: Store,
    coder: str,
    segment_id: str,
    code_ids: Sequence[str],
    memo: str,
    codebook_version: int,
    *,
    offered: Sequence[str],
    complete: bool,
) -> None:
    """Set a coder's codes on one assigned, unsubmitted unit; optionally submit it.

    One transaction with one audit row. ``offered`` are the codes the coder could tick (the
    current codebook): annotations on other codes are left as they are. An offered code no
    longer chosen loses its annotations, each copied whole into ``annotation_history``
    first; a code still chosen keeps its annotations, spans and memos; a newly chosen code
    gets a whole-unit annotation. The memo is the coder's note on the unit (``unit_memos``,
    kept even without codes; an earlier text goes to ``unit_memo_history``). Annotations that
    carried the memo the coder was shown follow the new memo (for exports), their earlier
    text kept in the history; an annotation with a memo of its own keeps it. The audit row's
    detail holds the unit's codes, memo and annotations before and after the save.
    """
    wanted = list(dict.fromkeys(code_ids))
    if not set(wanted) <= set(offered):
        raise ValueError("every chosen code must be one the coder was offered")
    # The audit row is written when the transaction ends: its detail is completed below.
    detail: dict[str, Any] = {"memo": memo, "complete": complete}
    with store.transaction(coder, "code_unit", segment_id, detail) as conn:
        _check_open(conn, segment_id, coder)
        before = _unit_work(conn, segment_id, coder)
        now = utcnow().isoformat()
        untick = [r for r in before.rows if r.code_id in offered and r.code_id not in wanted]
        _remove_annotations(conn, before, untick, now)
        _memo_follows(conn, before, wanted, memo, now)
        fresh = [c for c in wanted if c not in before.codes]
        _add_annotations(conn, before, fresh, codebook_version, memo, now)
        _save_unit_memo(conn, before, memo, now)
        if complete:
            asg = t.assignments
            conn.execute(
                update(asg)
                .where(asg.c.segment_id == segment_id, asg.c.coder == coder)
                .values(completed_at=now)
            )
        after = _unit_work(conn, segment_id, coder)
        detail.update(codes=after.codes, before=before.summary(), after=after.summary())


def _check_open(conn: Connection, segment_id: str, coder: str) -> None:
    """NotFound unless the unit is assigned to the coder; Conflict once it is submitted."""
    asg = t.assignments
    assigned = conn.execute(
        select(asg.c.completed_at).where(asg.c.segment_id == segment_id, asg.c.coder == coder)
    ).first()
    if assigned is None:
        raise NotFound(f"unit {segment_id} is not assigned to {coder}")
    if assigned.completed_at is not None:
        raise Conflict(f"unit {segment_id} was already submitted by {coder}")


@dataclass(frozen=True)
class _UnitWork:
    """A coder's annotations on one unit and the memo they are shown there."""

    segment_id: str
    coder: str
    rows: Sequence[Any]  # annotation rows, by code and span
    memo: str

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(r.code_id for r in self.rows))

    def summary(self) -> dict[str, Any]:
        return {
            "codes": self.codes,
            "memo": self.memo,
            "annotations": [[r.code_id, r.span_start, r.span_end, r.memo] for r in self.rows],
        }

    def annotations(self, rows: Sequence[Any]) -> ColumnElement[bool]:
        """The condition picking some of these annotation rows (and only this coder's)."""
        a = t.annotations
        return and_(
            a.c.segment_id == self.segment_id,
            a.c.coder == self.coder,
            a.c.id.in_([r.id for r in rows]),
        )


def _unit_work(conn: Connection, segment_id: str, coder: str) -> _UnitWork:
    a, um = t.annotations, t.unit_memos
    rows = conn.execute(
        select(a)
        .where(a.c.segment_id == segment_id, a.c.coder == coder)
        .order_by(a.c.code_id, a.c.span_start, a.c.span_end)
    ).fetchall()
    stored = conn.execute(
        select(um.c.memo).where(um.c.segment_id == segment_id, um.c.coder == coder)
    ).scalar_one_or_none()
    memo = _joined_memo([r.memo for r in rows]) if stored is None else stored
    return _UnitWork(segment_id, coder, rows, memo)


def _remove_annotations(conn: Connection, unit: _UnitWork, rows: Sequence[Any], now: str) -> None:
    """Delete annotations of codes no longer ticked, each kept first in the history."""
    if rows:
        _keep_history(conn, rows, "removed", unit.coder, now)
        conn.execute(delete(t.annotations).where(unit.annotations(rows)))


def _memo_follows(
    conn: Connection, unit: _UnitWork, wanted: Sequence[str], memo: str, now: str
) -> None:
    """Annotations of ticked codes that carried the memo the coder was shown take the new
    one (for exports), their earlier text kept in the history; own memos stay."""
    follow = [r for r in unit.rows if r.code_id in wanted and r.memo == unit.memo]
    if memo != unit.memo and follow:
        _keep_history(conn, follow, "memo", unit.coder, now)
        conn.execute(update(t.annotations).where(unit.annotations(follow)).values(memo=memo))


def _add_annotations(
    conn: Connection,
    unit: _UnitWork,
    code_ids: Sequence[str],
    codebook_version: int,
    memo: str,
    now: str,
) -> None:
    """A whole-unit annotation for each newly ticked code."""
    if not code_ids:
        return
    s = t.segments
    span = conn.execute(select(s.c.start, s.c.end).where(s.c.id == unit.segment_id)).one()
    conn.execute(
        insert(t.annotations),
        [
            {
                "segment_id": unit.segment_id,
                "code_id": code_id,
                "coder": unit.coder,
                "codebook_version": codebook_version,
                "span_start": span.start,
                "span_end": span.end,
                "whole_segment": 1,
                "memo": memo,
                "created_at": now,
            }
            for code_id in code_ids
        ],
    )


def _save_unit_memo(conn: Connection, unit: _UnitWork, memo: str, now: str) -> None:
    """Store the coder's memo on the unit; a replaced text goes to ``unit_memo_history``."""
    um = t.unit_memos
    where = and_(um.c.segment_id == unit.segment_id, um.c.coder == unit.coder)
    stored = conn.execute(select(um.c.memo, um.c.updated_at).where(where)).first()
    if stored is not None and stored.memo != memo:
        conn.execute(
            insert(t.unit_memo_history).values(
                segment_id=unit.segment_id,
                coder=unit.coder,
                memo=stored.memo,
                updated_at=stored.updated_at,
                superseded_at=now,
                superseded_by=unit.coder,
            )
        )
        conn.execute(update(um).where(where).values(memo=memo, updated_at=now))
    elif stored is None and (memo or unit.memo):  # an empty memo hides older ones too
        conn.execute(
            insert(um).values(
                segment_id=unit.segment_id, coder=unit.coder, memo=memo, updated_at=now
            )
        )


def _joined_memo(memos: Sequence[str]) -> str:
    """The memo shown for a unit without a ``unit_memos`` row: its annotations' distinct
    memos, in code order, joined with "; "."""
    return "; ".join(dict.fromkeys(m for m in memos if m))


def _keep_history(conn: Connection, rows: Sequence[Any], change: str, by: str, now: str) -> None:
    """Copy annotation rows whole into ``annotation_history`` before they change."""
    if not rows:
        return
    conn.execute(
        insert(t.annotation_history),
        [
            {
                "annotation_id": r.id,
                "segment_id": r.segment_id,
                "code_id": r.code_id,
                "coder": r.coder,
                "codebook_version": r.codebook_version,
                "span_start": r.span_start,
                "span_end": r.span_end,
                "whole_segment": r.whole_segment,
                "memo": r.memo,
                "created_at": r.created_at,
                "change": change,
                "superseded_at": now,
                "superseded_by": by,
            }
            for r in rows
        ],
    )
