"""Read reliability data in the reference layouts, reporting every problem at once.

Layouts (UTF-8 CSV with a header row; an empty cell is a missing value):

* ``units-by-coders``: ``unit,<coder1>,<coder2>,...``, one row per unit;
* ``long``: ``unit,coder,labels``, one row per coding; ``labels`` is a set joined by ``|``
  (an empty cell is the empty set);
* ``counts``: ``subject,<cat1>,...``: how many coders put the unit in each category (Fleiss);
* ``contingency``: ``coder1\\coder2,<cat1>,...``, then one row per category of coder 1 with
  counts of units per category of coder 2; rows and columns in the same order;
* ``spans``: ``coder,start,end,label``: half-open ``[start, end)`` integer offsets.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TextIO, TypeAlias

import numpy as np
import pandas as pd

from coding.agreement.ratings import FloatArray
from coding.agreement.unitizing import Span
from coding.csvfile import parse_csv, read_csv
from coding.errors import InvalidInput, Problem
from coding.textfile import limits, too_large

LAYOUT_ALIASES = {
    "units-by-coders": "units-by-coders",
    "units_by_coders": "units-by-coders",
    "long": "long",
    "long_set_valued": "long",
    "counts": "counts",
    "unit_category_counts": "counts",
    "contingency": "contingency",
    "contingency_table": "contingency",
    "spans": "spans",
}
LAYOUTS = ("units-by-coders", "long", "counts", "contingency", "spans")
VALUE_COLUMNS = ("labels", "label", "value", "code", "codes")
SET_SEPARATOR = "|"

Number = int | float
Source: TypeAlias = "str | os.PathLike[str] | TextIO | pd.DataFrame"


@dataclass(frozen=True, slots=True)
class CodingTable:
    """Codings by unit and coder; ``values[g][u]`` is a raw cell, None where g did not code u.

    In the long layout (``sets`` True) a value is a ``|``-joined set and ``""`` the empty set.
    """

    coders: tuple[str, ...]
    units: tuple[str, ...]
    values: tuple[tuple[str | None, ...], ...]
    sets: bool = False


@dataclass(frozen=True, slots=True)
class CategoryCounts:
    """Fleiss layout: ``counts[u, k]`` coders put unit u in category k."""

    units: tuple[str, ...]
    categories: tuple[str | Number, ...]
    counts: FloatArray


@dataclass(frozen=True, slots=True)
class Contingency:
    """Two-coder table: ``table[i, j]`` units coder 1 put in category i and coder 2 in j."""

    categories: tuple[str | Number, ...]
    table: FloatArray


@dataclass(frozen=True, slots=True)
class SpanTable:
    """Unitizing data: coded spans."""

    spans: tuple[Span, ...]


Parsed = CodingTable | CategoryCounts | Contingency | SpanTable


def canonical_layout(layout: str) -> str:
    """The canonical name of a layout (accepts the reference names such as ``units_by_coders``)."""
    try:
        return LAYOUT_ALIASES[layout]
    except KeyError:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}") from None


def parse_number(text: str) -> Number | None:
    """An int or finite float, or None when ``text`` is not a number.

    >>> parse_number("3"), parse_number("2.5"), parse_number("x"), parse_number("nan")
    (3, 2.5, None, None)
    """
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def typed_labels(labels: Sequence[str]) -> tuple[str | Number, ...]:
    """Labels as numbers when every label is a number, else unchanged."""
    numbers = [parse_number(label) for label in labels]
    if all(n is not None for n in numbers):
        return tuple(n for n in numbers if n is not None)
    return tuple(labels)


def _rows(source: Source) -> tuple[str, list[list[str]]]:
    """Header and rows, read with the strict CSV reader (no value may span lines)."""
    if isinstance(source, pd.DataFrame):
        header = [str(c) for c in source.columns]
        body = [["" if pd.isna(v) else str(v) for v in row] for row in source.itertuples(False)]
        return "data", [header, *body]
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        table = read_csv(name, unique_header=False)
    else:
        name = str(getattr(source, "name", "<stream>"))
        limit = limits().bytes("csv")
        text = source.read(limit + 1)
        if len(text) > limit:
            raise too_large(name, len(text), "csv", "the data")
        table = parse_csv(text, name, unique_header=False)
    return name, [list(table.header), *(list(row.values) for row in table.rows)]


def read_layout(source: Source, layout: str) -> Parsed:
    """Read reliability data from a path, a text stream or a DataFrame of strings.

    Raises :class:`~coding.errors.InvalidInput` listing every problem found.
    """
    name, rows = _rows(source)
    rows = [[cell.strip() for cell in row] for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InvalidInput(name, [Problem("", "is empty: expected a header row and data")])
    parser = _PARSERS[canonical_layout(layout)]
    problems: list[Problem] = []
    parsed = parser(rows[0], rows[1:], problems)
    if problems:
        raise InvalidInput(name, problems)
    return parsed


def _check_width(header: Sequence[str], body: Iterable[list[str]], problems: list[Problem]) -> None:
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            problems.append(Problem(f"row {i}", f"has {len(row)} cells, header has {len(header)}"))


def _pad(row: list[str], width: int) -> list[str]:
    return (row + [""] * width)[:width]


def _unique_names(names: Sequence[str], what: str, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            problems.append(Problem("row 1", f"a {what} name is empty"))
        elif name in seen:
            problems.append(Problem("row 1", f"{what} {name!r} appears twice"))
        seen.add(name)


def _units_by_coders(header: list[str], body: list[list[str]], problems: list[Problem]) -> Parsed:
    if len(header) < 2:
        problems.append(Problem("row 1", "expected 'unit' and one column per coder"))
        return CodingTable((), (), ())
    coders = header[1:]
    _unique_names(coders, "coder", problems)
    _check_width(header, body, problems)
    units = [_pad(row, len(header))[0] for row in body]
    _duplicate_units(units, problems)
    cells = [_pad(row, len(header))[1:] for row in body]
    values = tuple(tuple(row[g] or None for row in cells) for g in range(len(coders)))
    return CodingTable(tuple(coders), tuple(units), values)


def _duplicate_units(units: Sequence[str], problems: list[Problem]) -> None:
    seen: dict[str, int] = {}
    for i, unit in enumerate(units, start=2):
        if not unit:
            problems.append(Problem(f"row {i}", "the unit id is empty"))
        elif unit in seen:
            problems.append(Problem(f"row {i}", f"unit {unit!r} already on row {seen[unit]}"))
        else:
            seen[unit] = i


def _column(header: list[str], names: Sequence[str], problems: list[Problem]) -> int:
    lowered = [h.lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    problems.append(Problem("row 1", f"no column named {' or '.join(repr(n) for n in names)}"))
    return -1


def _long(header: list[str], body: list[list[str]], problems: list[Problem]) -> Parsed:
    cols = [_column(header, n, problems) for n in (("unit",), ("coder",), VALUE_COLUMNS)]
    if min(cols) < 0:
        return CodingTable((), (), (), sets=True)
    _check_width(header, body, problems)
    cells: dict[tuple[str, str], str] = {}
    units: dict[str, None] = {}
    coders: dict[str, None] = {}
    for i, row in enumerate(body, start=2):
        unit, coder, value = (_pad(row, len(header))[c] for c in cols)
        if not unit or not coder:
            problems.append(Problem(f"row {i}", "the unit or coder is empty"))
            continue
        if (unit, coder) in cells:
            problems.append(Problem(f"row {i}", f"coder {coder!r} coded unit {unit!r} twice"))
            continue
        cells[(unit, coder)] = value
        units.setdefault(unit)
        coders.setdefault(coder)
    values = tuple(tuple(cells.get((u, c)) for u in units) for c in coders)
    return CodingTable(tuple(coders), tuple(units), values, sets=True)


def _count(text: str, where: str, problems: list[Problem]) -> float:
    number = parse_number(text) if text else 0
    if not isinstance(number, int) or number < 0:
        problems.append(Problem(where, f"{text!r} is not a count (a whole number >= 0)"))
        return 0.0
    return float(number)


def _counts(header: list[str], body: list[list[str]], problems: list[Problem]) -> Parsed:
    if len(header) < 3:
        problems.append(Problem("row 1", "expected 'subject' and two or more category columns"))
    _unique_names(header[1:], "category", problems)
    _check_width(header, body, problems)
    units = [_pad(row, len(header))[0] for row in body]
    _duplicate_units(units, problems)
    counts = np.array(
        [
            [
                _count(cell, f"row {i}, column {header[j + 1]!r}", problems)
                for j, cell in enumerate(_pad(row, len(header))[1:])
            ]
            for i, row in enumerate(body, start=2)
        ],
        dtype=np.float64,
    ).reshape(len(body), max(0, len(header) - 1))
    return CategoryCounts(tuple(units), typed_labels(header[1:]), counts)


def _contingency(header: list[str], body: list[list[str]], problems: list[Problem]) -> Parsed:
    categories = header[1:]
    if len(categories) < 2:
        problems.append(Problem("row 1", "expected a corner cell and two or more categories"))
    _unique_names(categories, "category", problems)
    _check_width(header, body, problems)
    labels = [_pad(row, len(header))[0] for row in body]
    if labels != categories:
        problems.append(
            Problem("column 1", f"row categories {labels} must equal the columns {categories}")
        )
    table = np.array(
        [
            [
                _count(cell, f"row {i}, column {header[j + 1]!r}", problems)
                for j, cell in enumerate(_pad(row, len(header))[1:])
            ]
            for i, row in enumerate(body, start=2)
        ],
        dtype=np.float64,
    ).reshape(len(body), len(categories))
    return Contingency(typed_labels(categories), table)


def _spans(header: list[str], body: list[list[str]], problems: list[Problem]) -> Parsed:
    names = (("coder",), ("start",), ("end",), ("label", "code"))
    cols = [_column(header, n, problems) for n in names]
    if min(cols) < 0:
        return SpanTable(())
    _check_width(header, body, problems)
    spans: list[Span] = []
    for i, row in enumerate(body, start=2):
        coder, start_text, end_text, code = (_pad(row, len(header))[c] for c in cols)
        start, end = parse_number(start_text), parse_number(end_text)
        if not isinstance(start, int) or not isinstance(end, int):
            problems.append(Problem(f"row {i}", "start and end must be whole numbers"))
        elif end <= start:
            problems.append(Problem(f"row {i}", f"end {end} is not after start {start}"))
        elif not coder or not code:
            problems.append(Problem(f"row {i}", "the coder or label is empty"))
        else:
            spans.append(Span(coder, start, end, code))
    _check_overlaps(spans, problems)
    return SpanTable(tuple(spans))


def _check_overlaps(spans: Sequence[Span], problems: list[Problem]) -> None:
    ordered = sorted(spans, key=lambda s: (s.coder, s.code, s.start))
    for before, after in pairwise(ordered):
        same = (before.coder, before.code) == (after.coder, after.code)
        if same and after.start < before.end:
            problems.append(
                Problem(
                    f"coder {after.coder!r}",
                    f"spans [{before.start},{before.end}) and [{after.start},{after.end}) "
                    f"of label {after.code!r} overlap",
                )
            )


_PARSERS = {
    "units-by-coders": _units_by_coders,
    "long": _long,
    "counts": _counts,
    "contingency": _contingency,
    "spans": _spans,
}
