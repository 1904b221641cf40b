"""SQL for the review: the disagreements (the rule of :mod:`coding.review` in SQL, counted,
listed a page at a time, or with their places for the queue), standing decisions, and one
segment's annotations, submitters and standing decisions. Every function takes a Store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select

from coding.model import Decision
from coding.store import schema as t
from coding.store.attributes import ValueFilter
from coding.store.cursor import collector_paused, driver_rows
from coding.store.events import event_mark
from coding.store.store import Store

if TYPE_CHECKING:
    import pandas as pd


def coding_fingerprint(store: Store) -> tuple[Any, ...]:
    """Changes whenever an annotation is added or removed or a unit is submitted."""
    a, asg = t.annotations, t.assignments
    with store.engine.connect() as conn:
        top, n = conn.execute(select(func.max(a.c.id), func.count())).one()
        done = conn.execute(select(func.count(asg.c.completed_at))).scalar_one()
    return (top, n, done)


def is_disagreement_sql(applied: ColumnElement[Any], submitted: ColumnElement[Any]) -> Any:
    """The rule of :func:`coding.review.is_disagreement` as a SQL condition on two counts:
    ``submitted`` coders (two or more) submitted the unit and ``applied`` of them applied the
    code, some but not all. ``tests/test_review_path.py`` checks the two agree.

    "Two or more" follows from "some but not all", so ``submitted`` appears once in the
    condition: SQLite evaluates a correlated count once for each place it appears."""
    return and_(applied > 0, applied < submitted)


def _submitted(asg: Any, coders: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """The rows of an assignments table (or alias) that count as submitted work."""
    where = [asg.c.completed_at.is_not(None)]
    if coders is not None:
        where.append(asg.c.coder.in_(list(coders)))
    return where


def only_codes(store: Store, code_ids: Sequence[str]) -> list[str] | None:
    """``code_ids`` as a filter on annotations, or None when it would keep them all (every
    code of every codebook version is among them): no filter is quicker than one."""
    c = t.codes
    query = select(c.c.code_id).where(c.c.code_id.not_in(list(code_ids))).limit(1)
    with store.engine.connect() as conn:
        return list(code_ids) if conn.execute(query).first() else None


def disputed(codes: Sequence[str] | None, coders: Sequence[str] | None = None) -> Subquery:
    """Every disagreement on the ``codes`` (None: on every code) as a subquery: segment_id,
    code_id, how many of the coders who submitted the segment applied the code
    (``applied``) and how many submitted it (``submitted``); ``coders`` limits both to
    those coders.

    One pass over the annotations in the order of their unique index, each joined to its
    coder's submission through ``ix_assignments_submitted`` (the index alone), with the rule
    applied in SQL (:func:`is_disagreement_sql`)."""
    a, mine, done = t.annotations, t.assignments.alias("mine"), t.assignments.alias("done")
    submitted = (
        select(func.count())
        .select_from(done)
        .where(done.c.segment_id == a.c.segment_id, *_submitted(done, coders))
        .scalar_subquery()
    )
    counted = (
        select(
            a.c.segment_id,
            a.c.code_id,
            func.count(a.c.coder.distinct()).label("applied"),
            submitted.label("submitted"),
        )
        .select_from(
            a.join(mine, and_(mine.c.segment_id == a.c.segment_id, mine.c.coder == a.c.coder))
        )
        .where(*_submitted(mine, coders), *([] if codes is None else [a.c.code_id.in_(codes)]))
        .group_by(a.c.segment_id, a.c.code_id)
    ).subquery("counted")
    rule = is_disagreement_sql(counted.c.applied, counted.c.submitted)
    return select(counted).where(rule).subquery("disputed")


def standing() -> Subquery:
    """The decision standing on each (segment, code) that has one: segment_id, code_id,
    id, decision (the newest decision, unless it is a withdrawal)."""
    r = t.resolutions
    latest = select(func.max(r.c.id)).group_by(r.c.segment_id, r.c.code_id)
    return (
        select(r.c.segment_id, r.c.code_id, r.c.id, r.c.decision)
        .where(r.c.id.in_(latest), r.c.decision != str(Decision.WITHDRAW))
        .subquery("standing")
    )


def disputed_places(
    store: Store,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
    attribute: ValueFilter | None = None,
) -> list[tuple[Any, ...]]:
    """Every disagreement with its segment's place: (segment_id, code_id, applied,
    submitted, document_id, kind, position), one query; ``attribute`` keeps those on units
    with one of its values."""
    d, s = disputed(only_codes(store, code_ids), coders), t.segments
    query = select(d, s.c.document_id, s.c.kind, s.c.position).join(s, s.c.id == d.c.segment_id)
    if attribute is not None:
        query = query.where(attribute.holds(d.c.segment_id, s.c.document_id))
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def disagreement_totals(store: Store, code_ids: Sequence[str]) -> tuple[int, int, int]:
    """(segments, pairs, resolved): how many segments hold a disagreement, how many
    (segment, code) disagreements there are and how many of them have a standing decision,
    counted in SQL."""
    d, st = disputed(only_codes(store, code_ids)), standing()
    decided = func.count(st.c.id)  # counts the pairs the outer join found a decision for
    query = select(
        func.count(d.c.segment_id.distinct()), func.count(), func.coalesce(decided, 0)
    ).select_from(
        d.outerjoin(st, and_(st.c.segment_id == d.c.segment_id, st.c.code_id == d.c.code_id))
    )
    with store.engine.connect() as conn:
        segments, pairs, resolved = conn.execute(query).one()
    return int(segments), int(pairs), int(resolved)


DisagreementRow = tuple[str, str, str, str, int, int, int | None, str | None, list[str], list[str]]


def disagreement_list(
    store: Store,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
    *,
    open_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[DisagreementRow]:
    """A page of the disagreements in document order (document, kind, position, then the
    codes in the order of ``code_ids``): (segment_id, document_id, code_id, text, start, end,
    decision_id, decision, applied_by, not_applied_by), the coders sorted by name.

    One query: the page is cut in SQL, then joined to the coders who submitted each of its
    segments, each with whether they applied the code."""
    d, st, s = disputed(only_codes(store, code_ids), coders), standing(), t.segments
    order = case({c: i for i, c in enumerate(code_ids)}, value=d.c.code_id, else_=len(code_ids))
    page = (
        select(
            d.c.segment_id,
            d.c.code_id,
            s.c.document_id,
            s.c.kind,
            s.c.position,
            order.label("code_order"),
            st.c.id.label("decision_id"),
            st.c.decision,
        )
        .join(s, s.c.id == d.c.segment_id)
        .outerjoin(st, and_(st.c.segment_id == d.c.segment_id, st.c.code_id == d.c.code_id))
        .where(*([st.c.id.is_(None)] if open_only else []))
        .order_by(s.c.document_id, s.c.kind, s.c.position, "code_order", d.c.segment_id)
        .limit(limit)
        .offset(offset)
    ).subquery("page")
    return _with_coders(store, page, coders)


def _with_coders(
    store: Store, page: Subquery, coders: Sequence[str] | None
) -> list[DisagreementRow]:
    """The rows of a page of disagreements with who applied the code and who did not."""
    a, s, done = t.annotations, t.segments, t.assignments.alias("done")
    applied = (
        select(a.c.id)
        .where(
            a.c.segment_id == page.c.segment_id,
            a.c.code_id == page.c.code_id,
            a.c.coder == done.c.coder,
        )
        .exists()
    )
    p = page.c
    query = (
        select(p.segment_id, p.document_id, p.code_id, s.c.text, s.c.start, s.c.end)
        .add_columns(p.decision_id, p.decision, done.c.coder, applied)
        .join(s, s.c.id == p.segment_id)  # the texts of the page only
        .join(done, and_(done.c.segment_id == p.segment_id, *_submitted(done, coders)))
        .order_by(p.document_id, p.kind, p.position, p.code_order, p.segment_id, done.c.coder)
    )
    rows: list[DisagreementRow] = []
    with store.engine.connect() as conn:
        for *pair, coder, yes in conn.execute(query):
            if not rows or rows[-1][:3] != tuple(pair[:3]):
                rows.append((*pair, [], []))
            applied_by, not_applied_by = rows[-1][8:]
            (applied_by if yes else not_applied_by).append(coder)
    return rows


def kept_disputes(store: Store) -> None:
    """Bring the kept table of disagreements (``coding/store/disputes.py``) up to the audit
    trail's present, when it is not there already (two small reads when it is)."""
    if store.disputes_mark() != event_mark(store):
        store.refresh_disputes()


def kept_totals(store: Store, code_ids: Sequence[str]) -> tuple[int, int, int]:
    """:func:`disagreement_totals` read from the kept table (brought up to date first)."""
    kept_disputes(store)
    d, st, codes = t.disputes, standing(), only_codes(store, code_ids)
    query = (
        select(func.count(d.c.segment_id.distinct()), func.count(), func.count(st.c.id))
        .select_from(
            d.outerjoin(st, and_(st.c.segment_id == d.c.segment_id, st.c.code_id == d.c.code_id))
        )
        .where(*([] if codes is None else [d.c.code_id.in_(codes)]))
    )
    with store.engine.connect() as conn:
        segments, pairs, resolved = conn.execute(query).one()
    return int(segments), int(pairs), int(resolved)


def kept_page(
    store: Store,
    code_ids: Sequence[str],
    *,
    open_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[DisagreementRow]:
    """:func:`disagreement_list` of every coder's work, read from the kept table (brought up
    to date first): the page is cut from the table in document order, then its texts read."""
    kept_disputes(store)
    d, st, s, codes = t.disputes, standing(), t.segments, only_codes(store, code_ids)
    order = case({c: i for i, c in enumerate(code_ids)}, value=d.c.code_id, else_=len(code_ids))
    page = (
        select(d, order.label("code_order"), st.c.id.label("decision_id"), st.c.decision)
        .outerjoin(st, and_(st.c.segment_id == d.c.segment_id, st.c.code_id == d.c.code_id))
        .where(
            *([] if codes is None else [d.c.code_id.in_(codes)]),
            *([st.c.id.is_(None)] if open_only else []),
        )
        .order_by(d.c.document_id, d.c.kind, d.c.position, "code_order", d.c.segment_id)
        .limit(limit)
        .offset(offset)
    ).subquery("page")
    p = page.c
    query = (
        select(p.segment_id, p.document_id, p.code_id, s.c.text, s.c.start, s.c.end)
        .add_columns(p.decision_id, p.decision, p.applied_by, p.submitters)
        # by (document, unit): in document order, SQLite finds each unit's text nearby
        # through the index segments (document_id, id)
        .join(s, and_(s.c.document_id == p.document_id, s.c.id == p.segment_id))
        .order_by(p.document_id, p.kind, p.position, p.code_order, p.segment_id)
    )
    names: dict[tuple[str, str], tuple[list[str], list[str]]] = {}  # few distinct pairs
    rows: list[DisagreementRow] = []
    with collector_paused():  # many small tuples and lists, no cycles
        for *pair, applied_by, submitters in driver_rows(store, query):
            if (applied_by, submitters) not in names:
                applied = applied_by.split(t.DISPUTE_SEP)
                others = set(submitters.split(t.DISPUTE_SEP)).difference(applied)
                names[applied_by, submitters] = (sorted(applied), sorted(others))
            yes, no = names[applied_by, submitters]
            rows.append((*pair, list(yes), list(no)))
    return rows


def standing_pairs(store: Store) -> set[tuple[str, str]]:
    """(segment, code) pairs with a standing decision (withdrawn ones left out)."""
    r = t.resolutions
    latest = select(func.max(r.c.id)).group_by(r.c.segment_id, r.c.code_id)
    query = select(r.c.segment_id, r.c.code_id).where(
        r.c.id.in_(latest), r.c.decision != str(Decision.WITHDRAW)
    )
    with store.engine.connect() as conn:
        return {(row.segment_id, row.code_id) for row in conn.execute(query)}


def submitted_segments(store: Store, coder: str) -> set[str]:
    """The segments a coder has submitted."""
    asg = t.assignments
    query = select(asg.c.segment_id).where(asg.c.coder == coder, asg.c.completed_at.is_not(None))
    with store.engine.connect() as conn:
        return set(conn.execute(query).scalars())


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


CHUNK = 5000  # ids per IN (...) list, well under every engine's limit on bound parameters


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def standing_decisions(
    store: Store, segment_ids: Sequence[str]
) -> dict[tuple[str, str], tuple[int, str]]:
    """(segment, code) -> (id, decision) of the decision standing on it (withdrawals end one)."""
    r = t.resolutions
    found: dict[tuple[str, str], tuple[int, str]] = {}
    with store.engine.connect() as conn:
        for ids in _chunks(segment_ids):
            latest = (
                select(func.max(r.c.id))
                .where(r.c.segment_id.in_(ids))
                .group_by(r.c.segment_id, r.c.code_id)
            )
            query = select(r.c.segment_id, r.c.code_id, r.c.id, r.c.decision).where(
                r.c.id.in_(latest), r.c.decision != str(Decision.WITHDRAW)
            )
            for segment_id, code_id, rid, decision in conn.execute(query):
                found[(segment_id, code_id)] = (int(rid), str(decision))
    return found
