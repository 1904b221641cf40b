"""Codings of a REFI-QDA project in the normalised text of their sources.

A project counts positions in its texts as written, in code points or (NVivo) UTF-16 code
units; a study counts them in normalised text (see ``coding.refi.positions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coding.errors import Problem
from coding.refi.positions import PositionMap, PositionUnit, detect_unit
from coding.refi.qdpx_read import Project, RawCoding


@dataclass(frozen=True)
class Located:
    """A coding in the normalised text of its source."""

    source: str
    start: int
    end: int
    code_id: str
    coder: str


# How positions in a project may be counted: decided per source, or forced.
POSITION_MODES = ("auto", "utf16", "codepoints")


def locate(
    project: Project, mode: str = "auto"
) -> tuple[dict[str, str], list[Located], list[str], list[Problem]]:
    """Normalised texts per source, codings in normalised offsets, notes, and problems.

    ``mode`` says how positions are counted: ``auto`` decides per source (see
    ``positions.detect_unit``), or force ``utf16`` / ``codepoints``.
    """
    if mode not in POSITION_MODES:
        raise ValueError(f"unknown position mode {mode!r}")
    texts: dict[str, str] = {}
    located: list[Located] = []
    notes: list[str] = []
    problems: list[Problem] = []
    for src in project.sources:
        mine: Sequence[RawCoding] = [c for c in project.codings if c.source == src.guid]
        unit, reason = _unit(project, src.raw, mine, mode)
        if mode == "auto" and (unit is PositionUnit.UTF16 or "both counts agree" not in reason):
            notes.append(f"{src.name}: positions read as {unit.value} ({reason})")
        mapping = PositionMap(src.raw, unit)
        texts[src.guid] = mapping.text
        for c in mine:
            span = (0, len(mapping.text)) if c.whole else mapping.span(c.start, c.end)
            if span is None:
                problems.append(
                    Problem(
                        c.where,
                        f"span {c.start}:{c.end} does not fit the text "
                        f"of {src.name!r} counted as {unit.value}",
                    )
                )
                continue
            located.append(Located(src.guid, span[0], span[1], c.code_id, c.coder))
    return texts, located, notes, problems


def _unit(
    project: Project, raw: str, mine: Sequence[RawCoding], mode: str
) -> tuple[PositionUnit, str]:
    """How a source's positions count: as ``mode`` says, or as its codings suggest."""
    if mode != "auto":
        return PositionUnit(mode), ""
    return detect_unit(raw, [(c.start, c.end) for c in mine if not c.whole], project.origin)


def locate_selections(project: Project, mode: str = "auto") -> dict[str, tuple[str, int, int]]:
    """Every selection a case refers to, as (source, start, end) in normalised text, counted
    as its source's codings are; selections that do not fit their text are left out."""
    wanted = {key for case in project.cases for key in case.selections}
    raw = {g: src.raw for g, src in ((s.guid, s) for s in project.sources)}
    maps: dict[str, PositionMap] = {}
    found: dict[str, tuple[str, int, int]] = {}
    for key in sorted(wanted & set(project.selections)):
        source, start, end = project.selections[key]
        if source not in raw:
            continue
        if source not in maps:
            mine = [c for c in project.codings if c.source == source]
            maps[source] = PositionMap(raw[source], _unit(project, raw[source], mine, mode)[0])
        span = maps[source].span(start, end)
        if span is not None:
            found[key] = (source, *span)
    return found
