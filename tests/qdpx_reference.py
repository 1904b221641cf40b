"""The .qdpx writer that builds the whole XML tree with lxml, kept as the reference that
the streamed writer (``coding.refi.qdpx_write``) must match byte for byte.

It is the straightforward form: every element made with ``etree.SubElement``, serialised at
the end with ``etree.tostring(pretty_print=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import pandas as pd
from lxml import etree

from coding.model import Document
from coding.refi import cases as attribute_cases
from coding.refi.cases import UnitCase, unit_selection_guid
from coding.refi.qdc import ORIGIN, add_codes, code_guid
from coding.refi.qdpx_write import ProjectContent
from coding.refi.xml import PROJECT_NS, guid, serialise
from coding.xmlzip import write_archive, xml_text

P = f"{{{PROJECT_NS}}}"
PROGRAMME_VARIABLE = "programme"
VERSION_VARIABLE = "document_version"


@lru_cache(maxsize=4096)  # a project export asks once per selection
def user_guid(coder: str) -> str:
    return guid("coder", coder)


def source_guid(document_id: str) -> str:
    return guid("document", document_id)


def _el(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, P + tag, {k: xml_text(v) for k, v in attrs.items()})


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = _el(parent, tag)
    element.text = xml_text(text)
    return element


def project_xml(content: ProjectContent) -> bytes:
    """The ``project.qde`` document."""
    root = etree.Element(
        P + "Project", {"name": xml_text(content.name), "origin": ORIGIN}, nsmap={None: PROJECT_NS}
    )
    if content.coders:
        users = _el(root, "Users")
        for coder in content.coders:
            _el(users, "User", guid=user_guid(coder), name=coder, id=coder)
    if content.codebook.codes:
        add_codes(_el(_el(root, "CodeBook"), "Codes"), content.codebook, PROJECT_NS)
    programmes = sorted({d.programme for d in content.documents if d.programme})
    variable = guid("variable", PROGRAMME_VARIABLE)
    if content.documents:
        variables = _el(root, "Variables")
        if programmes:
            _el(
                variables, "Variable", guid=variable, name=PROGRAMME_VARIABLE, typeOfVariable="Text"
            )
        _el(
            variables,
            "Variable",
            guid=guid("variable", VERSION_VARIABLE),
            name=VERSION_VARIABLE,
            typeOfVariable="Integer",
        )
        attribute_cases.add_variables(variables, _el, content.attributes)
    types = {n: content.attributes.refi_type(n, k) for n, _, k in content.attributes.declared}
    unit_cases = attribute_cases.unit_cases(content.attributes) if content.units is not None else []
    if programmes or unit_cases:
        cases = _el(root, "Cases")
        for programme in programmes:
            case = _el(cases, "Case", guid=guid("programme", programme), name=programme)
            for document in content.documents:
                if document.programme == programme:
                    _el(case, "SourceRef", targetGUID=source_guid(document.id))
        attribute_cases.add_cases(cases, _el, unit_cases, types)
    if content.documents:
        _add_sources(_el(root, "Sources"), content, variable, types, unit_cases)
    return serialise(root)


def _add_sources(
    sources: etree._Element,
    content: ProjectContent,
    variable: str,
    types: dict[str, str],
    unit_cases: Sequence[UnitCase],
) -> None:
    """Each document as a TextSource: its codings' selections, its units in cases, the
    programme, version and document attribute values."""
    selections = _selections(content.annotations)
    spans = _case_units(unit_cases, content.units)
    for document in content.documents:
        _add_source(sources, document, selections.get(document.id, []), variable)
        source = sources[-1]
        _add_unit_selections(source, document, spans.get(document.id, []))
        values = content.attributes.documents.get(document.id, {})
        for name, value in sorted(values.items()):
            attribute_cases.add_value(source, _el, name, types[name], value)


def _case_units(
    unit_cases: Sequence[UnitCase], units: pd.DataFrame | None
) -> dict[str, list[tuple[str, int, int]]]:
    """Per document, (segment_id, start, end) of each unit in a case, in document order."""
    if units is None or not unit_cases:
        return {}
    wanted = {s for case in unit_cases for s in case.units}
    found = units[units["segment_id"].isin(wanted)].sort_values(["document_id", "start", "end"])
    spans: dict[str, list[tuple[str, int, int]]] = {}
    for segment_id, document_id, start, end in zip(
        found["segment_id"], found["document_id"], found["start"], found["end"], strict=True
    ):
        spans.setdefault(str(document_id), []).append((str(segment_id), int(start), int(end)))
    return spans


def _add_unit_selections(
    source: etree._Element, document: Document, spans: list[tuple[str, int, int]]
) -> None:
    """A selection with no coding over each unit a case refers to, before the source's
    variable values (the XSD's order)."""
    first_value = next((i for i, e in enumerate(source) if e.tag == P + "VariableValue"), None)
    for segment_id, start, end in spans:
        selection = etree.Element(
            P + "PlainTextSelection",
            {
                "guid": unit_selection_guid(segment_id),
                "name": xml_text(_excerpt(document.text[start:end])),
                "startPosition": str(start),
                "endPosition": str(end),
            },
        )
        if first_value is None:
            source.append(selection)
        else:
            source.insert(first_value, selection)
            first_value += 1


Coding = tuple[str, str]  # code_id, created_at
Selection = tuple[int, int, str, list[Coding]]  # start, end, coder, codings


def _selections(annotations: pd.DataFrame) -> dict[str, list[Selection]]:
    """Per document, its selections in order of (start, end, coder), each with its codings
    in order of code; one pass over the annotations, whatever the number of documents."""
    ordered = annotations.sort_values(
        ["document_id", "start", "end", "coder", "code_id"], kind="stable"
    )
    found: dict[str, list[Selection]] = {}
    last: tuple[str, int, int, str] | None = None
    columns = ("document_id", "start", "end", "coder", "code_id", "created_at")
    for document_id, start, end, coder, code_id, created_at in zip(
        *(ordered[c].tolist() for c in columns), strict=True
    ):
        key = (str(document_id), int(start), int(end), str(coder))
        if key != last:
            found.setdefault(key[0], []).append((key[1], key[2], key[3], []))
            last = key
        found[key[0]][-1][3].append((str(code_id), created_at))
    return found


def _add_source(
    sources: etree._Element, document: Document, selections: list[Selection], variable: str
) -> None:
    key = source_guid(document.id)
    source = _el(
        sources,
        "TextSource",
        guid=key,
        name=document.name or document.id,
        plainTextPath=f"internal://{key}.txt",
    )
    if document.title:
        _text(source, "Description", document.title)
    for start, end, coder, codings in selections:
        user = user_guid(coder)
        sel_key = guid("selection", document.id, str(start), str(end), coder)
        first = _earliest([created for _, created in codings])
        selection = _el(
            source,
            "PlainTextSelection",
            guid=sel_key,
            name=_excerpt(document.text[start:end]),
            startPosition=str(start),
            endPosition=str(end),
            creatingUser=user,
        )
        if first:
            selection.set("creationDateTime", first)
        for code_id, created in codings:  # GUIDs need no xml_text: a million codings
            coding = etree.SubElement(
                selection, P + "Coding", {"guid": guid("coding", sel_key, code_id)}
            )
            coding.set("creatingUser", user)
            if created:
                coding.set("creationDateTime", str(created))
            etree.SubElement(coding, P + "CodeRef", {"targetGUID": code_guid(code_id)})
    if document.programme:
        value = _el(source, "VariableValue")
        _el(value, "VariableRef", targetGUID=variable)
        _text(value, "TextValue", document.programme)
    value = _el(source, "VariableValue")
    _el(value, "VariableRef", targetGUID=guid("variable", VERSION_VARIABLE))
    _text(value, "IntegerValue", str(document.version))


def _earliest(times: list[object]) -> str:
    """The earliest creation time of a selection's codings, as ``Series.min`` gives it: the
    smallest of the times given, or "" when none is."""
    known = [str(t) for t in times if t is not None and t == t]  # t == t: not NaN
    return min(known) if known else ""


def _excerpt(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def write_qdpx(content: ProjectContent) -> bytes:
    """The .qdpx archive: ``project.qde`` then one ``sources/<guid>.txt`` per document."""
    entries = [("project.qde", project_xml(content))]
    entries += [
        (f"sources/{source_guid(d.id)}.txt", d.text.encode("utf-8")) for d in content.documents
    ]
    return write_archive(entries)
