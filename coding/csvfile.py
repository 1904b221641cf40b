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
import itertools
from array import array
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        return _where(self.number, self.line)

    def get(self, column: str) -> str:
        """The cell of ``column``, or "" when the file has no such column."""
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class CsvTable:
    header: tuple[str, ...]
    rows: tuple[CsvRow, ...]


@dataclass(frozen=True, slots=True)
class CsvColumns:
    """A CSV read column by column, for files of many rows: no object per row, and equal
    cells of a column share one string. Row ``i`` (from 0) is row ``i + 2`` of the file."""

    header: tuple[str, ...]
    columns: dict[str, list[str]]  # each column's cells in row order ("" past a short row)
    lines: array[int]  # the line each row begins on

    def __len__(self) -> int:
        return len(self.lines)

    def where(self, index: int) -> str:
        """``row N`` of the row at ``index``, plus the line when rows above it span lines."""
        return _where(index + 2, self.lines[index])


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
    problems: list[Problem] = []
    header, chunks = _scan(_normalised(text), multiline, unique_header, problems)
    rows: list[CsvRow] = []
    for lines, chunk in chunks:
        for line, cells in zip(lines, chunk, strict=True):
            cells_of = dict(zip(header or (), cells, strict=False))
            rows.append(CsvRow(len(rows) + 2, line, tuple(cells), cells_of))
    _raise_if_bad(source, header, problems)
    assert header is not None
    return CsvTable(tuple(header), tuple(rows))


_SHARED = 262_144  # distinct cells per column kept shared (a column of ids stops there)


def read_columns(
    path: str | Path, *, multiline: Collection[str] = (), kind: str = "csv"
) -> CsvColumns:
    """Read a CSV file as strictly as :func:`read_csv`, column by column (for large files).

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write("code,memo\\ncalm,\\n\\ncues,x\\n")
    >>> table = read_columns(f.name)
    >>> table.columns["code"], table.where(1)
    (['calm', 'cues'], 'row 3 (line 4)')
    >>> os.unlink(f.name)
    """
    source = str(path)
    problems: list[Problem] = []
    text = _normalised(decode(read_bytes(path, kind), source))
    header, chunks = _scan(text, multiline, True, problems)
    width = len(header or ())
    columns: list[list[str]] = [[] for _ in range(width)]
    shared: list[dict[str, str]] = [{} for _ in range(width)]
    lines = array("q")
    for begun, chunk in chunks:
        lines.extend(begun)
        if set(map(len, chunk)) != {width}:  # rows with too few or many cells (refused)
            chunk = [(cells + [""] * width)[:width] for cells in chunk]
        for column, cells, seen in zip(columns, zip(*chunk, strict=True), shared, strict=False):
            if len(seen) < _SHARED:
                column.extend(map(seen.setdefault, cells, cells))
            else:
                column.extend(map(seen.get, cells, cells))
    _raise_if_bad(source, header, problems)
    assert header is not None
    return CsvColumns(tuple(header), dict(zip(header, columns, strict=True)), lines)


def _normalised(text: str) -> str:
    """``textfile.normalise(text)``, with CRLF line ends made "\\n" in one pass first (the
    same result unless a CR comes twice in a row, where the first pass is skipped)."""
    if "\r\r" not in text:
        text = text.replace("\r\n", "\n")
    return normalise(text)


def _raise_if_bad(source: str, header: list[str] | None, problems: list[Problem]) -> None:
    if header is None and not problems:
        problems.append(Problem("file", "is empty: expected a header row"))
    if problems:
        raise InvalidInput(source, problems)


def _lines(text: str, skip: int = 0, block: int = 1 << 20) -> Iterator[str]:
    """The lines of ``text`` with their "\\n", past the first ``skip``, a block at a time (a
    StringIO of the whole text would take four bytes a character)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + block)
        end = len(text) if end < 0 else end + 1
        yield from itertools.islice(io.StringIO(text[start:end], newline=""), skip, None)
        skip = max(0, skip - text.count("\n", start, end))
        start = end


Chunks = Iterator[tuple[Sequence[int], list[list[str]]]]


def _scan(
    text: str, multiline: Collection[str], unique_header: bool, problems: list[Problem]
) -> tuple[list[str] | None, Chunks]:
    """The header (names stripped; None when there is none or it is bad), and the data rows
    a chunk at a time: the line each row begins on, and its cells. Blank lines are dropped,
    so rows are numbered 2, 3, ... in order. Every structural problem goes to ``problems``."""
    reader = csv.reader(_lines(text), strict=True)
    ended = 0  # the last line read so far
    try:
        for record in reader:
            begun, ended = ended + 1, reader.line_num
            if record:
                header = [name.strip() for name in record]
                _check_header(header, text, begun, ended, unique_header, problems)
                if problems:
                    break
                return header, _chunks(text, reader, header, multiline, problems, (1, ended, 0))
    except csv.Error as err:
        problems.append(_quote_problem(str(err), ended + 1, 2))
    return None, iter(())


_CHUNK = 65_536  # rows read at a time


def _chunks(
    text: str,
    reader: Any,
    header: list[str],
    multiline: Collection[str],
    problems: list[Problem],
    place: tuple[int, int, int],
    size: int = _CHUNK,
) -> Chunks:
    """Rows after the header, ``place`` being (rows so far, the last line read, lines before
    the reader's first). A chunk whose rows are each one line and as wide as the header
    passes without a look at each row; any other is checked row by row. A quote error makes
    the chunk it falls in be read again row by row, for its exact place."""
    number, ended, before = place
    try:
        while chunk := list(itertools.islice(reader, size)):
            one_line_each = before + reader.line_num - ended == len(chunk)
            if one_line_each and set(map(len, chunk)) == {len(header)}:
                yield range(ended + 1, ended + 1 + len(chunk)), chunk
                ended, number = ended + len(chunk), number + len(chunk)
                continue
            lines, rows = [], []
            for record in chunk:
                begun, ended = ended + 1, ended + 1 + sum(cell.count("\n") for cell in record)
                if record:
                    number += 1
                    if len(record) != len(header) or ended != begun:
                        _check_row(number, begun, record, header, multiline, ended, problems)
                    lines.append(begun)
                    rows.append(record)
            yield lines, rows
    except csv.Error as err:
        if size == 1:
            problems.append(_quote_problem(str(err), ended + 1, number + 1))
            return
        again = csv.reader(_lines(text, skip=ended), strict=True)
        yield from _chunks(text, again, header, multiline, problems, (number, ended, ended), 1)


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
    number: int,
    line: int,
    values: list[str],
    header: list[str],
    multiline: Collection[str],
    ended: int,
    problems: list[Problem],
) -> None:
    where = _where(number, line)
    if len(values) != len(header):
        problems.append(Problem(where, f"{len(values)} cells, header has {len(header)}"))
    if ended == line:
        return
    for column, value in zip(header, values, strict=False):
        if "\n" not in value:
            continue
        span = f"lines {line}-{ended}"
        if column not in multiline:
            problems.append(
                Problem(
                    where,
                    f"the value of {column!r} spans {span}, which this file does not allow: "
                    f"is a quote left open on line {line}?",
                )
            )
        elif _holds_rows(value, len(header)):
            problems.append(
                Problem(
                    where,
                    f"the value of {column!r} spans {span} and holds what read as whole rows: "
                    f"is a quote left open on line {line}?",
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


def _where(number: int, line: int) -> str:
    return f"row {number}" + (f" (line {line})" if line != number else "")


def _quote_problem(message: str, line: int, number: int) -> Problem:
    where = _where(number, line)
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
