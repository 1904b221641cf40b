"""Read source files (.txt .md .docx .pdf, pre-segmented .csv) into normalised text.

Normalisation: UTF-8 (a BOM is dropped), Unicode NFC, and "\\n" for every line end. Offsets of
segments and annotations refer to this normalised text; ``normalise_with_map`` keeps the way
back to positions in the text as written.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from coding.csvfile import read_csv
from coding.errors import InvalidInput, Problem
from coding.textfile import decode, limits, normalise, read_bytes, too_large
from coding.xmlzip import read_archive

SUPPORTED = (".txt", ".md", ".markdown", ".docx", ".pdf")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SourceText:
    """Text read from one file, before it becomes a Document."""

    text: str
    source: str
    title: str


@dataclass(frozen=True, slots=True)
class PresegmentedRow:
    document_id: str
    segment_id: str
    text: str
    programme: str
    title: str
    where: str = ""  # the row of the file (``row N``), for messages
    attributes: tuple[tuple[str, str], ...] = ()  # (column, cell) of each extra column


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Normalised text plus, for each of its positions (and its end), the raw position.

    >>> normalise_with_map("a\\r\\nb")
    ('a\\nb', [0, 1, 3, 4])
    """
    out: list[str] = []
    positions: list[int] = []
    raw = 1 if text.startswith("\ufeff") else 0
    pieces = re.finditer(r"\r\n?|\u2028|\u2029|[^\r\u2028\u2029]+", text[raw:])
    for piece in pieces:
        chunk = piece.group()
        base = raw + piece.start()
        if chunk[0] in "\r\u2028\u2029":
            out.append("\n")
            positions.append(base)
            continue
        if unicodedata.is_normalized("NFC", chunk):  # the common case: one to one
            out.append(chunk)
            positions.extend(range(base, base + len(chunk)))
            continue
        # NFC may merge or reorder characters (accents, Hangul jamo, Indic vowel signs): a
        # group is a starter with every combining mark after it (marks reorder and compose
        # only within it) and any character that changes the group's normal form; each output
        # character of a group maps into the group's raw characters.
        i = 0
        while i < len(chunk):
            j = i + 1
            while j < len(chunk) and (
                unicodedata.combining(chunk[j]) or _joins(chunk[i:j], chunk[j])
            ):
                j += 1
            composed = unicodedata.normalize("NFC", chunk[i:j])
            for k in range(len(composed)):
                positions.append(base + i + min(k, j - i - 1))
            out.append(composed)
            i = j
    positions.append(len(text))
    return "".join(out), positions


def _joins(group: str, char: str) -> bool:
    """True when NFC of ``group + char`` is not NFC(group) + NFC(char)."""
    nfc = unicodedata.normalize
    return nfc("NFC", group + char) != nfc("NFC", group) + nfc("NFC", char)


def read_source(path: str | Path) -> SourceText:
    """Read one .txt/.md/.docx/.pdf file into normalised text with a title."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InvalidInput(
            str(path),
            [
                Problem(
                    "file",
                    f"unsupported file type {suffix or '(none)'}; "
                    f"use one of {', '.join(SUPPORTED)} or .csv",
                )
            ],
        )
    if suffix in (".docx", ".pdf"):
        raw = read_bytes(path, "docx")
        extract = _docx_text if suffix == ".docx" else _pdf_text
        text = extract(raw, str(path))
        if len(text.encode()) > limits().bytes("document"):
            raise too_large(str(path), len(text.encode()), "document", "the text in it")
    else:
        text = decode(read_bytes(path, "document"), str(path))
    text = normalise(text)
    if not text.strip():
        raise InvalidInput(str(path), [Problem("file", "the document is empty (no text)")])
    return SourceText(text=text, source=str(path), title=_title(text, path))


def _title(text: str, path: Path) -> str:
    match = _HEADING.search(text)
    if match:
        return match.group(2).strip()
    return path.stem.replace("_", " ").replace("-", " ").strip() or path.name


def _docx_text(raw: bytes, source: str) -> str:
    """Paragraph text of a .docx, headings as ``#`` lines.

    The archive is first unpacked under the zip caps of REFI-QDA projects (entry count, paths,
    total unpacked size up to the ``docx`` limit), so a zip bomb is refused before python-docx
    opens it; python-docx parses XML without resolving entities or using the network.
    """
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    try:
        read_archive(raw, source, max_total=limits().bytes("docx"))
    except InvalidInput as err:
        raise InvalidInput(
            source,
            [
                Problem("file", f"not a readable .docx file ({p.message})")
                if p.where == "archive"
                else p
                for p in err.problems
            ],
        ) from err
    try:
        document = docx.Document(io.BytesIO(raw))
    except etree.XMLSyntaxError as err:
        raise InvalidInput(
            source, [Problem("file", f"not a readable .docx file: broken XML ({err})")]
        ) from err
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise InvalidInput(source, [Problem("file", f"not a readable .docx file ({err})")]) from err
    blocks: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = _heading_level(style)
        blocks.append(f"{'#' * level} {text}" if level else text)
    return "\n\n".join(blocks)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"Heading (\d)", style)
    return min(int(match.group(1)) + 1, 6) if match else 0


def _pdf_text(raw: bytes, source: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as err:
        raise InvalidInput(source, [Problem("file", f"not a readable PDF ({err})")]) from err
    if not any(pages):
        raise InvalidInput(
            source,
            [
                Problem(
                    "file",
                    f"no extractable text in {len(pages)} page(s): a scanned PDF needs OCR first",
                )
            ],
        )
    return "\n\n".join(p for p in pages if p)


PRESEGMENTED_REQUIRED = ("document_id", "segment_id", "text")
PRESEGMENTED_COLUMNS = (*PRESEGMENTED_REQUIRED, "programme", "title")


def read_presegmented(path: str | Path) -> list[PresegmentedRow]:
    """Rows of a pre-segmented CSV (document_id, segment_id, text[, programme, title]).

    Read with :func:`coding.csvfile.read_csv`; only ``text`` may hold line breaks. The cells
    of any other column travel with each row (``attributes``: the unit's attributes).
    """
    table = read_csv(path, multiline={"text"})
    missing = [c for c in PRESEGMENTED_REQUIRED if c not in table.header]
    if missing:
        raise InvalidInput(
            str(path), [Problem("header", f"missing column(s): {', '.join(missing)}")]
        )
    problems: list[Problem] = []
    rows: list[PresegmentedRow] = []
    seen: dict[tuple[str, str], str] = {}
    extra = [c for c in table.header if c not in PRESEGMENTED_COLUMNS]
    for row in table.rows:
        doc_id = row.get("document_id").strip()
        seg_id = row.get("segment_id").strip()
        body = row.get("text").strip()
        for column, value in (("document_id", doc_id), ("segment_id", seg_id), ("text", body)):
            if not value:
                problems.append(Problem(row.where, f"'{column}' is empty"))
        if (doc_id, seg_id) in seen:
            problems.append(
                Problem(
                    row.where,
                    f"duplicate segment_id {seg_id!r} in document "
                    f"{doc_id!r} (first at {seen[doc_id, seg_id]})",
                )
            )
        seen.setdefault((doc_id, seg_id), row.where)
        rows.append(
            PresegmentedRow(
                doc_id,
                seg_id,
                body,
                row.get("programme").strip(),
                row.get("title").strip(),
                row.where,
                tuple((column, row.get(column).strip()) for column in extra),
            )
        )
    if not rows and not problems:
        problems.append(Problem("file", "no rows"))
    if problems:
        raise InvalidInput(str(path), problems)
    return rows
