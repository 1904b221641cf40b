"""The files of every export kind in every format, each written to a stream when asked.

A renderer returns (file name, content) pairs; the content is a function that writes the file
to a binary stream, so a table of any size goes out a chunk of rows at a time
(``cells.write_csv``, ``records.write_json``, ``xlsx.write_workbook``) and nothing is built
before it is written.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import pandas as pd

from coding.export import document as doc
from coding.export import matrix, report, tables
from coding.export.cells import write_csv
from coding.export.records import write_json
from coding.export.study import StudyData
from coding.export.xlsx import write_workbook
from coding.refi.qdc import write_qdc
from coding.refi.qdpx_write import ProjectContent, stream_qdpx

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
FIGURE_CAPTION = "Programme x code matrix: share of each programme's segments with the final code"

Write = Callable[[IO[bytes]], None]
File = tuple[str, bytes | Write]


@dataclass(frozen=True)
class Options:
    """How to render: ``inline`` embeds the theme report's figure (a single-file download);
    ``excerpts`` caps the theme report's excerpts per code and programme (None: all)."""

    inline: bool = False
    excerpts: int | None = report.EXCERPTS


def content_bytes(content: bytes | Write) -> bytes:
    """A file's content as bytes (a download)."""
    if isinstance(content, bytes):
        return content
    buffer = io.BytesIO()
    content(buffer)
    return buffer.getvalue()


def _bytes(make: Callable[[], bytes]) -> Write:
    """Content made whole (a figure, a report, a small archive) and then written."""

    def write(out: IO[bytes]) -> None:
        out.write(make())

    return write


def _csv(frame: Callable[[], pd.DataFrame]) -> Write:
    """CSV whose cells never run as formulas in a spreadsheet (``cells.write_csv``)."""
    return lambda out: write_csv(frame(), out)


def _xlsx(sheets: Callable[[], dict[str, pd.DataFrame]]) -> Write:
    return lambda out: write_workbook(sheets(), out)


def _segments(data: StudyData, fmt: str, _options: Options) -> list[File]:
    name = BASENAME["segments"]
    if fmt == "csv":
        return [(f"{name}.csv", _csv(lambda: data.coded))]
    if fmt == "xlsx":
        notes = pd.DataFrame({"note": [report.FINAL_CODES_NOTE]})
        return [(f"{name}.xlsx", _xlsx(lambda: {"coded segments": data.coded, "notes": notes}))]

    def json_file(out: IO[bytes]) -> None:
        fields = [
            ("study", data.name),
            ("revision", data.revision),
            ("codebook_id", data.codebook.codebook.id),
            ("codebook_version", data.codebook.version),
            ("final_codes", report.FINAL_CODES_NOTE),
            ("rows", data.coded),
        ]
        write_json(fields, out)

    return [(f"{name}.json", json_file)]


def _figure(data: StudyData, fmt: str) -> bytes:
    """The programme x code heatmap, drawn once per export and format."""
    return data.figure_png if fmt == "png" else data.figure_svg


def _themes(data: StudyData, fmt: str, options: Options) -> list[File]:
    name = BASENAME["themes"]
    title = f"Theme report: {data.codebook.codebook.name}"

    def blocks() -> list[doc.Block]:
        png = _figure(data, "png")
        target = THEME_FIGURE
        if options.inline:
            target = f"data:image/png;base64,{base64.b64encode(png).decode()}"
        svg = _figure(data, "svg") if fmt == "html" else b""
        figure = doc.Figure(FIGURE_CAPTION, png=png, svg=svg, file=target)
        return data.theme_blocks(figure, options.excerpts)

    if fmt == "md":
        files: list[File] = [(f"{name}.md", _bytes(lambda: doc.to_markdown(blocks()).encode()))]
        if not options.inline:
            files.append((THEME_FIGURE, _bytes(lambda: _figure(data, "png"))))
        return files
    if fmt == "html":
        return [(f"{name}.html", _bytes(lambda: doc.to_html(blocks(), title).encode()))]
    return [(f"{name}.docx", _bytes(lambda: doc.to_docx(blocks(), title)))]


def _matrix(data: StudyData, fmt: str, _options: Options) -> list[File]:
    name = BASENAME["matrix"]
    if fmt == "csv":
        return [(f"{name}.csv", _csv(lambda: data.matrix_cells))]
    if fmt == "xlsx":
        return [
            (
                f"{name}.xlsx",
                _xlsx(
                    lambda: {
                        "counts": matrix.matrix_wide(
                            data.matrix_cells, "segments", *data.matrix_axes
                        ),
                        "share": matrix.matrix_wide(data.matrix_cells, "share", *data.matrix_axes),
                        "cells": data.matrix_cells,
                    }
                ),
            )
        ]
    return [(f"{name}.{fmt}", _bytes(lambda: data.matrix_figure(fmt)))]


def _agreement_notes(data: StudyData) -> pd.DataFrame:
    missing = data.reliability.missing
    notes = [*report.METHOD_NOTES, *([f"not available: {missing}"] if missing else [])]
    return pd.DataFrame({"note": notes})


def _agreement_long(data: StudyData) -> pd.DataFrame:
    found = data.reliability.tables
    if not found:
        return pd.DataFrame({"table": []})
    long = pd.concat([f.assign(table=k) for k, f in found.items()], ignore_index=True)
    return long[["table", *[c for c in long if c != "table"]]]


def _agreement(data: StudyData, fmt: str, _options: Options) -> list[File]:
    name = BASENAME["agreement"]
    if fmt == "csv":
        return [(f"{name}.csv", _csv(lambda: _agreement_long(data)))]
    if fmt == "xlsx":
        tables_ = data.reliability.tables
        return [
            (f"{name}.xlsx", _xlsx(lambda: {**tables_, "method notes": _agreement_notes(data)}))
        ]

    def html_file(out: IO[bytes]) -> None:
        blocks = report.agreement_blocks(
            study=data.name, revision=data.revision, reliability=data.reliability
        )
        out.write(doc.to_html(blocks, "Agreement report").encode())

    return [(f"{name}.html", html_file)]


def _audit(data: StudyData, fmt: str, _options: Options) -> list[File]:
    name = BASENAME["audit"]
    if fmt == "csv":
        return [
            (f"{name}.csv", _csv(lambda: data.audit)),
            (AUDIT_EVENTS, _csv(lambda: data.events)),
        ]
    if fmt == "xlsx":
        return [(f"{name}.xlsx", _xlsx(lambda: {"decisions": data.audit, "events": data.events}))]
    return [
        (
            f"{name}.json",
            lambda out: write_json([("decisions", data.audit), ("events", data.events)], out),
        )
    ]


def _qdc(data: StudyData, _fmt: str, _options: Options) -> list[File]:
    return [(f"{BASENAME['qdc']}.qdc", _bytes(lambda: write_qdc(data.codebook.codebook)))]


def _qdpx(data: StudyData, _fmt: str, _options: Options) -> list[File]:
    def qdpx_file(out: IO[bytes]) -> None:
        content = ProjectContent(
            name=data.name,
            codebook=data.codebook.codebook,
            documents=data.documents,
            coders=data.coders,
            annotations=tables.revealed(data.annotations, data.assignments),
            attributes=data.attributes,
            units=data.segments,
        )
        stream_qdpx(content, out)

    return [(f"{BASENAME['qdpx']}.qdpx", qdpx_file)]


RENDERERS: dict[str, Callable[[StudyData, str, Options], list[File]]] = {
    "segments": _segments,
    "themes": _themes,
    "matrix": _matrix,
    "agreement": _agreement,
    "audit": _audit,
    "qdc": _qdc,
    "qdpx": _qdpx,
}
