"""One strict CSV reader for every CSV a user hands in, so that a stray quote loses nothing.

Python's ``csv`` module, left to itself, lets a quote that is never closed swallow the rest
of the file into one cell, and drops or pads cells silently. :func:`parse_csv` refuses instead,
naming the file and the row (and the line, when rows span lines):

* text that is not UTF-8 (line and byte), a byte-order mark is dropped, CRLF is accepted;
* a header with ``;`` or a tab and no comma ("looks like ';'-separated");
* a quote left open at the end of the file, or a closing quote followed by more text,
  reported at the line where the quoted field began;
* a value spanning lines in a column whose format forbids it; each reader names the columns
  where a value may hold line breaks (a memo, a definition, a unit's text). Even there, a
  value whose inner lines read as whole rows of the file (as many cells as the header, for a
  header of four columns or more) is refused as a quote probably left open;
* a row with more or fewer cells than the header ("row 4: 5 cells, header has 3");
* a header naming a column twice (unless the reader checks names itself).

Blank lines are skipped. Header names are stripped of surrounding spaces; cells are not.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from coding.errors import InvalidInput, Problem
from coding.textfile import decode, normalise, read_bytes

_MIN_WIDTH_FOR_ROW_CHECK = 4


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: its number (the header is row 1), the line it begins on, its cells."""

    number: int
    line: int
    values: tuple[str, ...]
    cells: dict[str, str]

    @property
    def where(self) -> str:
        """``row N``, plus the line when rows above it span lines."""
        return f"row {self.number}" + (f" (line {self.line})" if self.line != self.number else "")

    def get(self, column: str) -> str:
        """The cell of ``column``, or "" when the file has no such column."""
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class CsvTable:
    header: tuple[str, ...]
    rows: tuple[CsvRow, ...]


def read_csv(
    path: str | Path,
    *,
    multiline: Collection[str] = (),
    unique_header: bool = True,
    kind: str = "csv",
) -> CsvTable:
    """Read a CSV file strictly (see the module docstring), within the ``kind`` size limit."""
    source = str(path)
    raw = read_bytes(path, kind)
    return parse_csv(decode(raw, source), source, multiline=multiline, unique_header=unique_header)


def parse_csv(
    text: str,
    source: str,
    *,
    multiline: Collection[str] = (),
    unique_header: bool = True,
) -> CsvTable:
    """Header and rows of CSV text, or InvalidInput listing every structural problem.

    >>> table = parse_csv('id,memo\\r\\n1,"two\\nlines"\\n2,\\n', "f.csv", multiline={"memo"})
    >>> [(r.where, r.cells["memo"]) for r in table.rows]
    [('row 2', 'two\\nlines'), ('row 3 (line 4)', '')]
    """
    text = normalise(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    header: list[str] | None = None
    rows: list[CsvRow] = []
    number = 1
    ended = 0  # the last line read so far
    try:
        for record in reader:
            begun, ended = ended + 1, reader.line_num
            if not record:
                continue
            if header is None:
                header = [name.strip() for name in record]
                _check_header(header, text, begun, ended, unique_header, problems)
                if problems:
                    break
                continue
            number += 1
            row = CsvRow(number, begun, tuple(record), dict(zip(header, record, strict=False)))
            _check_row(row, header, multiline, ended, problems)
            rows.append(row)
    except csv.Error as err:
        problems.append(_quote_problem(str(err), ended + 1, number + 1))
    if header is None and not problems:
        problems.append(Problem("file", "is empty: expected a header row"))
    if problems:
        raise InvalidInput(source, problems)
    assert header is not None
    return CsvTable(tuple(header), tuple(rows))


def _check_header(
    header: list[str],
    text: str,
    begun: int,
    ended: int,
    unique: bool,
    problems: list[Problem],
) -> None:
    if ended > begun:
        problems.append(
            Problem(f"line {begun}", "the header spans lines: a quote is probably left open")
        )
        return
    first = text.split("\n", begun)[begun - 1]
    if len(header) == 1:
        for sep, name in ((";", "';'"), ("\t", "tab")):
            if sep in first:
                problems.append(
                    Problem(
                        f"line {begun}",
                        f"the header looks {name}-separated; save the file as comma-separated CSV",
                    )
                )
                return
    if unique:
        seen: set[str] = set()
        for name in header:
            if name in seen:
                problems.append(Problem(f"line {begun}", f"column {name!r} appears twice"))
            seen.add(name)


def _check_row(
    row: CsvRow, header: list[str], multiline: Collection[str], ended: int, problems: list[Problem]
) -> None:
    if len(row.values) != len(header):
        problems.append(Problem(row.where, f"{len(row.values)} cells, header has {len(header)}"))
    if ended == row.line:
        return
    for column, value in zip(header, row.values, strict=False):
        if "\n" not in value:
            continue
        span = f"lines {row.line}-{ended}"
        if column not in multiline:
            problems.append(
                Problem(
                    row.where,
                    f"the value of {column!r} spans {span}, which this file does not allow: "
                    f"is a quote left open on line {row.line}?",
                )
            )
        elif _holds_rows(value, len(header)):
            problems.append(
                Problem(
                    row.where,
                    f"the value of {column!r} spans {span} and holds what read as whole rows: "
                    f"is a quote left open on line {row.line}?",
                )
            )


def _holds_rows(value: str, width: int) -> bool:
    """True when a line inside a multi-line value parses as a row as wide as the header."""
    if width < _MIN_WIDTH_FOR_ROW_CHECK:
        return False
    for line in value.split("\n")[1:]:
        cells = next(csv.reader([line]), [])
        if len(cells) == width:
            return True
    return False


def _quote_problem(message: str, line: int, number: int) -> Problem:
    where = f"row {number}" + (f" (line {line})" if line != number else "")
    if "unexpected end of data" in message:
        return Problem(
            f"line {line}",
            "a quote opened in this row is never closed (the rest of the file would become "
            "one value)",
        )
    if "field larger than field limit" in message:
        return Problem(
            where,
            f"a value longer than {csv.field_size_limit()} characters: is a quote left open?",
        )
    if "expected after" in message:
        return Problem(
            where,
            "a quoted value is followed by more text before the next comma; a quote inside "
            'a quoted value is written twice ("")',
        )
    return Problem(where, message)
