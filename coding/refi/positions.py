"""Character positions: UTF-16 code units <-> code points, and raw <-> normalised text.

REFI-QDA counts ``startPosition``/``endPosition`` in characters of the plain text as written.
Most tools count code points; NVivo counts UTF-16 code units, so every astral character (an
emoji, say) before a position shifts it by one. Offsets in a study refer to the normalised
text (see ``coding.corpus.normalise_with_map``), so imported positions are mapped through both.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from enum import StrEnum

from coding.corpus import normalise_with_map


class PositionUnit(StrEnum):
    CODEPOINTS = "codepoints"
    UTF16 = "utf16"


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units.

    >>> utf16_length("a\\U0001F600b")
    4
    """
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_offsets(text: str) -> list[int]:
    """For each code point index i (and len(text)), its offset in UTF-16 code units.

    >>> utf16_offsets("a\\U0001F600b")
    [0, 1, 3, 4]
    """
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offsets


def utf16_to_codepoint(offsets: Sequence[int], position: int) -> int | None:
    """Code point index of a UTF-16 position; None if it splits a surrogate pair or is outside.

    >>> offsets = utf16_offsets("a\\U0001F600b")
    >>> [utf16_to_codepoint(offsets, p) for p in range(5)]
    [0, 1, None, 2, 3]
    """
    i = bisect.bisect_left(offsets, position)
    return i if i < len(offsets) and offsets[i] == position else None


def codepoint_to_utf16(text: str, position: int) -> int:
    """UTF-16 offset of a code point index.

    >>> codepoint_to_utf16("\\U0001F600x", 1)
    2
    """
    return utf16_length(text[:position])


def _boundary_score(text: str, spans: Sequence[tuple[int, int]]) -> int:
    """How many span edges sit on a word boundary: a coded span rarely starts mid-word."""
    score = 0
    for start, end in spans:
        if 0 <= start < len(text) and (start == 0 or not text[start - 1].isalnum()):
            score += 1
        if 0 < end <= len(text) and (end == len(text) or not text[end].isalnum()):
            score += 1
    return score


def detect_unit(
    text: str, spans: Sequence[tuple[int, int]], origin: str = ""
) -> tuple[PositionUnit, str]:
    """Decide how a source's positions are counted, with the reason.

    Texts without astral characters read the same either way. Otherwise hard evidence wins
    (a position past the end in code points, or inside a surrogate pair in UTF-16), then the
    tool named in ``origin`` (Concord counts code points, NVivo UTF-16 code units), then
    which reading puts more span edges on word boundaries, by a clear margin (at least two
    edges and a fifth of all edges); otherwise code points, as the standard says.

    >>> detect_unit("\\U0001F600 ab", [(3, 5)])[0]
    <PositionUnit.UTF16: 'utf16'>
    >>> detect_unit("\\U0001F600 abc def", [(3, 6)], "Concord")[0]
    <PositionUnit.CODEPOINTS: 'codepoints'>
    """
    if len(text) == utf16_length(text):
        return PositionUnit.CODEPOINTS, "no characters outside the BMP: both counts agree"
    offsets = utf16_offsets(text)
    if any(end > len(text) for _, end in spans):
        return PositionUnit.UTF16, "positions run past the end of the text in code points"
    if any(utf16_to_codepoint(offsets, p) is None for span in spans for p in span):
        return PositionUnit.CODEPOINTS, "read as UTF-16, a position would split a surrogate pair"
    if origin.strip().lower().startswith("concord"):
        return PositionUnit.CODEPOINTS, f"origin {origin!r} counts code points"
    if "nvivo" in origin.lower():
        return PositionUnit.UTF16, f"origin {origin!r} counts UTF-16 code units"
    as_cp = _boundary_score(text, spans)
    converted = [(utf16_to_codepoint(offsets, s), utf16_to_codepoint(offsets, e)) for s, e in spans]
    as_utf16 = _boundary_score(
        text, [(s, e) for s, e in converted if s is not None and e is not None]
    )
    if as_utf16 - as_cp >= max(2, math.ceil(0.2 * 2 * len(spans))):
        return PositionUnit.UTF16, (
            f"UTF-16 reading puts {as_utf16} span edges on word boundaries against {as_cp}"
        )
    return PositionUnit.CODEPOINTS, "code points (the REFI-QDA default)"


class PositionMap:
    """Maps positions in a source's text as written to offsets in its normalised text."""

    def __init__(self, raw: str, unit: PositionUnit) -> None:
        self.raw = raw
        self.unit = unit
        self.text, self._raw_of = normalise_with_map(raw)
        self._utf16 = utf16_offsets(raw) if unit is PositionUnit.UTF16 else None

    def to_codepoint(self, position: int) -> int | None:
        """A raw position in the file's unit as a code point index of the raw text."""
        if self._utf16 is not None:
            return utf16_to_codepoint(self._utf16, position)
        return position if 0 <= position <= len(self.raw) else None

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """The normalised span for a raw span; None when it is outside or empty."""
        raw_start, raw_end = self.to_codepoint(start), self.to_codepoint(end)
        if raw_start is None or raw_end is None or raw_start >= raw_end:
            return None
        norm_start = bisect.bisect_left(self._raw_of, raw_start)
        norm_end = bisect.bisect_left(self._raw_of, raw_end)
        if norm_start >= norm_end or norm_end > len(self.text):
            return None
        return norm_start, norm_end
