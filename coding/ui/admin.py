"""Users page (admin): users and roles, assignments, and when coders see NLP suggestions."""

from __future__ import annotations

import streamlit as st

from coding.errors import CodingError
from coding.service import access
from coding.service import assignment as assignment_service
from coding.service import coder as coder_service
from coding.ui import state


def render() -> None:
    st.title("Users and settings")
    state.show_flash()
    try:
        with state.study() as store:
            users = access.users(store, state.user_name() or "")
            mode = coder_service.suggestions_mode(store)
            coders = store.coders(kind="human")
            documents = assignment_service.document_ids(store, state.user_name() or "")
    except CodingError as err:
        state.show_error(err)
        return
    st.dataframe(users, hide_index=True, width="stretch")
    with st.form("add-user", clear_on_submit=True):
        st.markdown("**Add a user**")
        cols = st.columns(3)
        cols[0].text_input("Name", key="new-name")
        cols[1].selectbox("Role", list(access.ROLES), key="new-role")
        cols[2].text_input("Password", type="password", key="new-password")
        st.form_submit_button("Add user", on_click=_add_user)
    with st.form("assign"):
        st.markdown("**Assign units**")
        if not coders:
            st.caption("No coders yet: add a user with the coder role first.")
        st.selectbox("Coder", coders, key="assign-coder", disabled=not coders)
        st.multiselect("Documents (none: all)", documents, key="assign-docs", disabled=not coders)
        st.form_submit_button("Assign", on_click=_assign, disabled=not coders)
    st.markdown("**When coders see NLP suggestions**")
    st.radio(
        "Suggestions",
        list(coder_service.SUGGESTION_MODES),
        index=coder_service.SUGGESTION_MODES.index(mode),
        horizontal=True,
        key="suggestions-mode",
        on_change=_set_mode,
        label_visibility="collapsed",
    )


def _add_user() -> None:
    try:
        with state.study() as store:
            user = access.add_user_as(
                store,
                state.user_name() or "",
                str(st.session_state.get("new-name", "")).strip(),
                str(st.session_state.get("new-role", "coder")),
                str(st.session_state.get("new-password", "")),
            )
    except CodingError as err:
        state.flash_error(err)
        return
    state.flash("success", f"Added {user.name} ({user.role}).")


def _assign() -> None:
    coder = st.session_state.get("assign-coder")
    if not coder:
        state.flash("error", "Choose a coder.")
        return
    try:
        with state.study() as store:
            added = assignment_service.assign_as(
                store,
                state.user_name() or "",
                str(coder),
                list(st.session_state.get("assign-docs", [])),
            )
    except CodingError as err:
        state.flash_error(err)
        return
    state.flash("success", f"Assigned {added} new units.")


def _set_mode() -> None:
    try:
        with state.study() as store:
            coder_service.set_suggestions_mode(
                store, state.user_name() or "", str(st.session_state.get("suggestions-mode"))
            )
    except CodingError as err:
        state.flash_error(err)
        return
    state.flash("success", "Saved.")


if __name__ == "__main__":
    render()
