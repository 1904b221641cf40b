"""SQL for one unit as anyone sees it: its text between its neighbours, and the newest NLP
suggestions on units (no one's codes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from coding.errors import NotFound
from coding.model import Segment
from coding.store import schema as t
from coding.store.store import Store


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
    return store.frame(query)
