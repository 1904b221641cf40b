"""The documents manifest of an import: one row per file (file, document_id, programme,
title, and any other column: the document's attributes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from coding import csvfile
from coding.errors import InvalidInput, Problem


@dataclass(frozen=True)
class ManifestEntry:
    document_id: str
    programme: str
    title: str
    where: str = ""  # its row in the manifest
    attributes: tuple[tuple[str, str], ...] = ()  # (column, cell) of each extra column


MANIFEST_COLUMNS = ("file", "document_id", "programme", "title")


def slug(text: str) -> str:
    """A document name from a file name.

    >>> slug("Family Circle Manual (v2).docx")
    'family-circle-manual-v2'
    """
    stem = Path(text).stem.lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "document"


def read_manifest(path: str | Path) -> dict[str, ManifestEntry]:
    """file,document_id,programme,title rows keyed by file name (no value may span lines);
    the cells of any other column travel with each entry (the document's attributes)."""
    path = Path(path)
    table = csvfile.read_csv(path)
    if "file" not in table.header:
        raise InvalidInput(str(path), [Problem("header", "missing column 'file'")])
    entries: dict[str, ManifestEntry] = {}
    problems = []
    extra = [c for c in table.header if c not in MANIFEST_COLUMNS]
    for row in table.rows:
        name = row.get("file").strip()
        if not name:
            problems.append(Problem(row.where, "'file' is empty"))
            continue
        if name in entries:
            problems.append(Problem(row.where, f"duplicate file {name!r}"))
        entries[name] = ManifestEntry(
            row.get("document_id").strip() or slug(name),
            row.get("programme").strip(),
            row.get("title").strip(),
            row.where,
            tuple((column, row.get(column).strip()) for column in extra),
        )
    if problems:
        raise InvalidInput(str(path), problems)
    return entries
