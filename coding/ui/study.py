"""Study page: what is in the study and what to do next.

Reviewers and admins see every coder's progress and the disagreement counts; a coder sees only
their own progress (the counts would let them work out other coders' codes as they submit).
"""

from __future__ import annotations

import re

import streamlit as st

from coding.errors import CodingError
from coding.model import Role
from coding.service import access
from coding.service import overview as overview_service
from coding.ui import render as html
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
COMMAND = re.compile(r":\s*`coding [^`]*`")  # a step's command line, for admins only


def render() -> None:
    st.title("Study")
    target = state.study_target()
    if target is None:
        st.info("No study is open.")
        st.markdown(HOW_TO_START)
        return
    user = state.current_user()
    try:
        with state.study() as store:
            if user is not None and user.can(Role.REVIEWER):
                overview = overview_service.study_overview(store, user.name)
            else:
                mine = overview_service.coder_overview(store, user.name if user else "")
    except CodingError as err:
        state.show_error(err)
        return
    if user is not None and user.role == Role.ADMIN:
        st.caption(f"Study: {html.md(access.shown_target(target))}")
    if user is not None and user.can(Role.REVIEWER):
        _full(overview, admin=user.role == Role.ADMIN)
    else:
        _own(mine)


def _own(mine: overview_service.CoderOverview) -> None:
    """A coder's own progress: their units per document, nothing about anyone else."""
    cols = st.columns(3)
    cols[0].metric("Your units", mine.assigned)
    cols[1].metric("Submitted", mine.completed)
    cols[2].metric("Codebook", f"v{mine.codebook_version}" if mine.codebook_version else "none")
    _steps(mine.next_steps)
    st.subheader("Your progress")
    st.progress(
        mine.completed / mine.assigned if mine.assigned else 0.0,
        text=f"{mine.completed} of {mine.assigned} units submitted",
    )
    for row in mine.documents.itertuples(index=False):
        st.progress(
            row.completed / row.assigned if row.assigned else 0.0,
            text=html.md(f"{row.title} ({row.document_id}): {row.completed} of {row.assigned}"),
        )


def _steps(steps: list[str], *, admin: bool = False) -> None:
    """The next steps; command lines only for admins, who run them."""
    st.subheader("What to do next")
    for step in steps:
        st.markdown(f"- {html.md_keep_code(step if admin else for_non_admins(step))}")


def for_non_admins(step: str) -> str:
    """A next step without its command line: an admin's task, said in words.

    >>> for_non_admins("Add coders: `coding users add STUDY NAME --role coder`.")
    "Add coders (an admin's task)."
    """
    return COMMAND.sub(" (an admin's task)", step)


def _full(overview: overview_service.Overview, *, admin: bool) -> None:
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
    _steps(overview.next_steps, admin=admin)

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
        name = html.md(coder)
        with st.expander(f"{name}: {done} of {assigned} units", expanded=len(progress) <= 12):
            st.progress(done / assigned if assigned else 0.0, text=f"{name}: all documents")
            for row in rows.itertuples(index=False):
                st.progress(
                    row.completed / row.assigned if row.assigned else 0.0,
                    text=html.md(
                        f"{row.title} ({row.document_id}): {row.completed} of {row.assigned}"
                    ),
                )

    st.subheader("Documents")
    st.dataframe(overview.documents, hide_index=True, width="stretch")
    st.caption(f"{overview.suggestions} NLP suggestions stored.")


if __name__ == "__main__":
    render()
