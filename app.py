"""Concord's Streamlit app: ``coding app study.db`` (or ``make demo``) starts it."""

import streamlit as st

from coding.ui import pages, state

st.set_page_config(page_title="Concord", layout="wide")
user = state.current_user()
pages.sidebar(user)
st.navigation(pages.for_user(user)).run()
