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


def fragment_id(at: AppTest, key: str) -> str:
    """The id the last run gave the fragment declared with ``@st.fragment(key=key)``."""
    # AppTest keeps its fragments between runs; it has no public way to name one.
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


def run_fragment(at: AppTest, key: str, timeout: float | None = None) -> AppTest:
    """Rerun only the fragment ``key`` with the widgets' current values (clicks included)."""
    with _scoped_to(fragment_id(at, key)):
        return at.run(timeout=timeout)
