"""What the suggestion engines learn from, read lean: who submitted which unit, and the codes
each coder applied (the engines' reference labels are built from these and the decisions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import case, select

from coding.store import schema as t

if TYPE_CHECKING:
    import pandas as pd

    from coding.store import Store


def applied_codes(store: Store) -> pd.DataFrame:
    """segment_id, coder, code_id of every annotation (a code on several spans of a unit
    repeats), in no particular order."""
    a = t.annotations
    return store.plain_frame(select(a.c.segment_id, a.c.coder, a.c.code_id))


def unit_submissions(store: Store) -> pd.DataFrame:
    """segment_id, coder, completed (1 when the coder submitted the unit, else 0) of every
    assignment, in no particular order."""
    s = t.assignments
    completed = case((s.c.completed_at.is_not(None), 1), else_=0).label("completed")
    return store.plain_frame(select(s.c.segment_id, s.c.coder, completed))
