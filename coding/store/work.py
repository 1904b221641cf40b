"""SQL for the app's work views: a coder's own units, the reviewer's queue, progress.

Every function takes a Store. Paging is LIMIT/OFFSET in SQL so that a page never loads a whole
study. A coder's view reads annotations filtered by that coder in the query itself (blinding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, select, union, update

from coding.errors import Conflict, NotFound
from coding.model import Decision, Segment, utcnow
from coding.store import schema as t
from coding.store.store import Store

UNIT_STATES = ("all", "todo", "done")
QUEUE_STATES = ("open", "resolved", "all")


# -- a coder's units -------------------------------------------------------------------------
def coder_units(
    store: Store,
    coder: str,
    *,
    document_id: str | None = None,
    state: str = "all",
    limit: int = 25,
    offset: int = 0,
) -> tuple[pd.DataFrame, int]:
    """One page of the units assigned to ``coder`` (document order) and the total count.

    Columns: segment_id, document_id, title, kind, position, start, end, text, label,
    completed_at. ``state``: all, todo (not yet submitted) or done.
    """
    if state not in UNIT_STATES:
        raise ValueError(f"unknown state {state!r}")
    a, s, d = t.assignments, t.segments, t.documents
    conditions = [a.c.coder == coder]
    if document_id is not None:
        conditions.append(s.c.document_id == document_id)
    if state == "todo":
        conditions.append(a.c.completed_at.is_(None))
    elif state == "done":
        conditions.append(a.c.completed_at.is_not(None))
    joined = a.join(s, s.c.id == a.c.segment_id).join(d, d.c.id == s.c.document_id)
    query = (
        select(
            s.c.id.label("segment_id"),
            s.c.document_id,
            d.c.title,
            s.c.kind,
            s.c.position,
            s.c.start,
            s.c.end,
            s.c.text,
            s.c.label,
            a.c.completed_at,
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(s.c.document_id, s.c.kind, s.c.position)
        .limit(limit)
        .offset(offset)
    )
    count = select(func.count()).select_from(joined).where(*conditions)
    with store.engine.connect() as conn:
        total = int(conn.execute(count).scalar_one())
    return store._frame(query), total


def own_annotations(store: Store, coder: str, segment_ids: Sequence[str]) -> pd.DataFrame:
    """The annotations of ``coder`` (and nobody else) on some segments.

    Columns: segment_id, code_id, whole_segment, start, end, memo.
    """
    a = t.annotations
    query = (
        select(
            a.c.segment_id,
            a.c.code_id,
            a.c.whole_segment,
            a.c.span_start.label("start"),
            a.c.span_end.label("end"),
            a.c.memo,
        )
        .where(a.c.coder == coder, a.c.segment_id.in_(list(segment_ids)))
        .order_by(a.c.segment_id, a.c.code_id, a.c.span_start)
    )
    return store._frame(query)


def unit_memos(store: Store, segment_ids: Sequence[str], coders: Sequence[str]) -> pd.DataFrame:
    """segment_id, coder, memo: the memos of some coders on some segments.

    A coder's view passes only that coder. Where a coder has no row in ``unit_memos`` (memos
    imported with codings, or saved before it existed), the distinct memos on their
    annotations of the unit are joined with "; ".
    """
    um, a = t.unit_memos, t.annotations
    ids, names = list(segment_ids), list(coders)
    stored = store._frame(
        select(um.c.segment_id, um.c.coder, um.c.memo).where(
            um.c.segment_id.in_(ids), um.c.coder.in_(names)
        ),
    )
    on_codes = store._frame(
        select(a.c.segment_id, a.c.coder, a.c.memo)
        .where(a.c.segment_id.in_(ids), a.c.coder.in_(names), a.c.memo != "")
        .order_by(a.c.segment_id, a.c.coder, a.c.code_id, a.c.span_start, a.c.span_end),
    )
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
    return store._frame(query)


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
    a, asg, s, um = t.annotations, t.assignments, t.segments, t.unit_memos
    wanted = list(dict.fromkeys(code_ids))
    if not set(wanted) <= set(offered):
        raise ValueError("every chosen code must be one the coder was offered")
    # The audit row is written when the transaction ends: its detail is completed below.
    detail: dict[str, Any] = {"memo": memo, "complete": complete}
    with store.transaction(coder, "code_unit", segment_id, detail) as conn:
        assigned = conn.execute(
            select(asg.c.completed_at).where(asg.c.segment_id == segment_id, asg.c.coder == coder)
        ).first()
        if assigned is None:
            raise NotFound(f"unit {segment_id} is not assigned to {coder}")
        if assigned.completed_at is not None:
            raise Conflict(f"unit {segment_id} was already submitted by {coder}")
        span = conn.execute(select(s.c.start, s.c.end).where(s.c.id == segment_id)).one()
        mine = and_(a.c.segment_id == segment_id, a.c.coder == coder)
        before = _unit_work(conn, segment_id, coder)
        rows = before.rows
        removed = [r for r in rows if r.code_id in offered and r.code_id not in wanted]
        follow = (
            []
            if memo == before.memo
            else [r for r in rows if r.code_id in wanted and r.memo == before.memo]
        )
        now = utcnow().isoformat()
        _keep_history(conn, removed, "removed", coder, now)
        _keep_history(conn, follow, "memo", coder, now)
        if removed:
            conn.execute(delete(a).where(mine, a.c.id.in_([r.id for r in removed])))
        if follow:
            conn.execute(
                update(a).where(mine, a.c.id.in_([r.id for r in follow])).values(memo=memo)
            )
        have = {r.code_id for r in rows}
        fresh = [c for c in wanted if c not in have]
        if fresh:
            conn.execute(
                insert(a),
                [
                    {
                        "segment_id": segment_id,
                        "code_id": c,
                        "coder": coder,
                        "codebook_version": codebook_version,
                        "span_start": span.start,
                        "span_end": span.end,
                        "whole_segment": 1,
                        "memo": memo,
                        "created_at": now,
                    }
                    for c in fresh
                ],
            )
        where_memo = and_(um.c.segment_id == segment_id, um.c.coder == coder)
        stored = conn.execute(select(um.c.memo, um.c.updated_at).where(where_memo)).first()
        if stored is not None and stored.memo != memo:
            conn.execute(
                insert(t.unit_memo_history).values(
                    segment_id=segment_id,
                    coder=coder,
                    memo=stored.memo,
                    updated_at=stored.updated_at,
                    superseded_at=now,
                    superseded_by=coder,
                )
            )
            conn.execute(update(um).where(where_memo).values(memo=memo, updated_at=now))
        elif stored is None and (memo or before.memo):  # an empty memo hides older ones too
            conn.execute(
                insert(um).values(segment_id=segment_id, coder=coder, memo=memo, updated_at=now)
            )
        if complete:
            conn.execute(
                update(asg)
                .where(asg.c.segment_id == segment_id, asg.c.coder == coder)
                .values(completed_at=now)
            )
        after = _unit_work(conn, segment_id, coder)
        detail.update(codes=after.codes, before=before.summary(), after=after.summary())


@dataclass(frozen=True)
class _UnitWork:
    """A coder's annotations on one unit and the memo they are shown there."""

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
    return _UnitWork(rows, _joined_memo([r.memo for r in rows]) if stored is None else stored)


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


# -- segments and their context --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UnitContext:
    segment: Segment
    title: str
    before: str | None
    after: str | None


def unit_context(store: Store, segment_id: str) -> UnitContext:
    """A segment with its document title and the units just before and after it."""
    s, d = t.segments, t.documents
    with store.engine.connect() as conn:
        row = conn.execute(
            select(s, d.c.title).join(d, d.c.id == s.c.document_id).where(s.c.id == segment_id)
        ).first()
        if row is None:
            raise NotFound(f"unknown segment {segment_id!r}")
        near = conn.execute(
            select(s.c.position, s.c.text).where(
                s.c.document_id == row.document_id,
                s.c.kind == row.kind,
                s.c.position.in_([row.position - 1, row.position + 1]),
            )
        ).fetchall()
    texts = {r.position: r.text for r in near}
    segment = Segment(
        id=row.id,
        document_id=row.document_id,
        start=row.start,
        end=row.end,
        text=row.text,
        kind=row.kind,
        position=row.position,
        label=row.label,
    )
    return UnitContext(segment, row.title, texts.get(row.position - 1), texts.get(row.position + 1))


def suggestions_for(store: Store, segment_ids: Sequence[str]) -> pd.DataFrame:
    """The newest suggestion run's suggestions on some segments.

    Columns: segment_id, code_id, score, evidence, engine, model_version.
    """
    r, sg = t.suggestion_runs, t.suggestions
    query = (
        select(
            sg.c.segment_id, sg.c.code_id, sg.c.score, sg.c.evidence, r.c.engine, r.c.model_version
        )
        .join(r, r.c.id == sg.c.run_id)
        .where(
            r.c.id == select(func.max(r.c.id)).scalar_subquery(),
            sg.c.segment_id.in_(list(segment_ids)),
        )
        .order_by(sg.c.segment_id, sg.c.score.desc(), sg.c.code_id)
    )
    return store._frame(query)


# -- study overview --------------------------------------------------------------------------
def progress_frame(store: Store) -> pd.DataFrame:
    """coder, document_id, title, assigned, completed: one row per coder and document."""
    a, s, d = t.assignments, t.segments, t.documents
    query = (
        select(
            a.c.coder,
            s.c.document_id,
            d.c.title,
            func.count().label("assigned"),
            func.count(a.c.completed_at).label("completed"),
        )
        .select_from(a.join(s, s.c.id == a.c.segment_id).join(d, d.c.id == s.c.document_id))
        .group_by(a.c.coder, s.c.document_id, d.c.title)
        .order_by(a.c.coder, s.c.document_id)
    )
    return store._frame(query)


def documents_overview(store: Store) -> pd.DataFrame:
    """id, name, version, title, programme, units: without loading the documents' text."""
    s, d = t.segments, t.documents
    units = (
        select(s.c.document_id, func.count().label("units")).group_by(s.c.document_id).subquery()
    )
    query = (
        select(
            d.c.id,
            d.c.name,
            d.c.version,
            d.c.title,
            d.c.programme,
            func.coalesce(units.c.units, 0).label("units"),
        )
        .outerjoin(units, units.c.document_id == d.c.id)
        .order_by(d.c.name, d.c.version)
    )
    return store._frame(query)


# -- the reviewer's queue ----------------------------------------------------------------------
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
    return store._frame(query)


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
    return store._frame(query)


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
    return store._frame(query)
