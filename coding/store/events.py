"""The audit trail as a change log: a mark of where it stands, the events written after a
mark, and which units those events changed. What reads the study once and keeps it (the
agreement arrays, the table of disagreements) uses these to bring itself up to date.

Plain rows, no frames: ``coding status`` reads a mark and starts without pandas."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from coding.store import schema as t
from coding.store.base import StoreBase
from coding.store.users import LOCKED, SIGN_IN_FAILED

Mark = tuple[int, int, str]  # (number of events, highest event id, when the first was written)
Event = tuple[str, str, dict[str, Any]]  # (action, subject, detail)

# Writes that change no unit's codings, submissions or decisions; any action not named here
# or in UNIT_EDITS (imports, assignments, codebooks, documents, suggestion runs, ...) may
# change more than units, and what is kept is read again whole.
NO_UNIT_DATA = frozenset(
    {"add_user", "set_password", "code_note", "set_setting", SIGN_IN_FAILED, *LOCKED.values()}
)
UNIT_EDITS = frozenset({"code_unit", "resolve"})


@dataclass(frozen=True)
class Changes:
    """The audit events after a mark: (action, subject, detail) each, and the new mark."""

    events: list[Event]
    mark: Mark  # as :func:`event_mark` gives it


def event_mark(store: StoreBase) -> Mark:
    """(number of audit events, highest event id, when the first was written): where
    :func:`changes_since` starts; the first event's time tells studies at one path apart."""
    e = t.events
    first = select(e.c.at).order_by(e.c.id).limit(1).scalar_subquery()
    with store.engine.connect() as conn:
        count, top, began = conn.execute(select(func.count(), func.max(e.c.id), first)).one()
    return int(count), int(top or 0), str(began or "")


def changes_since(store: StoreBase, mark: Mark) -> Changes | None:
    """The events written after ``mark``; None when they cannot be told apart from earlier
    ones (an event with a lower id committed late, on PostgreSQL; one written meanwhile; or
    another study now at the same place)."""
    count, top, began = mark
    e = t.events
    query = select(e.c.action, e.c.subject, e.c.detail).where(e.c.id > top).order_by(e.c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    now = event_mark(store)
    if now[0] != count + len(rows) or now[2] != began:
        return None
    events = [
        (str(action), str(subject), json.loads(detail) if detail else {})
        for action, subject, detail in rows
    ]
    return Changes(events, now)


def touched_units(events: Sequence[Event]) -> list[str] | None:
    """The units some audit events changed (a coder's save, a reviewer's decisions), or None
    when one of them may have changed more than units.

    >>> touched_units([("code_unit", "s1", {}), ("resolve", "2 decisions",
    ...     {"decisions": [["s2", "calm", "apply"], ["s1", "cues", "reject"]]})])
    ['s1', 's2']
    >>> touched_units([("code_unit", "s1", {}), ("import_codings", "file.csv", {})]) is None
    True
    """
    found: dict[str, None] = {}
    for action, subject, detail in events:
        if action == "code_unit":
            found[subject] = None
        elif action == "resolve":
            found.update((str(d[0]), None) for d in detail.get("decisions", []))
        elif action not in NO_UNIT_DATA:
            return None
    return list(found)


def mark_text(mark: Mark) -> str:
    """A mark as stored beside what was read at it."""
    return json.dumps(list(mark))


def mark_of(text: str | None) -> Mark | None:
    """A stored mark (None when nothing was stored)."""
    if text is None:
        return None
    count, top, began = json.loads(text)
    return int(count), int(top), str(began)
