"""Write a REFI-QDA project (.qdpx): users, codebook, text sources and each coder's codings.

The archive holds ``project.qde`` and ``sources/<guid>.txt`` (UTF-8, "\\n" line ends, no BOM),
referred to as ``internal://<guid>.txt``. Positions count code points of that text, so they are
our document offsets unchanged. GUIDs are uuid5 of our ids: the same study gives the same file.

A source is named by its document name; its version travels as the Integer variable
``document_version`` (so ``doc`` v1 and ``doc`` v2 are two sources named ``doc``). Strings XML
cannot hold (control characters) are replaced by spaces in the XML; source texts are written
unchanged, so positions stay exact.

``project.qde`` is written as it is made (:class:`coding.refi.xml_write.XmlStream`), one
source at a time from one sort of the codings, so a project of millions of codings never
exists whole in memory, as a tree or as text.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import IO

import numpy as np
import pandas as pd

from coding.model import Code, Codebook, Document
from coding.refi import cases as attribute_cases
from coding.refi.cases import VALUE_TAGS, StudyAttributes, UnitCase, refi_value
from coding.refi.cases import unit_selection_guid as unit_selection_guid
from coding.refi.qdc import ORIGIN, code_guid, description_for
from coding.refi.xml import PROJECT_NS, guid
from coding.refi.xml_write import XmlStream, attribute
from coding.xmlzip import Member, stream_archive

PROGRAMME_VARIABLE = "programme"
VERSION_VARIABLE = "document_version"
_COLUMNS = ("start", "end", "coder", "code_id", "created_at")


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
    attributes: StudyAttributes = field(default_factory=StudyAttributes)
    units: pd.DataFrame | None = None  # segment_id, document_id, start, end (cases' units)


def write_project(content: ProjectContent, out: IO[bytes]) -> None:
    """The ``project.qde`` document, written to ``out`` as it is made."""
    xml = XmlStream(out)
    xml.start("Project", {"xmlns": PROJECT_NS, "name": content.name, "origin": ORIGIN})
    if content.coders:
        xml.start("Users", {})
        for coder in content.coders:
            xml.empty("User", {"guid": user_guid(coder), "name": coder, "id": coder})
        xml.end()
    if content.codebook.codes:
        xml.start("CodeBook", {})
        xml.start("Codes", {})
        _codes(xml, content.codebook)
        xml.end()
        xml.end()
    attributes = content.attributes
    types = {n: attributes.refi_type(n, k) for n, _, k in attributes.declared}
    programmes = sorted({d.programme for d in content.documents if d.programme})
    if content.documents:
        _variables(xml, bool(programmes), types)
    unit_cases = attribute_cases.unit_cases(attributes) if content.units is not None else []
    if programmes or unit_cases:
        xml.start("Cases", {})
        _programme_cases(xml, programmes, content.documents)
        _unit_cases(xml, unit_cases, types)
        xml.end()
    if content.documents:
        _sources(xml, content, types, unit_cases)
    xml.end()
    xml.close()


def _codes(xml: XmlStream, codebook: Codebook) -> None:
    """``Code`` elements, nested by parent, each with its Description."""
    ids = set(codebook.code_ids)
    kids: dict[str | None, list[Code]] = {}
    for code in codebook.codes:
        kids.setdefault(code.parent if code.parent in ids else None, []).append(code)

    def add(code: Code) -> None:
        attrs = {"guid": code_guid(code.id), "name": code.name, "isCodable": "true"}
        if code.colour:
            attrs["color"] = code.colour
        xml.start("Code", attrs)
        xml.leaf("Description", {}, description_for(code))
        for kid in kids.get(code.id, []):
            add(kid)
        xml.end()

    for code in kids.get(None, []):
        add(code)


def _variables(xml: XmlStream, programmes: bool, types: dict[str, str]) -> None:
    xml.start("Variables", {})
    if programmes:
        xml.empty(
            "Variable",
            {
                "guid": guid("variable", PROGRAMME_VARIABLE),
                "name": PROGRAMME_VARIABLE,
                "typeOfVariable": "Text",
            },
        )
    version = {"guid": guid("variable", VERSION_VARIABLE), "name": VERSION_VARIABLE}
    xml.empty("Variable", {**version, "typeOfVariable": "Integer"})
    for name, refi_type in types.items():
        attrs = {"guid": guid("variable", name), "name": name, "typeOfVariable": refi_type}
        xml.empty("Variable", attrs)
    xml.end()


def _value(xml: XmlStream, variable: str, refi_type: str, value: str) -> None:
    """A ``VariableValue``: the variable's GUID and the value in its type's element."""
    xml.start("VariableValue", {})
    xml.empty("VariableRef", {"targetGUID": variable})
    xml.leaf(VALUE_TAGS[refi_type], {}, refi_value(refi_type, value))
    xml.end()


def _programme_cases(
    xml: XmlStream, programmes: Sequence[str], documents: Sequence[Document]
) -> None:
    """A case per programme, referring to its documents' sources."""
    members: dict[str, list[str]] = {}
    for document in documents:
        members.setdefault(document.programme, []).append(document.id)
    for programme in programmes:
        xml.start("Case", {"guid": guid("programme", programme), "name": programme})
        for document_id in members[programme]:
            xml.empty("SourceRef", {"targetGUID": source_guid(document_id)})
        xml.end()


def _unit_cases(xml: XmlStream, cases: Sequence[UnitCase], types: dict[str, str]) -> None:
    """A case per combination of unit attribute values, referring to its units' selections."""
    for case in cases:
        xml.start("Case", {"guid": guid("case", case.name), "name": case.name})
        for name, value in case.values:
            _value(xml, guid("variable", name), types[name], value)
        pad = xml.indent
        xml.lines(
            "".join(
                f'{pad}<SelectionRef targetGUID="{unit_selection_guid(s)}"/>\n' for s in case.units
            )
        )
        xml.end()


def _sources(
    xml: XmlStream,
    content: ProjectContent,
    types: dict[str, str],
    unit_cases: Sequence[UnitCase],
) -> None:
    """Each document as a TextSource: its codings' selections, its units in cases, the
    programme, version and document attribute values."""
    codings = _CodingsByDocument(content.annotations)
    spans = _case_units(unit_cases, content.units)
    programme = guid("variable", PROGRAMME_VARIABLE)
    version = guid("variable", VERSION_VARIABLE)
    xml.start("Sources", {})
    for document in content.documents:
        key = source_guid(document.id)
        attrs = {"guid": key, "name": document.name or document.id}
        xml.start("TextSource", {**attrs, "plainTextPath": f"internal://{key}.txt"})
        if document.title:
            xml.leaf("Description", {}, document.title)
        pad = xml.indent
        xml.lines("".join(_selections(document, codings.of(document.id), pad)))
        xml.lines("".join(_unit_selections(document, spans.get(document.id, []), pad)))
        if document.programme:
            _value(xml, programme, "Text", document.programme)
        _value(xml, version, "Integer", str(document.version))
        values = content.attributes.documents.get(document.id, {})
        for name, value in sorted(values.items()):
            _value(xml, guid("variable", name), types[name], value)
        xml.end()
    xml.end()


Row = tuple[int, int, str, str, object]  # start, end, coder, code_id, created_at


class _CodingsByDocument:
    """The codings sorted once by (document, start, end, coder, code); each document's rows
    are made into Python values only when its source is written."""

    def __init__(self, annotations: pd.DataFrame) -> None:
        self._frame = annotations
        documents, values = pd.factorize(annotations["document_id"], sort=True)
        coders, _ = pd.factorize(annotations["coder"], sort=True)
        codes, _ = pd.factorize(annotations["code_id"], sort=True)
        starts = annotations["start"].to_numpy(dtype=np.int64)
        ends = annotations["end"].to_numpy(dtype=np.int64)
        self._order = np.lexsort((codes, coders, ends, starts, documents))
        bounds = np.searchsorted(documents[self._order], np.arange(len(values) + 1)).tolist()
        self._slices = {str(v): (bounds[i], bounds[i + 1]) for i, v in enumerate(values)}

    def of(self, document_id: str) -> Iterator[Row]:
        first, last = self._slices.get(document_id, (0, 0))
        rows = self._frame.iloc[self._order[first:last]]
        columns = [rows[c].tolist() for c in _COLUMNS]
        for start, end, coder, code_id, created in zip(*columns, strict=True):
            yield int(start), int(end), str(coder), str(code_id), created


def _selections(document: Document, rows: Iterable[Row], pad: str) -> Iterator[str]:
    """Each coder's selection of one span with its codings (in code order), as XML lines."""
    for (start, end, coder), group in itertools.groupby(rows, key=itemgetter(0, 1, 2)):
        codings = [(code_id, created) for _, _, _, code_id, created in group]
        user = user_guid(coder)
        key = guid("selection", document.id, str(start), str(end), coder)
        first = _earliest([created for _, created in codings])
        when = f' creationDateTime="{attribute(first)}"' if first else ""
        name = attribute(_excerpt(document.text[start:end]))
        yield (
            f'{pad}<PlainTextSelection guid="{key}" name="{name}" startPosition="{start}" '
            f'endPosition="{end}" creatingUser="{user}"{when}>\n'
        )
        for code_id, created in codings:
            stamp = f' creationDateTime="{attribute(str(created))}"' if created else ""
            yield (
                f'{pad}  <Coding guid="{guid("coding", key, code_id)}" creatingUser="{user}"'
                f'{stamp}>\n{pad}    <CodeRef targetGUID="{code_guid(code_id)}"/>\n'
                f"{pad}  </Coding>\n"
            )
        yield f"{pad}</PlainTextSelection>\n"


def _unit_selections(
    document: Document, spans: list[tuple[str, int, int]], pad: str
) -> Iterator[str]:
    """A selection with no coding over each unit a case refers to."""
    for segment_id, start, end in spans:
        name = attribute(_excerpt(document.text[start:end]))
        yield (
            f'{pad}<PlainTextSelection guid="{unit_selection_guid(segment_id)}" name="{name}" '
            f'startPosition="{start}" endPosition="{end}"/>\n'
        )


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


def _earliest(times: list[object]) -> str:
    """The earliest creation time of a selection's codings, as ``Series.min`` gives it: the
    smallest of the times given, or "" when none is."""
    known = [str(t) for t in times if t is not None and t == t]  # t == t: not NaN
    return min(known) if known else ""


def _excerpt(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def stream_qdpx(content: ProjectContent, out: IO[bytes]) -> None:
    """The .qdpx archive into ``out``: ``project.qde``, then ``sources/<guid>.txt`` per
    document, each source's text encoded only as its turn comes."""

    def project(spool: IO[bytes]) -> None:
        write_project(content, spool)

    members: Iterator[Member] = itertools.chain(
        [("project.qde", project)],
        ((f"sources/{source_guid(d.id)}.txt", d.text.encode("utf-8")) for d in content.documents),
    )
    stream_archive(members, out)


def write_qdpx(content: ProjectContent) -> bytes:
    """The .qdpx archive as bytes (:func:`stream_qdpx`)."""
    buffer = io.BytesIO()
    stream_qdpx(content, buffer)
    return buffer.getvalue()
