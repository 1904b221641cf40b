"""Deterministic XLSX workbooks, written as they are made: one sheet per table.

The sheets are SpreadsheetML written row by row straight into the zip (inline strings, no
shared-string table), so a sheet of a million cells never sits in memory as cell objects.
Same input, same bytes: fixed document properties and zip timestamps. Every string is stored
as text, never as a formula; a formula-like one (``cells.formula_like``, the rule the CSV
exports follow) also gets the quote prefix, so editing the cell in a spreadsheet keeps it text.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping
from functools import partial
from typing import IO
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from coding.export.cells import CHUNK_ROWS, FORMULA_START, by_value, formula_like
from coding.xmlzip import Member, stream_archive, xml_text

MAX_WIDTH = 60
SHEET_ROWS = 1_048_576  # a spreadsheet program's most rows per sheet, the header included
FIXED = "2000-01-01T00:00:00Z"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Cell styles (cellXfs): plain, header (bold), quoted, wrapped, wrapped and quoted, header quoted
PLAIN, HEADER, QUOTED, WRAPPED, WRAPPED_QUOTED, HEADER_QUOTED = range(6)
STYLES = f"""{DECLARATION}<styleSheet xmlns="{MAIN}">\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="6">\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">\
<alignment vertical="top" wrapText="1"/></xf>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" \
applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" quotePrefix="1"/>\
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def _cell_value(value: object) -> object:
    """A table value as a spreadsheet value: text, a number, a boolean, or None (empty)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, list | tuple | set):
        return xml_text("; ".join(map(str, value)))
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
    if isinstance(value, str):
        return xml_text(value)
    if isinstance(value, bool | int | float):
        return value
    return xml_text(str(value))


def _text(value: str) -> str:
    """Text for an XML element: ``&``, ``<`` and ``>`` escaped, and a carriage return as a
    character reference (a parser would read a bare one as a line feed)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\r", "&#13;") if "\r" in value else value


def _column(values: pd.Series, letter: str, first: int, wrap: bool) -> list[str]:
    """The cells of one column of a chunk of rows, as XML. A cell is ``<c r="REF"`` and a
    tail that depends on the value alone; text and numbers get theirs once per distinct
    value, missing values one by one (a missing value may be None, NaN or NA)."""
    if by_value(values):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        distinct = [_tail(v, wrap) for v in uniques.tolist()]
        tails = np.asarray([*distinct, ""], dtype=object)[codes]
        for row in np.flatnonzero(codes < 0):
            tails[row] = _tail(values.iloc[row], wrap)
    else:
        tails = [_tail(v, wrap) for v in values.tolist()]
    return [
        f'<c r="{letter}{number}"{tail}' if tail else ""
        for number, tail in enumerate(tails, start=first)
    ]


def _tail(value: object, wrap: bool) -> str:
    """What follows ``<c r="REF"`` in the XML of a cell holding ``value``; "" for an empty
    cell (an empty text too, as openpyxl writes it)."""
    if value.__class__ is not str:
        value = _cell_value(value)
        if value is None or value == "":
            return ""
    if isinstance(value, str):
        text = xml_text(value)
        if not text:
            return ""
        quoted = text[0] in FORMULA_START and formula_like(text)
        style = (WRAPPED_QUOTED if wrap else QUOTED) if quoted else (WRAPPED if wrap else PLAIN)
        styled = f' s="{style}"' if style else ""
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        return f'{styled} t="inlineStr"><is><t{space}>{_text(text)}</t></is></c>'
    styled = f' s="{WRAPPED}"' if wrap else ""
    if isinstance(value, bool):
        return f'{styled} t="b"><v>{int(value)}</v></c>'
    number = f"{value:.16g}" if isinstance(value, float) else str(value)  # as openpyxl writes
    return f"{styled}><v>{number}</v></c>"


def _letter(number: int) -> str:
    """Column letters of a 0-based column number: 0 -> A, 26 -> AA."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _widths(frame: pd.DataFrame) -> list[int]:
    """Each column's longest text among the header and the first 200 values."""
    return [
        max([len(str(column)), *(len(str(v)) for v in frame.iloc[:200, number])])
        for number, column in enumerate(frame.columns)
    ]


def _sheet_parts(frame: pd.DataFrame, chunk_rows: int) -> Iterator[str]:
    """The worksheet XML of ``frame``: header row in bold, first row frozen."""
    letters = [_letter(n) for n in range(frame.shape[1])]
    widths = _widths(frame)
    wrap = [width > MAX_WIDTH for width in widths]
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{min(MAX_WIDTH, max(8, w + 2))}" customWidth="1"/>'
        for n, w in enumerate(widths, start=1)
    )
    yield (
        f'{DECLARATION}<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetViews>'
        '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>'
        '</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    )
    header = []
    for letter, column in zip(letters, frame.columns, strict=True):
        name = xml_text(str(column))
        style = HEADER_QUOTED if formula_like(name) else HEADER
        space = ' xml:space="preserve"' if name != name.strip() else ""
        header.append(
            f'<c r="{letter}1" s="{style}" t="inlineStr"><is><t{space}>{_text(name)}</t></is></c>'
        )
    yield f'<row r="1">{"".join(header)}</row>'
    for begin in range(0, len(frame), chunk_rows):
        chunk = frame.iloc[begin : begin + chunk_rows]
        cells = [
            _column(chunk.iloc[:, n], letters[n], begin + 2, wrap[n]) for n in range(chunk.shape[1])
        ]
        yield "".join(
            f'<row r="{number}">{"".join(row)}</row>'
            for number, row in enumerate(zip(*cells, strict=True), start=begin + 2)
        )
    yield "</sheetData></worksheet>"


def _core_properties(title: str) -> str:
    """docProps/core.xml: the creator, the title and fixed times (so files are reproducible)."""
    return (
        f"{DECLARATION}<cp:coreProperties xmlns:cp="
        '"http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>Concord</dc:creator>'
        f"<dc:title>{_text(xml_text(title))}</dc:title><cp:lastModifiedBy>Concord"
        f'</cp:lastModifiedBy><dcterms:created xsi:type="dcterms:W3CDTF">{FIXED}'
        f'</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED}'
        "</dcterms:modified></cp:coreProperties>"
    )


def _package(names: list[str], title: str) -> list[tuple[str, str]]:
    """Every part of the workbook but its sheets: content types, relations, properties."""
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, start=1)
    )
    relations = "".join(
        f'<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(names) + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(names) + 1)
    )
    office = "application/vnd.openxmlformats"
    return [
        (
            "[Content_Types].xml",
            f'{DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="{office}-officedocument.spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{office}-officedocument.'
            f'spreadsheetml.styles+xml"/>{overrides}<Override PartName="/docProps/core.xml" '
            f'ContentType="{office}-package.core-properties+xml"/><Override '
            f'PartName="/docProps/app.xml" ContentType="{office}-officedocument.'
            'extended-properties+xml"/></Types>',
        ),
        (
            "_rels/.rels",
            f'{DECLARATION}<Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" '
            f'Type="{PACKAGE_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{REL}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>',
        ),
        (
            "docProps/app.xml",
            f'{DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
            '2006/extended-properties"><Application>Concord</Application></Properties>',
        ),
        ("docProps/core.xml", _core_properties(title)),
        (
            "xl/workbook.xml",
            f'{DECLARATION}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView/>'
            f"</bookViews><sheets>{sheets}</sheets></workbook>",
        ),
        (
            "xl/_rels/workbook.xml.rels",
            f'{DECLARATION}<Relationships xmlns="{PACKAGE_REL}">{relations}<Relationship '
            f'Id="rId{len(names) + 1}" Type="{REL}/styles" Target="styles.xml"/></Relationships>',
        ),
        ("xl/styles.xml", STYLES),
    ]


def _parts(sheets: Mapping[str, pd.DataFrame], max_rows: int) -> list[tuple[str, pd.DataFrame]]:
    """Each sheet's name (cut to 31 characters) and rows; a table with more rows than a sheet
    holds goes on as many sheets as it needs, the later ones named ``name (2)`` and so on.

    >>> [(n, len(f)) for n, f in _parts({"t": pd.DataFrame({"a": range(5)})}, 3)]
    [('t', 2), ('t (2)', 2), ('t (3)', 1)]
    """
    found = []
    for name, frame in sheets.items():
        clean, per_sheet = xml_text(name), max_rows - 1
        for number, begin in enumerate(range(0, max(len(frame), 1), per_sheet), start=1):
            suffix = f" ({number})" if number > 1 else ""
            found.append(
                (clean[: 31 - len(suffix)] + suffix, frame.iloc[begin : begin + per_sheet])
            )
    return found


def _sheet(frame: pd.DataFrame, chunk_rows: int, out: IO[bytes]) -> None:
    for part in _sheet_parts(frame, chunk_rows):
        out.write(part.encode("utf-8"))


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    stream: IO[bytes],
    title: str = "Concord export",
    chunk_rows: int = CHUNK_ROWS,
    max_rows: int = SHEET_ROWS,
) -> None:
    """Write an .xlsx with one sheet per table (names cut to 31 characters; a table longer
    than ``max_rows`` with its header over several sheets) to ``stream``, a chunk of rows at
    a time; same input, same bytes. A sheet over 2 GiB gets a zip64 entry."""
    parts = _parts(sheets, max_rows)
    members: list[Member] = [
        (name, text.encode("utf-8")) for name, text in _package([n for n, _ in parts], title)
    ]
    members += [
        (f"xl/worksheets/sheet{number}.xml", partial(_sheet, frame, chunk_rows))
        for number, (_, frame) in enumerate(parts, start=1)
    ]
    stream_archive(members, stream)


def workbook_bytes(sheets: Mapping[str, pd.DataFrame], title: str = "Concord export") -> bytes:
    """:func:`write_workbook` into bytes (for a download)."""
    buffer = io.BytesIO()
    write_workbook(sheets, buffer, title)
    return buffer.getvalue()
