"""Users page (admin): users and roles, assignments, and when coders see NLP suggestions.

The actions that are hard to take back ask first: showing suggestions before coders code
(which ends blind coding) needs a tick, and assigning every document needs its own choice.
A failed action keeps what was typed and says why beside its form.
"""

from __future__ import annotations

import streamlit as st

from coding.errors import CodingError
from coding.service import access
from coding.service import assignment as assignment_service
from coding.service import coder as coder_service
from coding.ui import state, widgets

MODES = {
    "after_submit": "After a coder submits a unit (blind coding)",
    "always": "Always, while coding (ends blind coding)",
    "never": "Never",
}
UNBLINDING = "always"
NEW_USER_KEYS = ("new-name", "new-password")


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
    _add_user_form()
    _assign_form(coders, documents)
    _suggestions_form(mode)


def _add_user_form() -> None:
    with st.form("add-user"):  # cleared only once the user is added
        st.markdown("**Add a user**")
        cols = st.columns(3)
        cols[0].text_input("Name", key="new-name")
        cols[1].selectbox("Role", list(access.ROLES), key="new-role")
        cols[2].text_input("Password", type="password", key="new-password")
        widgets.field_error("add-user-error")
        st.form_submit_button("Add user", on_click=_add_user)


def _assign_form(coders: list[str], documents: list[str]) -> None:
    with st.form("assign"):
        st.markdown("**Assign units**")
        if not coders:
            st.caption("No coders yet: add a user with the coder role first.")
        st.selectbox("Coder", coders, key="assign-coder", disabled=not coders)
        st.multiselect("Documents", documents, key="assign-docs", disabled=not coders)
        st.checkbox(
            "All documents (every unit of the study)", key="assign-all", disabled=not coders
        )
        widgets.field_error("assign-error")
        st.form_submit_button("Assign", on_click=_assign, disabled=not coders)


def _suggestions_form(mode: str) -> None:
    with st.form("suggestions"):
        st.markdown("**When coders see NLP suggestions**")
        st.radio(
            "Suggestions",
            list(MODES),
            index=list(MODES).index(mode) if mode in MODES else 0,
            format_func=MODES.__getitem__,
            key="suggestions-mode",
            label_visibility="collapsed",
        )
        st.checkbox(
            "I understand that 'Always' shows coders the NLP suggestions before they code, "
            "so their codings are no longer blind to the machine (recorded in the audit trail)",
            key="suggestions-confirm",
        )
        widgets.field_error("suggestions-error")
        st.form_submit_button("Save", on_click=_set_mode, args=(mode,))


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
        st.session_state["add-user-error"] = state.error_text(err)  # the form keeps its values
        return
    for key in NEW_USER_KEYS:
        st.session_state[key] = ""
    state.flash("success", f"Added {user.name} ({user.role}).")


def _assign() -> None:
    coder = st.session_state.get("assign-coder")
    documents = list(st.session_state.get("assign-docs", []))
    every = bool(st.session_state.get("assign-all"))
    if not coder:
        st.session_state["assign-error"] = "Choose a coder."
        return
    if not documents and not every:
        st.session_state["assign-error"] = (
            "Choose the documents to assign, or tick 'All documents' to assign every unit."
        )
        return
    if documents and every:
        st.session_state["assign-error"] = (
            "Choose some documents or tick 'All documents', not both."
        )
        return
    try:
        with state.study() as store:
            added = assignment_service.assign_as(
                store, state.user_name() or "", str(coder), documents
            )
    except CodingError as err:
        st.session_state["assign-error"] = state.error_text(err)
        return
    st.session_state["assign-all"] = False
    state.flash("success", f"Assigned {added} new units to {coder}.")


def _set_mode(current: str) -> None:
    mode = str(st.session_state.get("suggestions-mode"))
    if mode == current:
        state.flash("success", "Nothing changed.")
        return
    if mode == UNBLINDING and not st.session_state.get("suggestions-confirm"):
        st.session_state["suggestions-error"] = (
            "Tick the box to confirm: 'Always' ends blind coding. Nothing was changed."
        )
        return
    try:
        with state.study() as store:
            coder_service.set_suggestions_mode(store, state.user_name() or "", mode)
    except CodingError as err:
        st.session_state["suggestions-error"] = state.error_text(err)
        return
    st.session_state["suggestions-confirm"] = False
    state.flash("success", f"Saved. Coders see NLP suggestions: {MODES[mode]}.")


if __name__ == "__main__":
    render()
