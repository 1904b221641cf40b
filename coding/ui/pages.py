"""Which pages a user gets (built per role for st.navigation), and the sidebar."""

from __future__ import annotations

import streamlit as st

from coding.model import Role
from coding.service.access import User
from coding.ui import render as html
from coding.ui import state

PAGES = {  # name: (file relative to app.py, title, url path)
    "study": ("coding/ui/study.py", "Study", "study"),
    "code": ("coding/ui/coder.py", "Code", "code"),
    "resolve": ("coding/ui/resolve.py", "Resolve", "resolve"),
    "agreement": ("coding/ui/agreement.py", "Agreement", "agreement"),
    "export": ("coding/ui/export.py", "Export", "export"),
    "users": ("coding/ui/admin.py", "Users", "users"),
    "signin": ("coding/ui/signin.py", "Sign in", "signin"),
}
BY_ROLE = {
    Role.CODER: ("study", "code"),
    Role.REVIEWER: ("study", "resolve", "agreement", "export"),
    Role.ADMIN: ("study", "code", "resolve", "agreement", "export", "users"),
}


def page_names(user: User | None) -> tuple[str, ...]:
    """Pages for a role; without a study only Study (which explains how to open one)."""
    if state.study_target() is None:
        return ("study",)
    if user is None:
        return ("signin",)
    return BY_ROLE[user.role]


def for_user(user: User | None) -> list[st.Page]:
    pages = []
    for name in page_names(user):
        path, title, url = PAGES[name]
        pages.append(st.Page(path, title=title, url_path=url))
    return pages


def sidebar(user: User | None) -> None:
    if user is None:
        return
    st.sidebar.markdown(f"Signed in as **{html.md(user.name)}** ({user.role})")
    if state.auth_mode() == "password":
        st.sidebar.button("Sign out", key="sign-out", on_click=_sign_out)
    elif state.auth_mode() == "oidc":
        st.sidebar.button("Log out", key="log-out", on_click=st.logout)


def _sign_out() -> None:
    for key in list(st.session_state.keys()):
        if key != state.DB_PATH:
            del st.session_state[key]
