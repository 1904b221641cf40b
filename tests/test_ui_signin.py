"""The sign-in page names the product, and tells how to sign in on the demo study only."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding.service.demo import DEMO_MARKER
from coding.store import Store
from tests.ui_helpers import app

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def _page_text(at: AppTest) -> str:
    return " ".join(
        [m.value for m in at.markdown] + [i.value for i in at.info] + [c.value for c in at.caption]
    )


def test_sign_in_on_the_demo_study_says_how(team_db: Path) -> None:
    with Store.open(team_db) as store:
        store.set_setting(DEMO_MARKER, "true", "tester")  # what build_demo marks its study with
    at = app(team_db).run()
    assert not at.exception
    text = _page_text(at)
    assert "Concord" in text
    assert "chloe" in text and "rosa" in text and "`demo`" in text


def test_sign_in_on_another_study_gives_no_demo_password(team_db: Path) -> None:
    at = app(team_db).run()
    assert not at.exception
    text = _page_text(at)
    assert "Concord" in text
    assert "demo" not in text.lower() and not at.info
