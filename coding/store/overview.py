"""SQL for the study overview: progress per coder and document, documents with unit counts,
annotations per coder. Plain rows: the overview is counts, and builds no frame to read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import func, select

from coding.store import schema as t
from coding.store.store import Store

if TYPE_CHECKING:
    import pandas as pd


class ProgressRow(NamedTuple):
    coder: str
    document_id: str
    title: str
    assigned: int
    completed: int


class DocumentRow(NamedTuple):
    id: str
    name: str
    version: int
    title: str
    programme: str
    units: int


PROGRESS_COLUMNS = ProgressRow._fields
DOCUMENT_COLUMNS = DocumentRow._fields


def progress_rows(store: Store) -> list[ProgressRow]:
    """One row per coder and document: units assigned and completed, by coder and document."""
    a, s, d = t.assignments, t.segments, t.documents
    per_document = (
        select(
            a.c.coder,
            s.c.document_id,
            func.count().label("assigned"),
            func.count(a.c.completed_at).label("completed"),
        )
        .select_from(a.join(s, s.c.id == a.c.segment_id))
        # Document first: SQLite then walks the segments of each document from an index
        # alone (segments (document_id, id)) and finds each one's assignments by index.
        .group_by(s.c.document_id, a.c.coder)
    ).subquery("per_document")
    p = per_document.c
    query = (
        select(p.coder, p.document_id, d.c.title, p.assigned, p.completed)
        .join(d, d.c.id == p.document_id)
        .order_by(p.coder, p.document_id)
    )
    with store.engine.connect() as conn:
        return [ProgressRow(*row) for row in conn.execute(query)]


def document_rows(store: Store) -> list[DocumentRow]:
    """One row per document version, with its number of units (its text is not read)."""
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
    with store.engine.connect() as conn:
        return [DocumentRow(*row) for row in conn.execute(query)]


def documents_overview(store: Store) -> pd.DataFrame:
    """id, name, version, title, programme, units: :func:`document_rows` as a frame."""
    import pandas as pd

    return pd.DataFrame(document_rows(store), columns=list(DOCUMENT_COLUMNS))


def annotations_per_coder(store: Store) -> dict[str, int]:
    """coder -> number of annotations (every coder with at least one)."""
    a = t.annotations
    query = select(a.c.coder, func.count()).group_by(a.c.coder)
    with store.engine.connect() as conn:
        return {str(coder): int(n) for coder, n in conn.execute(query)}
