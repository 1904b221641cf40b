"""Segmenters give exact offsets: document.text[start:end] == segment.text, always."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coding.corpus import normalise
from coding.model import Document, sha256_text
from coding.segment import SEGMENTERS, by_paragraph, by_section, by_sentence, segment

DATA = Path(__file__).parent / "data"
MANUAL = normalise((DATA / "manual.md").read_text(encoding="utf-8"))

pieces = st.sampled_from(
    [
        "# Title",
        "## Phase two",
        "### Session",
        "Parents calm down.",
        "Dr. Smith visits.",
        "Is it safe?",
        "Yes!",
        "\n",
        "\n\n",
        "\n \n",
        " ",
        "\t",
        "- a list item",
        "émotion",
        "naïve café",
        "😀",
        "word",
        ".",
        "#notaheading",
    ]
)
texts = st.lists(pieces, max_size=30).map("".join)


@pytest.mark.parametrize("kind", sorted(SEGMENTERS))
@given(text=texts)
def test_offsets_are_exact_for_every_segmenter(kind: str, text: str) -> None:
    if not text:
        return
    doc = Document(id="d", title="t", text=text, sha256=sha256_text(text))
    previous_end = 0
    for seg in segment(doc, kind):
        assert doc.text[seg.start : seg.end] == seg.text
        assert seg.text == seg.text.strip() and seg.text
        assert seg.start >= previous_end  # in order, no overlap
        previous_end = seg.end


def test_paragraphs_skip_headings_and_carry_the_heading_path() -> None:
    spans = by_paragraph(MANUAL)
    assert [MANUAL[s:e][:20] for s, e, _ in spans] == [
        "Intro text before th",
        "Parents learn to not",
        "The practitioner att",
        "Each session opens w",
    ]
    assert [label for *_, label in spans] == [
        "Small Steps Manual",
        "Phase one",
        "Phase one",
        "Phase one > Session structure",
    ]


def test_sections_start_at_headings() -> None:
    starts = [MANUAL[s:e].split("\n")[0] for s, e, _ in by_section(MANUAL)]
    assert starts == ["# Small Steps Manual", "## Phase one", "### Session structure"]


def test_sentences_stay_inside_paragraphs() -> None:
    sentences = [MANUAL[s:e] for s, e, _ in by_sentence(MANUAL)]
    assert "Parents learn to notice their own stress." in sentences
    assert "Staff help them calm down and soothe themselves." in sentences
    assert not any("\n\n" in s for s in sentences)


def test_segment_ids_depend_only_on_document_and_range() -> None:
    doc = Document(id="d", title="t", text=MANUAL, sha256=sha256_text(MANUAL))
    first, again = segment(doc, "paragraph"), segment(doc, "paragraph")
    assert [s.id for s in first] == [s.id for s in again]
    assert len({s.id for s in first}) == len(first)


def test_unknown_segmenter_is_a_programming_error() -> None:
    doc = Document(id="d", title="t", text="x", sha256=sha256_text("x"))
    with pytest.raises(ValueError, match="unknown segmenter"):
        segment(doc, "chapter")
