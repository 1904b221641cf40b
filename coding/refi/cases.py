"""Attributes as REFI-QDA Variables and Cases.

A document attribute is a ``Variable`` with a ``VariableValue`` on each ``TextSource`` that
has a value. Unit attributes travel as ``Cases``: one case per combination of unit attribute
values that some unit has (``speaker=amira; wave=1``), holding a ``VariableValue`` for each
and a ``SelectionRef`` to a ``PlainTextSelection`` over each of its units (a selection with
no coding). Types map text -> Text, number -> Integer (every value whole) or Float, date ->
Date; on import Integer and Float are numbers, Date and DateTime dates, Text and Boolean
text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from lxml import etree

from coding.refi.xml import child, children, guid, local, norm_guid

VALUE_TAGS = {
    "Text": "TextValue",
    "Boolean": "BooleanValue",
    "Integer": "IntegerValue",
    "Float": "FloatValue",
    "Date": "DateValue",
    "DateTime": "DateTimeValue",
}
OUR_TYPE = {
    "Text": "text",
    "Boolean": "text",
    "Integer": "number",
    "Float": "number",
    "Date": "date",
    "DateTime": "date",
}


@dataclass(frozen=True)
class StudyAttributes:
    """A study's declared attributes and their values, as exports read them."""

    declared: Sequence[tuple[str, str, str]] = ()  # name, scope, type
    documents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # id -> values
    units: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["segment_id", "name", "value"])
    )

    def refi_type(self, name: str, kind: str) -> str:
        """The REFI type of an attribute: Integer for numbers that are all whole."""
        if kind == "date":
            return "Date"
        if kind != "number":
            return "Text"
        values = [v[name] for v in self.documents.values() if name in v]
        values += self.units.loc[self.units["name"] == name, "value"].tolist()
        return "Integer" if all(Decimal(v) == int(Decimal(v)) for v in values) else "Float"


def refi_value(refi_type: str, value: str) -> str:
    """A stored value as the XSD type of its REFI value element.

    >>> refi_value("Float", "1e-07"), refi_value("Integer", "12")
    ('0.0000001', '12')
    """
    if refi_type == "Float":
        return format(Decimal(value), "f")
    if refi_type == "Integer":
        return str(int(Decimal(value)))
    return value


Element = Callable[..., etree._Element]


def add_variables(variables: etree._Element, el: Element, attributes: StudyAttributes) -> None:
    for name, _scope, kind in attributes.declared:
        el(
            variables,
            "Variable",
            guid=guid("variable", name),
            name=name,
            typeOfVariable=attributes.refi_type(name, kind),
        )


def add_value(parent: etree._Element, el: Element, name: str, refi_type: str, value: str) -> None:
    holder = el(parent, "VariableValue")
    el(holder, "VariableRef", targetGUID=guid("variable", name))
    el(holder, VALUE_TAGS[refi_type]).text = refi_value(refi_type, value)


@dataclass(frozen=True)
class UnitCase:
    """Units sharing one combination of unit attribute values."""

    values: tuple[tuple[str, str], ...]
    units: tuple[str, ...]  # segment ids

    @property
    def name(self) -> str:
        return "; ".join(f"{n}={v}" for n, v in self.values)


def unit_cases(attributes: StudyAttributes) -> list[UnitCase]:
    """One case per combination of unit attribute values, in name order."""
    frame = attributes.units
    if frame.empty:
        return []
    by_unit: dict[str, list[tuple[str, str]]] = {}
    ordered = frame.sort_values(["segment_id", "name"], kind="stable")
    for segment_id, name, value in zip(
        ordered["segment_id"], ordered["name"], ordered["value"], strict=True
    ):
        by_unit.setdefault(str(segment_id), []).append((str(name), str(value)))
    cases: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for segment_id, values in by_unit.items():
        cases.setdefault(tuple(values), []).append(segment_id)
    return [UnitCase(values, tuple(units)) for values, units in sorted(cases.items())]


def unit_selection_guid(segment_id: str) -> str:
    return guid("unit", segment_id)


def add_cases(
    cases_el: etree._Element, el: Element, cases: Sequence[UnitCase], types: Mapping[str, str]
) -> None:
    for case in cases:
        element = el(cases_el, "Case", guid=guid("case", case.name), name=case.name)
        for name, value in case.values:
            add_value(element, el, name, types[name], value)
        for segment_id in case.units:
            el(element, "SelectionRef", targetGUID=unit_selection_guid(segment_id))


# -- reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """A case of a project: its variable values, the selections and sources it refers to."""

    name: str
    values: tuple[tuple[str, str, str], ...]  # variable name, REFI type, value
    selections: tuple[str, ...]  # selection GUIDs
    sources: tuple[str, ...]  # source GUIDs


def read_values(
    element: etree._Element, variables: Mapping[str, tuple[str, str]]
) -> list[tuple[str, str, str]]:
    """(name, REFI type, value) of each VariableValue of an element, by its Variable."""
    found = []
    for holder in children(element, "VariableValue"):
        ref = child(holder, "VariableRef")
        key = norm_guid(ref.get("targetGUID")) if ref is not None else None
        if key is None or key not in variables:
            continue
        for value in holder:
            if isinstance(value.tag, str) and local(value) in VALUE_TAGS.values():
                found.append((*variables[key], (value.text or "").strip()))
    return found


def read_cases(root: etree._Element, variables: Mapping[str, tuple[str, str]]) -> list[Case]:
    holder = child(root, "Cases")
    cases = []
    for element in children(holder, "Case") if holder is not None else []:
        refs = [norm_guid(r.get("targetGUID")) or "" for r in children(element, "SelectionRef")]
        sources = [norm_guid(r.get("targetGUID")) or "" for r in children(element, "SourceRef")]
        cases.append(
            Case(
                (element.get("name") or "").strip(),
                tuple(read_values(element, variables)),
                tuple(refs),
                tuple(sources),
            )
        )
    return cases
