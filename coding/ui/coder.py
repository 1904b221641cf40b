"""Code page (coder view): one unit at a time in its document context, the codes beside it.

Only the signed-in coder's own codes are loaded (the store filters by coder in SQL). The
page's work happens in one fragment (:func:`panel`): an action reruns it alone, reading one
page of PAGE_SIZE units. Laid out for one 1280x800 screen: filters and the find box on one
row, the unit on the left and its codes, memo and Submit on the right. Suggestions show only
where the study's setting allows it: after the coder submits a unit (default), always, or
never.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coding.errors import CodingError, NotFound
from coding.model import Code
from coding.service import attributes as attribute_service
from coding.service import coder as coder_service
from coding.service.attributes import Attribute
from coding.store import Store
from coding.ui import coder_find, coder_form, coder_suggestions, state, widgets
from coding.ui import render as html

PAGE_SIZE = 25
STATES = {"To do": "todo", "Submitted": "done", "All": "all"}
CONTEXT = 240  # characters of the neighbouring units shown around the unit
FILTER = coder_find.FILTER  # the attribute filter's session keys start with this


def render() -> None:
    name = state.user_name() or ""
    try:
        with state.study() as store:
            documents = coder_service.coder_documents(store, name)
            codes = store.codebook().codebook.codes
            attributes = attribute_service.list_attributes(store, name)
    except CodingError as err:
        state.show_error(err)
        return
    st.title("Code")
    if documents.empty:
        st.info(html.md(f"No units are assigned to {name} yet: ask an admin to assign some."))
        return
    panel(codes, documents, attributes)


def _reset_position() -> None:
    coder_form.keep_draft()
    st.session_state[state.CODE_POS] = 0


@st.fragment
def panel(codes: tuple[Code, ...], documents: pd.DataFrame, attributes: list[Attribute]) -> None:
    """The filters, the current unit with its form, and the page of units around it.

    ``documents`` (the coder's documents) and ``attributes`` (the study's), read when the
    page opens, name the filters' choices; every action reruns this fragment alone."""
    user = state.user_name()
    if not user:  # signed out while this panel's rerun was queued: the page draws sign-in
        return
    state.show_flash_as_toast()
    pos = int(st.session_state.get(state.CODE_POS, 0))
    shown = STATES[st.session_state.get(state.CODE_STATE, "To do")]
    view = coder_find.View(
        st.session_state.get(state.CODE_DOC) or None, shown, widgets.chosen_filter(FILTER)
    )
    words = coder_find.words()
    with state.study() as store:
        page, pos = _page_at(store, user, pos, view)
        unit = page.units[pos - page.offset] if page.units else None
        context = coder_service.unit_context(store, user, unit.segment_id) if unit else None
        found = coder_service.find_units(store, user, words) if words else None
        last = _last_submitted(store, user, unit)
    _toolbar(documents, attributes)
    st.progress(
        page.completed / page.assigned if page.assigned else 0.0,
        text=f"{html.md(page.coder)}: {page.completed} of {page.assigned} units submitted",
    )
    if found is not None:
        coder_find.results(found, words, coder_form.keep_draft)
    if unit is None or context is None:
        st.success(
            "Nothing here: every unit in this view is submitted."
            if shown == "todo"
            else "No units in this view."
        )
        _feedback(last, codes)
        return
    widgets.pager(
        pos,
        page.total,
        position_key=state.CODE_POS,
        key="code",
        where="in this view" + widgets.filter_note(FILTER),
        on_move=coder_form.keep_draft,
    )
    left, right = st.columns([3, 2], gap="medium")
    with left:
        _unit(unit, context, codes)
        _feedback(last, codes)
    with right:
        if unit.completed:
            _submitted(unit, codes)
        else:
            coder_form.form(unit, codes, total=page.total, name=_name(unit))
        _codebook(codes)
    _page_table(page)


def _toolbar(documents: pd.DataFrame, attributes: list[Attribute]) -> None:
    """Which units: a document, a state, values of an attribute (when the study has
    attributes), and the box to open or find one."""
    labels = {"": "All documents"} | {
        r.document_id: f"{r.title} ({r.assigned} units)" for r in documents.itertuples()
    }
    chosen = str(st.session_state.get(state.CODE_DOC) or "")
    labels.setdefault(chosen, chosen)  # a document assigned since the page opened
    row = st.container(horizontal=True, vertical_alignment="center", key="code-toolbar")
    row.selectbox(
        "Document",
        list(labels),
        format_func=labels.__getitem__,
        key=state.CODE_DOC,
        on_change=_reset_position,
        label_visibility="collapsed",
        width=280,
    )
    row.radio(
        "Show",
        list(STATES),
        horizontal=True,
        key=state.CODE_STATE,
        on_change=_reset_position,
        label_visibility="collapsed",
        width="content",
    )
    with row:
        widgets.attribute_filter(attributes, key=FILTER, on_change=_reset_position)
        coder_find.box(coder_form.keep_draft)


def _page_at(
    store: Store, user: str, pos: int, view: coder_find.View
) -> tuple[coder_service.CoderView, int]:
    """The page of the view holding unit ``pos``, and ``pos`` itself: moved to the view's
    last unit when the view has fewer units than that (say, after a submit)."""

    def load(at: int) -> coder_service.CoderView:
        return coder_service.coder_view(
            store,
            user,
            document_id=view.document_id,
            state=view.state,
            attribute=view.attribute,
            limit=PAGE_SIZE,
            offset=at - at % PAGE_SIZE,
        )

    page = load(pos)
    if page.total and pos >= page.total:
        st.session_state[state.CODE_POS] = pos = page.total - 1
        page = load(pos)
    return page, pos


def _last_submitted(
    store: Store, user: str, unit: coder_service.CoderUnit | None
) -> coder_service.SuggestedUnit | None:
    """The suggestions on the unit the coder submitted last, where the study shows them
    (not when that unit is the one open: it shows its own)."""
    last = st.session_state.get(state.CODE_LAST)
    if not last or (unit is not None and unit.segment_id == last):
        return None
    try:
        return coder_service.unit_suggestions(store, user, str(last))
    except NotFound:
        return None


def _name(unit: coder_service.CoderUnit) -> str:
    return f"{unit.title} · unit {unit.position + 1}{' · ' + unit.label if unit.label else ''}"


def _unit(
    unit: coder_service.CoderUnit, context: coder_service.UnitContext, codes: tuple[Code, ...]
) -> None:
    """The unit between its neighbours; where the study shows suggestions on it already
    (submitted, or shown always), their evidence is underlined."""
    state_text = "submitted" if unit.completed else "not submitted"
    suggestions = unit.suggestions if unit.suggestions is not None else pd.DataFrame()
    body = html.escape_text(unit.text)
    if not suggestions.empty:
        spans = coder_suggestions.evidence_spans(unit.text, unit.start, suggestions, codes)
        body = html.highlight(unit.text, spans, unit.start)
    with st.container(key="code-unit"):
        st.html(
            html.unit_in_context(
                context.before, body, context.after, f"{_name(unit)} · {state_text}", CONTEXT
            )
        )
    if unit.suggestions is not None:
        coder_suggestions.show(
            unit.text,
            unit.start,
            unit.codes,
            unit.suggestions,
            codes,
            heading="NLP suggestions on this unit",
            with_text=False,
        )


def _feedback(last: coder_service.SuggestedUnit | None, codes: tuple[Code, ...]) -> None:
    """After a submit: the suggestions on the unit just submitted, beside the coder's codes."""
    if last is None:
        return
    with st.container(border=True, key="code-feedback"):
        coder_suggestions.show(
            last.text,
            last.start,
            last.codes,
            last.suggestions,
            codes,
            heading=f"NLP suggestions on the unit you just submitted (unit {last.position + 1})",
        )


def _submitted(unit: coder_service.CoderUnit, codes: tuple[Code, ...]) -> None:
    names = {c.id: c.name for c in codes}
    colours = {c.id: html.code_colour(c, i) for i, c in enumerate(codes)}
    st.markdown("**Your codes** (submitted: locked)")
    st.html(html.chips([(names.get(c, c), colours.get(c, "#eee")) for c in unit.codes]))
    if unit.memo:
        st.text(f"Memo: {unit.memo}")


def _codebook(codes: tuple[Code, ...]) -> None:
    """One click opens the codebook beside the codes; it stays open from unit to unit."""
    if not st.toggle("Codebook panel", key=state.CODE_BOOK):
        return
    with st.container(height=300, key="code-codebook"):
        st.html(
            "".join(
                f"<p style='margin:0.6em 0 0.2em'><b>{html.escape_text(c.name)}</b></p>"
                + html.codebook_entry(c)
                for c in codes
            )
        )


def _page_table(page: coder_service.CoderView) -> None:
    rows = pd.DataFrame(
        {
            "#": [page.offset + i + 1 for i in range(len(page.units))],
            "document": [u.document_id for u in page.units],
            "unit": [u.position + 1 for u in page.units],
            "status": [_status(u) for u in page.units],
            "your codes": [", ".join(u.codes) for u in page.units],
            "text": [u.text[:90].replace("\n", " ") for u in page.units],
        }
    )
    st.caption(
        f"Units {page.offset + 1}-{page.offset + len(page.units)} of {page.total} "
        "(click a row to open it)"
    )
    widgets.unit_table(
        rows,
        offset=page.offset,
        position_key=state.CODE_POS,
        key="code",
        height=260,
        on_move=coder_form.keep_draft,
    )


def _status(unit: coder_service.CoderUnit) -> str:
    if unit.completed:
        return "submitted"
    return "draft" if unit.codes or unit.memo else "to do"


if __name__ == "__main__":
    render()
