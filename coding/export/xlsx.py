"""Deterministic XLSX workbooks: one sheet per table, fixed properties and zip timestamps."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from coding.export.cells import formula_like
from coding.xmlzip import fix_timestamps, xml_text

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FIXED = datetime(2000, 1, 1)
MAX_WIDTH = 60


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, list | tuple | set):
        return xml_text("; ".join(map(str, value)))
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, str):
        return xml_text(value)
    return value


def workbook_bytes(sheets: Mapping[str, pd.DataFrame], title: str = "Concord export") -> bytes:
    """An .xlsx with one sheet per table (names cut to 31 characters), same input same bytes."""
    from openpyxl import Workbook  # here, not at import: every command would pay for it
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    book.remove(book.active)
    book.properties.creator = "Concord"
    book.properties.title = title
    book.properties.created = FIXED
    book.properties.modified = FIXED
    book.properties.lastModifiedBy = "Concord"
    for name, frame in sheets.items():
        sheet = book.create_sheet(xml_text(name)[:31])
        sheet.append([xml_text(str(c)) for c in frame.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        _as_text(sheet)
        for i, column in enumerate(frame.columns, start=1):
            longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
            letter = sheet.cell(row=1, column=i).column_letter
            sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(8, longest + 2))
            if longest > MAX_WIDTH:
                for cell in sheet[letter][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return fix_timestamps(_fix_core(buffer.getvalue()))


def _as_text(sheet: Worksheet) -> None:
    """Every string is stored as text, never as a formula: a coded excerpt that starts with
    ``=`` (or ``+``, ``-``, ``@``) must not run when the workbook is opened. A formula-like
    string (``cells.formula_like``, the rule the CSV exports follow) also gets the quote
    prefix, so editing the cell in a spreadsheet keeps it text; its value is kept exactly."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if formula_like(cell.value):
                    cell.quotePrefix = True


def _fix_core(data: bytes) -> bytes:
    """openpyxl stamps docProps/core.xml with the save time; put the fixed time back."""
    import re
    import zipfile

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    content,
                )
            dst.writestr(info.filename, content)
    return out.getvalue()
