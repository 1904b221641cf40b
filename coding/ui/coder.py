"""Code page (coder view): one unit at a time in its document context, the codebook at hand.

Only the signed-in coder's own codes are loaded (the store filters by coder in SQL). Units are
read one page of PAGE_SIZE at a time, inside a fragment, so actions rerun only the panel.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from coding.errors import CodingError
from coding.model import Code
from coding.service import coder as coder_service
from coding.store import Store
from coding.ui import render as html
from coding.ui import state, widgets

PAGE_SIZE = 25
STATES = {"To do": "todo", "Submitted": "done", "All": "all"}


def render() -> None:
    st.title("Code")
    name = state.user_name()
    try:
        with state.study() as store:
            first = coder_service.coder_page(store, name or "", limit=0)
            codes = store.codebook().codebook.codes
    except CodingError as err:
        state.show_error(err)
        return
    if first.assigned == 0:
        st.info(
            html.md(f"No units are assigned to {first.coder} yet: ask an admin to assign some.")
        )
        return
    docs = first.documents
    labels = {"": "All documents"} | {
        r.document_id: f"{r.title} ({r.assigned} units)" for r in docs.itertuples()
    }
    left, right = st.columns(2)
    left.selectbox(
        "Document",
        list(labels),
        format_func=labels.__getitem__,
        key=state.CODE_DOC,
        on_change=_reset_position,
    )
    right.radio(
        "Show", list(STATES), horizontal=True, key=state.CODE_STATE, on_change=_reset_position
    )
    panel(codes)


def _reset_position() -> None:
    st.session_state[state.CODE_POS] = 0


@st.fragment
def panel(codes: tuple[Code, ...]) -> None:
    """The current unit, its coding form and the page of units around it."""
    state.show_flash()
    pos = int(st.session_state.get(state.CODE_POS, 0))
    shown = STATES[st.session_state.get(state.CODE_STATE, "To do")]
    with state.study() as store:
        page, pos = _page_at(store, pos, st.session_state.get(state.CODE_DOC) or None, shown)
        st.progress(
            page.completed / page.assigned if page.assigned else 0.0,
            text=f"{html.md(page.coder)}: {page.completed} of {page.assigned} units submitted",
        )
        if not page.units:
            st.success(
                "Nothing here: every unit in this view is submitted."
                if shown == "todo"
                else "No units in this view."
            )
            return
        unit = page.units[pos - page.offset]
        context = coder_service.unit_context(store, page.coder, unit.segment_id)
    main, side = st.columns([3, 2], gap="large")
    with main:
        _unit(page, pos, unit, context, codes)
    with side:
        st.subheader("Codebook")
        for code in codes:
            with st.expander(html.md(code.name), expanded=False):
                st.html(html.codebook_entry(code))


def _page_at(
    store: Store, pos: int, document: str | None, shown: str
) -> tuple[coder_service.CoderPage, int]:
    """The page of the view holding unit ``pos``, and ``pos`` itself: moved to the view's
    last unit when the view has fewer units than that (say, after a submit)."""

    def load(at: int) -> coder_service.CoderPage:
        return coder_service.coder_page(
            store,
            state.user_name() or "",
            document_id=document,
            state=shown,
            limit=PAGE_SIZE,
            offset=at - at % PAGE_SIZE,
        )

    page = load(pos)
    if page.total and pos >= page.total:
        st.session_state[state.CODE_POS] = pos = page.total - 1
        page = load(pos)
    return page, pos


def _unit(
    page: coder_service.CoderPage,
    pos: int,
    unit: coder_service.CoderUnit,
    context: coder_service.UnitContext,
    codes: tuple[Code, ...],
) -> None:
    """One unit in its document context, its form (or its submitted codes), the suggestions
    when they show, and the page of units."""
    colours = {c.id: html.code_colour(c, i) for i, c in enumerate(codes)}
    widgets.pager(pos, page.total, position_key=state.CODE_POS, key="code", where="in this view")
    caption = (
        f"{unit.title} · unit {unit.position + 1}"
        f"{' · ' + unit.label if unit.label else ''} · "
        f"{'submitted' if unit.completed else 'not submitted'}"
    )
    st.html(
        html.unit_in_context(context.before, html.escape_text(unit.text), context.after, caption)
    )
    if unit.completed:
        _submitted(unit, codes, colours)
    else:
        _form(unit, codes, page.total)
    if unit.suggestions is not None and not unit.suggestions.empty:
        _suggestions(unit, codes, colours)
    _page_table(page)


def _form(unit: coder_service.CoderUnit, codes: tuple[Code, ...], total: int) -> None:
    with st.form(f"unit-{unit.segment_id}", border=True):
        st.markdown("**Codes** (Tab to move, Space to tick)")
        for code in codes:
            st.checkbox(
                html.md(code.name),
                value=code.id in unit.codes,
                key=f"c-{unit.segment_id}-{code.id}",
                help=html.md(code.definition[:300]),
            )
        st.text_area(
            "Memo",
            value=unit.memo,
            key=f"memo-{unit.segment_id}",
            height=80,
            placeholder="Why these codes? Doubts for the reviewer?",
        )
        cols = st.columns(2)
        cols[0].form_submit_button(
            "Submit and next",
            type="primary",
            on_click=_save,
            args=(unit.segment_id, [c.id for c in codes], True, total),
        )
        cols[1].form_submit_button(
            "Save draft",
            on_click=_save,
            args=(unit.segment_id, [c.id for c in codes], False, total),
        )
    st.caption(
        "Ctrl+Enter in the memo submits; Alt+Up / Alt+Down move between units. "
        "A submitted unit is locked."
    )


def _save(segment_id: str, code_ids: list[str], submit: bool, total: int) -> None:
    chosen = [c for c in code_ids if st.session_state.get(f"c-{segment_id}-{c}")]
    memo = str(st.session_state.get(f"memo-{segment_id}", ""))
    try:
        with state.study() as store:
            coder_service.save_unit(
                store, state.user_name() or "", segment_id, chosen, memo, submit=submit
            )
    except CodingError as err:
        state.flash_error(err)
        return
    codes = ", ".join(chosen) or "no codes"
    if not submit:
        state.flash("success", f"Saved draft ({codes}).")
        return
    state.flash("success", f"Submitted ({codes}).")
    showing_todo = STATES[st.session_state.get(state.CODE_STATE, "To do")] == "todo"
    if not showing_todo:  # in 'To do' the next unit moves up into this position
        pos = int(st.session_state.get(state.CODE_POS, 0))
        st.session_state[state.CODE_POS] = min(pos + 1, total - 1)


def _submitted(
    unit: coder_service.CoderUnit, codes: tuple[Code, ...], colours: dict[str, str]
) -> None:
    names = {c.id: c.name for c in codes}
    st.markdown("**Your codes**")
    st.html(html.chips([(names.get(c, c), colours.get(c, "#eee")) for c in unit.codes]))
    if unit.memo:
        st.text(f"Memo: {unit.memo}")


def _suggestions(
    unit: coder_service.CoderUnit, codes: tuple[Code, ...], colours: dict[str, str]
) -> None:
    names = {c.id: c.name for c in codes}
    frame = unit.suggestions if unit.suggestions is not None else pd.DataFrame()
    st.markdown("**NLP suggestions**")
    spans = []
    for row in frame.itertuples(index=False):
        spans += evidence_spans(str(row.evidence), row.code_id, colours.get(row.code_id, "#eee"))
    if spans:
        st.html(html.highlight(unit.text, spans, unit.start))
    st.html(
        html.chips(
            [
                (f"{names.get(r.code_id, r.code_id)} {r.score:.2f}", colours.get(r.code_id, "#eee"))
                for r in frame.itertuples()
            ]
        )
    )


def evidence_spans(evidence: str, code_id: str, colour: str) -> list[html.Span]:
    """Highlight spans from a suggestion's evidence JSON (a list of matched spans)."""
    try:
        data = json.loads(evidence) if evidence else []
    except json.JSONDecodeError:
        return []
    found = data if isinstance(data, list) else data.get("spans", [])
    return [
        html.Span(int(s["start"]), int(s["end"]), colour, f"{code_id}: {s.get('text', '')}")
        for s in found
        if isinstance(s, dict) and "start" in s and "end" in s
    ]


def _page_table(page: coder_service.CoderPage) -> None:
    rows = pd.DataFrame(
        {
            "#": [page.offset + i + 1 for i in range(len(page.units))],
            "document": [u.document_id for u in page.units],
            "unit": [u.position + 1 for u in page.units],
            "status": ["submitted" if u.completed else "to do" for u in page.units],
            "your codes": [", ".join(u.codes) for u in page.units],
            "text": [u.text[:90].replace("\n", " ") for u in page.units],
        }
    )
    st.caption(
        f"Units {page.offset + 1}-{page.offset + len(page.units)} of {page.total} "
        "(click a row to open it)"
    )
    widgets.unit_table(
        rows, offset=page.offset, position_key=state.CODE_POS, key="code", height=260
    )


if __name__ == "__main__":
    render()
