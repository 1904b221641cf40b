"""Agreement, Export and Users pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from coding.service import access
from coding.store import Store
from tests.ui_helpers import add_team, open_page


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    st.cache_data.clear()
    yield


@pytest.fixture
def team_db(coded_db: Path) -> Path:
    return add_team(coded_db)


def test_agreement_page_shows_table_and_chart(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "agreement")
    table = at.dataframe[0].value
    assert {"calm", "cues"} <= set(table["code_id"])
    assert "krippendorff_alpha" in table.columns
    assert len(at.get("vega_lite_chart")) == 1
    subheaders = [s.value for s in at.subheader]
    assert "Coder x coder" in subheaders and "Before and after consensus" in subheaders


def test_export_page_offers_a_csv_download(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "export")
    labels = [e.proto.label for e in at.get("download_button")]
    assert "CSV" in labels


def test_admin_adds_a_user(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    at.text_input(key="new-name").input("dora")
    at.selectbox(key="new-role").set_value("reviewer")
    at.text_input(key="new-password").input("pw-dora")
    at.button(key="FormSubmitter:add-user-Add user").click().run()
    assert not at.exception
    with Store.open(team_db) as store:
        assert access.sign_in(store, "dora", "pw-dora").role == "reviewer"


def test_admin_sets_when_suggestions_show(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    at.radio(key="suggestions-mode").set_value("never").run()
    with Store.open(team_db) as store:
        assert store.settings()["suggestions_visible"] == "never"
