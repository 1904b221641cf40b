"""The Code page's box: a unit number opens that unit of the view; words find the coder's own
units whose text holds them, and clicking one opens it (in its document, all units shown)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from coding.errors import CodingError
from coding.service import coder as coder_service
from coding.ui import render as html
from coding.ui import state

SHOWN = 8  # hits listed; more means the words should be narrowed


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
    try:
        with state.study() as store:
            index = coder_service.unit_index(
                store, state.user_name() or "", segment_id, document_id=document_id
            )
    except CodingError as err:
        state.flash_error(err)
        return
    st.session_state[state.CODE_DOC] = document_id
    st.session_state[state.CODE_STATE] = "All"
    st.session_state[state.CODE_POS] = index or 0
    st.session_state[state.CODE_FIND] = ""
