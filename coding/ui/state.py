"""Session-state keys, the study the app is opened on, and who is signed in."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from coding.errors import CodingError
from coding.model import Role
from coding.service import access
from coding.service.access import User
from coding.store import Store
from coding.ui import render as html

log = logging.getLogger(__name__)

DB_PATH = "db_path"  # the study (tests set it; else $CONCORD_STUDY from 'coding app')
USER = "user"  # the signed-in user's name (password sign-in)
FLASH = "flash"  # a message from the last action, shown once: (kind, text)
CODE_POS, CODE_DOC, CODE_STATE = "code_pos", "code_doc", "code_state"
CODE_OPEN = "code_open"  # the open unit as loaded: (segment_id, code ids, memo)
CODE_LAST = "code_last"  # the unit the coder submitted last (its suggestions show after)
CODE_FIND = "code_find"  # the Code page's box: a unit number to open, or words to find
CODE_BOOK = "code_book"  # the codebook panel beside the codes is open
QUEUE_POS = "queue_pos"
QUEUE_CODE, QUEUE_DOC, QUEUE_CODER, QUEUE_STATE = "q_code", "q_doc", "q_coder", "q_state"

AUTH_ENV = "CONCORD_AUTH"  # password (default) | proxy | oidc
AUTH_MODES = ("password", "proxy", "oidc")
PROXY_USER_KEY = "name"  # st.user key set by server.trustedUserHeaders


def study_target() -> str | None:
    """The study to open: session state (tests), else $CONCORD_STUDY (set by 'coding app')."""
    target = st.session_state.get(DB_PATH) or os.environ.get("CONCORD_STUDY")
    return str(target) if target else None


def auth_mode() -> str:
    mode = os.environ.get(AUTH_ENV, "password").strip().lower()
    return mode if mode in AUTH_MODES else "password"


def user_name() -> str | None:
    """Who the browser says it is: the password sign-in, a proxy header or the OIDC e-mail
    (only once the identity provider has verified it)."""
    mode = auth_mode()
    if mode == "password":
        name = st.session_state.get(USER)
        return str(name) if name else None
    if mode == "oidc" and not (st.user.get("is_logged_in") and oidc_email_verified()):
        return None
    value = st.user.get(PROXY_USER_KEY if mode == "proxy" else "email")
    return str(value) if value else None


def oidc_email_verified() -> bool:
    """True only when the identity provider says the e-mail is verified: anyone can put an
    unverified address on an account at many providers."""
    verified = st.user.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.lower() == "true")


def current_user() -> User | None:
    """The signed-in user as stored in the study (role read from the study, not the session)."""
    target, name = study_target(), user_name()
    if target is None or name is None:
        return None
    try:
        with Store.open(target) as store:
            return access.identify(store, name)
    except CodingError:
        return None


@contextmanager
def study() -> Iterator[Store]:
    """Open the app's study for one rerun (connections stay on this thread)."""
    target = study_target()
    if target is None:
        raise CodingError("no study is open")
    with Store.open(target) as store:
        yield store


def study_problem() -> str | None:
    """None when the study opens; else a message that gives nothing away (details go to the
    server log), for pages seen by people who have not signed in."""
    target = study_target()
    if target is None:
        return None
    try:
        with Store.open(target):
            return None
    except CodingError:
        log.exception("the study %s cannot be opened", access.shown_target(target))
        return "The study cannot be opened; see the server log."


def error_text(err: CodingError) -> str:
    """An error's message for the page; where the study lives is shown to admins only."""
    text = str(err)
    user = current_user()
    if user is None or user.role != Role.ADMIN:
        target = study_target() or ""
        for shown in sorted({target, access.shown_target(target)} - {""}, key=len, reverse=True):
            text = text.replace(shown, "the study")
    return text


def show_error(err: CodingError) -> None:
    st.error(html.md(error_text(err)))


def flash(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text)


def flash_error(err: CodingError) -> None:
    flash("error", error_text(err))


def show_flash() -> None:
    """Show the last action's message once (escaped: it may quote names and codes)."""
    message = st.session_state.pop(FLASH, None)
    if message is None:
        return
    kind, text = message
    show = {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)
    show(html.md(text))


def show_flash_as_toast() -> None:
    """Like :func:`show_flash`, but a success or a note pops up as a toast, so the page's
    layout does not move; errors and warnings stay on the page."""
    message = st.session_state.pop(FLASH, None)
    if message is None:
        return
    kind, text = message
    if kind in ("error", "warning"):
        (st.error if kind == "error" else st.warning)(html.md(text))
    else:
        st.toast(html.md(text))
