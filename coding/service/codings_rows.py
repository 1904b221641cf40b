"""The rows of a codings CSV, checked a column at a time: the units they code, and every
problem with its row. Work is done once per distinct cell (a coder, a code, a segment id) and
spread over the rows with NumPy, so a file of a million rows costs no object per row."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from coding.csvfile import CsvColumns
from coding.errors import Problem
from coding.model import NAME_RE, Document
from coding.service.study import pick_document
from coding.store import Store

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]

RANK_CODER, RANK_CODE, RANK_UNIT, RANK_MEMO, RANK_DUPLICATE = range(5)  # a row's problems, in order


@dataclass(frozen=True)
class Column:
    """A column as codes into its distinct cells, stripped: ``values[codes[i]]`` is row i's."""

    codes: Codes
    values: list[str]

    @classmethod
    def of(cls, table: CsvColumns, name: str) -> Column:
        cells = table.columns.get(name)
        if cells is None:
            return cls(np.zeros(len(table), np.int32), [""])
        codes, distinct = pd.factorize(np.asarray(cells, dtype=object))
        stripped, values = pd.factorize(np.asarray([v.strip() for v in distinct], dtype=object))
        return cls(stripped.astype(np.int32)[codes], [str(v) for v in values])

    def cells(self, rows: Ints | None = None) -> npt.NDArray[np.object_]:
        """The stripped cells of some rows (all rows for None)."""
        values = np.asarray(self.values, dtype=object)
        return values[self.codes if rows is None else self.codes[rows]]

    def categorical(self, rows: Ints) -> pd.Categorical:
        """The stripped cells of some rows, as codes into the distinct cells."""
        return pd.Categorical.from_codes(self.codes[rows], pd.Index(self.values, dtype=object))

    def empty(self) -> npt.NDArray[np.bool_]:
        """Which rows hold an empty (or blank) cell."""
        empty = self.values.index("") if "" in self.values else -1
        return np.asarray(self.codes == empty, dtype=np.bool_)


@dataclass
class Problems:
    """Problems of rows, kept as arrays until they are listed in row order."""

    rows: list[Ints] = field(default_factory=list)
    ranks: list[Ints] = field(default_factory=list)
    messages: list[npt.NDArray[np.object_]] = field(default_factory=list)

    def add(self, rows: Ints, rank: int, messages: npt.NDArray[np.object_] | str) -> None:
        if len(rows):
            self.rows.append(rows.astype(np.int64))
            self.ranks.append(np.full(len(rows), rank, np.int64))
            self.messages.append(np.broadcast_to(np.asarray(messages, dtype=object), len(rows)))

    def by_value(self, column: Column, rank: int, messages: list[str | None]) -> None:
        """A problem for each row whose cell's message (by distinct value) is not None."""
        bad = [i for i, message in enumerate(messages) if message is not None]
        if bad:
            rows = np.flatnonzero(np.isin(column.codes, bad))
            self.add(rows, rank, np.asarray(messages, dtype=object)[column.codes[rows]])

    def listed(self, table: CsvColumns) -> list[Problem]:
        if not self.rows:
            return []
        rows, ranks = np.concatenate(self.rows), np.concatenate(self.ranks)
        messages = np.concatenate(self.messages)
        order = np.lexsort((ranks, rows))
        listed = [Problem(table.where(int(rows[i])), str(messages[i])) for i in order]
        return list(dict.fromkeys(listed))  # one row, one message


class Units:
    """The study's segments (without their text) and documents, to find the units of rows."""

    def __init__(self, store: Store, min_overlap: float) -> None:
        self.store = store
        self.min_overlap = min_overlap
        self.spans = store.segment_spans()
        self.ids = pd.Index(self.spans["segment_id"])
        self.document_of = self.spans["document_id"].to_numpy(dtype=object)
        self.document_codes = pd.factorize(self.spans["document_id"])[0].astype(np.int64)
        self._documents: list[Document] | None = None
        self._labels: dict[tuple[str, str], int] | None = None
        self._picked: dict[str, Document | str] = {}
        self._by_document: dict[str, Ints] | None = None

    def pick(self, reference: str) -> Document | str:
        """The document a reference names, or why it names none (see ``pick_document``)."""
        if reference not in self._picked:
            if self._documents is None:
                self._documents = self.store.documents()
            self._picked[reference] = pick_document(reference, self._documents)
        return self._picked[reference]

    def document(self, document_id: str) -> Document:
        """A document :meth:`pick` found."""
        assert self._documents is not None
        return next(d for d in self._documents if d.id == document_id)

    def in_document(self, document_id: str) -> tuple[Ints, Ints, Ints]:
        """The units of a document (all kinds) by start: their index, start and end."""
        if self._by_document is None:
            groups = self.spans.groupby("document_id", sort=False).indices
            self._by_document = {str(d): np.asarray(i, np.int64) for d, i in groups.items()}
        units = self._by_document.get(document_id, np.zeros(0, np.int64))
        first = self.spans["start"].to_numpy(np.int64)[units]
        order = np.argsort(first, kind="stable")
        return units[order], first[order], self.spans["end"].to_numpy(np.int64)[units][order]

    def by_label(self, document_id: str, label: str) -> int | None:
        """An imported segment by its own id within its document."""
        if self._labels is None:
            imported = self.spans[self.spans["kind"] == "imported"]
            self._labels = {
                (d, lab): int(i)
                for d, lab, i in zip(
                    imported["document_id"], imported["label"], imported.index, strict=True
                )
            }
        return self._labels.get((document_id, label))

    def find(self, segment: str, at: int, document: str) -> int | str:
        """The unit a row's segment_id (found at ``at`` by id, or -1) and document_id name."""
        document_id = None
        if document:
            picked = self.pick(document)
            if isinstance(picked, str):
                return picked
            document_id = picked.id
        found = at if at >= 0 else None
        if found is None and document_id is not None:
            found = self.by_label(document_id, segment)
        if found is None:
            return f"unknown segment {segment!r}"
        if document_id is not None and self.document_of[found] != document_id:
            return (
                f"segment {segment!r} belongs to document "
                f"{self.document_of[found]!r}, not {document!r}"
            )
        return found


def check_people_and_codes(
    coder: Column,
    code: Column,
    known: set[str],
    codes: set[str],
    version: int,
    add_new: bool,
    problems: Problems,
) -> list[str]:
    """Report empty and unknown coders and codes; return the coders to add (``add_new``)."""
    new: list[str] = []
    messages: list[str | None] = []
    for name in coder.values:
        message = None
        if not name:
            message = "'coder' is empty"
        elif name not in known:
            if add_new and NAME_RE.match(name) and name != "nlp":
                new.append(name)
            else:
                message = (
                    f"unknown coder {name!r} (add with 'coding coders add', or pass --add-coders)"
                )
        messages.append(message)
    problems.by_value(coder, RANK_CODER, messages)
    problems.by_value(
        code,
        RANK_CODE,
        [
            "'code' is empty"
            if not c
            else None
            if c in codes
            else f"unknown code {c!r} (not in codebook v{version})"
            for c in code.values
        ],
    )
    return sorted(new)


def check_memos(memo: Column, problems: Problems) -> None:
    """Report memos holding a NUL character, which PostgreSQL cannot store in text (so a
    study refuses it on either engine)."""
    problems.by_value(
        memo,
        RANK_MEMO,
        [
            "'memo' holds a NUL character (U+0000), which a study cannot store"
            if "\x00" in value
            else None
            for value in memo.values
        ],
    )


def units_by_id(
    rows: Ints, segment: Column, document: Column, units: Units, problems: Problems
) -> pd.DataFrame:
    """Hits (row, unit) of rows that name a segment_id, once per distinct (segment, document)."""
    pair = segment.codes[rows].astype(np.int64) * len(document.values) + document.codes[rows]
    codes, distinct = pd.factorize(pair)
    seg_values = [segment.values[p // len(document.values)] for p in distinct]
    doc_values = [document.values[p % len(document.values)] for p in distinct]
    at = units.ids.get_indexer(seg_values)
    found = [units.find(s, int(i), d) for s, i, d in zip(seg_values, at, doc_values, strict=True)]
    unit = np.asarray([f if isinstance(f, int) else -1 for f in found], dtype=np.int64)[codes]
    bad = unit < 0
    messages = np.asarray([f if isinstance(f, str) else "" for f in found], dtype=object)
    problems.add(rows[bad], RANK_UNIT, messages[codes[bad]])
    count = int((~bad).sum())
    whole = pd.arrays.IntegerArray(np.zeros(count, np.int64), np.ones(count, np.bool_))
    return pd.DataFrame({"row": rows[~bad], "unit": unit[~bad], "start": whole, "end": whole})


def units_by_span(
    rows: Ints,
    document: Column,
    start: Column,
    end: Column,
    units: Units,
    problems: Problems,
) -> pd.DataFrame:
    """Hits (row, unit, start, end) of rows that give document_id, start and end: each unit
    the span overlaps by ``min_overlap`` of the shorter of the two, the span clipped to it
    (start and end missing where it covers the whole unit)."""
    document_id, why = _documents(document, units)
    doc = document_id[document.codes[rows]]
    problems.add(rows[doc == ""], RANK_UNIT, why[document.codes[rows[doc == ""]]])
    rows, doc = rows[doc != ""], doc[doc != ""]
    first, last = _whole_numbers(start)[start.codes[rows]], _whole_numbers(end)[end.codes[rows]]
    bad = np.isnan(first) | np.isnan(last)
    problems.add(rows[bad], RANK_UNIT, "start and end must be whole numbers")
    rows, doc = rows[~bad], doc[~bad]
    begin, finish = first[~bad].astype(np.int64), last[~bad].astype(np.int64)
    names = document.cells(rows)
    lengths = {d: len(units.document(d).text) for d in pd.unique(doc)}
    length = np.asarray([lengths[d] for d in doc], dtype=np.int64)
    outside = ~((begin >= 0) & (begin < finish) & (finish <= length))
    problems.add(
        rows[outside],
        RANK_UNIT,
        np.asarray(
            [
                f"span {_int(start.values[start.codes[r]])}:{_int(end.values[end.codes[r]])} "
                f"is outside document {n!r} (0:{n_len})"
                for r, n, n_len in zip(rows[outside], names[outside], length[outside], strict=True)
            ],
            dtype=object,
        ),
    )
    keep = ~outside
    hits = _overlaps(rows[keep], doc[keep], begin[keep], finish[keep], units)
    missed = np.setdiff1d(rows[keep], hits["row"].to_numpy())
    if len(missed):
        where = np.searchsorted(rows, missed)  # rows are in order
        problems.add(
            missed,
            RANK_UNIT,
            np.asarray(
                [
                    f"span {begin[i]}:{finish[i]} covers no unit of {names[i]!r} "
                    f"by at least {units.min_overlap:.0%} of the shorter"
                    for i in where
                ],
                dtype=object,
            ),
        )
    return hits


def _documents(
    document: Column, units: Units
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """For each distinct document_id cell: the document's id ("" for none), and why none."""
    ids, why = [], []
    for reference in document.values:
        picked = (
            units.pick(reference)
            if reference
            else "give segment_id, or document_id with start and end"
        )
        ids.append("" if isinstance(picked, str) else picked.id)
        why.append(picked if isinstance(picked, str) else "")
    return np.asarray(ids, dtype=object), np.asarray(why, dtype=object)


_LIMIT = 2**62  # whole numbers past this are outside any document anyway


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _whole_numbers(column: Column) -> npt.NDArray[np.float64]:
    """Each distinct cell as a whole number (clamped to +-2**62), NaN where it is none."""
    numbers = [_int(v) for v in column.values]
    return np.asarray(
        [np.nan if n is None else max(-_LIMIT, min(_LIMIT, n)) for n in numbers], dtype=np.float64
    )


def _overlaps(
    rows: Ints, doc: npt.NDArray[np.object_], begin: Ints, finish: Ints, units: Units
) -> pd.DataFrame:
    """(row, unit, start, end) of each unit a row's span overlaps enough, in row order."""
    parts = [pd.DataFrame({"row": [], "unit": [], "start": [], "end": []}, dtype=np.int64)]
    for document_id in pd.unique(doc):
        mine = doc == document_id
        unit, first, last = units.in_document(str(document_id))
        if not len(unit):
            continue
        r, b, f = rows[mine], begin[mine], finish[mine]
        lo = np.searchsorted(first, b - int((last - first).max()), "right")
        count = np.maximum(np.searchsorted(first, f, "left") - lo, 0)
        span = np.repeat(np.arange(len(r)), count)
        at = lo[span] + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        b, f, r = b[span], f[span], r[span]
        overlap = np.minimum(last[at], f) - np.maximum(first[at], b)
        enough = overlap >= units.min_overlap * np.minimum(last[at] - first[at], f - b)
        at, b, f, r = at[enough], b[enough], f[enough], r[enough]
        parts.append(
            pd.DataFrame(
                {
                    "row": r,
                    "unit": unit[at],
                    "start": np.maximum(b, first[at]),
                    "end": np.minimum(f, last[at]),
                }
            )
        )
    hits = pd.concat(parts, ignore_index=True).astype(np.int64)
    hits = hits.sort_values(["row", "unit"], kind="stable", ignore_index=True)
    first = units.spans["start"].to_numpy()[hits["unit"]]
    last = units.spans["end"].to_numpy()[hits["unit"]]
    whole = (hits["start"].to_numpy() <= first) & (hits["end"].to_numpy() >= last)
    hits["start"] = hits["start"].astype("Int64").mask(whole)
    hits["end"] = hits["end"].astype("Int64").mask(whole)
    return hits
