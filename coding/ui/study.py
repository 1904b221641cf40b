"""Study page: what is in the study, each coder's progress, and what to do next."""

from __future__ import annotations

import streamlit as st

from coding import service
from coding.errors import CodingError
from coding.store import Store
from coding.ui.state import study_target

HOW_TO_START = """
No study is open. Create one and open it with the command line:

```
coding init study.db --codebook codebooks/mechanisms.yaml
coding import study.db manuals/*.docx
coding app study.db
```

or build the demo study: `coding demo` (the same as `make demo`).
"""


def render() -> None:
    st.title("Study")
    target = study_target()
    if target is None:
        st.info("No study is open.")
        st.markdown(HOW_TO_START)
        return
    try:
        with Store.open(target) as store:
            info = service.status(store)
    except CodingError as err:
        st.error(str(err))
        st.markdown(HOW_TO_START)
        return
    cols = st.columns(4)
    cols[0].metric("Documents", info["documents"])
    cols[1].metric("Units", info["segments"])
    cols[2].metric("Coders", info["coders"])
    cols[3].metric("Codes", info["codes"])
    st.subheader("Progress")
    for coder, progress in info["progress"].items():
        share = progress["completed"] / info["segments"] if info["segments"] else 0.0
        st.progress(share, text=f"{coder}: {progress['completed']} of {info['segments']} units")
    st.subheader("Disagreements")
    st.write(f"{info['disagreements_open']} open, {info['disagreements_resolved']} resolved "
             f"of {info['disagreements']}.")
