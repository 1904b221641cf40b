"""The disagreements of the whole study kept as a table (``disputes``), so that counting and
listing them reads that table instead of joining every annotation to its coder's submission.

The table holds, for each unit and code where the coders who submitted the unit disagree (the
rule of :func:`coding.review.is_disagreement`), how many applied the code and who, who
submitted the unit, and the unit's place. ``derived`` holds the audit mark it was brought up
to date at. :meth:`DisputesMixin.refresh_disputes` reads the audit events since that mark:
when they are coders' saves and reviewers' decisions, only the units they name are read
again; any other write (an import, an assignment, a new codebook) means a new read of all.
Every write appends an audit event (:meth:`StoreBase.transaction`), so a table at the
trail's present mark is the study's present disagreements; the refresh writes no event.

Decisions are not kept here: the standing decision of each pair is joined when read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, and_, delete, func, insert, literal_column, select

from coding.store import schema as t
from coding.store.base import StoreBase, serialise

if TYPE_CHECKING:
    from coding.store.events import Mark

PLACE = (t.segments.c.document_id, t.segments.c.kind, t.segments.c.position, t.segments.c.id)
NAME = "disputes"  # the row of ``derived`` that marks the table
_CHUNK = 500  # units per statement when some are read again
COLUMNS = (
    "segment_id",
    "code_id",
    "applied",
    "submitted",
    "applied_by",
    "submitters",
    "document_id",
    "kind",
    "position",
)


def _distinct_names(column: Any, dialect: str) -> Any:
    """The distinct coder names of a group joined by ``DISPUTE_SEP`` (names hold no comma)."""
    if dialect == "postgresql":
        return func.string_agg(column.distinct(), literal_column(f"'{t.DISPUTE_SEP}'"))
    return func.group_concat(column.distinct())  # SQLite: DISTINCT takes the default ","


def disputes_query(units: Sequence[str] | None, dialect: str) -> Select[Any]:
    """The rows of ``disputes`` for these units (None: every unit), read from the coders' work.

    One grouped pass over the annotations' unique index (segment, code, coder, ...), each
    joined to its coder's submission of the unit; the rule keeps the codes some but not all
    of the unit's submitters applied."""
    a, s = t.annotations, t.segments
    mine, done = t.assignments.alias("mine"), t.assignments.alias("done")
    only = [] if units is None else [a.c.segment_id.in_(list(units))]
    # Coders can only disagree on a unit two or more of them submitted: the others' codes are
    # never read (after the first coder's import, none are).
    shared = t.assignments.alias("shared")
    only.append(
        a.c.segment_id.in_(
            select(shared.c.segment_id)
            .where(shared.c.completed_at.is_not(None), *_within(shared, units))
            .group_by(shared.c.segment_id)
            .having(func.count() >= 2)
        )
    )
    submitted = and_(done.c.segment_id == a.c.segment_id, done.c.completed_at.is_not(None))
    counted = (
        select(
            a.c.segment_id,
            a.c.code_id,
            func.count(a.c.coder.distinct()).label("applied"),
            select(func.count()).where(submitted).scalar_subquery().label("submitted"),
            _distinct_names(a.c.coder, dialect).label("applied_by"),
        )
        .select_from(
            a.join(mine, and_(mine.c.segment_id == a.c.segment_id, mine.c.coder == a.c.coder))
        )
        .where(mine.c.completed_at.is_not(None), *only)
        .group_by(a.c.segment_id, a.c.code_id)
    ).subquery("counted")
    everyone = select(func.aggregate_strings(done.c.coder, t.DISPUTE_SEP)).where(
        done.c.segment_id == counted.c.segment_id, done.c.completed_at.is_not(None)
    )
    return (
        select(
            counted.c.segment_id,
            counted.c.code_id,
            counted.c.applied,
            counted.c.submitted,
            counted.c.applied_by,
            everyone.scalar_subquery().label("submitters"),
            s.c.document_id,
            s.c.kind,
            s.c.position,
        )
        .join(s, s.c.id == counted.c.segment_id)
        .where(counted.c.applied < counted.c.submitted)
    )


def _within(assignments: Any, units: Sequence[str] | None) -> list[Any]:
    return [] if units is None else [assignments.c.segment_id.in_(list(units))]


class DisputesMixin(StoreBase):
    """Keeps the ``disputes`` table up to date with the audit trail."""

    def disputes_mark(self) -> Mark | None:
        """The audit mark the table was last brought up to date at (None: never)."""
        from coding.store.events import mark_of

        d = t.derived
        with self.engine.connect() as conn:
            return mark_of(conn.execute(select(d.c.mark).where(d.c.name == NAME)).scalar())

    def refresh_disputes(self) -> bool:
        """Bring ``disputes`` up to the audit trail's present; False when it already was.

        One write transaction (no audit row), serialised with other refreshes: the stored
        mark is read again inside it, the trail's mark before the coders' work."""
        from coding.store.events import changes_since, event_mark, mark_text, touched_units

        with self._writing("refresh_disputes") as conn:
            serialise(conn, NAME)
            stored = self.disputes_mark()
            changes = None if stored is None else changes_since(self, stored)
            now = event_mark(self) if changes is None else changes.mark
            if stored == now:
                return False
            units = None if changes is None else touched_units(changes.events)
            _reread(conn, units)
            conn.execute(delete(t.derived).where(t.derived.c.name == NAME))
            conn.execute(insert(t.derived).values(name=NAME, mark=mark_text(now)))
        return True


def _reread(conn: Connection, units: list[str] | None) -> None:
    """Replace the rows of these units (None: of every unit) by a new read."""
    d, dialect = t.disputes, conn.dialect.name
    if units is None:  # rows in the order they are listed: a list reads the table in order
        query = disputes_query(None, dialect).order_by(*PLACE)
        conn.execute(delete(d))
        conn.execute(insert(d).from_select(list(COLUMNS), query))
        return
    for start in range(0, len(units), _CHUNK):
        chunk = units[start : start + _CHUNK]
        conn.execute(delete(d).where(d.c.segment_id.in_(chunk)))
        conn.execute(insert(d).from_select(list(COLUMNS), disputes_query(chunk, dialect)))
