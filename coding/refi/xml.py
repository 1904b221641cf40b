"""Safe XML parsing and small helpers shared by the REFI readers and writers."""

from __future__ import annotations

import hashlib
import re
import uuid

from lxml import etree

from coding.errors import InvalidInput, Problem

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
# Fixed namespace for our uuid5 GUIDs: the same study id always gives the same GUID.
GUID_NAMESPACE = uuid.UUID("6f1d8a52-3c7e-5b0a-9e44-0c0c0a7d2b11")
_NAMESPACE_BYTES = GUID_NAMESPACE.bytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_GUID_RE = re.compile(
    r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12})\}?$"
)
_DOCTYPE_REFUSED = Problem(
    "xml", "a DOCTYPE (DTD or entity declarations) is not allowed in REFI-QDA files; refused"
)


def guid(kind: str, *parts: str) -> str:
    """A stable GUID for one of our objects: ``uuid5(GUID_NAMESPACE, "kind:part:...")``,
    computed without building a UUID object (a project export makes one per coding).

    >>> guid("code", "calm") == guid("code", "calm") != guid("code", "cues")
    True
    >>> guid("coding", "sél", "x") == str(uuid.uuid5(GUID_NAMESPACE, "coding:sél:x"))
    True
    """
    name = ":".join((kind, *parts)).encode("utf-8")
    digest = hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).hexdigest()
    # Version 5 in the 13th hex digit; the RFC 4122 variant in the top bits of the 17th.
    return (
        f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
        f"{_VARIANT[digest[16]]}{digest[17:20]}-{digest[20:32]}"
    )


def norm_guid(value: str | None) -> str | None:
    """A GUID in one canonical form (lower case, no braces); None if it is not a GUID.

    >>> norm_guid("{ABCDEF01-2345-6789-ABCD-EF0123456789}")
    'abcdef01-2345-6789-abcd-ef0123456789'
    """
    if value is None:
        return None
    match = _GUID_RE.match(value.strip())
    return match.group(1).lower() if match else None


def parse_xml(data: bytes, source: str) -> etree._Element:
    """Parse XML with no DTD loading, entity expansion or network; refuse any DOCTYPE."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidInput(source, [_DOCTYPE_REFUSED])
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        line = getattr(err, "lineno", None)
        where = f"line {line}" if line else "xml"
        raise InvalidInput(source, [Problem(where, f"malformed XML ({err.msg})")]) from err
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise InvalidInput(source, [_DOCTYPE_REFUSED])
    return root


def local(element: etree._Element) -> str:
    """An element's name without its namespace."""
    return str(etree.QName(element).localname)


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Child elements called ``name`` in any namespace."""
    return [c for c in element if isinstance(c.tag, str) and local(c) == name]


def child(element: etree._Element, name: str) -> etree._Element | None:
    found = children(element, name)
    return found[0] if found else None


def serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def grandchildren(element: etree._Element, name: str, kid: str) -> list[etree._Element]:
    """``kid`` elements inside the first ``name`` child (``Users/User``); [] if absent."""
    holder = child(element, name)
    return [] if holder is None else children(holder, kid)
