"""Safe HTML for segment text: escaping, and highlights split at span boundaries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coding.ui import render
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
