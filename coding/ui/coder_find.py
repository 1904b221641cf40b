"""The Code page's box: a unit number opens that unit of the view; words find the coder's own
units whose text holds them, and clicking one opens it (in its document, all units shown,
under the attribute filter when the unit passes it, else without)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import streamlit as st

from coding.errors import CodingError
from coding.service import coder as coder_service
from coding.service.attributes import AttributeFilter
from coding.ui import render as html
from coding.ui import state, widgets

SHOWN = 8  # hits listed; more means the words should be narrowed
FILTER = "code"  # the Code page's attribute filter (``widgets.attribute_filter``)


class View(NamedTuple):
    """Which of the coder's units the page shows: a document (None: all), a state (all,
    todo, done) and an attribute's values (None: any)."""

    document_id: str | None
    state: str
    attribute: AttributeFilter | None


def box(on_move: Callable[[], None]) -> None:
    st.text_input(
        "Go to unit or find text",
        key=state.CODE_FIND,
        placeholder="Unit number, or words to find in your units",
        help="A number opens that unit of this view (as counted beside Next). "
        "Words list your units whose text holds them (case ignored).",
        label_visibility="collapsed",
        on_change=_go,
        args=(on_move,),
    )


def words() -> str:
    """The words being looked for ('' when the box is empty or holds a unit number)."""
    text = str(st.session_state.get(state.CODE_FIND) or "").strip()
    return "" if text.isdigit() else text


def _go(on_move: Callable[[], None]) -> None:
    text = str(st.session_state.get(state.CODE_FIND) or "").strip()
    if text.isdigit():
        on_move()
        st.session_state[state.CODE_POS] = max(int(text) - 1, 0)
        st.session_state[state.CODE_FIND] = ""


def results(found: coder_service.FoundUnits, words: str, on_move: Callable[[], None]) -> None:
    """The units holding the words, each a button that opens it."""
    with st.container(border=True, key="code-found"):
        if found.total == 0:
            st.caption(f"None of your units holds “{html.md(words)}”.")
        else:
            more = f"; the first {SHOWN} shown, add words to narrow" if found.total > SHOWN else ""
            st.caption(f"{found.total} of your units hold “{html.md(words)}”{more}:")
        for i, hit in enumerate(found.units.head(SHOWN).itertuples(index=False)):
            status = "submitted" if hit.completed else "to do"
            st.button(
                html.md(f"{hit.title} · unit {hit.position + 1} ({status}): {hit.snippet}"),
                key=f"code-hit-{i}",
                type="tertiary",
                on_click=_open,
                args=(hit.segment_id, hit.document_id, on_move),
            )
        st.button("Close", key="code-found-close", on_click=_clear)


def _clear() -> None:
    st.session_state[state.CODE_FIND] = ""


def _open(segment_id: str, document_id: str, on_move: Callable[[], None]) -> None:
    on_move()
    user = state.user_name() or ""
    attribute = widgets.chosen_filter(FILTER)
    try:
        with state.study() as store:
            index = coder_service.unit_index(
                store, user, segment_id, document_id=document_id, attribute=attribute
            )
            if index is None and attribute is not None:  # the unit does not pass the filter
                widgets.clear_filter(FILTER)
                index = coder_service.unit_index(store, user, segment_id, document_id=document_id)
    except CodingError as err:
        state.flash_error(err)
        return
    st.session_state[state.CODE_DOC] = document_id
    st.session_state[state.CODE_STATE] = "All"
    st.session_state[state.CODE_POS] = index or 0
    st.session_state[state.CODE_FIND] = ""
