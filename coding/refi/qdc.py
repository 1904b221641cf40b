"""REFI-QDA codebooks (.qdc): write ours, read anyone's.

REFI gives a code one free-text Description. Our structured fields travel inside it in a
plain-text convention a person can read in any tool (documented in docs/exports.md)::

    <definition, any number of lines>

    Inclusion:
    - <item>
    Exclusion:
    - <item>
    Indicators:
    - <item>
    Typical examples:
    - <item>
    Borderline examples:
    - <item>

    [concord code_id=<id>]

The closing marker says the convention was used; without it the whole Description is the
definition (a plain description from another tool). A definition line that could be read as a
heading or marker is escaped with a leading backslash; item lines continue with two spaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from lxml import etree

from coding.errors import InvalidInput, Problem
from coding.model import CODE_ID_RE, COLOUR_RE, Code, Codebook, Examples
from coding.refi.xml import (
    CODEBOOK_NS,
    child,
    children,
    guid,
    local,
    norm_guid,
    parse_xml,
    serialise,
)
from coding.xmlzip import xml_text

SECTIONS = (
    ("inclusion", "Inclusion:"),
    ("exclusion", "Exclusion:"),
    ("indicators", "Indicators:"),
    ("typical", "Typical examples:"),
    ("borderline", "Borderline examples:"),
)
_HEADERS = {header: name for name, header in SECTIONS}
_MARKER = re.compile(r"^\[concord code_id=([a-z0-9_.]+)\]$")
ORIGIN = "Concord"


@lru_cache(maxsize=4096)  # a project export asks once per coding
def code_guid(code_id: str) -> str:
    return guid("code", code_id)


def _escape(line: str) -> str:
    if line in _HEADERS or line.startswith(("\\", "- ", "[concord")):
        return "\\" + line
    return line


def description_for(code: Code) -> str:
    """The Description text for a code, in the convention above.

    >>> print(description_for(Code("calm", "Calm", "Stays calm.", inclusion=("Soothing",))))
    Stays calm.
    <BLANKLINE>
    Inclusion:
    - Soothing
    <BLANKLINE>
    [concord code_id=calm]
    """
    lines = [_escape(line) for line in code.definition.split("\n")]
    values = {
        "inclusion": code.inclusion,
        "exclusion": code.exclusion,
        "indicators": code.indicators,
        "typical": code.examples.typical,
        "borderline": code.examples.borderline,
    }
    body: list[str] = []
    for name, header in SECTIONS:
        if values[name]:
            body.append(header)
            body += ["- " + item.replace("\n", "\n  ") for item in values[name]]
    if body:
        lines += ["", *body]
    lines += ["", f"[concord code_id={code.id}]"]
    return "\n".join(lines)


def parse_description(text: str) -> tuple[dict[str, list[str]], str, str | None]:
    """(list fields, definition, code id) from a Description; plain text -> definition only."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip().split("\n")
    fields: dict[str, list[str]] = {name: [] for name, _ in SECTIONS}
    marker = _MARKER.match(lines[-1].strip()) if lines else None
    if marker is None:
        return fields, text.strip(), None
    definition: list[str] = []
    current: str | None = None
    for line in lines[:-1]:
        if current is None and line not in _HEADERS:
            definition.append(line[1:] if line.startswith("\\") else line)
        elif line in _HEADERS:
            current = _HEADERS[line]
        elif line.startswith("- ") and current is not None:
            fields[current].append(line[2:])
        elif line.startswith("  ") and current is not None and fields[current]:
            fields[current][-1] += "\n" + line[2:]
    return fields, "\n".join(definition).strip(), marker.group(1)


def add_codes(parent: etree._Element, codebook: Codebook, ns: str) -> None:
    """Append ``Code`` elements (nested by parent) for every code under ``parent``."""
    ids = set(codebook.code_ids)
    kids: dict[str | None, list[Code]] = {}
    for code in codebook.codes:
        kids.setdefault(code.parent if code.parent in ids else None, []).append(code)

    def add(under: etree._Element, code: Code) -> None:
        attrs = {"guid": code_guid(code.id), "name": xml_text(code.name), "isCodable": "true"}
        if code.colour:
            attrs["color"] = code.colour
        element = etree.SubElement(under, f"{{{ns}}}Code", attrs)
        etree.SubElement(element, f"{{{ns}}}Description").text = xml_text(description_for(code))
        for kid in kids.get(code.id, []):
            add(element, kid)

    for code in kids.get(None, []):
        add(parent, code)


def write_qdc(codebook: Codebook) -> bytes:
    """A .qdc file (urn:QDA-XML:codebook:1.0) for a codebook."""
    root = etree.Element(
        f"{{{CODEBOOK_NS}}}CodeBook", {"origin": ORIGIN}, nsmap={None: CODEBOOK_NS}
    )
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    add_codes(codes, codebook, CODEBOOK_NS)
    return serialise(root)


def slug_id(name: str) -> str:
    """A code id from a code name in another tool.

    >>> slug_id("Émotion Regulation (2)")
    'emotion_regulation_2'
    """
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "code"
    return slug if slug[0].isalpha() else f"c_{slug}"


def read_codes(
    codes: etree._Element, problems: list[Problem], warnings: list[str]
) -> tuple[list[Code], dict[str, str]]:
    """Codes under a ``Codes`` element (any namespace) and a map GUID -> code id."""
    found: list[Code] = []
    by_guid: dict[str, str] = {}
    taken: set[str] = set()

    def visit(element: etree._Element, parent: str | None, where: str) -> None:
        name = (element.get("name") or "").strip()
        key = norm_guid(element.get("guid"))
        if key is None:
            problems.append(
                Problem(where, f"code {name!r}: missing or bad guid {element.get('guid')!r}")
            )
            return
        description = child(element, "Description")
        fields, definition, code_id = parse_description(
            description.text or "" if description is not None else ""
        )
        if code_id is None or not CODE_ID_RE.match(code_id) or code_id in taken:
            base = slug_id(name or key[:8])
            code_id, n = base, 2
            while code_id in taken:
                code_id, n = f"{base}_{n}", n + 1
        colour = element.get("color")
        if colour is not None and not COLOUR_RE.match(colour):
            warnings.append(f"{where}: colour {colour!r} is not #rrggbb; dropped")
            colour = None
        if key in by_guid:
            problems.append(Problem(where, f"duplicate code guid {key}"))
            return
        if not definition:
            definition = f"{name or code_id}: no description in the source codebook"
            warnings.append(f"{where}: code {name!r} has no description; the definition says so")
        taken.add(code_id)
        by_guid[key] = code_id
        found.append(
            Code(
                id=code_id,
                name=name or code_id,
                definition=definition,
                parent=parent,
                inclusion=tuple(fields["inclusion"]),
                exclusion=tuple(fields["exclusion"]),
                indicators=tuple(fields["indicators"]),
                examples=Examples(tuple(fields["typical"]), tuple(fields["borderline"])),
                colour=colour,
            )
        )
        for i, kid in enumerate(children(element, "Code")):
            visit(kid, code_id, f"{where}/Code[{i + 1}]")

    for i, element in enumerate(children(codes, "Code")):
        visit(element, None, f"Codes/Code[{i + 1}]")
    return found, by_guid


def tolerate_empty_sets(root: etree._Element, warnings: list[str]) -> None:
    """An empty ``<Sets/>`` breaks the schema but some tools write it: warn and go on."""
    for sets in children(root, "Sets"):
        if not children(sets, "Set"):
            warnings.append(
                "empty <Sets/> element (invalid REFI-QDA, written by some tools): ignored"
            )


def read_qdc(data: bytes, source: str, name: str = "imported") -> tuple[Codebook, list[str]]:
    """A Codebook from .qdc bytes (namespace codebook:0:4 or 1:0, or none) and warnings."""
    root = parse_xml(data, source)
    if local(root) != "CodeBook":
        raise InvalidInput(
            source, [Problem("xml", f"root element is <{local(root)}>, expected <CodeBook>")]
        )
    problems: list[Problem] = []
    warnings: list[str] = []
    tolerate_empty_sets(root, warnings)
    codes_element = child(root, "Codes")
    codes: Sequence[Code] = []
    if codes_element is None:
        problems.append(Problem("CodeBook", "no <Codes> element"))
    else:
        codes, _ = read_codes(codes_element, problems, warnings)
        if not codes and not problems:
            problems.append(Problem("Codes", "no codes"))
    if problems:
        raise InvalidInput(source, problems)
    book = Codebook(
        id=slug_id(name).replace("_", "-"),
        name=name,
        codes=tuple(codes),
        description=f"imported from {source}",
    )
    return book, warnings
