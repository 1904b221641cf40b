"""Fragment reruns under AppTest: what the browser asks for after a click inside a fragment.

``AppTest.run()`` always reruns the whole script. A real browser reruns only the fragment a
clicked widget was drawn in; :func:`run_fragment` does the same here, by fragment key
(``@st.fragment(key=...)``), so a test can check that an action inside a fragment redraws
what it must without the page around it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from streamlit.runtime.scriptrunner import RerunData
from streamlit.testing.v1 import AppTest, local_script_runner


def fragment_ids(at: AppTest) -> frozenset[str]:
    """The fragments the page drew on its last full run."""
    # AppTest keeps its fragments between runs; it has no public way to name them.
    return at._fragment_storage.ids_registered_after(0)


def fragment_id(at: AppTest, key: str | None = None) -> str:
    """The id of the fragment declared with ``@st.fragment(key=key)``; without a key, of the
    page's only fragment."""
    if key is None:
        (found,) = fragment_ids(at)
    else:
        (found,) = at._fragment_storage.resolve_target(key)
    return str(found)


@contextmanager
def _scoped_to(fragment: str) -> Iterator[None]:
    def rerun_data(*args: Any, **options: Any) -> RerunData:
        # Both the runner's initial request and the run asked for: a full request would
        # absorb the fragment's (reruns coalesce into the widest one).
        return RerunData(*args, **{**options, "fragment_id_queue": [fragment]})

    setattr(local_script_runner, "RerunData", rerun_data)  # noqa: B010 (not exported)
    try:
        yield
    finally:
        setattr(local_script_runner, "RerunData", RerunData)  # noqa: B010


def run_fragment(at: AppTest, key: str | None = None, timeout: float | None = None) -> AppTest:
    """Rerun only the fragment ``key`` (None: the page's only fragment) with the widgets'
    current values, clicks included."""
    with _scoped_to(fragment_id(at, key)):
        return at.run(timeout=timeout)
