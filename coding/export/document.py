"""A tiny document model (headings, paragraphs, tables, quotes, a figure) and three renderers:
Markdown, HTML (every text escaped) and DOCX (python-docx, fixed core properties)."""

from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from coding.xmlzip import fix_timestamps, xml_text

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame


@dataclass(frozen=True)
class Quote:
    where: str
    text: str


@dataclass(frozen=True)
class Figure:
    caption: str
    png: bytes = b""
    svg: bytes = b""
    file: str = ""  # for Markdown: the image file written beside the report


Block = Heading | Para | Table | Quote | Figure


def cell_text(value: object) -> str:
    """A table cell as text: floats to three places, missing values as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


# Characters that start inline Markdown (links, images, emphasis, code, tables, math) and the
# block markers that count at the start of a line (headings, lists, setext underlines).
_MD_INLINE = re.compile(r"([\\`*_\[\]()!|~$])")
_MD_LINE_START = re.compile(r"^([ \t]*)([#+=-]|\d+(?=[.)]))", re.MULTILINE)


def md_text(text: str) -> str:
    """Study text for Markdown, shown as written and never as markup: every character that
    could open a link, an image, emphasis or code is backslash-escaped, a heading or list
    marker at the start of a line too, and ``&``, ``<`` and ``>`` become entities, so raw HTML
    and ``<http://...>`` autolinks stay text in any Markdown viewer.

    >>> print(md_text("a <b> & c"))
    a &lt;b&gt; &amp; c
    >>> print(md_text("![x](http://e.example/p.png) [a](javascript:go())"))
    \\!\\[x\\]\\(http://e.example/p.png\\) \\[a\\]\\(javascript:go\\(\\)\\)
    >>> print(md_text("# no heading\\n1. no list"))
    \\# no heading
    1\\. no list
    """
    escaped = _MD_INLINE.sub(r"\\\1", xml_text(text))
    escaped = _MD_LINE_START.sub(_escape_line_start, escaped)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    return f"{indent}\\{marker}" if not marker.isdigit() else f"{indent}{marker}\\"


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {md_text(block.text)}")
        elif isinstance(block, Para):
            out.append(md_text(block.text))
        elif isinstance(block, Table):
            out.append(_md_table(block.frame))
        elif isinstance(block, Quote):
            lines = md_text(block.text).split("\n")
            body = "\n".join(f"> {line}" if line else ">" for line in lines)
            out.append(f"{body}\n>\n> \u2014 *{md_text(block.where)}*")
        elif block.file:
            out.append(f"![{md_text(block.caption)}]({block.file})")
    return "\n\n".join(out) + "\n"


def _md_table(frame: pd.DataFrame) -> str:
    def esc(value: object) -> str:
        return md_text(cell_text(value).replace("\n", " "))  # md_text escapes "|" too

    lines = [
        "| " + " | ".join(esc(c) for c in frame.columns) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += [
        "| " + " | ".join(esc(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


CSS = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.45}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}blockquote{margin:.75rem 0;padding:.25rem 1rem;"
    "border-left:4px solid #9ecae1;background:#f7fbff}cite{display:block;color:#555;"
    "font-size:.85rem}figure svg{max-width:100%;height:auto}"
)


def _escape(text: str) -> str:
    return html.escape(xml_text(text))


def to_html(blocks: list[Block], title: str) -> str:
    e = _escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            level = min(block.level, 6)
            out.append(f"<h{level}>{e(block.text)}</h{level}>")
        elif isinstance(block, Para):
            out.append(f"<p>{e(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{e(str(c))}</th>" for c in block.frame.columns)
            rows = "".join(
                "<tr>" + "".join(f"<td>{e(cell_text(v))}</td>" for v in row) + "</tr>"
                for row in block.frame.itertuples(index=False)
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Quote):
            text = e(block.text).replace("\n", "<br>")
            out.append(f"<blockquote>{text}<cite>{e(block.where)}</cite></blockquote>")
        elif block.svg:
            svg = block.svg.decode("utf-8")
            svg = svg[svg.find("<svg") :]  # drop the XML declaration and DOCTYPE
            out.append(f"<figure>{svg}<figcaption>{e(block.caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


FIXED = datetime(2000, 1, 1)
_RUN_BREAKS = re.compile(r"([\t\r\n])")


def to_docx(blocks: list[Block], title: str) -> bytes:
    """The blocks as a Word document. Paragraphs are built as XML and placed before the
    section properties in one step each, so a report of many excerpts takes time in
    proportion to its length (python-docx's ``add_paragraph`` looks the style up by name and
    scans the body for every paragraph)."""
    import docx
    from docx.shared import Inches

    document = docx.Document()
    props = document.core_properties
    t = xml_text
    props.title, props.author, props.last_modified_by = t(title), "Concord", "Concord"
    props.created = props.modified = props.last_printed = FIXED
    props.revision = 1
    paragraphs = _Paragraphs(document)
    for block in blocks:
        if isinstance(block, Heading):
            level = min(block.level - 1, 9)
            paragraphs.add(t(block.text), "Title" if level == 0 else f"Heading {level}")
        elif isinstance(block, Para):
            paragraphs.add(t(block.text))
        elif isinstance(block, Table):
            _docx_table(document, block.frame)
        elif isinstance(block, Quote):
            paragraphs.add(t(block.text), "Quote")
            paragraphs.add(t(block.where), italic=True)
        elif block.png:
            document.add_picture(io.BytesIO(block.png), width=Inches(6.5))
            paragraphs.add(t(block.caption), italic=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return fix_timestamps(buffer.getvalue())


def _docx_table(document: DocxDocument, frame: pd.DataFrame) -> None:
    table = document.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, frame.columns, strict=True):
        cell.text = xml_text(str(column))
    for row in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = xml_text(cell_text(value))


class _Paragraphs:
    """Appends paragraphs to a python-docx document as python-docx would (a ``w:pStyle``,
    one run whose tabs and line breaks become ``w:tab`` and ``w:br``, ``w:i`` for italic),
    with each style looked up once."""

    def __init__(self, document: DocxDocument) -> None:
        from docx.oxml.ns import qn

        self.document = document
        self.qn = qn
        self.style_ids: dict[str, str] = {}
        # Looked up once: finding it scans the body, and it stays the body's last element.
        self.end = document.element.body.sectPr

    def add(self, text: str, style: str = "", italic: bool = False) -> None:
        from docx.oxml import OxmlElement
        from lxml import etree

        qn, sub = self.qn, etree.SubElement
        p = OxmlElement("w:p")
        if style:
            sub(sub(p, qn("w:pPr")), qn("w:pStyle")).set(qn("w:val"), self._style_id(style))
        if text:
            run = sub(p, qn("w:r"))
            if italic:
                sub(sub(run, qn("w:rPr")), qn("w:i"))
            for piece in _RUN_BREAKS.split(text):
                if piece == "\t":
                    sub(run, qn("w:tab"))
                elif piece in ("\r", "\n"):
                    sub(run, qn("w:br"))
                elif piece:
                    element = sub(run, qn("w:t"))
                    element.text = piece
                    if len(piece.strip()) < len(piece):
                        element.set(qn("xml:space"), "preserve")
        if self.end is None:
            self.document.element.body.append(p)
        else:
            self.end.addprevious(p)

    def _style_id(self, name: str) -> str:
        if name not in self.style_ids:
            self.style_ids[name] = self.document.styles[name].style_id
        return self.style_ids[name]
