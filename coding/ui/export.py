"""Export page: build any export the study offers on a click, then download it."""

from __future__ import annotations

import streamlit as st

from coding.errors import CodingError
from coding.service import export as export_service
from coding.ui import render as html
from coding.ui import state

MIME = {
    "csv": "text/csv",
    "json": "application/json",
    "md": "text/markdown",
    "html": "text/html",
    "png": "image/png",
    "svg": "image/svg+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "qdc": "application/xml",
    "qdpx": "application/zip",
}


def render() -> None:
    st.title("Export")
    user = state.user_name() or ""
    if state.study_target() is None:
        st.info("No study is open.")
        return
    st.write(
        "Every export uses the final codes: consensus decisions where they exist. "
        "Click a format to build the file, then download it."
    )
    kinds: dict[str, list[tuple[str, str]]] = {}
    for kind, fmt, name in export_service.available_exports():
        kinds.setdefault(kind, []).append((fmt, name))
    wanted: tuple[str, str] | None = None
    for kind, files in kinds.items():
        cols = st.columns([2, *([1] * len(files))])
        cols[0].markdown(f"**{html.md(kind.capitalize())}**")
        for col, (fmt, _name) in zip(cols[1:], files, strict=True):
            if col.button(fmt.upper(), key=f"build-{kind}-{fmt}"):
                wanted = (kind, fmt)
    if wanted is not None:
        _offer(user, *wanted)


def _offer(user: str, kind: str, fmt: str) -> None:
    """Build one export now; offer it for download, or show why it could not be built."""
    try:
        with state.study() as store:
            name, data = export_service.export_download(store, user, kind, fmt)
    except CodingError as err:
        state.show_error(err)
        return
    st.download_button(
        f"Download {name}",
        data=data,
        file_name=name,
        mime=MIME.get(fmt),
        key=f"dl-{kind}-{fmt}",
        type="primary",
        on_click="ignore",
    )


if __name__ == "__main__":
    render()
