"""Sign-in page: a name and password checked against the study's users."""

from __future__ import annotations

import streamlit as st

from coding.errors import CodingError, PermissionDenied
from coding.service import access, demo
from coding.ui import state

EXTERNAL = {
    "proxy": "This app expects the reverse proxy to sign you in, but no user reached it, or "
    "your name is not a user of this study. Ask an admin to add you.",
    "oidc": "Log in with your organisation's account. Your e-mail must be a verified user "
    "of this study.",
}


PRODUCT = "**Concord**: double coding, agreement and consensus review."


def render() -> None:
    st.title("Sign in")
    st.markdown(PRODUCT)
    problem = state.study_problem()
    if problem is not None:
        st.error(problem)
        return
    mode = state.auth_mode()
    if mode == "oidc":
        if st.user.get("is_logged_in"):
            st.warning(
                "You are logged in, but not as a user of this study (or your e-mail is not "
                "verified). Ask an admin to add you, or log out and use another account."
            )
            st.button("Log out", key="oidc-logout", on_click=st.logout)
            return
        st.info(EXTERNAL["oidc"])
        st.button("Log in", key="oidc-login", on_click=st.login)
        return
    if mode == "proxy":
        st.warning(EXTERNAL["proxy"])
        return
    state.show_flash()
    _demo_hint()
    with st.form("sign-in"):
        st.text_input("Name", key="signin-name")
        st.text_input("Password", type="password", key="signin-password")
        st.form_submit_button("Sign in", type="primary", on_click=_sign_in)
    st.caption("No account yet? Ask an admin of this study to add you.")


def _demo_hint() -> None:
    """On the demo study only, say how to sign in (its users and password are published)."""
    target = state.study_target()
    if target is not None and demo.is_demo_study(target):
        st.info(
            f"Demo study: sign in as **{demo.TRAINEE}** (coder) or **rosa** (reviewer), "
            f"password `{demo.DEMO_PASSWORD}`."
        )


def _sign_in() -> None:
    name = str(st.session_state.get("signin-name", ""))
    password = str(st.session_state.get("signin-password", ""))
    st.session_state["signin-password"] = ""
    try:  # failures and lockouts are counted in the study, across every session
        with state.study() as store:
            user = access.sign_in(store, name, password, _client_address())
    except PermissionDenied as err:
        state.flash("error", str(err))
        return
    except CodingError:
        state.log.exception("sign-in: the study cannot be opened")
        state.flash("error", "The study cannot be opened; see the server log.")
        return
    st.session_state[state.USER] = user.name


def _client_address() -> str | None:
    """The browser's address as Streamlit saw it (None on localhost, and in AppTest, which
    has no connection); behind a reverse proxy it is the proxy's."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


if __name__ == "__main__":
    render()
