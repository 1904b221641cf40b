"""Import coders' codings from long-format CSV, and add coders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coding import csvfile
from coding.errors import CodingError, Conflict, InvalidInput, Problem
from coding.model import NAME_RE, Annotation, Segment
from coding.service.study import pick_document
from coding.store import Store
from coding.store import coder as coder_store

AnnotationKey = tuple[str, str, str, int | None, int | None]  # segment, code, coder, span
COMPLETE_MODES = ("auto", "documents", "segments", "none")


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
class UnitCount:
    """Units of one document for one coder, and how many of them hold a draft: codes or a
    memo the coder saved in the app without submitting the unit."""

    coder: str
    document_id: str
    units: int
    drafts: int

    def __str__(self) -> str:
        drafts = f" ({self.drafts} with a draft)" if self.drafts else ""
        return f"{self.coder}: {self.document_id}: {self.units} unit{_s(self.units)}{drafts}"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


@dataclass(frozen=True)
class CodingsImport:
    rows: int
    added: int
    already_present: int
    coders: tuple[str, ...]
    completed_units: int  # units this import marked complete (not complete before)
    completion: tuple[UnitCount, ...] = ()  # those units per coder and document
    left_open: tuple[UnitCount, ...] = ()  # units open in the app that ``auto`` left open


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
    complete: str = "auto",
    add_new_coders: bool = False,
    min_overlap: float = 0.5,
    allow_drafts: bool = False,
) -> CodingsImport:
    """Import codings (segment_id or document_id+start+end, coder, code[, memo]); all or none.

    ``complete``: which units count as submitted by each coder in the file. ``auto`` (the
    default): every unit of each document they coded, except in documents where the coder
    has units open in the app (assigned, not submitted): those are left to the coder.
    ``documents``: every unit of each document they coded, open ones too. ``segments``: only
    the units they coded. ``none``: mark completion later. Completing a unit that holds a
    draft (codes or a memo the coder saved in the app) is refused unless ``allow_drafts``.
    A span goes to each unit it overlaps by at least ``min_overlap`` of the shorter of the
    two (so a selection that runs a few characters into the next paragraph does not code
    that paragraph).
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
    plan = _plan_completion(store, index, rows.annotations, complete)
    drafted = [c for c in plan.completion if c.drafts]
    if drafted and not allow_drafts:
        raise Conflict(_drafts_refused(complete, plan.completion))
    # New coders, annotations and completions in one transaction, which also decides what is
    # already stored: a concurrent identical import finds everything present.
    added, _coders = store.import_annotations(
        rows.annotations, actor, complete=plan.pairs, new_coders=sorted(rows.new_coders)
    )
    return CodingsImport(
        rows=rows.count,
        added=added,
        already_present=len(rows.annotations) - added,
        coders=tuple(sorted({a.coder for a in rows.annotations})),
        completed_units=len(plan.pairs),
        completion=plan.completion,
        left_open=plan.left_open,
    )


def _drafts_refused(mode: str, completion: Sequence[UnitCount]) -> str:
    by_coder: dict[str, tuple[int, int]] = {}
    for c in completion:
        units, drafts = by_coder.get(c.coder, (0, 0))
        by_coder[c.coder] = (units + c.units, drafts + c.drafts)
    drafted = "; ".join(
        f"{coder}: {units} unit{_s(units)} to complete, {drafts} of them with unsubmitted "
        "codes or memo saved in the app"
        for coder, (units, drafts) in sorted(by_coder.items())
        if drafts
    )
    return (
        f"--complete {mode} would submit coders' unsubmitted work ({drafted}); nothing was "
        f"imported. It would complete {'; '.join(map(str, completion))}. Pass --yes to "
        "complete them anyway, or use --complete auto to leave open units to their coders"
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


@dataclass(frozen=True)
class _Completion:
    pairs: list[tuple[str, str]]  # (segment, coder) to mark complete, not complete yet
    completion: tuple[UnitCount, ...]
    left_open: tuple[UnitCount, ...]


def _plan_completion(
    store: Store, index: _Index, annotations: Sequence[Annotation], mode: str
) -> _Completion:
    """Which units the import marks complete, and (``auto``) which open ones it leaves."""
    assignments = store.assignments_frame(sorted({a.coder for a in annotations}))
    columns = (assignments["segment_id"], assignments["coder"], assignments["completed"])
    done: set[tuple[str, str]] = set()
    open_units: set[tuple[str, str]] = set()
    for segment_id, coder, completed in zip(*columns, strict=True):
        (done if completed else open_units).add((segment_id, coder))
    doc_of = {s: seg.document_id for s, seg in index.by_id.items()}
    wanted = set(_completed_pairs(index, annotations, "documents" if mode == "auto" else mode))
    left: set[tuple[str, str]] = set()
    if mode == "auto":
        busy = {(coder, doc_of[s]) for s, coder in open_units}
        coded = {(a.coder, doc_of[a.segment_id]) for a in annotations}
        left = {(s, coder) for s, coder in open_units if (coder, doc_of[s]) in coded}
        wanted = {(s, coder) for s, coder in wanted if (coder, doc_of[s]) not in busy}
    pairs = sorted(wanted - done)
    drafts = coder_store.draft_units(store, sorted({coder for _, coder in [*pairs, *left]}))
    return _Completion(pairs, _counts(pairs, drafts, doc_of), _counts(left, drafts, doc_of))


def _counts(
    pairs: Iterable[tuple[str, str]], drafts: set[tuple[str, str]], doc_of: dict[str, str]
) -> tuple[UnitCount, ...]:
    counts: dict[tuple[str, str], list[int]] = {}
    for segment_id, coder in pairs:
        n = counts.setdefault((coder, doc_of[segment_id]), [0, 0])
        n[0] += 1
        n[1] += (segment_id, coder) in drafts
    return tuple(UnitCount(c, d, units, n) for (c, d), (units, n) in sorted(counts.items()))


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
