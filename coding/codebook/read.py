"""Reading codebook files (YAML, JSON, CSV) into raw code entries, each with its place."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from coding.codebook.fields import (
    CSV_COLUMNS,
    EXCLUSIVE_COLUMN,
    LIST_FIELDS,
    MAX_DEPTH,
    MULTILINE_CSV_COLUMNS,
)
from coding.codebook.validate import build_codes, finish
from coding.csvfile import parse_csv
from coding.errors import InvalidInput, Problem
from coding.model import Codebook, sha256_text
from coding.textfile import decode, read_bytes

EntryWhere = Callable[[int, str], str]  # (entry index, field) -> its place in the file


def read_codebook(path: str | Path) -> tuple[Codebook, str]:
    """Parse and validate a codebook file; return it with the sha256 of its text."""
    path = Path(path)
    text = decode(read_bytes(path, "codebook", "the codebook"), str(path))
    return parse_codebook(text, str(path), fmt=path.suffix.lower().lstrip(".")), sha256_text(text)


def parse_codebook(text: str, source: str, fmt: str = "yaml") -> Codebook:
    """Parse codebook text in ``fmt`` (yaml, yml, json, csv)."""
    if fmt in ("yaml", "yml"):
        return _from_yaml(text, source)
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidInput(source, [Problem(f"line {err.lineno}", err.msg)]) from err
        except RecursionError as err:  # json has no depth limit of its own
            raise InvalidInput(source, [Problem("file", "nested too deeply")]) from err
        return _from_data(data, source, lambda i, f: f"codes[{i}]" + (f".{f}" if f else ""))
    if fmt == "csv":
        return _from_csv(text, source)
    raise InvalidInput(
        source, [Problem("file", f"unsupported codebook format '.{fmt}'; use .yaml, .json or .csv")]
    )


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases (an alias can expand a few bytes into gigabytes), and
    nested at most MAX_DEPTH deep (deeper nesting would exhaust Python's stack)."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        problem = ""
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            problem = (
                "anchors and aliases (&name, *name) are not allowed in a codebook; "
                "write the text out in full"
            )
        elif self.depth >= MAX_DEPTH:
            problem = f"nested more than {MAX_DEPTH} levels deep"
        if problem:
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _from_yaml(text: str, source: str) -> Codebook:
    loader = _NoAliasLoader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark else "file"
        raise InvalidInput(source, [Problem(place, str(getattr(err, "problem", err)))]) from err
    finally:
        loader.dispose()
    lines = _yaml_code_lines(root)

    def where(i: int, field: str) -> str:
        line = lines.get((i, field)) or lines.get((i, ""))
        label = f"codes[{i}]" + (f".{field}" if field else "")
        return f"line {line}, {label}" if line else label

    return _from_data(data, source, where)


def _yaml_code_lines(root: yaml.Node | None) -> dict[tuple[int, str], int]:
    """1-based line of each code entry and of each of its fields."""
    lines: dict[tuple[int, str], int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if key.value != "codes" or not isinstance(value, yaml.SequenceNode):
            continue
        for i, item in enumerate(value.value):
            lines[(i, "")] = item.start_mark.line + 1
            if isinstance(item, yaml.MappingNode):
                for k, _v in item.value:
                    lines[(i, str(k.value))] = k.start_mark.line + 1
    return lines


def _from_data(data: Any, source: str, where: EntryWhere) -> Codebook:
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        raise InvalidInput(
            source, [Problem("file", "expected a mapping with 'codebook' and 'codes'")]
        )
    head = data.get("codebook") or {}
    if not isinstance(head, Mapping):
        problems.append(Problem("codebook", "must be a mapping (id, name, description)"))
        head = {}
    entries = data.get("codes")
    if not isinstance(entries, list) or not entries:
        raise InvalidInput(source, [*problems, Problem("codes", "must be a non-empty list")])
    raw_codes: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            problems.append(Problem(where(i, ""), "each code must be a mapping"))
            continue
        raw_codes.append({"_where": lambda f, i=i: where(i, f), **entry})
    codes = build_codes(raw_codes, problems)
    codebook_id = str(head.get("id") or Path(source).stem)
    return finish(codebook_id, head, codes, problems, source)


def _from_csv(text: str, source: str) -> Codebook:
    table = parse_csv(text, source, multiline=MULTILINE_CSV_COLUMNS)
    header = table.header
    missing = [c for c in ("id", "name", "definition") if c not in header]
    if missing:
        raise InvalidInput(source, [Problem("header", f"missing column(s): {', '.join(missing)}")])
    problems: list[Problem] = []
    unknown = [c for c in header if c not in (*CSV_COLUMNS, "color", EXCLUSIVE_COLUMN)]
    if unknown:
        problems.append(
            Problem(
                "header",
                f"unknown column(s): {', '.join(unknown)} (known: {', '.join(CSV_COLUMNS)})",
            )
        )
    raw_codes: list[dict[str, Any]] = []
    for line in table.rows:
        row, place = line.cells, line.where

        def split(cell: str | None) -> list[str]:
            return [p.strip() for p in (cell or "").split("|") if p.strip()]

        raw_codes.append(
            {
                "_where": lambda f, n=place: n + (f", {f}" if f else ""),
                "id": row.get("id"),
                "name": row.get("name"),
                "parent": row.get("parent") or None,
                "colour": row.get("colour") or row.get("color") or None,
                "definition": row.get("definition"),
                "exclusive": row.get(EXCLUSIVE_COLUMN),
                **{f: split(row.get(f)) for f in LIST_FIELDS},
                "examples": {
                    "typical": split(row.get("typical_examples")),
                    "borderline": split(row.get("borderline_examples")),
                },
            }
        )
    return finish(Path(source).stem, {}, build_codes(raw_codes, problems), problems, source)
