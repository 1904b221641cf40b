"""Sign-in page: a name and password checked against the study's users."""

from __future__ import annotations

import streamlit as st

from coding.errors import CodingError
from coding.service import access
from coding.ui import state

EXTERNAL = {
    "proxy": "This app expects the reverse proxy to sign you in, but no user reached it, or "
    "your name is not a user of this study. Ask an admin to add you.",
    "oidc": "Log in with your organisation's account. Your e-mail must be a user of this study.",
}


def render() -> None:
    st.title("Sign in")
    mode = state.auth_mode()
    if mode == "oidc":
        st.info(EXTERNAL["oidc"])
        st.button("Log in", key="oidc-login", on_click=st.login)
        return
    if mode == "proxy":
        st.warning(EXTERNAL["proxy"])
        return
    state.show_flash()
    with st.form("sign-in"):
        st.text_input("Name", key="signin-name")
        st.text_input("Password", type="password", key="signin-password")
        st.form_submit_button("Sign in", type="primary", on_click=_sign_in)
    st.caption("Users are added with `coding users add STUDY NAME --role coder`.")


def _sign_in() -> None:
    name = str(st.session_state.get("signin-name", ""))
    password = str(st.session_state.get("signin-password", ""))
    st.session_state["signin-password"] = ""
    try:
        with state.study() as store:
            user = access.sign_in(store, name, password)
    except CodingError as err:
        state.flash("error", str(err))
        return
    st.session_state[state.USER] = user.name


if __name__ == "__main__":
    render()
