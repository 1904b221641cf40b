"""Export page: download buttons for every export the study offers."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from coding.errors import CodingError
from coding.service import work
from coding.store import Store
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
    target, user = state.study_target(), state.user_name() or ""
    if target is None:
        st.info("No study is open.")
        return
    st.write(
        "Every export uses the final codes: consensus decisions where they exist. "
        "Files are built when you click."
    )
    exports = work.available_exports()
    kinds: dict[str, list[tuple[str, str]]] = {}
    for kind, fmt, name in exports:
        kinds.setdefault(kind, []).append((fmt, name))
    for kind, files in kinds.items():
        cols = st.columns([2, *([1] * len(files))])
        cols[0].markdown(f"**{kind.capitalize()}**")
        for col, (fmt, name) in zip(cols[1:], files, strict=True):
            col.download_button(
                fmt.upper(),
                data=_builder(target, user, kind, fmt),
                file_name=name,
                mime=MIME.get(fmt),
                key=f"dl-{kind}-{fmt}",
                on_click="ignore",
            )


def _builder(target: str, user: str, kind: str, fmt: str) -> Callable[[], bytes]:
    """Build the file when clicked (on its own thread: it opens its own Store)."""

    def build() -> bytes:
        try:
            with Store.open(target) as store:
                return work.export_download(store, user, kind, fmt)[1]
        except CodingError as err:
            return f"export failed: {err}\n".encode()

    return build


if __name__ == "__main__":
    render()
