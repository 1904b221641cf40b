"""Import coders' codings from long-format CSV, and add coders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coding import csvfile
from coding.errors import CodingError, InvalidInput, Problem
from coding.model import NAME_RE, Annotation, Segment
from coding.service.study import pick_document
from coding.store import Store

AnnotationKey = tuple[str, str, str, int | None, int | None]  # segment, code, coder, span
COMPLETE_MODES = ("documents", "segments", "none")


def add_coders(store: Store, names: Sequence[str], actor: str) -> list[str]:
    """Add human coders by name; return those that were new."""
    bad = [n for n in names if not NAME_RE.match(n) or n == "nlp"]
    if bad:
        raise CodingError(
            f"invalid coder name(s): {', '.join(map(repr, bad))} (letters, digits, "
            "'_', '-', '.', '@'; 'nlp' is reserved for suggestions)"
        )
    return store.add_coders(names, actor)


@dataclass(frozen=True)
class CodingsImport:
    rows: int
    added: int
    already_present: int
    coders: tuple[str, ...]
    completed_units: int


class _Index:
    """Finds the unit segments a codings row refers to."""

    def __init__(self, store: Store, min_overlap: float = 0.5) -> None:
        self.min_overlap = min_overlap
        segments = store.segments()
        self.by_id = {s.id: s for s in segments}
        self.by_label: dict[tuple[str, str], Segment] = {
            (s.document_id, s.label): s for s in segments if s.kind == "imported"
        }
        self.by_document: dict[str, list[Segment]] = {}
        for s in segments:
            self.by_document.setdefault(s.document_id, []).append(s)
        self.all_documents = store.documents()
        self.documents = {d.id: d for d in self.all_documents}

    def find(self, row: dict[str, str], where: str, problems: list[Problem]) -> list[Segment]:
        seg_id = (row.get("segment_id") or "").strip()
        doc_name = (row.get("document_id") or "").strip()
        doc_id = None
        if doc_name:
            picked = pick_document(doc_name, self.all_documents)
            if isinstance(picked, str):
                problems.append(Problem(where, picked))
                return []
            doc_id = picked.id
        if seg_id:
            found = self.by_id.get(seg_id) or (
                self.by_label.get((doc_id, seg_id)) if doc_id else None
            )
            if found is None:
                problems.append(Problem(where, f"unknown segment {seg_id!r}"))
                return []
            if doc_id is not None and found.document_id != doc_id:
                problems.append(
                    Problem(
                        where,
                        f"segment {seg_id!r} belongs to document "
                        f"{found.document_id!r}, not {doc_name!r}",
                    )
                )
                return []
            return [found]
        if doc_id is None:
            problems.append(Problem(where, "give segment_id, or document_id with start and end"))
            return []
        try:
            start, end = int(row.get("start") or ""), int(row.get("end") or "")
        except ValueError:
            problems.append(Problem(where, "start and end must be whole numbers"))
            return []
        length = len(self.documents[doc_id].text)
        if not 0 <= start < end <= length:
            problems.append(
                Problem(where, f"span {start}:{end} is outside document {doc_name!r} (0:{length})")
            )
            return []
        hits = [
            s
            for s in self.by_document.get(doc_id, [])
            if _overlap(s, start, end) >= self.min_overlap * min(s.end - s.start, end - start)
        ]
        if not hits:
            problems.append(
                Problem(
                    where,
                    f"span {start}:{end} covers no unit of {doc_name!r} "
                    f"by at least {self.min_overlap:.0%} of the shorter",
                )
            )
        return hits


def _overlap(seg: Segment, start: int, end: int) -> int:
    return max(0, min(seg.end, end) - max(seg.start, start))


def _open_codings(path: Path) -> csvfile.CsvTable:
    """A codings CSV, read strictly, whose header has been checked; only ``memo`` may hold
    line breaks."""
    table = csvfile.read_csv(path, multiline={"memo"})
    header = table.header
    missing = [c for c in ("coder", "code") if c not in header]
    if "segment_id" not in header and not {"document_id", "start", "end"} <= set(header):
        missing.append("segment_id (or document_id, start, end)")
    if missing:
        raise InvalidInput(
            str(path), [Problem("header", f"missing column(s): {', '.join(missing)}")]
        )
    return table


@dataclass
class _Rows:
    """What the rows of a codings file say, and every problem found in them."""

    annotations: list[Annotation]
    new_coders: set[str]
    problems: list[Problem]
    count: int = 0


def _check_person_and_code(
    row: dict[str, str],
    where: str,
    codes: set[str],
    version: int,
    known: set[str],
    add_new: bool,
    out: _Rows,
) -> tuple[str, str]:
    coder, code = (row.get("coder") or "").strip(), (row.get("code") or "").strip()
    if not coder:
        out.problems.append(Problem(where, "'coder' is empty"))
    elif coder not in known:
        if add_new and NAME_RE.match(coder) and coder != "nlp":
            out.new_coders.add(coder)
        else:
            out.problems.append(
                Problem(
                    where,
                    f"unknown coder {coder!r} (add with 'coding coders add', or pass --add-coders)",
                )
            )
    if not code:
        out.problems.append(Problem(where, "'code' is empty"))
    elif code not in codes:
        out.problems.append(Problem(where, f"unknown code {code!r} (not in codebook v{version})"))
    return coder, code


def _read_rows(store: Store, table: csvfile.CsvTable, index: _Index, add_new: bool) -> _Rows:
    current = store.codebook()
    codes = set(current.codebook.code_ids)
    known = set(store.coders(kind="human"))
    out = _Rows([], set(), [])
    seen: dict[AnnotationKey, int] = {}
    for line in table.rows:
        row, number, where = line.cells, line.number, line.where
        out.count += 1
        coder, code = _check_person_and_code(
            row, where, codes, current.version, known, add_new, out
        )
        for seg in index.find(row, where, out.problems):
            span = _span(row, seg)
            key = (seg.id, code, coder, *span)
            if key in seen:
                out.problems.append(Problem(where, f"duplicate of row {seen[key]}"))
                continue
            seen[key] = number
            out.annotations.append(
                Annotation(
                    segment_id=seg.id,
                    code_id=code,
                    coder=coder,
                    start=span[0],
                    end=span[1],
                    memo=(row.get("memo") or "").strip(),
                    codebook_version=current.version,
                )
            )
    if out.count == 0:
        out.problems.append(Problem("file", "no rows"))
    return out


def import_codings(
    store: Store,
    path: str | Path,
    actor: str,
    *,
    complete: str = "documents",
    add_new_coders: bool = False,
    min_overlap: float = 0.5,
) -> CodingsImport:
    """Import codings (segment_id or document_id+start+end, coder, code[, memo]); all or none.

    ``complete``: which units count as finished by each coder in the file: every unit of
    each document they coded (``documents``, the default), only the units they coded
    (``segments``), or none (``none``: mark completion later). A span goes to each unit it
    overlaps by at least ``min_overlap`` of the shorter of the two (so a selection that runs a
    few characters into the next paragraph does not code that paragraph).
    """
    if complete not in COMPLETE_MODES:
        raise CodingError(f"unknown completion mode {complete!r}")
    path = Path(path)
    reader = _open_codings(path)
    if not 0.0 < min_overlap <= 1.0:
        raise CodingError(f"--min-overlap must be in (0, 1], got {min_overlap}")
    index = _Index(store, min_overlap)
    rows = _read_rows(store, reader, index, add_new_coders)
    if rows.problems:
        raise InvalidInput(str(path), rows.problems)
    existing = store.annotations_frame()
    have = annotation_keys(existing)
    fresh = [
        a
        for a in rows.annotations
        if (a.segment_id, a.code_id, a.coder, a.start, a.end) not in have
    ]
    pairs = _completed_pairs(index, rows.annotations, complete)
    if rows.new_coders:
        store.add_coders(sorted(rows.new_coders), actor)
    store.add_annotations(fresh, actor, complete=pairs)
    return CodingsImport(
        rows=rows.count,
        added=len(fresh),
        already_present=len(rows.annotations) - len(fresh),
        coders=tuple(sorted({a.coder for a in rows.annotations})),
        completed_units=len(pairs),
    )


def annotation_keys(annotations: pd.DataFrame) -> set[AnnotationKey]:
    """(segment, code, coder, start, end) of stored annotations, with None for a whole
    segment, as an Annotation of the same coding would have: what makes an import a no-op."""
    return {
        (
            r.segment_id,
            r.code_id,
            r.coder,
            None if r.whole_segment else r.start,
            None if r.whole_segment else r.end,
        )
        for r in annotations.itertuples(index=False)
    }


def _span(row: dict[str, str], seg: Segment) -> tuple[int | None, int | None]:
    """The row's span clipped to the segment; (None, None) when it covers the whole segment."""
    if (row.get("segment_id") or "").strip() or not (row.get("start") or "").strip():
        return None, None
    start, end = max(int(row["start"]), seg.start), min(int(row["end"]), seg.end)
    if start <= seg.start and end >= seg.end:
        return None, None
    return start, end


def _completed_pairs(
    index: _Index, annotations: Sequence[Annotation], mode: str
) -> list[tuple[str, str]]:
    if mode == "none":
        return []
    if mode == "segments":
        return sorted({(a.segment_id, a.coder) for a in annotations})
    pairs: set[tuple[str, str]] = set()
    for coder, doc_id in {(a.coder, index.by_id[a.segment_id].document_id) for a in annotations}:
        pairs.update((s.id, coder) for s in index.by_document[doc_id])
    return sorted(pairs)


def assign(
    store: Store,
    coder: str,
    actor: str,
    documents: Sequence[str] = (),
) -> int:
    """Give a coder every unit of the named documents (all documents when none are named).

    Units the coder already has keep their state; returns the number newly assigned.
    """
    if coder not in store.coders(kind="human"):
        raise CodingError(f"unknown coder {coder!r} (add with 'coding coders add')")
    every = store.documents()
    picked = [pick_document(ref, every) for ref in documents]
    problems = [p for p in picked if isinstance(p, str)]
    if problems:
        raise CodingError("; ".join(problems))
    wanted = [d.id for d in picked if not isinstance(d, str)] or [
        d.id for d in store.documents(latest_only=True)
    ]
    units = [s.id for doc_id in wanted for s in store.segments(document_id=doc_id)]
    return store.assign(units, coder, actor)
