"""SQL for the study overview: progress per coder and document, documents with unit counts."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from coding.store import schema as t
from coding.store.store import Store


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
    return store.frame(query)


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
    return store.frame(query)


def annotations_per_coder(store: Store) -> dict[str, int]:
    """coder -> number of annotations (every coder with at least one)."""
    a = t.annotations
    query = select(a.c.coder, func.count()).group_by(a.c.coder)
    with store.engine.connect() as conn:
        return {str(coder): int(n) for coder, n in conn.execute(query)}
