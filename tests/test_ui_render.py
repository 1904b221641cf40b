"""Safe HTML for segment text: escaping, and highlights split at span boundaries."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coding.ui import evidence, render
from coding.ui.render import Span


def test_text_is_escaped_and_markdown_left_alone() -> None:
    out = render.escape_text('<script>alert(1)</script> *a* _b_ & "q"\nnext')
    assert out == ("&lt;script&gt;alert(1)&lt;/script&gt; *a* _b_ &amp; &quot;q&quot;<br>next")


def test_overlapping_spans_split_at_every_boundary() -> None:
    out = render.highlight("abcdef", [Span(1, 4, "#111111", "x"), Span(3, 6, "#222222", "y")])
    assert out.count("<mark") == 3
    assert 'title="x, y">d</mark>' in out
    assert out.startswith("a<mark")


def test_spans_use_document_offsets() -> None:
    out = render.highlight("<b>", [Span(100, 103, "#ffffff", "<i>")], offset=100)
    assert out == '<mark style="background:#ffffff;padding:0" title="&lt;i&gt;">&lt;b&gt;</mark>'


@given(
    st.text(max_size=60), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=4)
)
def test_highlight_never_emits_raw_angle_brackets_from_text(
    text: str, bounds: list[tuple[int, int]]
) -> None:
    spans = [Span(min(a, b), max(a, b), "#ffffff", "c") for a, b in bounds]
    out = render.highlight(text, spans)
    stripped = out.replace("<mark", "").replace("</mark>", "").replace("<br>", "")
    stripped = stripped.replace('title="c">', "").replace(";padding:0", "")
    assert "<" not in stripped.replace('style="background:#ffffff"', "")


def test_evidence_is_underlined_not_filled_so_coders_spans_stay_visible() -> None:
    out = render.highlight(
        "abcd", [Span(0, 4, "#111111", "coder"), Span(2, 4, "#222222", "nlp", evidence=True)]
    )
    assert 'style="background:#111111;padding:0" title="coder">ab</mark>' in out
    assert f"background:#111111;padding:0;{render.EVIDENCE_LINE}" in out


def test_the_legend_names_each_code_and_each_line() -> None:
    out = render.legend([("<Calm>", "#111111")], overlap=True, evidence=True)
    assert 'background:#111111;padding:0 0.3em;margin-right:0.8em">&lt;Calm&gt;</mark>' in out
    assert "several coders" in out and "NLP evidence" in out
    bare = render.legend([], overlap=False, evidence=True)
    assert "several coders" not in bare and "NLP evidence" in bare


AUTO = {
    "source": "rules",
    "scores": {"rules": 0.5, "supervised": None},
    "spans": [{"start": 14, "end": 18, "text": "calm", "pattern": "calm"}],
    "calibration": {"hits": 12, "applied": 9},
}
SUPERVISED = {
    "calibrated": False,
    "threshold": 0.5,
    "terms": [{"term": "word:calm", "weight": 0.2}, {"term": "rule:calm", "weight": 0.1}],
    "neighbours": [{"segment_id": "s9", "similarity": 0.31, "codes": ["calm", "cues"]}],
    "reason": "not calibrated: positives in one document",
}


@pytest.mark.parametrize(
    ("engine", "found", "said"),
    [
        ("rules", [AUTO["spans"][0]], 'Matched: "calm".'),
        ("auto", AUTO, "Scored by the rules engine (rules 0.50)."),
        ("auto", AUTO, "coders applied the code on 9 of 12 units where its indicators matched"),
        ("supervised", SUPERVISED, "Most similar coded units: similarity 0.31 (Calm, Cues)."),
        ("supervised", SUPERVISED, "Indicator matches of Calm raised the score."),
        ("supervised", SUPERVISED, "Note: not calibrated: positives in one document."),
    ],
)
def test_every_engines_evidence_reads_as_highlights_and_sentences(
    engine: str, found: object, said: str
) -> None:
    text = "She was calm."  # starts at document offset 6: "calm" is 14-18
    read = evidence.read_evidence(json.dumps(found), text, 6, {"calm": "Calm", "cues": "Cues"})
    assert (14, 18) in [(a, b) for a, b, _ in read.spans]
    assert any(said in line for line in read.lines), read.lines
    assert not any("{" in line or "[" in line for line in read.lines)


@pytest.mark.parametrize("raw", ["", "[]", "{bad", "42", '"text"', '{"unknown": 1}'])
def test_odd_evidence_is_never_shown_raw(raw: str) -> None:
    read = evidence.read_evidence(raw, "text", 0)
    assert read.spans == [] and len(read.lines) == 1
    assert raw not in read.lines[0] or raw == ""
