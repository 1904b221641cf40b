"""Export page: build any export the study offers on a click, then download it."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from coding.errors import CodingError
from coding.model import ProgressEvent
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
# Share of the progress bar each stage of a build fills: (from, to).
STAGES = {"reading": (0.0, 0.3), "agreement": (0.3, 0.7), "writing": (0.7, 1.0)}
STAGE_TEXT = {
    "reading": "Reading the study",
    "agreement": "Computing agreement",
    "writing": "Writing",
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
    excerpts = st.number_input(
        "Excerpts per code and programme in the theme report",
        min_value=0,
        value=export_service.EXCERPTS,
        step=10,
        key="export-excerpts",
        help="The coded segments export lists every coded segment; the report quotes at most "
        "this many for each code in each programme and says how many it left out.",
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
    # Always drawn here: on the run a click starts, this slot at once replaces the previous
    # run's download button, so no stale file is offered while a new one builds.
    slot = st.empty()
    if wanted is not None:
        _offer(slot, user, *wanted, int(excerpts))


def progress_share(event: ProgressEvent) -> float:
    """How much of a build an event says is done, from 0 to 1."""
    start, end = STAGES.get(event.stage, (0.0, 1.0))
    part = min(1.0, event.done / event.total) if event.total else 0.0
    return start + (end - start) * part


def _offer(slot: DeltaGenerator, user: str, kind: str, fmt: str, excerpts: int) -> None:
    """Build one export now with a progress bar; then offer it for download in the bar's
    place, or show why it could not be built."""
    bar = slot.progress(0.0, text="Starting")

    def on_progress(event: ProgressEvent) -> None:
        text = STAGE_TEXT.get(event.stage, event.stage.capitalize())
        bar.progress(progress_share(event), text=f"{text} {event.item}".strip())

    try:
        with state.study() as store:
            name, data = export_service.export_download(
                store, user, kind, fmt, excerpts=excerpts, on_progress=on_progress
            )
    except CodingError as err:
        slot.empty()
        state.show_error(err)
        return
    slot.download_button(
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
