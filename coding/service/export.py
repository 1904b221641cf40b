"""Export a study: load it from the Store, then write the files the core renders.

Every export uses final codes (consensus decisions where they exist) and only revealed work:
annotations on segments their coder has completed. Long exports report their progress through
``on_progress``: the study tables read, the agreement tables computed, the files written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from coding.errors import CodingError
from coding.export import report
from coding.export.audit import audit_events
from coding.export.files import (
    AUDIT_EVENTS,
    BASENAME,
    EXPORT_FILES,
    FORMATS,
    KINDS,
    RENDERERS,
    THEME_FIGURE,
    File,
    Options,
    content_bytes,
)
from coding.export.report import EXCERPTS
from coding.export.study import StudyData
from coding.model import OnProgress, ProgressEvent, Role, no_progress
from coding.service import agreement as agreement_service
from coding.service.access import require_role
from coding.service.attributes import export_attributes, matrix_rows_by
from coding.service.folders import write_folder
from coding.store import Store
from coding.store.cursor import collector_paused

__all__ = [
    "AUDIT_EVENTS",
    "BASENAME",
    "EXCERPTS",
    "EXPORT_FILES",
    "FORMATS",
    "KINDS",
    "RENDERERS",
    "THEME_FIGURE",
    "StudyData",
    "available_exports",
    "export_bytes",
    "export_download",
    "export_study",
    "load",
    "render",
]
READ_STEPS = ("codebook", "events", "decisions", "annotations", "segments", "documents")


def _reliability(
    store: Store, assignments: pd.DataFrame, on_progress: OnProgress
) -> report.Reliability:
    """The agreement tables of the reports, all computed from one read of the study;
    ``assignments`` are the human coders'."""
    found: dict[str, pd.DataFrame] = {}
    missing: list[str] = []
    data = agreement_service.AgreementData.read(store)
    submitted = agreement_service.default_coders(assignments)
    total = 2 + len(submitted)
    for done, (key, by) in enumerate((("by_code", "code"), ("by_document", "document"))):
        on_progress(ProgressEvent("agreement", done, total, key))
        try:
            found[key] = agreement_service.agreement_report(data, by=by)
        except CodingError as err:
            missing.append(f"{key}: {err}")
    after = []
    for done, coder in enumerate(submitted, start=2):
        on_progress(ProgressEvent("agreement", done, total, f"{coder} vs consensus"))
        try:
            table = agreement_service.agreement_report(data, [coder, agreement_service.CONSENSUS])
        except CodingError as err:
            missing.append(f"{coder} vs consensus: {err}")
            continue
        table.insert(0, "coder", coder)
        after.append(table)
    on_progress(ProgressEvent("agreement", total, total))
    if after:
        found["vs_consensus"] = pd.concat(after, ignore_index=True)
    return report.Reliability(found, "; ".join(missing))


def _decision_history(store: Store) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": r.id,
                "segment_id": r.segment_id,
                "code_id": r.code_id,
                "decision": str(r.decision),
                "reviewer": r.reviewer,
                "rationale": r.rationale,
                "at": r.at.isoformat(),
                "codebook_version": r.codebook_version,
            }
            for r in store.resolutions()
        ]
    )


def load(
    store: Store, with_reliability: bool = True, on_progress: OnProgress = no_progress
) -> StudyData:
    """Read a study for export; only human coders' completed work is used."""

    def step(done: int) -> None:
        item = READ_STEPS[done] if done < len(READ_STEPS) else ""
        on_progress(ProgressEvent("reading", done, len(READ_STEPS), item))

    step(0)
    if not store.codebook_versions():
        raise CodingError(f"{store.target}: the study has no codebook yet; nothing to export")
    codebook = store.codebook()
    step(1)
    # Every coder's completed units (not only humans'): a draft stays out of the event trail.
    every = store.assignments_frame()
    events = audit_events(store.events(), every)
    step(2)
    history, resolutions = _decision_history(store), store.current_resolutions_frame()
    step(3)
    coders = store.coders(kind="human")
    annotations = store.annotations_frame(coders)
    assignments = every[every["coder"].isin(coders)].reset_index(drop=True)
    step(4)
    segments = store.segments_frame()
    step(5)
    documents = store.documents()
    step(6)
    return StudyData(
        name=Path(store.target).stem if "://" not in store.target else store.target.rsplit("/")[-1],
        revision=store.revision(),
        codebook=codebook,
        documents=documents,
        segments=segments,
        annotations=annotations,
        assignments=assignments,
        resolutions=resolutions,
        history=history,
        events=events,
        coders=coders,
        reliability=_reliability(store, assignments, on_progress)
        if with_reliability
        else report.Reliability({}, "not computed"),
        attributes=export_attributes(store),
    )


def _check(kind: str, fmt: str) -> None:
    if kind not in FORMATS:
        raise CodingError(f"unknown export {kind!r}; choose from {', '.join(KINDS)}")
    if fmt not in FORMATS[kind]:
        raise CodingError(f"{kind} exports as {', '.join(FORMATS[kind])}, not {fmt!r}")


def _options(excerpts: int | None, inline: bool = False) -> Options:
    if excerpts is not None and excerpts < 0:
        raise CodingError(f"excerpts per code and programme must be 0 or more, not {excerpts}")
    return Options(inline=inline, excerpts=excerpts)


def render(data: StudyData, kind: str, fmt: str, options: Options | None = None) -> list[File]:
    """The files of one export kind in one format, each written when its content is called."""
    _check(kind, fmt)
    return RENDERERS[kind](data, fmt, options or Options())


def export_bytes(
    store: Store,
    kind: str,
    fmt: str,
    *,
    excerpts: int | None = EXCERPTS,
    on_progress: OnProgress = no_progress,
) -> tuple[str, bytes]:
    """One export as (file name, bytes), for a download button: the first file of the kind
    (Markdown embeds its figure)."""
    _check(kind, fmt)
    options = _options(excerpts, inline=True)
    data = load(store, kind in ("themes", "agreement"), on_progress)
    name, content = render(data, kind, fmt, options)[0]
    on_progress(ProgressEvent("writing", 0, 1, name))
    built = content_bytes(content)
    on_progress(ProgressEvent("writing", 1, 1, name))
    return name, built


def export_study(
    store: Store,
    directory: str | Path,
    kinds: Sequence[str] | None = None,
    formats: Sequence[str] | None = None,
    *,
    excerpts: int | None = EXCERPTS,
    on_progress: OnProgress = no_progress,
    matrix_rows: str | None = None,
    matrix_columns: str | None = None,
    matrix_code: str | None = None,
) -> list[Path]:
    """Write the chosen exports (default: all kinds in all their formats) into ``directory``.

    All or nothing, even if the process is killed: the files are written, one chunk of rows
    at a time, into a folder beside ``directory`` and swapped in as one step
    (:mod:`coding.service.folders`). Files of an earlier export that this one does not write
    stay; a folder holding other files is refused. ``excerpts`` caps the theme report's
    excerpts per code and programme (None: all of them). ``matrix_rows`` names an attribute
    of units or documents whose values are the matrix's rows (default: programme);
    ``matrix_columns`` one whose values are its columns, the codes then being the rows, or,
    with ``matrix_code``, the cells counting that one code by rows x columns of values.
    """
    chosen = list(kinds) if kinds else list(KINDS)
    for kind in chosen:
        _check(kind, FORMATS[kind][0])
    wanted = {kind: [f for f in FORMATS[kind] if not formats or f in formats] for kind in chosen}
    if formats and not any(wanted.values()):
        raise CodingError(f"no chosen export comes in {', '.join(formats)}")
    options = _options(excerpts)
    layout = _matrix_layout(store, matrix_rows, matrix_columns, matrix_code)
    # Python's cycle collector is off while a whole export is read and written: the tables
    # hold tens of millions of objects and no cycles, and each full collection walks them all
    # (at a million units the read alone took four times as long with it on).
    with collector_paused():
        data = load(store, bool({"themes", "agreement"} & set(chosen)), on_progress)
        data.matrix_rows, data.matrix_columns, data.matrix_code = layout
        files = [
            file
            for kind, fmts in wanted.items()
            for fmt in fmts
            for file in render(data, kind, fmt, options)
        ]
        return write_folder(directory, files, EXPORT_FILES, on_progress)


MatrixBy = tuple[str, dict[str, str]]


def _matrix_layout(
    store: Store, rows: str | None, columns: str | None, code: str | None
) -> tuple[MatrixBy | None, MatrixBy | None, str | None]:
    """The matrix's rows and columns by attribute (name, segment id -> value) and its one
    code, checked: known attributes, two different ones, a code of the codebook."""
    if code is not None and columns is None:
        raise CodingError(
            "a matrix of one code needs an attribute for its columns (and, if not "
            "programme, one for its rows)"
        )
    if rows is not None and columns is not None and code is None:
        raise CodingError(
            "with attributes on both the matrix's rows and columns, name the code to count "
            "(--matrix-code)"
        )
    by_rows = _matrix_by(store, rows, "rows") if rows else None
    by_columns = _matrix_by(store, columns, "columns") if columns else None
    if by_columns and by_columns[0] == (by_rows[0] if by_rows else "programme") and code:
        raise CodingError(f"the matrix's rows and columns are both {by_columns[0]!r}")
    if code is not None:
        known = store.codebook().codebook.code_ids
        if code not in known:
            raise CodingError(f"unknown code {code!r}; the codebook has: {', '.join(known)}")
    return by_rows, by_columns, code


def _matrix_by(store: Store, name: str, side: str) -> MatrixBy:
    try:
        return matrix_rows_by(store, name)
    except CodingError as err:
        raise CodingError(f"cannot put {name!r} on the matrix's {side}: {err}") from err


def available_exports() -> list[tuple[str, str, str]]:
    """(kind, format, file name) of every download on offer."""
    return [
        (kind, fmt, f"{BASENAME.get(kind, kind)}.{fmt}")
        for kind, formats in FORMATS.items()
        for fmt in formats
    ]


def export_download(
    store: Store,
    user: str,
    kind: str,
    fmt: str,
    *,
    excerpts: int | None = EXCERPTS,
    on_progress: OnProgress = no_progress,
) -> tuple[str, bytes]:
    """One export as (file name, bytes) for a reviewer or admin (it shows every coder's work)."""
    require_role(store, user, Role.REVIEWER)
    return export_bytes(store, kind, fmt, excerpts=excerpts, on_progress=on_progress)
