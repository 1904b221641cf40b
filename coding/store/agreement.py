"""SQL for agreement: the submitted codings, the units' states and places, and the standing
decisions, each as one lean query (no texts, no timestamps) for the agreement tables."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, func, select

from coding.model import Decision
from coding.store import schema as t
from coding.store.base import read_columns
from coding.store.store import Store


def submitted_codings(store: Store) -> pd.DataFrame:
    """segment_id, document_id, coder, code_id, start, end of every annotation on a unit its
    coder has submitted (a code saved on an unsubmitted unit is a draft, seen by no one), in
    no particular order (the agreement tables order units themselves)."""
    a, asg, s = t.annotations, t.assignments, t.segments
    columns = [s.c.document_id, *read_columns(a, "coder", "code_id", "start", "end")]
    query = select(a.c.segment_id, *columns).select_from(
        a.join(
            asg,
            and_(
                asg.c.segment_id == a.c.segment_id,
                asg.c.coder == a.c.coder,
                asg.c.completed_at.is_not(None),
            ),
        ).join(s, s.c.id == a.c.segment_id)
    )
    return store.plain_frame(query)


def unit_states(store: Store) -> pd.DataFrame:
    """segment_id, document_id, coder, completed (bool): one row per assignment."""
    asg, s = t.assignments, t.segments
    query = (
        select(
            asg.c.segment_id,
            s.c.document_id,
            asg.c.coder,
            asg.c.completed_at.is_not(None).label("completed"),
        )
        .join(s, s.c.id == asg.c.segment_id)
        .order_by(s.c.document_id, s.c.position, asg.c.coder)
    )
    frame = store.plain_frame(query)
    frame["completed"] = frame["completed"].astype(bool)
    return frame


def segment_places(store: Store) -> pd.DataFrame:
    """segment_id, document_id, start, end of every segment (no text)."""
    s = t.segments
    query = select(s.c.id.label("segment_id"), s.c.document_id, s.c.start, s.c.end).order_by(
        s.c.document_id, s.c.kind, s.c.position
    )
    return store.plain_frame(query)


def standing_decisions(store: Store) -> pd.DataFrame:
    """The standing decision per (segment, code): segment_id, code_id, decision, rationale,
    reviewer (the newest row unless it is a withdrawal)."""
    r = t.resolutions
    latest = select(func.max(r.c.id)).group_by(r.c.segment_id, r.c.code_id)
    query = (
        select(r.c.segment_id, r.c.code_id, r.c.decision, r.c.rationale, r.c.reviewer)
        .where(r.c.id.in_(latest), r.c.decision != str(Decision.WITHDRAW))
        .order_by(r.c.id)
    )
    return store.frame(query)
