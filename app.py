"""Concord's Streamlit app: ``coding app study.db`` (or ``make demo``) starts it."""

import streamlit as st

from coding.ui import study

st.set_page_config(page_title="Concord", layout="wide")
st.navigation([st.Page(study.render, title="Study", url_path="study", default=True)]).run()
