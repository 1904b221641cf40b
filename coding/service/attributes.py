"""Attributes of units and documents: their values checked on import, listed, and used to
pick units.

An attribute is declared once per study: a name (lower case), a scope (``unit`` or
``document``) and a type (``text``, ``number`` or ``date``). The first import that brings a
column declares it, with the type its header gives (``wave:number``) or else the type every
value of the column reads as; later imports must fit the declaration. Values are stored in a
canonical form (:func:`canonical`); an empty cell is no value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from coding.errors import CodingError, InvalidInput, PermissionDenied, Problem
from coding.model import Role
from coding.service.access import Operator, require_role
from coding.store import Store
from coding.store import attributes as attribute_store
from coding.store.attributes import PROGRAMME, TYPES, AttributeWrite, ValueFilter

if TYPE_CHECKING:
    import pandas as pd

    from coding.refi.cases import StudyAttributes

NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHOWN_PER_COLUMN = 10  # bad values reported per column before "... and N more"


def canonical(kind: str, raw: str) -> str | None:
    """The stored form of a value of type ``kind``; None when it is not one.

    >>> canonical("number", "3.50"), canonical("number", "12"), canonical("number", "1,5")
    ('3.5', '12', None)
    >>> canonical("date", "2024-02-29"), canonical("date", "29/02/2024")
    ('2024-02-29', None)
    """
    if kind == "text":
        return raw
    if kind == "number":
        if not _NUMBER.match(raw):
            return None
        value = float(raw)
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if kind == "date":
        if not _DATE.match(raw):
            return None
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            return None
    raise ValueError(f"unknown attribute type {kind!r}")


def infer_type(values: Iterable[str]) -> str:
    """``number`` or ``date`` when every non-empty value reads as one, else ``text``.

    >>> infer_type(["1", "2.5", ""]), infer_type(["2024-01-31"]), infer_type(["1", "a"])
    ('number', 'date', 'text')
    """
    given = [v for v in values if v]
    for kind in ("number", "date"):
        if given and all(canonical(kind, v) is not None for v in given):
            return kind
    return "text"


def sort_key(kind: str, value: str) -> tuple[float, str]:
    """Values of a number attribute in numeric order; any other in text order."""
    if kind == "number":
        return (float(value), "")
    return (0.0, value)


Cells = tuple[tuple[str, str], ...]  # (column, cell) of a row's attribute columns


@dataclass(frozen=True)
class Column:
    """A column of an import file that carries an attribute."""

    header: str  # as the file writes it
    name: str
    kind: str


@dataclass
class AttributePlan:
    """The attribute values of one import, checked against the study's declarations (and
    against each other) before anything is written. Problems are kept per file."""

    declared: dict[str, tuple[str, str]]  # name -> (scope, type), stored or declared here
    new: list[tuple[str, str, str]] = field(default_factory=list)
    units: dict[tuple[str, str], str] = field(default_factory=dict)
    documents: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[InvalidInput] = field(default_factory=list)

    @classmethod
    def read(cls, store: Store) -> AttributePlan:
        return cls(dict(attribute_store.declared(store)))

    def columns(
        self,
        source: str,
        scope: str,
        rows: Sequence[tuple[str, Cells]],
        reserved: Sequence[str],
    ) -> list[Column] | None:
        """The attribute columns of a file (each declared here when new), or None with the
        file's problems recorded. ``rows`` holds each row's place and (column, cell) pairs;
        every row has the same columns."""
        headers = [header for header, _ in rows[0][1]] if rows else []
        cells: dict[str, list[tuple[str, str]]] = {h: [] for h in headers}
        for where, pairs in rows:
            for header, value in pairs:
                cells[header].append((where, value))
        problems: list[Problem] = []
        found: list[Column] = []
        seen: dict[str, str] = {}
        for header in headers:
            values = [v for _, v in cells[header]]
            checked = self._column(header, scope, values, seen, reserved)
            if isinstance(checked, Problem):
                problems.append(checked)
            else:
                seen[checked.name] = header
                found.append(checked)
        for column in found:
            problems += _bad_values(column, cells.get(column.header, []))
        if problems:
            self.problems.append(InvalidInput(source, problems))
            return None
        for column in found:
            if column.name not in self.declared:
                self.declared[column.name] = (scope, column.kind)
                self.new.append((column.name, scope, column.kind))
        return found

    def _column(
        self,
        header: str,
        scope: str,
        values: Sequence[str],
        seen: dict[str, str],
        reserved: Sequence[str],
    ) -> Column | Problem:
        """The attribute a column header names, with its type, or what is wrong with it."""
        raw_name, _, raw_kind = header.partition(":")
        name, kind = raw_name.strip().lower(), raw_kind.strip().lower()
        where = f"column {header!r}"
        if not NAME_RE.match(name):
            return Problem(where, _BAD_NAME)
        if name in reserved or name == PROGRAMME:
            return Problem(where, f"{name!r} is a column of its own in this file")
        if name in seen:
            return Problem(where, f"the same attribute as column {seen[name]!r}")
        if kind and kind not in TYPES:
            return Problem(where, f"unknown type {kind!r}; use {', '.join(TYPES)}")
        stored = self.declared.get(name)
        chosen = kind or (stored[1] if stored else infer_type(values))
        if stored is not None and stored != (scope, chosen):
            return Problem(where, _clash(name, stored, (scope, chosen)))
        return Column(header, name, chosen)

    def add(
        self, scope: str, subject: str, columns: Sequence[Column], cells: dict[str, str]
    ) -> None:
        """The values of one unit or document (checked by :meth:`columns`)."""
        target = self.units if scope == "unit" else self.documents
        for column in columns:
            raw = cells.get(column.header, "")
            value = canonical(column.kind, raw) if raw else None
            if value is not None:
                target[subject, column.name] = value

    def write(self, store: Store) -> AttributeWrite:
        """What to write: new declarations, and values that differ from the stored ones."""
        units = _changed(store, "unit", self.units)
        documents = _changed(store, "document", self.documents)
        return AttributeWrite(tuple(self.new), units, documents)


_BAD_NAME = "an attribute name: a letter, then letters, digits, '_', '-' or '.' (64 at most)"


def _clash(name: str, stored: tuple[str, str], given: tuple[str, str]) -> str:
    return (
        f"attribute {name!r} is declared as a {stored[0]} attribute of type {stored[1]}; this "
        f"file would make it a {given[0]} attribute of type {given[1]}"
    )


def _bad_values(column: Column, cells: Sequence[tuple[str, str]]) -> list[Problem]:
    bad = [(w, v) for w, v in cells if v and canonical(column.kind, v) is None]
    hint = " (write dates as YYYY-MM-DD)" if column.kind == "date" else ""
    problems = [
        Problem(where, f"{column.header!r} is {value!r}, not a {column.kind}{hint}")
        for where, value in bad[:SHOWN_PER_COLUMN]
    ]
    if len(bad) > SHOWN_PER_COLUMN:
        more = len(bad) - SHOWN_PER_COLUMN
        problems.append(Problem(f"column {column.header!r}", f"... and {more} more such values"))
    return problems


def _changed(
    store: Store, scope: str, values: dict[tuple[str, str], str]
) -> list[tuple[str, str, str]]:
    rows = [(subject, name, value) for (subject, name), value in values.items()]
    if not rows:
        return []
    stored = attribute_store.stored_values(store, scope, sorted({s for s, _, _ in rows}))
    return [row for row in rows if row not in stored]


def export_attributes(store: Store) -> StudyAttributes:
    """The declared attributes and all their values, for exports (no role check: for
    services that have checked one)."""
    from coding.refi.cases import StudyAttributes

    found = attribute_store.declared(store)
    if not found:
        return StudyAttributes()
    return StudyAttributes(
        declared=[(name, scope, kind) for name, (scope, kind) in found.items()],
        documents=attribute_store.document_values(store),
        units=attribute_store.all_unit_values(store),
    )


def matrix_rows_by(store: Store, name: str) -> tuple[str, dict[str, str]]:
    """The name of an attribute and each unit's value of it: the rows of a matrix export."""
    frame = unit_values(store, name)
    return name.strip().lower(), dict(zip(frame["segment_id"], frame["value"], strict=True))


# -- reads for the faces ---------------------------------------------------------------------
@dataclass(frozen=True)
class Attribute:
    name: str
    scope: str  # unit or document
    type: str  # text, number or date
    values: tuple[str, ...]  # distinct values, in order (numbers by value)


def study_attributes(store: Store) -> list[Attribute]:
    """Every attribute of the study (``programme`` first when documents have one) with its
    distinct values. No role check: for services that have checked one."""
    return [
        Attribute(row.name, row.scope, row.type, _ordered(row.type, row.distinct))
        for row in attribute_store.summary(store)
    ]


def _ordered(kind: str, values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(values, key=lambda value: sort_key(kind, value)))


def _any_member(store: Store, user: str | Operator) -> None:
    """A coder, reviewer or admin of the study (attribute values are no one's codes)."""
    try:
        require_role(store, user, Role.REVIEWER)
    except PermissionDenied:
        require_role(store, user, Role.CODER)


def list_attributes(store: Store, user: str | Operator) -> list[Attribute]:
    """The study's attributes and their values, for filters (any member of the study)."""
    try:  # _any_member, spelled out: the role check shows in what the app calls
        require_role(store, user, Role.REVIEWER)
    except PermissionDenied:
        require_role(store, user, Role.CODER)
    return study_attributes(store)


def find_attribute(store: Store, name: str) -> tuple[str, str]:
    """(scope, type) of the attribute ``name``, or a CodingError naming the ones there are."""
    known = attribute_store.attributes(store)
    found = known.get(name.strip().lower())
    if found is None:
        names = ", ".join(known) or "none yet"
        raise CodingError(f"unknown attribute {name!r}; the study has: {names}")
    return found


def unit_ids_where(
    store: Store, user: str | Operator, name: str, values: Sequence[str]
) -> list[str]:
    """Ids of the units whose attribute ``name`` has one of ``values`` (a document attribute
    holds for every unit of its document), in id order; any signed-in user."""
    _any_member(store, user)
    scope, kind = find_attribute(store, name)
    wanted = [canonical(kind, v.strip()) or v.strip() for v in values]
    return attribute_store.units_where(store, name.strip().lower(), scope, wanted)


@dataclass(frozen=True)
class AttributeFilter:
    """A filter of the app's views: the units whose attribute ``name`` has one of
    ``values`` (a document attribute holds for every unit of its document)."""

    name: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.name} = {' or '.join(self.values)}"


def value_filter(store: Store, chosen: AttributeFilter | None) -> ValueFilter | None:
    """``chosen`` as the store's condition (None: no filter), its values in their stored
    form; a CodingError when the study has no such attribute. No role check: for services
    that have checked one."""
    if chosen is None:
        return None
    scope, kind = find_attribute(store, chosen.name)
    wanted = tuple(canonical(kind, v.strip()) or v.strip() for v in chosen.values)
    return ValueFilter(chosen.name.strip().lower(), scope, wanted)


def unit_values(store: Store, name: str) -> pd.DataFrame:
    """segment_id, value of every unit with a value of attribute ``name`` (no role check:
    for services that have checked one)."""
    scope, _kind = find_attribute(store, name)
    return attribute_store.unit_values(store, name.strip().lower(), scope)
