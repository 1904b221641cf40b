"""Segmenters: section (headings), paragraph (blank lines) and sentence (spaCy sentencizer).

Every segmenter returns exact half-open offsets into the text, so that
``text[s.start:s.end] == s.text`` always holds; leading and trailing whitespace is trimmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import pairwise
from typing import Any

from coding.model import Document, Segment, SegmentKind, segment_id_for

Span = tuple[int, int, str]  # start, end, label (the heading path it sits under)

_BLOCK_SEP = re.compile(r"\n[ \t]*\n")
_HEADING_LINE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Blocks of text between blank lines, untrimmed."""
    pos = 0
    for match in _BLOCK_SEP.finditer(text):
        yield pos, match.start()
        pos = match.end()
    yield pos, len(text)


class _Headings:
    """Tracks the heading path ("Phase 2 > Session structure") as headings are met."""

    def __init__(self) -> None:
        self.path: list[tuple[int, str]] = []

    def see(self, line: str) -> bool:
        match = _HEADING_LINE.match(line)
        if not match:
            return False
        level = len(match.group(1))
        self.path = [(lvl, t) for lvl, t in self.path if lvl < level] + [(level, match.group(2))]
        return True

    @property
    def label(self) -> str:
        # The document title (a lone level-1 heading) is left out of paths below it.
        parts = [t for lvl, t in self.path if lvl > 1] or [t for _lvl, t in self.path]
        return " > ".join(parts)


def by_paragraph(text: str) -> list[Span]:
    """Paragraphs: blocks between blank lines, minus heading lines (which label them).

    >>> by_paragraph("# T\\n\\nOne two.\\n\\n## H\\nThree.")
    [(5, 13, 'T'), (20, 26, 'H')]
    """
    spans: list[Span] = []
    headings = _Headings()
    for block_start, block_end in _blocks(text):
        start, end = _trim(text, block_start, block_end)
        # Heading lines at the top of a block label the block but are not part of it.
        while start < end:
            line_end = text.find("\n", start, end)
            line_end = end if line_end == -1 else line_end
            if not headings.see(text[start:line_end]):
                break
            start, end = _trim(text, line_end, end)
        if start < end:
            spans.append((start, end, headings.label))
    return spans


def by_section(text: str) -> list[Span]:
    """Sections: from a heading line to the next heading (text before any heading is one).

    >>> by_section("Intro\\n# A\\nx\\n## B\\ny")
    [(0, 5, ''), (6, 11, 'A'), (12, 18, 'B')]
    """
    starts = [m.start() for m in re.finditer(r"^#{1,6}[ \t]+\S", text, re.MULTILINE)]
    bounds = [0, *starts, len(text)] if not starts or starts[0] != 0 else [*starts, len(text)]
    spans: list[Span] = []
    headings = _Headings()
    for begin, finish in pairwise(bounds):
        line_end = text.find("\n", begin, finish)
        headings.see(text[begin : finish if line_end == -1 else line_end])
        start, end = _trim(text, begin, finish)
        if start < end:
            spans.append((start, end, headings.label if begin in starts else ""))
    return spans


@lru_cache(maxsize=1)
def sentence_pipeline() -> Any:
    """spaCy ``blank("en")`` with the rule-based sentencizer: nothing is downloaded."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def by_sentence(text: str) -> list[Span]:
    """Sentences inside each paragraph (a sentence never crosses a paragraph or heading).

    >>> by_sentence("# T\\n\\nOne. Two two.")
    [(5, 9, 'T'), (10, 18, 'T')]
    """
    paragraphs = by_paragraph(text)
    nlp = sentence_pipeline()
    spans: list[Span] = []
    docs = nlp.pipe((text[s:e] for s, e, _ in paragraphs), batch_size=256)
    for (p_start, _p_end, label), doc in zip(paragraphs, docs, strict=True):
        for sent in doc.sents:
            start, end = _trim(text, p_start + sent.start_char, p_start + sent.end_char)
            if start < end:
                spans.append((start, end, label))
    return spans


SEGMENTERS: dict[str, Callable[[str], list[Span]]] = {
    SegmentKind.SECTION: by_section,
    SegmentKind.PARAGRAPH: by_paragraph,
    SegmentKind.SENTENCE: by_sentence,
}


def segment(document: Document, kind: str) -> list[Segment]:
    """Cut a document into segments of ``kind`` with stable ids."""
    try:
        segmenter = SEGMENTERS[kind]
    except KeyError:
        raise ValueError(f"unknown segmenter {kind!r}; choose from {sorted(SEGMENTERS)}") from None
    return [
        Segment(
            id=segment_id_for(document.id, start, end),
            document_id=document.id,
            start=start,
            end=end,
            text=document.text[start:end],
            kind=kind,
            position=i,
            label=label,
        )
        for i, (start, end, label) in enumerate(segmenter(document.text))
    ]
