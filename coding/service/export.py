"""Export a study: load it from the Store, build the tables and reports, write the files.

Every export uses final codes (consensus decisions where they exist) and only revealed work:
annotations on segments their coder has completed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from coding.errors import CodingError
from coding.export import document as doc
from coding.export import figures, report, tables
from coding.export.cells import csv_text
from coding.export.xlsx import workbook_bytes
from coding.model import CodebookVersion, Document, Role
from coding.refi.qdc import write_qdc
from coding.refi.qdpx_write import ProjectContent, write_qdpx
from coding.service import agreement as agreement_service
from coding.service.access import require_role
from coding.service.folders import write_folder
from coding.store import Store

FORMATS: dict[str, tuple[str, ...]] = {
    "segments": ("csv", "xlsx", "json"),
    "themes": ("md", "html", "docx"),
    "matrix": ("csv", "xlsx", "png", "svg"),
    "agreement": ("csv", "xlsx", "html"),
    "audit": ("csv", "xlsx", "json"),
    "qdc": ("qdc",),
    "qdpx": ("qdpx",),
}
KINDS = tuple(FORMATS)
BASENAME = {
    "segments": "coded_segments",
    "themes": "theme_report",
    "matrix": "matrix",
    "agreement": "agreement",
    "audit": "audit_log",
    "qdc": "codebook",
    "qdpx": "project",
}
THEME_FIGURE = "theme_matrix.png"  # beside theme_report.md
AUDIT_EVENTS = "audit_events.csv"  # beside audit_log.csv
# Every file an export may write: a folder holding only these holds an earlier export.
EXPORT_FILES = frozenset(
    {f"{BASENAME[kind]}.{fmt}" for kind, formats in FORMATS.items() for fmt in formats}
    | {THEME_FIGURE, AUDIT_EVENTS}
)
File = tuple[str, bytes]


@dataclass
class StudyData:
    """Everything an export needs, read once from the Store."""

    name: str
    revision: int
    codebook: CodebookVersion
    documents: list[Document]
    segments: pd.DataFrame
    annotations: pd.DataFrame
    assignments: pd.DataFrame
    resolutions: pd.DataFrame
    history: pd.DataFrame
    events: pd.DataFrame  # the exportable event trail (tables.audit_events)
    coders: list[str]
    reliability: report.Reliability

    @cached_property
    def coded(self) -> pd.DataFrame:
        return tables.coded_segments(
            self.segments,
            self.annotations,
            self.assignments,
            self.resolutions,
            self.codebook.codebook,
            self.codebook.version,
            self.coders,
        )

    @cached_property
    def cells(self) -> pd.DataFrame:
        return tables.matrix(self.coded, self.segments, self.codebook.codebook)

    @cached_property
    def audit(self) -> pd.DataFrame:
        return tables.audit_log(self.history, self.annotations, self.assignments, self.segments)


def _reliability(store: Store, coders: Sequence[str]) -> report.Reliability:
    found: dict[str, pd.DataFrame] = {}
    missing: list[str] = []
    for key, by in (("by_code", "code"), ("by_document", "document")):
        try:
            found[key] = agreement_service.agreement_report(store, by=by)
        except CodingError as err:
            missing.append(f"{key}: {err}")
    after = []
    submitted = agreement_service.default_coders(store.assignments_frame(coders))
    for coder in submitted:
        try:
            table = agreement_service.agreement_report(store, [coder, agreement_service.CONSENSUS])
        except CodingError as err:
            missing.append(f"{coder} vs consensus: {err}")
            continue
        table.insert(0, "coder", coder)
        after.append(table)
    if after:
        found["vs_consensus"] = pd.concat(after, ignore_index=True)
    return report.Reliability(found, "; ".join(missing))


def load(store: Store, with_reliability: bool = True) -> StudyData:
    """Read a study for export; only human coders' completed work is used."""
    if not store.codebook_versions():
        raise CodingError(f"{store.target}: the study has no codebook yet; nothing to export")
    history = store.events()
    resolutions = store.resolutions()
    history_frame = pd.DataFrame(
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
            for r in resolutions
        ]
    )
    coders = store.coders(kind="human")
    annotations = store.annotations_frame(coders)
    assignments = store.assignments_frame(coders)
    # Every coder's completed units (not only humans'): a draft stays out of the event trail.
    events = tables.audit_events(history, store.assignments_frame())
    return StudyData(
        name=Path(store.target).stem if "://" not in store.target else store.target.rsplit("/")[-1],
        revision=store.revision(),
        codebook=store.codebook(),
        documents=store.documents(),
        segments=store.segments_frame(),
        annotations=annotations,
        assignments=assignments,
        resolutions=store.current_resolutions_frame(),
        history=history_frame,
        events=events,
        coders=coders,
        reliability=_reliability(store, coders)
        if with_reliability
        else report.Reliability({}, "not computed"),
    )


# -- renderers: each returns the files of one kind in one format -----------------------------
def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return list(json.loads(frame.to_json(orient="records", force_ascii=False)))


def _csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes whose cells never run as formulas in a spreadsheet (``cells.csv_text``)."""
    return csv_text(frame).encode("utf-8")


def _segments(data: StudyData, fmt: str, _inline: bool) -> list[File]:
    name = BASENAME["segments"]
    if fmt == "csv":
        return [(f"{name}.csv", _csv(data.coded))]
    if fmt == "xlsx":
        notes = pd.DataFrame({"note": [report.FINAL_CODES_NOTE]})
        return [(f"{name}.xlsx", workbook_bytes({"coded segments": data.coded, "notes": notes}))]
    return [
        (
            f"{name}.json",
            _json(
                {
                    "study": data.name,
                    "revision": data.revision,
                    "codebook_id": data.codebook.codebook.id,
                    "codebook_version": data.codebook.version,
                    "final_codes": report.FINAL_CODES_NOTE,
                    "rows": _records(data.coded),
                }
            ),
        )
    ]


def _figure(data: StudyData, fmt: str) -> bytes:
    return figures.heatmap(data.cells, fmt, title="Share of segments with each final code")


def _themes(data: StudyData, fmt: str, inline: bool) -> list[File]:
    png = _figure(data, "png")
    caption = "Programme x code matrix: share of each programme's segments with the final code"
    image_file = THEME_FIGURE
    target = f"data:image/png;base64,{base64.b64encode(png).decode()}" if inline else image_file
    figure = doc.Figure(
        caption, png=png, svg=_figure(data, "svg") if fmt == "html" else b"", file=target
    )
    blocks = report.theme_blocks(
        study=data.name,
        revision=data.revision,
        codebook=data.codebook.codebook,
        codebook_version=data.codebook.version,
        coded=data.coded,
        cells=data.cells,
        reliability=data.reliability,
        figure=figure,
        coders=data.coders,
    )
    title = f"Theme report: {data.codebook.codebook.name}"
    name = BASENAME["themes"]
    if fmt == "md":
        files = [(f"{name}.md", doc.to_markdown(blocks).encode())]
        return files if inline else [*files, (image_file, png)]
    if fmt == "html":
        return [(f"{name}.html", doc.to_html(blocks, title).encode())]
    return [(f"{name}.docx", doc.to_docx(blocks, title))]


def _matrix(data: StudyData, fmt: str, _inline: bool) -> list[File]:
    name = BASENAME["matrix"]
    if fmt == "csv":
        return [(f"{name}.csv", _csv(data.cells))]
    if fmt == "xlsx":
        return [
            (
                f"{name}.xlsx",
                workbook_bytes(
                    {
                        "counts": tables.matrix_wide(data.cells, "segments"),
                        "share": tables.matrix_wide(data.cells, "share"),
                        "cells": data.cells,
                    }
                ),
            )
        ]
    return [(f"{name}.{fmt}", _figure(data, fmt))]


def _agreement(data: StudyData, fmt: str, _inline: bool) -> list[File]:
    name = BASENAME["agreement"]
    found = data.reliability.tables
    notes = pd.DataFrame(
        {
            "note": [
                *report.METHOD_NOTES,
                *(
                    [f"not available: {data.reliability.missing}"]
                    if data.reliability.missing
                    else []
                ),
            ]
        }
    )
    if fmt == "csv":
        long = (
            pd.concat([f.assign(table=k) for k, f in found.items()], ignore_index=True)
            if found
            else pd.DataFrame({"table": []})
        )
        return [(f"{name}.csv", _csv(long[["table", *[c for c in long if c != "table"]]]))]
    if fmt == "xlsx":
        return [(f"{name}.xlsx", workbook_bytes({**found, "method notes": notes}))]
    blocks = report.agreement_blocks(
        study=data.name, revision=data.revision, reliability=data.reliability
    )
    return [(f"{name}.html", doc.to_html(blocks, "Agreement report").encode())]


def _audit(data: StudyData, fmt: str, _inline: bool) -> list[File]:
    name = BASENAME["audit"]
    if fmt == "csv":
        return [(f"{name}.csv", _csv(data.audit)), (AUDIT_EVENTS, _csv(data.events))]
    if fmt == "xlsx":
        return [(f"{name}.xlsx", workbook_bytes({"decisions": data.audit, "events": data.events}))]
    return [
        (
            f"{name}.json",
            _json({"decisions": _records(data.audit), "events": _records(data.events)}),
        )
    ]


def _qdc(data: StudyData, _fmt: str, _inline: bool) -> list[File]:
    return [(f"{BASENAME['qdc']}.qdc", write_qdc(data.codebook.codebook))]


def _qdpx(data: StudyData, _fmt: str, _inline: bool) -> list[File]:
    shown = tables.revealed(data.annotations, data.assignments)
    content = ProjectContent(
        name=data.name,
        codebook=data.codebook.codebook,
        documents=data.documents,
        coders=data.coders,
        annotations=shown,
    )
    return [(f"{BASENAME['qdpx']}.qdpx", write_qdpx(content))]


RENDERERS: dict[str, Callable[[StudyData, str, bool], list[File]]] = {
    "segments": _segments,
    "themes": _themes,
    "matrix": _matrix,
    "agreement": _agreement,
    "audit": _audit,
    "qdc": _qdc,
    "qdpx": _qdpx,
}


def _check(kind: str, fmt: str) -> None:
    if kind not in FORMATS:
        raise CodingError(f"unknown export {kind!r}; choose from {', '.join(KINDS)}")
    if fmt not in FORMATS[kind]:
        raise CodingError(f"{kind} exports as {', '.join(FORMATS[kind])}, not {fmt!r}")


def render(data: StudyData, kind: str, fmt: str, inline: bool = False) -> list[File]:
    """The files of one export kind in one format."""
    _check(kind, fmt)
    return RENDERERS[kind](data, fmt, inline)


def export_bytes(store: Store, kind: str, fmt: str) -> tuple[str, bytes]:
    """One export as (file name, bytes), for a download button: the first file of the kind
    (Markdown embeds its figure)."""
    _check(kind, fmt)
    needs_reliability = kind in ("themes", "agreement")
    return render(load(store, needs_reliability), kind, fmt, inline=True)[0]


def export_study(
    store: Store,
    directory: str | Path,
    kinds: Sequence[str] | None = None,
    formats: Sequence[str] | None = None,
) -> list[Path]:
    """Write the chosen exports (default: all kinds in all their formats) into ``directory``.

    All or nothing, even if the process is killed: the files are written into a folder
    beside ``directory`` and swapped in as one step (:mod:`coding.service.folders`). Files
    of an earlier export that this one does not write stay; a folder holding other files is
    refused.
    """
    chosen = list(kinds) if kinds else list(KINDS)
    for kind in chosen:
        _check(kind, FORMATS[kind][0])
    wanted = {kind: [f for f in FORMATS[kind] if not formats or f in formats] for kind in chosen}
    if formats and not any(wanted.values()):
        raise CodingError(f"no chosen export comes in {', '.join(formats)}")
    data = load(store, with_reliability=bool({"themes", "agreement"} & set(chosen)))
    # Render every file before writing any: a failure leaves the directory as it was.
    files = [
        file for kind, fmts in wanted.items() for fmt in fmts for file in render(data, kind, fmt)
    ]
    return write_folder(directory, files, EXPORT_FILES)


def available_exports() -> list[tuple[str, str, str]]:
    """(kind, format, file name) of every download on offer."""
    return [
        (kind, fmt, f"{BASENAME.get(kind, kind)}.{fmt}")
        for kind, formats in FORMATS.items()
        for fmt in formats
    ]


def export_download(store: Store, user: str, kind: str, fmt: str) -> tuple[str, bytes]:
    """One export as (file name, bytes) for a reviewer or admin (it shows every coder's work)."""
    require_role(store, user, Role.REVIEWER)
    return export_bytes(store, kind, fmt)
