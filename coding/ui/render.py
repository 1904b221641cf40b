"""Safe HTML for segment text and codebook entries (standard library only, no Streamlit).

Every piece of text is escaped with :func:`html.escape` before it is wrapped in markup, and
highlights are made by splitting the text at every span boundary, so overlapping spans work
and no text is ever interpreted as HTML or Markdown.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from coding.model import Code


@dataclass(frozen=True, slots=True)
class Span:
    """A highlight: document offsets, a colour and a label (shown on hover). A coder's span
    fills the text with its code's colour; an NLP suggestion's evidence (``evidence=True``)
    is underlined with a dashed line instead, so the two never hide each other."""

    start: int
    end: int
    colour: str
    label: str
    evidence: bool = False


PALETTE = ("#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fbcfe8", "#fed7aa")
UNIT_BACKGROUND = "#fff7d6"
EVIDENCE_LINE = "border-bottom:2px dashed #b45309"  # NLP evidence
OVERLAP_LINE = "box-shadow:inset 0 -2px 0 #555"  # two or more coders' spans
# The Code page's codes: each code's help icon (its codebook entry) shows while the pointer is
# on that code's row. Hidden, it is out of the Tab order: one Tab per code, Space to tick.
CODES_STYLE = (
    "<style>"
    ".st-key-code-codes [data-testid='stTooltipHoverTarget']{visibility:hidden}"
    ".st-key-code-codes [data-testid='stCheckbox']:hover "
    "[data-testid='stTooltipHoverTarget']{visibility:visible}"
    "</style>"
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=^])")
_CODE_SPAN = re.compile(r"(`[^`\n]*`)")


def md(text: object) -> str:
    r"""``text`` with every Markdown special character backslash-escaped, newlines as spaces.

    For Streamlit labels, progress texts, tooltips, st.markdown and st.caption, all of which
    render Markdown (images, links, emphasis, ``:colour[...]`` directives): what a manual, a
    codebook or a user wrote is then shown as written and never fetched or styled.

    >>> print(md("![t](http://x.invalid/a.png) **b**"))
    \!\[t\]\(http\://x\.invalid/a\.png\) \*\*b\*\*
    """
    flat = " ".join(str(text).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def md_keep_code(text: str) -> str:
    r"""Like :func:`md`, but leaves `code spans` (fixed command examples) as code.

    >>> print(md_keep_code("a_b: run `coding assign STUDY`"))
    a\_b\: run `coding assign STUDY`
    """
    return "".join(
        part if _CODE_SPAN.fullmatch(part) else md(part) for part in _CODE_SPAN.split(text)
    )


def escape_text(text: str) -> str:
    """Escaped text with newlines as <br>.

    >>> escape_text("<script>*x*</script>\\nnext")
    '&lt;script&gt;*x*&lt;/script&gt;<br>next'
    """
    return html.escape(text, quote=True).replace("\n", "<br>")


def highlight(text: str, spans: Sequence[Span], offset: int = 0) -> str:
    """``text`` (which starts at document offset ``offset``) as HTML with spans highlighted.

    >>> highlight("a <b> c", [Span(2, 5, "#ff0", "x")])
    'a <mark style="background:#ff0;padding:0" title="x">&lt;b&gt;</mark> c'
    >>> highlight("calm", [Span(0, 4, "#ff0", "NLP", evidence=True)])
    '<mark style="background:transparent;padding:0;border-bottom:2px dashed #b45309" \
title="NLP">calm</mark>'
    """
    local = [(max(s.start - offset, 0), min(s.end - offset, len(text)), s) for s in spans]
    local = [(a, b, s) for a, b, s in local if a < b]
    cuts = sorted({0, len(text), *(a for a, _, _ in local), *(b for _, b, _ in local)})
    parts = []
    for left, right in itertools.pairwise(cuts):
        piece = escape_text(text[left:right])
        covering = [s for a, b, s in local if a <= left and right <= b]
        if not covering:
            parts.append(piece)
            continue
        title = html.escape(", ".join(dict.fromkeys(s.label for s in covering)), quote=True)
        parts.append(f'<mark style="{_mark_style(covering)}" title="{title}">{piece}</mark>')
    return "".join(parts)


def _mark_style(covering: Sequence[Span]) -> str:
    coded = [s for s in covering if not s.evidence]
    style = f"background:{coded[0].colour if coded else 'transparent'};padding:0"
    if len(coded) > 1:
        style += f";{OVERLAP_LINE}"
    if len(coded) < len(covering):
        style += f";{EVIDENCE_LINE}"
    return style


def legend(codes: Sequence[tuple[str, str]], *, overlap: bool, evidence: bool) -> str:
    """What the highlights mean: each code's fill ``[(code name, colour), ...]`` (escaped),
    the line under overlapping coders' spans, and the dashed line under NLP evidence."""
    sample = "padding:0 0.3em;margin-right:0.8em"
    keys = [
        f'<mark style="background:{colour};{sample}">{html.escape(name)}</mark>'
        for name, colour in codes
    ]
    if overlap:
        keys.append(
            f'<mark style="background:#eee;{OVERLAP_LINE};{sample}">several coders\' spans</mark>'
        )
    if evidence:
        keys.append(
            f'<mark style="background:transparent;{EVIDENCE_LINE};{sample}">NLP evidence</mark>'
        )
    return (
        '<div style="font-size:0.8em;color:#374151;margin:0.2em 0">'
        f"<span style='margin-right:0.6em'>Highlights:</span>{''.join(keys)}</div>"
    )


def unit_in_context(
    before: str | None, unit_html: str, after: str | None, caption: str, context: int = 400
) -> str:
    """The unit (already-safe HTML) framed and highlighted between its escaped neighbours,
    of which the last and first ``context`` characters are shown."""
    dim = "color:#6b7280;font-size:0.92em;margin:0.4em 0"
    blocks = []
    if before is not None:
        blocks.append(f'<div style="{dim}">{escape_text(_tail(before, context))}</div>')
    blocks.append(
        f'<div style="background:{UNIT_BACKGROUND};border-left:4px solid #d97706;'
        f'padding:0.6em 0.8em;margin:0.4em 0;line-height:1.55">'
        f'<div style="font-size:0.8em;color:#92400e;margin-bottom:0.3em">'
        f"{html.escape(caption)}</div>{unit_html}</div>"
    )
    if after is not None:
        blocks.append(f'<div style="{dim}">{escape_text(_head(after, context))}</div>')
    return "".join(blocks)


def _tail(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


def _head(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def code_colour(code: Code, index: int) -> str:
    return code.colour or PALETTE[index % len(PALETTE)]


def chips(labels: Sequence[tuple[str, str]]) -> str:
    """Escaped code names as coloured chips: ``[(label, colour), ...]``."""
    if not labels:
        return '<span style="color:#6b7280">no codes</span>'
    return " ".join(
        f'<span style="background:{colour};border-radius:0.6em;padding:0.1em 0.55em;'
        f'margin:0.1em;display:inline-block">{html.escape(label)}</span>'
        for label, colour in labels
    )


def codebook_entry(code: Code) -> str:
    """A code's definition, inclusion and exclusion criteria and examples, escaped."""

    def items(title: str, values: Sequence[str]) -> str:
        if not values:
            return ""
        lis = "".join(f"<li>{escape_text(v)}</li>" for v in values)
        return f"<p style='margin:0.4em 0 0.1em'><b>{title}</b></p><ul>{lis}</ul>"

    return (
        f"<div style='font-size:0.9em'><p>{escape_text(code.definition)}</p>"
        + items("Include", code.inclusion)
        + items("Exclude", code.exclusion)
        + items("Typical examples", code.examples.typical)
        + items("Borderline examples", code.examples.borderline)
        + "</div>"
    )


def codebook_help(code: Code) -> str:
    r"""A code's codebook entry as a tooltip: Markdown with what the codebook says escaped.

    >>> from coding.model import Examples
    >>> entry = Code("c", "C", "Notice *calm*.", inclusion=("soothing",), exclusion=(),
    ...              examples=Examples(typical=("She breathes.",)))
    >>> print(codebook_help(entry))
    Notice \*calm\*\.
    <BLANKLINE>
    **Include:** soothing
    <BLANKLINE>
    **Typical example:** She breathes\.
    """
    parts = [md(code.definition)]
    for title, values in (
        ("Include", code.inclusion),
        ("Exclude", code.exclusion),
        ("Typical example", code.examples.typical),
        ("Borderline example", code.examples.borderline),
    ):
        parts += [f"**{title}:** {md(value)}" for value in values]
    return "\n\n".join(part for part in parts if part)
