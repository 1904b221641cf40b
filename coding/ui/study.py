"""Study page: documents, coders, codebook, progress per coder and document, what to do next."""

from __future__ import annotations

import streamlit as st

from coding.errors import CodingError
from coding.service import work
from coding.ui import state

HOW_TO_START = """
No study is open. Create one and open it with the command line:

```
coding init study.db --codebook codebooks/mechanisms.yaml
coding import study.db manuals/*.docx
coding users add study.db amira --role coder
coding app study.db
```

or build and open the demo study: `coding demo` (the same as `make demo`).
"""


def render() -> None:
    st.title("Study")
    if state.study_target() is None:
        st.info("No study is open.")
        st.markdown(HOW_TO_START)
        return
    try:
        with state.study() as store:
            overview = work.study_overview(store)
    except CodingError as err:
        st.error(str(err))
        st.markdown(HOW_TO_START)
        return
    st.caption(f"Study: {state.study_target()}")
    cols = st.columns(5)
    cols[0].metric("Documents", len(overview.documents))
    cols[1].metric(
        "Units", int(overview.documents["units"].sum()) if len(overview.documents) else 0
    )
    cols[2].metric("Coders", len(overview.coders))
    cols[3].metric(
        "Codebook", f"v{overview.codebook_version}" if overview.codebook_version else "none"
    )
    cols[4].metric("Codes", overview.codes)

    st.subheader("What to do next")
    for step in overview.next_steps:
        st.markdown(f"- {step}")

    counts = overview.disagreements
    st.subheader("Disagreements")
    share = counts.resolved / counts.pairs if counts.pairs else 1.0
    st.progress(
        share,
        text=f"{counts.resolved} resolved, {counts.pairs - counts.resolved} open "
        f"of {counts.pairs} (in {counts.items} units)",
    )

    st.subheader("Progress")
    progress = overview.progress
    if progress.empty:
        st.write("No units assigned yet.")
    for coder, rows in progress.groupby("coder", sort=True):
        done, assigned = int(rows["completed"].sum()), int(rows["assigned"].sum())
        with st.expander(f"{coder}: {done} of {assigned} units", expanded=len(progress) <= 12):
            st.progress(done / assigned if assigned else 0.0, text=f"{coder}: all documents")
            for row in rows.itertuples(index=False):
                st.progress(
                    row.completed / row.assigned if row.assigned else 0.0,
                    text=f"{row.title} ({row.document_id}): {row.completed} of {row.assigned}",
                )

    st.subheader("Documents")
    st.dataframe(overview.documents, hide_index=True, width="stretch")
    st.caption(f"{overview.suggestions} NLP suggestions stored.")


if __name__ == "__main__":
    render()
