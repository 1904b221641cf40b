"""Small Streamlit widgets shared by pages."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from coding.ui import render as html


def field_error(key: str) -> None:
    """The error a form's last submit left in ``key`` for this place, shown once."""
    message = st.session_state.pop(key, None)
    if message:
        st.error(html.md(message))


def pager(
    pos: int,
    total: int,
    *,
    position_key: str,
    key: str,
    where: str,
    on_move: Callable[[], None] | None = None,
) -> None:
    """Previous/Next buttons (Alt+Up/Alt+Down) over ``total`` items, kept in ``position_key``;
    ``on_move`` runs first (say, to keep what was typed on the item being left).

    A row sized to its content (wrapping when narrow): fixed columns cut the buttons and
    their shortcut badges off at 1280 px.
    """

    def move(to: int) -> None:
        if on_move is not None:
            on_move()
        st.session_state[position_key] = max(to, 0)

    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "◀ Previous",
        key=f"{key}-prev",
        disabled=pos == 0,
        on_click=move,
        args=(pos - 1,),
        shortcut="Alt+Up",
    )
    row.button(
        "Next ▶",
        key=f"{key}-next",
        disabled=pos >= total - 1,
        on_click=move,
        args=(pos + 1,),
        shortcut="Alt+Down",
    )
    row.markdown(f"Unit **{pos + 1}** of {total} {where}", width="content")


def unit_table(
    rows: pd.DataFrame,
    *,
    offset: int,
    position_key: str,
    key: str,
    height: int,
    on_move: Callable[[], None] | None = None,
) -> None:
    """A page of units as a table whose first row is unit ``offset``; clicking a row opens
    that unit (its position goes into ``position_key``, after ``on_move`` has run)."""
    table_key = f"{key}-table-{offset}"

    def jump() -> None:
        selection = st.session_state.get(table_key)
        picked = selection["selection"]["rows"] if selection else []
        if picked:
            if on_move is not None:
                on_move()
            st.session_state[position_key] = offset + int(picked[0])

    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        on_select=jump,
        selection_mode="single-row",
        key=table_key,
        height=height,
    )
