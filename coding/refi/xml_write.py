"""Pretty-printed XML written as it is made, element by element, never held whole.

:class:`XmlStream` writes, byte for byte, what lxml's
``tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)`` gives for the
same elements, as long as an element holds either text or child elements (never both): two
spaces of indent per level, an element without children or text as ``<Tag a="v"/>``. Every
attribute value and text goes through :func:`coding.xmlzip.xml_text` and is escaped as
libxml2 escapes it. Output is collected in a buffer of about a megabyte and written in one
piece, so a project of millions of codings costs a few megabytes of memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO

from coding.xmlzip import xml_text

DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;"}
    | {"\r": "&#13;"}
)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_BUFFER = 1 << 20
# A value without any of these is written as it is (most are: GUIDs, numbers, times).
_SPECIAL = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')


def attribute(value: str) -> str:
    """An attribute value as it goes between double quotes.

    >>> attribute('a "b" & <c>\\n')
    'a &quot;b&quot; &amp; &lt;c&gt;&#10;'
    """
    if _SPECIAL.search(value) is None:
        return value
    return xml_text(value).translate(_ATTRIBUTE)


def text(value: str) -> str:
    """Element text as it goes between tags.

    >>> text('a "b" & <c>\\n')
    'a "b" &amp; &lt;c&gt;\\n'
    """
    if _SPECIAL.search(value) is None:
        return value
    return xml_text(value).translate(_TEXT)


def attributes(attrs: Mapping[str, str]) -> str:
    """`` name="value"`` for each attribute, in the given order."""
    return "".join(f' {name}="{attribute(value)}"' for name, value in attrs.items())


class XmlStream:
    """One XML document written to a binary stream as elements are started and ended.

    >>> import io
    >>> out = io.BytesIO()
    >>> xml = XmlStream(out)
    >>> xml.start("A", {"xmlns": "urn:x"})
    >>> xml.leaf("B", {}, "one & two")
    >>> xml.empty("C", {"n": "1"})
    >>> xml.end()
    >>> xml.close()
    >>> print(out.getvalue().decode(), end="")
    <?xml version='1.0' encoding='utf-8'?>
    <A xmlns="urn:x">
      <B>one &amp; two</B>
      <C n="1"/>
    </A>
    """

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._parts: list[str] = [DECLARATION]
        self._size = 0
        self._open: list[str] = []  # tags of the elements started and not ended
        self._bare = False  # the innermost open tag still lacks its ">" (no child yet)

    @property
    def indent(self) -> str:
        """The indent of a child of the innermost open element."""
        return "  " * len(self._open)

    def _put(self, made: str) -> None:
        self._parts.append(made)
        self._size += len(made)
        if self._size >= _BUFFER:
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0

    def _child(self) -> None:
        if self._bare:
            self._put(">\n")
            self._bare = False

    def start(self, tag: str, attrs: Mapping[str, str]) -> None:
        """Open an element; its children follow until :meth:`end`."""
        self._child()
        self._put(f"{self.indent}<{tag}{attributes(attrs)}")
        self._open.append(tag)
        self._bare = True

    def end(self) -> None:
        """Close the innermost open element (``/>`` if it got no children)."""
        tag = self._open.pop()
        if self._bare:
            self._put("/>\n")
            self._bare = False
        else:
            self._put(f"{self.indent}</{tag}>\n")

    def empty(self, tag: str, attrs: Mapping[str, str]) -> None:
        """An element with neither children nor text."""
        self._child()
        self._put(f"{self.indent}<{tag}{attributes(attrs)}/>\n")

    def leaf(self, tag: str, attrs: Mapping[str, str], value: str) -> None:
        """An element holding text only."""
        self._child()
        self._put(f"{self.indent}<{tag}{attributes(attrs)}>{text(value)}</{tag}>\n")

    def lines(self, made: str) -> None:
        """Children of the innermost open element already made and escaped, indented with
        :attr:`indent`, each line ending in a newline (for the many codings of a project)."""
        if not made:
            return
        self._child()
        self._put(made)

    def close(self) -> None:
        """Write out what is buffered; every element must be ended."""
        if self._open:
            raise ValueError(f"XML elements left open: {', '.join(self._open)}")
        self._out.write("".join(self._parts).encode("utf-8"))
        self._parts.clear()
        self._size = 0
