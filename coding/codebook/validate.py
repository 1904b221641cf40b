"""Checking raw code entries (from any codebook format) and building a Codebook from them.

A raw entry is a mapping of field values plus ``_where``, a function giving the place of a
field (line, row) for problems. Every problem is collected, sorted by place, and raised once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from coding.codebook.fields import (
    CODE_FIELDS,
    EXAMPLE_KINDS,
    FALSE_CELLS,
    LIST_FIELDS,
    TRUE_CELLS,
)
from coding.errors import InvalidInput, Problem
from coding.model import CODE_ID_RE, COLOUR_RE, Code, Codebook, Examples

Where = Callable[[str], str]  # field name ("" for the entry itself) -> its place in the file
TEXT_FIELDS = ("id", "name", "definition", "parent")


def _text_list(value: Any, field: str, where: Where, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        problems.append(Problem(where(field), "must be a list of texts"))
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


def _text(value: Any, field: str, where: Where, problems: list[Problem]) -> str:
    """A field that must be one piece of text (a number is taken as text)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(Problem(where(field), f"'{field}' must be text, not a list or mapping"))
        return ""
    return str(value).strip()


def _examples(value: Any, where: Where, problems: list[Problem]) -> Examples:
    if value is None:
        return Examples()
    if not isinstance(value, Mapping):
        problems.append(Problem(where("examples"), "must be a mapping with typical/borderline"))
        return Examples()
    unknown = sorted(map(str, set(value) - set(EXAMPLE_KINDS)))
    if unknown:
        problems.append(
            Problem(
                where("examples"),
                f"unknown kind(s) of example: {', '.join(unknown)} (use typical, borderline)",
            )
        )
    kinds = {k: _text_list(value.get(k), "examples", where, problems) for k in EXAMPLE_KINDS}
    return Examples(**kinds)


def _flag(value: Any, field: str, where: Where, problems: list[Problem]) -> bool:
    """A yes/no field: a YAML/JSON boolean, or a CSV cell true/false, yes/no, 1/0 (or empty)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_CELLS | FALSE_CELLS:
        return value.strip().lower() in TRUE_CELLS
    problems.append(Problem(where(field), f"'{field}' must be true or false, not {value!r}"))
    return False


def _id_problem(code_id: str, seen: Mapping[str, str]) -> str:
    """What is wrong with a code id ("" when it is valid and new)."""
    if not code_id:
        return "'id' is empty"
    if not CODE_ID_RE.match(code_id):
        return (
            f"id {code_id!r}: use lowercase letters, digits, "
            "'_' (and '.' between parts), starting with a letter"
        )
    if code_id in seen:
        return f"duplicate id {code_id!r} (first at {seen[code_id]})"
    return ""


def _colour(raw: Mapping[str, Any], where: Where, problems: list[Problem]) -> str | None:
    colour = _text(raw.get("colour", raw.get("color")), "colour", where, problems) or None
    if colour is not None and not COLOUR_RE.match(colour):
        problems.append(Problem(where("colour"), f"colour {colour!r} is not of the form #rrggbb"))
        return None
    return colour


def build_codes(
    raw_codes: Sequence[Mapping[str, Any]], problems: list[Problem]
) -> list[tuple[Code, str]]:
    """Valid codes, each with the place of its 'parent' field (for hierarchy problems)."""
    codes: list[tuple[Code, str]] = []
    seen: dict[str, str] = {}
    for raw in raw_codes:
        where: Where = raw["_where"]
        unknown = sorted(map(str, set(raw) - CODE_FIELDS - {"_where"}))
        if unknown:
            problems.append(Problem(where(""), f"unknown field(s): {', '.join(unknown)}"))
        text = {f: _text(raw.get(f), f, where, problems) for f in TEXT_FIELDS}
        colour = _colour(raw, where, problems)
        bad_id = _id_problem(text["id"], seen)
        if bad_id:
            problems.append(Problem(where("id"), bad_id))
        else:
            seen[text["id"]] = where("")
        problems.extend(
            Problem(where(f), f"'{f}' is empty") for f in ("name", "definition") if not text[f]
        )
        lists = {f: _text_list(raw.get(f), f, where, problems) for f in LIST_FIELDS}
        examples = _examples(raw.get("examples"), where, problems)
        exclusive = _flag(raw.get("exclusive"), "exclusive", where, problems)
        if not bad_id:
            described: dict[str, Any] = {"examples": examples, "colour": colour, **lists}
            described["exclusive"] = exclusive
            code = Code(
                text["id"], text["name"], text["definition"], text["parent"] or None, **described
            )
            codes.append((code, where("parent")))
    return codes


def finish(
    codebook_id: str,
    head: Mapping[str, Any],
    placed: list[tuple[Code, str]],
    problems: list[Problem],
    source: str,
) -> Codebook:
    """The codebook of valid codes, or InvalidInput with every problem sorted by place."""
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
    children = Counter(c.parent for c, _where in placed if c.parent)
    problems.extend(
        Problem(
            where,
            f"code {code.id!r} is exclusive but has {children[code.id]} child code(s): an "
            "exclusive group needs two or more children",
        )
        for code, where in placed
        if code.exclusive and children[code.id] < 2
    )
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
