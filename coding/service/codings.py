"""Import coders' codings from long-format CSV, and add coders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from coding import csvfile
from coding.errors import CodingError, Conflict, InvalidInput, Problem
from coding.model import NAME_RE, OnProgress, ProgressEvent, no_progress
from coding.service.codings_rows import (
    RANK_DUPLICATE,
    Column,
    Problems,
    Units,
    check_memos,
    check_people_and_codes,
    units_by_id,
    units_by_span,
)
from coding.store import Store
from coding.store import coder as coder_store
from coding.store import review as review_store

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


def _open_codings(path: Path) -> csvfile.CsvColumns:
    """A codings CSV, read strictly, whose header has been checked; only ``memo`` may hold
    line breaks."""
    table = csvfile.read_columns(path, multiline={"memo"})
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
    """What the rows of a codings file say, and every problem found in them.

    ``hits`` has a row per unit a row codes: ``row`` (index of the file's row), ``unit``
    (index into ``Units.spans``), ``start`` and ``end`` (missing for the whole unit), and
    ``coder`` and ``code`` as indexes into ``coders`` and ``codes``; ``annotations`` are the
    same as the store takes them."""

    hits: pd.DataFrame
    annotations: pd.DataFrame
    coders: list[str]
    new_coders: list[str]
    problems: list[Problem]
    count: int


_COLUMNS = ("coder", "code", "segment_id", "document_id", "start", "end", "memo")


def _read_rows(
    store: Store, path: Path, units: Units, add_new: bool, on_progress: OnProgress
) -> _Rows:
    table = _open_codings(path)
    on_progress(ProgressEvent("checking", 0, len(table), item=path.name))
    c = {name: Column.of(table, name) for name in _COLUMNS}
    table = replace(table, columns={})  # the cells are in ``c`` now: let them go
    current = store.codebook()
    problems = Problems()
    new_coders = check_people_and_codes(
        c["coder"],
        c["code"],
        set(store.coders(kind="human")),
        set(current.codebook.code_ids),
        current.version,
        add_new,
        problems,
    )
    check_memos(c["memo"], problems)
    by_span = c["segment_id"].empty()
    hits = pd.concat(
        [
            units_by_id(
                np.flatnonzero(~by_span), c["segment_id"], c["document_id"], units, problems
            ),
            units_by_span(
                np.flatnonzero(by_span), c["document_id"], c["start"], c["end"], units, problems
            ),
        ],
        ignore_index=True,
    ).sort_values(["row", "unit"], kind="stable", ignore_index=True)
    rows = hits["row"].to_numpy()
    hits["coder"], hits["code"] = c["coder"].codes[rows], c["code"].codes[rows]
    _check_duplicates(hits, problems)
    annotations = pd.DataFrame(
        {
            "segment_id": pd.Categorical.from_codes(
                hits["unit"], pd.Index(units.spans["segment_id"].to_numpy(dtype=object))
            ),
            "code_id": c["code"].categorical(rows),
            "coder": c["coder"].categorical(rows),
            "start": hits["start"],
            "end": hits["end"],
            "memo": c["memo"].categorical(rows),
            "codebook_version": current.version,
        }
    )
    listed = problems.listed(table)
    if not len(table):
        listed.append(Problem("file", "no rows"))
    return _Rows(hits, annotations, c["coder"].values, new_coders, listed, len(table))


def _check_duplicates(hits: pd.DataFrame, problems: Problems) -> None:
    """Report each row that codes a unit (code, coder, span) an earlier row codes."""
    key = ["unit", "code", "coder", "start", "end"]
    again = hits.duplicated(key).to_numpy()
    if again.any():
        first = hits.groupby(key, dropna=False, sort=False)["row"].transform("first")
        later = hits["row"].to_numpy()[again]
        messages = [f"duplicate of row {r + 2}" for r in first.to_numpy()[again]]
        problems.add(later, RANK_DUPLICATE, np.asarray(messages, dtype=object))


def import_codings(
    store: Store,
    path: str | Path,
    actor: str,
    *,
    complete: str = "auto",
    add_new_coders: bool = False,
    min_overlap: float = 0.5,
    allow_drafts: bool = False,
    on_progress: OnProgress = no_progress,
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
    that paragraph). ``on_progress`` hears of reading, checking and storing.
    """
    if complete not in COMPLETE_MODES:
        raise CodingError(f"unknown completion mode {complete!r}")
    path = Path(path)
    if not 0.0 < min_overlap <= 1.0:
        raise CodingError(f"--min-overlap must be in (0, 1], got {min_overlap}")
    on_progress(ProgressEvent("reading", item=path.name))
    units = Units(store, min_overlap)
    rows = _read_rows(store, path, units, add_new_coders, on_progress)
    if rows.problems:
        raise InvalidInput(str(path), rows.problems)
    plan = _plan_completion(store, units, rows, complete)
    drafted = [c for c in plan.completion if c.drafts]
    if drafted and not allow_drafts:
        raise Conflict(_drafts_refused(complete, plan.completion))
    # New coders, annotations and completions in one transaction, which also decides what is
    # already stored: a concurrent identical import finds everything present.
    added, _coders = store.import_annotations(
        rows.annotations,
        actor,
        complete=plan.pairs,
        new_coders=rows.new_coders,
        on_progress=on_progress,
    )
    # The review's counts are kept with the codings (store/disputes.py): brought up to date
    # here, `coding status` and `coding disagreements` after the import read them at once.
    on_progress(ProgressEvent("counting disagreements"))
    review_store.kept_disputes(store)
    return CodingsImport(
        rows=rows.count,
        added=added,
        already_present=len(rows.annotations) - added,
        coders=tuple(sorted(rows.coders[i] for i in np.unique(rows.hits["coder"]))),
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


@dataclass(frozen=True)
class _Completion:
    pairs: list[tuple[str, str]]  # (segment, coder) to mark complete, not complete yet
    completion: tuple[UnitCount, ...]
    left_open: tuple[UnitCount, ...]


_PAIR = ["unit", "coder"]
_CODER_DOCUMENT = ["coder", "document"]


def _plan_completion(store: Store, units: Units, rows: _Rows, mode: str) -> _Completion:
    """Which units the import marks complete, and (``auto``) which open ones it leaves.

    Units, coders and documents are indexes here (into ``units.spans``, ``rows.coders`` and
    ``units.document_codes``), names again in the result."""
    coded = rows.hits[_PAIR].drop_duplicates(ignore_index=True)
    coded["document"] = units.document_codes[coded["unit"]]
    named = [rows.coders[i] for i in np.unique(coded["coder"])]
    assignments = store.assignments_frame(named)
    held = pd.DataFrame(
        {
            "unit": units.ids.get_indexer(assignments["segment_id"]),
            "coder": pd.Index(rows.coders).get_indexer(assignments["coder"]),
            "completed": assignments["completed"].to_numpy(dtype=bool),
        }
    )
    held["document"] = units.document_codes[held["unit"]]
    done, open_units = held[held["completed"]], held[~held["completed"]]
    wanted = _completed_pairs(units, coded, "documents" if mode == "auto" else mode)
    left = open_units.iloc[:0]
    if mode == "auto":
        left = open_units.merge(coded[_CODER_DOCUMENT].drop_duplicates(), on=_CODER_DOCUMENT)
        wanted = _without(wanted, open_units, _CODER_DOCUMENT)
    pairs = _named(_without(wanted, done, _PAIR), units, rows.coders)
    left_named = _named(left, units, rows.coders)
    drafts = coder_store.draft_units(store, sorted(set(pairs["coder"]) | set(left_named["coder"])))
    return _Completion(
        list(zip(pairs["segment_id"], pairs["coder"], strict=True)),
        _counts(pairs, drafts),
        _counts(left_named, drafts),
    )


def _named(pairs: pd.DataFrame, units: Units, coders: list[str]) -> pd.DataFrame:
    """(segment_id, document_id, coder) of (unit, coder) pairs, by segment id and coder."""
    unit = pairs["unit"].to_numpy(np.int64)
    named = pd.DataFrame(
        {
            "segment_id": units.spans["segment_id"].to_numpy(dtype=object)[unit],
            "document_id": units.document_of[unit],
            "coder": np.asarray(coders, dtype=object)[pairs["coder"].to_numpy(np.int64)],
        },
        dtype=object,
    )
    return named.sort_values(["segment_id", "coder"], ignore_index=True)


def _without(frame: pd.DataFrame, other: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """The rows of ``frame`` whose ``on`` columns match no row of ``other``."""
    found = frame.merge(other[on].drop_duplicates(), on=on, how="left", indicator=True)
    return frame[(found["_merge"] == "left_only").to_numpy()]


def _counts(pairs: pd.DataFrame, drafts: set[tuple[str, str]]) -> tuple[UnitCount, ...]:
    """Units per coder and document, and how many of them hold a draft."""
    if pairs.empty:
        return ()
    drafted = [pair in drafts for pair in zip(pairs["segment_id"], pairs["coder"], strict=True)]
    counts = (
        pairs.assign(drafted=drafted)
        .groupby(["coder", "document_id"], sort=True)["drafted"]
        .agg(["size", "sum"])
    )
    return tuple(
        UnitCount(str(coder), str(document), int(units), int(drafts))
        for (coder, document), units, drafts in zip(
            counts.index, counts["size"], counts["sum"], strict=True
        )
    )


def _completed_pairs(units: Units, coded: pd.DataFrame, mode: str) -> pd.DataFrame:
    """(unit, coder, document) of the units ``mode`` completes, before exceptions."""
    if mode == "none":
        return coded.iloc[:0]
    if mode == "segments":
        return coded
    every = pd.DataFrame({"unit": np.arange(len(units.spans)), "document": units.document_codes})
    return coded[_CODER_DOCUMENT].drop_duplicates().merge(every, on="document")
