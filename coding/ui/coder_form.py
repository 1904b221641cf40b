"""The Code page's form: one unit's codes and memo, Submit and Save draft, and the draft kept
whenever the coder moves to another unit with ticks or a memo not yet saved.

What was loaded for the open unit is kept in ``state.CODE_OPEN``; leaving the unit (Previous,
Next, the table, the box, the filters) first calls :func:`keep_draft`, which saves what changed
as a draft (one small transaction, none when nothing changed). The fields are widgets of the
page's fragment, not of a nested one: a value typed into the memo and a click on a button of
the outer fragment in the same gesture must reach the server together.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from coding.errors import CodingError
from coding.model import Code
from coding.service import coder as coder_service
from coding.ui import render as html
from coding.ui import state


def code_key(segment_id: str, code_id: str) -> str:
    return f"c-{segment_id}-{code_id}"


def memo_key(segment_id: str) -> str:
    return f"memo-{segment_id}"


def form(unit: coder_service.CoderUnit, codes: tuple[Code, ...], *, total: int, name: str) -> None:
    """The open unit's codes (checkboxes in codebook order, the entry on hover), its memo, and
    the buttons. ``name`` is how messages name the unit."""
    offered = [c.id for c in codes]
    st.session_state[state.CODE_OPEN] = {
        "segment_id": unit.segment_id,
        "offered": offered,
        "codes": [c for c in unit.codes if c in offered],
        "memo": unit.memo,
        "name": name,
    }
    _fields(unit.segment_id, codes, unit.codes, unit.memo)
    row = st.container(horizontal=True, key="code-actions")
    row.button(
        "Submit and next",
        type="primary",
        key="code-submit",
        on_click=_submit,
        args=(total,),
        shortcut="Ctrl+Enter",
    )
    row.button("Save draft", key="code-save", on_click=_save_draft)


def _fields(segment_id: str, codes: tuple[Code, ...], loaded: tuple[str, ...], memo: str) -> None:
    """Ticks and memo: checkboxes in codebook order (one Tab each), then the memo."""
    opened = st.session_state.get(state.CODE_OPEN)
    unsaved = bool(opened and opened["segment_id"] == segment_id and _changed(opened))
    st.html(html.CODES_STYLE)
    with st.container(key="code-codes", gap="small"):
        # One line either way: a line that appears would move Submit under the pointer.
        st.markdown(
            "**Codes** · :orange[not saved yet]"
            if unsaved
            else "**Codes** · point at a code for its entry",
            help="Changes not saved are kept as a draft when you move to another unit."
            if unsaved
            else None,
        )
        for code in codes:
            st.checkbox(
                html.md(code.name),
                value=code.id in loaded,
                key=code_key(segment_id, code.id),
                help=html.codebook_help(code),
            )
    st.text_area(
        "Memo",
        value=memo,
        key=memo_key(segment_id),
        height=68,
        placeholder="Why these codes? Doubts for the reviewer?",
    )


def _typed(opened: dict[str, Any]) -> tuple[list[str], str]:
    """The codes ticked and the memo typed on the open unit (what was loaded where a field
    has not been drawn)."""
    sid = opened["segment_id"]
    chosen = [
        c for c in opened["offered"] if st.session_state.get(code_key(sid, c), c in opened["codes"])
    ]
    return chosen, str(st.session_state.get(memo_key(sid), opened["memo"]))


def _changed(opened: dict[str, Any]) -> bool:
    chosen, memo = _typed(opened)
    return set(chosen) != set(opened["codes"]) or memo.strip() != str(opened["memo"]).strip()


def _save(opened: dict[str, Any], *, submit: bool) -> list[str] | None:
    """Save the open unit as typed; the codes saved, or None after showing the error."""
    chosen, memo = _typed(opened)
    try:
        with state.study() as store:
            coder_service.save_unit(
                store, state.user_name() or "", opened["segment_id"], chosen, memo, submit=submit
            )
    except CodingError as err:
        state.flash_error(err)
        return None
    st.session_state[state.CODE_OPEN] = None  # saved: nothing left to keep
    return chosen


def keep_draft() -> None:
    """Before the page leaves the open unit: save its unsaved ticks and memo as a draft."""
    opened = st.session_state.get(state.CODE_OPEN)
    if not opened or not _changed(opened):
        return
    chosen = _save(opened, submit=False)
    if chosen is not None:
        codes = ", ".join(chosen) or "no codes"
        state.flash("success", f"Kept your changes to {opened['name']} as a draft ({codes}).")


def _save_draft() -> None:
    opened = st.session_state.get(state.CODE_OPEN)
    if not opened:
        return
    chosen = _save(opened, submit=False)
    if chosen is not None:
        state.flash("success", f"Saved draft ({', '.join(chosen) or 'no codes'}).")


def _submit(total: int) -> None:
    opened = st.session_state.get(state.CODE_OPEN)
    if not opened:
        return
    chosen = _save(opened, submit=True)
    if chosen is None:
        return
    st.session_state[state.CODE_LAST] = opened["segment_id"]
    state.flash("success", f"Submitted ({', '.join(chosen) or 'no codes'}).")
    if st.session_state.get(state.CODE_STATE, "To do") != "To do":
        # In 'To do' the next unit moves up into this position; elsewhere step on.
        pos = int(st.session_state.get(state.CODE_POS, 0))
        st.session_state[state.CODE_POS] = min(pos + 1, total - 1)
