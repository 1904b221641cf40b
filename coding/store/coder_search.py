"""SQL to find one of a coder's units: by the words in its text, by where it stands in a view,
or by its id (with whether the coder has submitted it).

Every query is limited to the units assigned to that coder and reads no one's codes.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Join, func, select, tuple_

from coding.store import schema as t
from coding.store.base import read_columns
from coding.store.coder import UnitView, view_conditions
from coding.store.store import Store


def _joined() -> Join:
    """Assignments with their segments and documents."""
    a, s, d = t.assignments, t.segments, t.documents
    return a.join(s, s.c.id == a.c.segment_id).join(d, d.c.id == s.c.document_id)


def find_units(store: Store, coder: str, words: str, limit: int) -> tuple[pd.DataFrame, int]:
    """The first ``limit`` of the coder's units whose text holds ``words`` (case ignored,
    ``%`` and ``_`` taken literally), in document order, and how many there are in all.

    Columns: segment_id, document_id, title, position, label, text, completed_at.
    """
    a, s, d = t.assignments, t.segments, t.documents
    conditions = [a.c.coder == coder, s.c.text.icontains(words, autoescape=True)]
    query = (
        select(
            *read_columns(s, "segment_id", "document_id"),
            d.c.title,
            *read_columns(s, "position", "label", "text"),
            a.c.completed_at,
        )
        .select_from(_joined())
        .where(*conditions)
        .order_by(s.c.document_id, s.c.kind, s.c.position)
        .limit(limit)
    )
    count = select(func.count()).select_from(_joined()).where(*conditions)
    with store.engine.connect() as conn:
        total = int(conn.execute(count).scalar_one())
    return store.frame(query), total


def unit_index(store: Store, coder: str, segment_id: str, view: UnitView) -> int | None:
    """Where the unit stands in the coder's view (0 is the first), None when the view does
    not hold it."""
    s = t.segments
    conditions = view_conditions(coder, view)
    with store.engine.connect() as conn:
        unit = conn.execute(
            select(s.c.document_id, s.c.kind, s.c.position)
            .select_from(_joined())
            .where(*conditions, s.c.id == segment_id)
        ).first()
        if unit is None:
            return None
        before = tuple_(s.c.document_id, s.c.kind, s.c.position) < tuple_(
            unit.document_id, unit.kind, unit.position
        )
        count = select(func.count()).select_from(_joined()).where(*conditions, before)
        return int(conn.execute(count).scalar_one())


def assigned_unit(store: Store, coder: str, segment_id: str) -> pd.DataFrame:
    """The unit if it is assigned to the coder (one row, else none).

    Columns: segment_id, document_id, title, position, label, text, start, completed_at.
    """
    a, s, d = t.assignments, t.segments, t.documents
    return store.frame(
        select(
            *read_columns(s, "segment_id", "document_id"),
            d.c.title,
            *read_columns(s, "position", "label", "text", "start"),
            a.c.completed_at,
        )
        .select_from(_joined())
        .where(a.c.coder == coder, s.c.id == segment_id)
    )


def newest_suggestion_run(store: Store) -> int | None:
    """The id of the newest suggestion run, None before any engine has run."""
    r = t.suggestion_runs
    with store.engine.connect() as conn:
        return conn.execute(select(func.max(r.c.id))).scalar_one_or_none()
