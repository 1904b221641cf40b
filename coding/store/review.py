"""SQL for the review: per (segment, code) counts of who applied it (from which
:mod:`coding.review` tells the disagreements), standing decisions, and one segment's
annotations, submitters and standing decisions. Every function takes a Store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select

from coding.model import Decision
from coding.store import schema as t
from coding.store.store import Store

COUNT_COLUMNS = ["segment_id", "code_id", "applied", "submitted"]


def coding_fingerprint(store: Store) -> tuple[Any, ...]:
    """Changes whenever an annotation is added or removed or a unit is submitted."""
    a, asg = t.annotations, t.assignments
    with store.engine.connect() as conn:
        top, n = conn.execute(select(func.max(a.c.id), func.count())).one()
        done = conn.execute(select(func.count(asg.c.completed_at))).scalar_one()
    return (top, n, done)


def code_counts(
    store: Store, code_ids: Sequence[str], coders: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per (segment, code) that some but not all of the coders who submitted the segment
    applied: how many of them applied it (``applied``) and how many submitted the segment
    (``submitted``), in one grouped query; ``coders`` limits both to those coders.
    :func:`coding.review.disputed` picks the disagreements from it."""
    a, asg = t.annotations, t.assignments
    submitted_by = [asg.c.completed_at.is_not(None)]
    if coders is not None:
        submitted_by.append(asg.c.coder.in_(list(coders)))
    yes = (
        select(a.c.segment_id, a.c.code_id, func.count(a.c.coder.distinct()).label("applied"))
        .select_from(
            a.join(asg, and_(asg.c.segment_id == a.c.segment_id, asg.c.coder == a.c.coder))
        )
        .where(*submitted_by, a.c.code_id.in_(list(code_ids)))
        .group_by(a.c.segment_id, a.c.code_id)
    ).subquery("yes")
    d = asg.alias("d")
    submitted_by_d = [d.c.completed_at.is_not(None), d.c.segment_id == yes.c.segment_id]
    if coders is not None:
        submitted_by_d.append(d.c.coder.in_(list(coders)))
    n = select(func.count()).select_from(d).where(*submitted_by_d).scalar_subquery()
    counted = select(yes.c.segment_id, yes.c.code_id, yes.c.applied, n.label("submitted")).subquery(
        "counted"
    )
    # Pairs every submitter applied are never disagreements: left out here, so the rows
    # that travel are few; the rule itself (coding.review) decides on the rest.
    query = select(counted).where(counted.c.applied < counted.c.submitted)
    return store.frame(query)


def segment_places(store: Store, segment_ids: Sequence[str]) -> pd.DataFrame:
    """segment_id, document_id, kind, position of some segments."""
    s = t.segments
    columns = [s.c.id.label("segment_id"), s.c.document_id, s.c.kind, s.c.position]
    parts = [store.frame(select(*columns).where(s.c.id.in_(ids))) for ids in _chunks(segment_ids)]
    if not parts:
        return pd.DataFrame(columns=["segment_id", "document_id", "kind", "position"])
    return pd.concat(parts, ignore_index=True)


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


def applied_by(
    store: Store, segment_ids: Sequence[str], coders: Sequence[str] | None = None
) -> dict[str, dict[str, set[str]]]:
    """segment -> coder -> codes, for the coders who submitted each segment (every one of
    them is a key, with no codes when they applied none)."""
    a, asg = t.annotations, t.assignments
    found: dict[str, dict[str, set[str]]] = {}
    with store.engine.connect() as conn:
        for ids in _chunks(segment_ids):
            query = (
                select(asg.c.segment_id, asg.c.coder, a.c.code_id)
                .select_from(
                    asg.outerjoin(
                        a, and_(a.c.segment_id == asg.c.segment_id, a.c.coder == asg.c.coder)
                    )
                )
                .where(asg.c.segment_id.in_(ids), asg.c.completed_at.is_not(None))
            )
            if coders is not None:
                query = query.where(asg.c.coder.in_(list(coders)))
            for segment_id, coder, code_id in conn.execute(query):
                codes = found.setdefault(segment_id, {}).setdefault(coder, set())
                if code_id is not None:
                    codes.add(code_id)
    return found


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


def segment_texts(store: Store, segment_ids: Sequence[str]) -> dict[str, tuple[str, int, int]]:
    """segment -> (text, start, end)."""
    s = t.segments
    found: dict[str, tuple[str, int, int]] = {}
    with store.engine.connect() as conn:
        for ids in _chunks(segment_ids):
            query = select(s.c.id, s.c.text, s.c.start, s.c.end).where(s.c.id.in_(ids))
            for sid, text, start, end in conn.execute(query):
                found[sid] = (text, int(start), int(end))
    return found
