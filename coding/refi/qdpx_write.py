"""Write a REFI-QDA project (.qdpx): users, codebook, text sources and each coder's codings.

The archive holds ``project.qde`` and ``sources/<guid>.txt`` (UTF-8, "\\n" line ends, no BOM),
referred to as ``internal://<guid>.txt``. Positions count code points of that text, so they are
our document offsets unchanged. GUIDs are uuid5 of our ids: the same study gives the same file.

A source is named by its document name; its version travels as the Integer variable
``document_version`` (so ``doc`` v1 and ``doc`` v2 are two sources named ``doc``). Strings XML
cannot hold (control characters) are replaced by spaces in the XML; source texts are written
unchanged, so positions stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from lxml import etree

from coding.model import Codebook, Document
from coding.refi.qdc import ORIGIN, add_codes, code_guid
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


@dataclass(frozen=True)
class ProjectContent:
    """What goes into a project file."""

    name: str
    codebook: Codebook
    documents: Sequence[Document]
    coders: Sequence[str]
    annotations: pd.DataFrame  # segment_id, document_id, coder, code_id, start, end, created_at


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
    if programmes:
        cases = _el(root, "Cases")
        for programme in programmes:
            case = _el(cases, "Case", guid=guid("programme", programme), name=programme)
            for document in content.documents:
                if document.programme == programme:
                    _el(case, "SourceRef", targetGUID=source_guid(document.id))
    if content.documents:
        sources = _el(root, "Sources")
        selections = _selections(content.annotations)
        for document in content.documents:
            _add_source(sources, document, selections.get(document.id, []), variable)
    return serialise(root)


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
