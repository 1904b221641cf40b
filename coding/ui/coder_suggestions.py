"""NLP suggestions on one of the coder's units, for calibration: each suggested code with its
score and what raised it, the evidence underlined in the text, and how it compares with the
coder's own codes. Shown only when the service returns them (the study's blinding setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import pandas as pd
import streamlit as st

from coding.model import Code
from coding.ui import render as html
from coding.ui.evidence import read_evidence

SCORE_NOTE = (
    "A score runs from 0 to 1: how strongly the engine's evidence points to the code. "
    "It is there to calibrate your judgement against; your codes stand as you submitted them."
)


def evidence_spans(
    text: str, start: int, suggestions: pd.DataFrame, codes: tuple[Code, ...]
) -> list[html.Span]:
    """Where the suggestions' evidence lies in a unit's text, to underline."""
    names = {c.id: c.name for c in codes}
    colours = {c.id: html.code_colour(c, i) for i, c in enumerate(codes)}
    spans = []
    for row in suggestions.itertuples(index=False):
        name, colour = names.get(row.code_id, row.code_id), colours.get(row.code_id, "#eee")
        found = read_evidence(str(row.evidence), text, start, names)
        spans += [
            html.Span(a, b, colour, f"{name}: {why}", evidence=True) for a, b, why in found.spans
        ]
    return spans


def show(
    text: str,
    start: int,
    coded: Sequence[str],
    suggestions: pd.DataFrame,
    codes: tuple[Code, ...],
    *,
    heading: str,
    with_text: bool = True,
) -> None:
    """The suggestions on a unit whose ``text`` starts at document offset ``start``, beside
    the coder's own ``coded`` code ids; ``with_text`` shows the text with the evidence
    underlined (off where the unit is drawn so already)."""
    names = {c.id: c.name for c in codes}
    colours = {c.id: html.code_colour(c, i) for i, c in enumerate(codes)}
    st.markdown(f"**{html.md(heading)}**")
    rows = list(suggestions.itertuples(index=False))
    parts = []
    if with_text and rows:
        spans = evidence_spans(text, start, suggestions, codes)
        parts += [
            html.legend([], overlap=False, evidence=True),
            f"<div style='line-height:1.55'>{html.highlight(text, spans, start)}</div>",
        ]
    for row in rows:
        name, colour = names.get(row.code_id, row.code_id), colours.get(row.code_id, "#eee")
        explained = " ".join(read_evidence(str(row.evidence), text, start, names).lines)
        verdict = "you applied it too" if row.code_id in coded else "you did not apply it"
        parts.append(
            f"<div style='margin:0.25em 0'>{html.chips([(f'{name} {row.score:.2f}', colour)])} "
            f"<b>{verdict}</b><br><span style='color:#4b5563;font-size:0.9em'>"
            f"{escape(explained)}</span></div>"
        )
    if not rows:
        parts.append("<div style='color:#4b5563'>The engine suggested no code here.</div>")
    missed = [names.get(c, c) for c in coded if c not in {row.code_id for row in rows}]
    if missed:
        parts.append(
            f"<div style='margin:0.25em 0;color:#4b5563'>You applied "
            f"{escape(', '.join(missed))}; the engine did not suggest it.</div>"
        )
    st.html("".join(parts))
    if rows:
        st.caption(html.md(f"Engine: {rows[0].engine} ({rows[0].model_version}). {SCORE_NOTE}"))
