"""Codebook files (YAML, JSON, CSV) <-> Codebook, reporting every problem with its place.

YAML/JSON shape::

    codebook: {id: imh-mechanisms, name: ..., description: ...}
    codes:
      - id: emotion_regulation
        name: Emotion regulation
        parent: null
        colour: "#1b9e77"
        definition: ...
        inclusion: [...]
        exclusion: [...]
        indicators: [...]
        examples: {typical: [...], borderline: [...]}

CSV columns: id,name,parent,colour,definition,inclusion,exclusion,indicators,typical_examples,
borderline_examples; list cells join items with " | ".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from coding.csvfile import parse_csv
from coding.errors import InvalidInput, Problem
from coding.model import CODE_ID_RE, COLOUR_RE, Code, Codebook, Examples, sha256_text
from coding.textfile import decode, read_bytes

LIST_FIELDS = ("inclusion", "exclusion", "indicators")
CODE_FIELDS = {"id", "name", "parent", "colour", "color", "definition", "examples", *LIST_FIELDS}
CSV_COLUMNS = (
    "id",
    "name",
    "parent",
    "colour",
    "definition",
    "inclusion",
    "exclusion",
    "indicators",
    "typical_examples",
    "borderline_examples",
)
LIST_SEPARATOR = " | "
MAX_DEPTH = 50  # nesting levels allowed in a YAML codebook (a real one uses four)
# CSV cells that may hold line breaks (inside quotes); the others may not.
MULTILINE_CSV_COLUMNS = frozenset(
    ("definition", *LIST_FIELDS, "typical_examples", "borderline_examples")
)


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


def _from_data(data: Any, source: str, where: Any) -> Codebook:
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
    codes = _build_codes(raw_codes, problems)
    codebook_id = str(head.get("id") or Path(source).stem)
    return _finish(codebook_id, head, codes, problems, source)


def _from_csv(text: str, source: str) -> Codebook:
    table = parse_csv(text, source, multiline=MULTILINE_CSV_COLUMNS)
    header = table.header
    missing = [c for c in ("id", "name", "definition") if c not in header]
    if missing:
        raise InvalidInput(source, [Problem("header", f"missing column(s): {', '.join(missing)}")])
    problems: list[Problem] = []
    unknown = [c for c in header if c not in (*CSV_COLUMNS, "color")]
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
                **{f: split(row.get(f)) for f in LIST_FIELDS},
                "examples": {
                    "typical": split(row.get("typical_examples")),
                    "borderline": split(row.get("borderline_examples")),
                },
            }
        )
    return _finish(Path(source).stem, {}, _build_codes(raw_codes, problems), problems, source)


def _text_list(value: Any, field: str, where: Any, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        problems.append(Problem(where(field), "must be a list of texts"))
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


def _text(value: Any, field: str, where: Any, problems: list[Problem]) -> str:
    """A field that must be one piece of text (a number is taken as text)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(Problem(where(field), f"'{field}' must be text, not a list or mapping"))
        return ""
    return str(value).strip()


def _examples(value: Any, where: Any, problems: list[Problem]) -> Examples:
    if value is None:
        return Examples()
    if not isinstance(value, Mapping):
        problems.append(Problem(where("examples"), "must be a mapping with typical/borderline"))
        return Examples()
    unknown = sorted(map(str, set(value) - {"typical", "borderline"}))
    if unknown:
        problems.append(
            Problem(
                where("examples"),
                f"unknown kind(s) of example: {', '.join(unknown)} (use typical, borderline)",
            )
        )
    return Examples(
        typical=_text_list(value.get("typical"), "examples", where, problems),
        borderline=_text_list(value.get("borderline"), "examples", where, problems),
    )


def _build_codes(
    raw_codes: Sequence[dict[str, Any]], problems: list[Problem]
) -> list[tuple[Code, str]]:
    """Valid codes, each with the place of its 'parent' field (for hierarchy problems)."""
    codes: list[tuple[Code, str]] = []
    seen: dict[str, str] = {}
    for raw in raw_codes:
        where = raw["_where"]
        unknown = sorted(map(str, set(raw) - CODE_FIELDS - {"_where"}))
        if unknown:
            problems.append(Problem(where(""), f"unknown field(s): {', '.join(unknown)}"))
        code_id = _text(raw.get("id"), "id", where, problems)
        name = _text(raw.get("name"), "name", where, problems)
        definition = _text(raw.get("definition"), "definition", where, problems)
        parent = _text(raw.get("parent"), "parent", where, problems) or None
        colour = _text(raw.get("colour", raw.get("color")), "colour", where, problems) or None
        bad = False
        if not code_id:
            problems.append(Problem(where("id"), "'id' is empty"))
            bad = True
        elif not CODE_ID_RE.match(code_id):
            problems.append(
                Problem(
                    where("id"),
                    f"id {code_id!r}: use lowercase letters, digits, "
                    "'_' (and '.' between parts), starting with a letter",
                )
            )
            bad = True
        elif code_id in seen:
            problems.append(
                Problem(where("id"), f"duplicate id {code_id!r} (first at {seen[code_id]})")
            )
            bad = True
        else:
            seen[code_id] = where("")
        if not name:
            problems.append(Problem(where("name"), "'name' is empty"))
        if not definition:
            problems.append(Problem(where("definition"), "'definition' is empty"))
        if colour is not None and not COLOUR_RE.match(colour):
            problems.append(
                Problem(where("colour"), f"colour {colour!r} is not of the form #rrggbb")
            )
            colour = None
        lists = {f: _text_list(raw.get(f), f, where, problems) for f in LIST_FIELDS}
        examples = _examples(raw.get("examples"), where, problems)
        if bad:
            continue
        code = Code(
            id=code_id,
            name=name,
            definition=definition,
            parent=parent,
            colour=colour,
            examples=examples,
            **lists,
        )
        codes.append((code, where("parent")))
    return codes


def _finish(
    codebook_id: str,
    head: Mapping[str, Any],
    placed: list[tuple[Code, str]],
    problems: list[Problem],
    source: str,
) -> Codebook:
    problems.extend(_hierarchy_problems(placed))
    problems.sort(key=_place_order)
    codes = [code for code, _where in placed]
    if problems:
        raise InvalidInput(source, problems)
    return Codebook(
        id=codebook_id,
        name=str(head.get("name") or codebook_id),
        description=str(head.get("description") or "").strip(),
        codes=tuple(codes),
    )


def _place_order(problem: Problem) -> tuple[int, str]:
    """Sort problems by the line or row number in their place, when it has one."""
    match = re.match(r"(?:line|row) (\d+)", problem.where)
    return (int(match.group(1)) if match else 0, problem.where)


def _hierarchy_problems(placed: Sequence[tuple[Code, str]]) -> list[Problem]:
    problems: list[Problem] = []
    by_id = {c.id: c for c, _where in placed}
    for code, where in placed:
        if code.parent is None:
            continue
        if code.parent not in by_id:
            problems.append(Problem(where, f"code {code.id!r}: unknown parent {code.parent!r}"))
            continue
        seen = {code.id}
        node: Code | None = by_id[code.parent]
        while node is not None:
            if node.id in seen:
                problems.append(
                    Problem(
                        where, f"code {code.id!r}: parent chain forms a cycle through {node.id!r}"
                    )
                )
                break
            seen.add(node.id)
            node = by_id.get(node.parent) if node.parent else None
    return problems


def codebook_to_data(codebook: Codebook) -> dict[str, Any]:
    """A codebook as plain data in the YAML/JSON shape."""
    return {
        "codebook": {"id": codebook.id, "name": codebook.name, "description": codebook.description},
        "codes": [
            {
                "id": c.id,
                "name": c.name,
                "parent": c.parent,
                "colour": c.colour,
                "definition": c.definition,
                "inclusion": list(c.inclusion),
                "exclusion": list(c.exclusion),
                "indicators": list(c.indicators),
                "examples": {
                    "typical": list(c.examples.typical),
                    "borderline": list(c.examples.borderline),
                },
            }
            for c in codebook.codes
        ],
    }


def write_codebook(codebook: Codebook, fmt: str = "yaml") -> str:
    """Serialise a codebook as YAML, JSON or CSV text."""
    data = codebook_to_data(codebook)
    if fmt in ("yaml", "yml"):
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for c in codebook.codes:
            writer.writerow(
                [
                    c.id,
                    c.name,
                    c.parent or "",
                    c.colour or "",
                    c.definition,
                    LIST_SEPARATOR.join(c.inclusion),
                    LIST_SEPARATOR.join(c.exclusion),
                    LIST_SEPARATOR.join(c.indicators),
                    LIST_SEPARATOR.join(c.examples.typical),
                    LIST_SEPARATOR.join(c.examples.borderline),
                ]
            )
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
    fields = (
        "name",
        "parent",
        "colour",
        "definition",
        "inclusion",
        "exclusion",
        "indicators",
        "examples",
    )
    for cid in new.code_ids:
        if cid in old_ids:
            before, after = old.code(cid), new.code(cid)
            changes += [
                f"code {cid!r}: {f} changed"
                for f in fields
                if getattr(before, f) != getattr(after, f)
            ]
    if old.name != new.name or old.description != new.description:
        changes.append("codebook name or description changed")
    return changes
