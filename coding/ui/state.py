"""Session-state keys and the study the app is opened on."""

from __future__ import annotations

import os

import streamlit as st

DB_PATH = "db_path"


def study_target() -> str | None:
    """The study to open: session state (tests), else $CONCORD_STUDY (set by 'coding app')."""
    target = st.session_state.get(DB_PATH) or os.environ.get("CONCORD_STUDY")
    return str(target) if target else None
