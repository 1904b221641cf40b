"""A Codebook as YAML, JSON or CSV text, and the changes between two versions of one."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import yaml

from coding.codebook.fields import (
    COMPARED_FIELDS,
    CSV_COLUMNS,
    EXAMPLE_KINDS,
    EXCLUSIVE_COLUMN,
    LIST_SEPARATOR,
)
from coding.model import Code, Codebook


def _code_data(code: Code) -> dict[str, Any]:
    """One code in the YAML/JSON shape (``exclusive`` only where true: format 1 files stay as
    they were)."""
    data: dict[str, Any] = {
        "id": code.id,
        "name": code.name,
        "parent": code.parent,
        "colour": code.colour,
        "definition": code.definition,
        "inclusion": list(code.inclusion),
        "exclusion": list(code.exclusion),
        "indicators": list(code.indicators),
        "examples": {kind: list(getattr(code.examples, kind)) for kind in EXAMPLE_KINDS},
    }
    if code.exclusive:
        data["exclusive"] = True
    return data


def codebook_to_data(codebook: Codebook) -> dict[str, Any]:
    """A codebook as plain data in the YAML/JSON shape."""
    return {
        "codebook": {"id": codebook.id, "name": codebook.name, "description": codebook.description},
        "codes": [_code_data(c) for c in codebook.codes],
    }


def _csv_row(code: Code, exclusive_column: bool) -> list[str]:
    """One code as a CSV row in CSV_COLUMNS order: list cells joined with LIST_SEPARATOR."""
    data = _code_data(code)
    examples = [data["examples"][kind] for kind in EXAMPLE_KINDS]
    cells = [data[column] for column in CSV_COLUMNS[: -len(EXAMPLE_KINDS)]] + examples
    row = [LIST_SEPARATOR.join(c) if isinstance(c, list) else c or "" for c in cells]
    return [*row, "true" if code.exclusive else ""] if exclusive_column else row


def write_codebook(codebook: Codebook, fmt: str = "yaml") -> str:
    """Serialise a codebook as YAML, JSON or CSV text."""
    if fmt in ("yaml", "yml"):
        data = codebook_to_data(codebook)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if fmt == "json":
        return json.dumps(codebook_to_data(codebook), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        exclusive = any(c.exclusive for c in codebook.codes)
        writer.writerow([*CSV_COLUMNS, EXCLUSIVE_COLUMN] if exclusive else CSV_COLUMNS)
        writer.writerows(_csv_row(c, exclusive) for c in codebook.codes)
        return out.getvalue()
    raise ValueError(f"unknown codebook format {fmt!r}")


def diff_codebooks(old: Codebook, new: Codebook) -> list[str]:
    """Human-readable changes from ``old`` to ``new``.

    >>> a = Codebook("cb", "cb", (Code("x", "X", "d"),))
    >>> b = Codebook("cb", "cb", (Code("x", "X", "d2"), Code("y", "Y", "d")))
    >>> diff_codebooks(a, b)
    ["added code 'y'", "code 'x': definition changed"]
    """
    changes: list[str] = []
    old_ids, new_ids = set(old.code_ids), set(new.code_ids)
    changes += [f"added code {cid!r}" for cid in new.code_ids if cid not in old_ids]
    changes += [f"removed code {cid!r}" for cid in old.code_ids if cid not in new_ids]
    for cid in new.code_ids:
        if cid in old_ids:
            before, after = old.code(cid), new.code(cid)
            changes += [
                f"code {cid!r}: {f} changed"
                for f in COMPARED_FIELDS
                if getattr(before, f) != getattr(after, f)
            ]
    if old.name != new.name or old.description != new.description:
        changes.append("codebook name or description changed")
    return changes
