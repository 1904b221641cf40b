"""Small Streamlit widgets shared by pages."""

from __future__ import annotations

import streamlit as st


def pager(pos: int, total: int, *, position_key: str, key: str, where: str) -> None:
    """Previous/Next buttons (Alt+Up/Alt+Down) over ``total`` items, kept in ``position_key``.

    A row sized to its content (wrapping when narrow): fixed columns cut the buttons and
    their shortcut badges off at 1280 px.
    """

    def move(to: int) -> None:
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
