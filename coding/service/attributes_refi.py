"""Attributes from a REFI-QDA project: source variables become document attributes, and the
variables of cases become unit attributes of the units the case's selections cover.

Names are made attribute names (lower case; other characters as ``_``); types come from
each Variable's ``typeOfVariable`` (``coding.refi.cases.OUR_TYPE``). Every value is checked
as an import's columns are (:class:`AttributePlan`), before anything is written.
"""

from __future__ import annotations

import re

from coding.model import Document, Segment
from coding.refi.cases import OUR_TYPE
from coding.refi.locate import locate_selections
from coding.refi.qdpx_read import Project
from coding.service.attributes import AttributePlan, Cells
from coding.store import Store

Units = dict[str, tuple[Document, list[Segment]]]  # source GUID -> document, units


def attribute_name(name: str) -> str:
    """An attribute name for a variable name from another tool.

    >>> attribute_name("Age Group"), attribute_name("2nd wave")
    ('age_group', 'v_2nd_wave')
    """
    slug = re.sub(r"[^a-z0-9_.-]+", "_", name.strip().lower()).strip("_")
    return (slug if slug[:1].isalpha() else f"v_{slug}")[:63]


def _rows(
    found: list[tuple[str, list[tuple[str, str, str]]]],
) -> tuple[list[str], list[tuple[str, Cells]]]:
    """Headers ``name:type`` over every variable found, and each row's cells under them."""
    headers: dict[str, str] = {}
    for _, values in found:
        for name, refi_type, _value in values:
            key = attribute_name(name)
            headers.setdefault(key, f"{key}:{OUR_TYPE.get(refi_type, 'text')}")
    rows = []
    for where, values in found:
        given = {attribute_name(n): v for n, _, v in values}
        rows.append((where, tuple((h, given.get(n, "")) for n, h in headers.items())))
    return list(headers.values()), rows


def refi_attributes(
    store: Store, project: Project, units: Units, positions: str, min_overlap: float
) -> AttributePlan:
    """The project's attribute values for the study's documents and units, checked."""
    plan = AttributePlan.read(store)
    sources = [(s.guid, s) for s in project.sources if s.guid in units and s.variables]
    found = [(f"TextSource {s.name}", list(s.variables)) for _, s in sources]
    _headers, rows = _rows(found)
    columns = plan.columns(project.name or "project", "document", rows, ()) if rows else None
    for (guid, _src), (_where, cells) in zip(sources, rows, strict=True):
        plan.add("document", units[guid][0].id, columns or [], dict(cells))
    cases = [c for c in project.cases if c.values]
    _headers, rows = _rows([(f"Case {c.name}", [(n, k, v) for n, k, v in c.values]) for c in cases])
    columns = plan.columns(project.name or "project", "unit", rows, ()) if rows else None
    if not columns:
        return plan
    spans = locate_selections(project, positions)
    for case, (_where, cells) in zip(cases, rows, strict=True):
        for segment_id in _covered(case.selections, case.sources, spans, units, min_overlap):
            plan.add("unit", segment_id, columns, dict(cells))
    return plan


def _covered(
    selections: tuple[str, ...],
    sources: tuple[str, ...],
    spans: dict[str, tuple[str, int, int]],
    units: Units,
    min_overlap: float,
) -> list[str]:
    """The units a case covers: every unit of the sources it names, and each unit its
    selections overlap by ``min_overlap`` of the shorter of the two."""
    found = [seg.id for source in sources if source in units for seg in units[source][1]]
    for key in selections:
        if key not in spans or spans[key][0] not in units:
            continue
        source, start, end = spans[key]
        for seg in units[source][1]:
            overlap = min(end, seg.end) - max(start, seg.start)
            if overlap > 0 and overlap >= min_overlap * min(end - start, seg.end - seg.start):
                found.append(seg.id)
    return found
