"""Small Streamlit widgets shared by pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from coding.service.attributes import Attribute, AttributeFilter
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


def _filter_keys(key: str) -> tuple[str, str]:
    """The session keys of an attribute filter: the attribute's name, and its values."""
    return f"{key}-attribute", f"{key}-values"


def chosen_filter(key: str) -> AttributeFilter | None:
    """The attribute filter drawn under ``key`` (None: no attribute, or no value chosen)."""
    name_key, values_key = _filter_keys(key)
    name = st.session_state.get(name_key) or ""
    values = tuple(str(v) for v in st.session_state.get(values_key) or ())
    return AttributeFilter(str(name), values) if name and values else None


def filter_note(key: str) -> str:
    """ " · speaker = nurse" while the filter drawn under ``key`` is on, else "" (Markdown)."""
    chosen = chosen_filter(key)
    return f" · {html.md(str(chosen))}" if chosen else ""


def clear_filter(key: str) -> None:
    """Drop the attribute filter drawn under ``key`` (in a callback, before it is drawn)."""
    name_key, values_key = _filter_keys(key)
    st.session_state[name_key] = ""
    st.session_state.pop(values_key, None)


def attribute_filter(
    attributes: Sequence[Attribute], *, key: str, on_change: Callable[[], None]
) -> None:
    """A "Filter" popover to keep the units with some values of one attribute: an attribute,
    then one or more of its values (:func:`chosen_filter` reads them). Nothing is drawn when
    the study has no attributes; ``on_change`` runs whenever the filter changes."""
    if not attributes:
        return
    by_name = {a.name: a for a in attributes}
    name_key, values_key = _filter_keys(key)
    if st.session_state.get(name_key) not in (None, "", *by_name):  # another study's
        st.session_state.pop(name_key)
        st.session_state.pop(values_key, None)
    chosen = chosen_filter(key)

    def pick_attribute() -> None:
        st.session_state.pop(values_key, None)
        on_change()

    def clear() -> None:
        clear_filter(key)
        on_change()

    # A label of one width either way, so the toolbar never wraps; the pager names the filter.
    label, hint = ("Filter ✓", f"Only units with {chosen}") if chosen else ("Filter", None)
    with st.popover(
        label,
        key=f"{key}-filter",
        help=html.md(hint or "Only units with some values of an attribute"),
    ):
        st.selectbox(
            "Attribute",
            ["", *by_name],
            key=name_key,
            format_func=lambda n: f"{n} ({by_name[n].scope})" if n else "No filter",
            on_change=pick_attribute,
        )
        name = st.session_state.get(name_key) or ""
        if not name:
            return
        options = list(by_name[name].values)
        picked = list(st.session_state.get(values_key) or ())
        if any(v not in options for v in picked):  # values the study no longer has
            st.session_state[values_key] = [v for v in picked if v in options]
        st.multiselect(
            "Values",
            options,
            key=values_key,
            on_change=on_change,
            placeholder="Choose one or more values",
        )
        st.button("Clear filter", key=f"{key}-filter-clear", on_click=clear)
