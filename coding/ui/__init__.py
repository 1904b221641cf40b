"""Streamlit pages, one module per page with render()."""
