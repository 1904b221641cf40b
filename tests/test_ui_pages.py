"""Agreement, Export and Users pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from coding.errors import CodingError
from coding.model import OnProgress, ProgressEvent
from coding.service import access
from coding.service import export as export_service
from coding.store import Store
from tests.ui_helpers import open_page, plain

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def test_agreement_page_shows_table_and_chart(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "agreement")
    table = at.dataframe[0].value
    assert {"calm", "cues"} <= set(table["code_id"])
    assert "krippendorff_alpha" in table.columns
    assert len(at.get("vega_lite_chart")) == 1
    subheaders = [s.value for s in at.subheader]
    assert "Coder x coder" in subheaders and "Before and after consensus" in subheaders


def test_export_page_builds_a_csv_on_click(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "export")
    assert not at.get("download_button")
    at.button(key="build-segments-csv").click().run()
    assert not at.exception and not at.error
    (download,) = at.get("download_button")
    assert download.proto.label == "Download coded_segments.csv"


def test_a_failed_export_is_an_error_not_a_file(
    team_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object, **_options: object) -> tuple[str, bytes]:
        raise CodingError("the study has no codebook yet; nothing to export")

    monkeypatch.setattr(export_service, "export_download", fail)
    at = open_page(team_db, "rosa", "export")
    at.button(key="build-segments-csv").click().run()
    assert not at.exception
    assert "nothing to export" in plain(at.error[0].value)
    assert not at.get("download_button")


def test_a_new_build_replaces_the_previous_download(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "export")
    at.button(key="build-segments-csv").click().run()
    at.button(key="build-matrix-csv").click().run()
    assert not at.exception and not at.error
    (download,) = at.get("download_button")  # the earlier file is no longer offered
    assert download.proto.label == "Download matrix.csv"


def test_export_page_builds_with_progress_and_the_chosen_cap(
    team_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def build(*_args: object, excerpts: int, on_progress: OnProgress) -> tuple[str, bytes]:
        seen["excerpts"] = excerpts
        for event in (
            ProgressEvent("reading", 3, 6, "annotations"),
            ProgressEvent("writing", 1, 1),
        ):
            on_progress(event)
        return "theme_report.md", b"# report\n"

    monkeypatch.setattr(export_service, "export_download", build)
    at = open_page(team_db, "rosa", "export")
    at.number_input(key="export-excerpts").set_value(7)
    at.button(key="build-themes-md").click().run()
    assert not at.exception and not at.error
    assert seen == {"excerpts": 7}
    assert not at.get("progress")  # the bar gave way to the download
    (download,) = at.get("download_button")
    assert download.proto.label == "Download theme_report.md"


def test_progress_fills_the_bar_stage_by_stage() -> None:
    from coding.ui.export import progress_share

    events = [
        ProgressEvent("reading", 0, 6),
        ProgressEvent("reading", 6, 6),
        ProgressEvent("agreement", 1, 4),
        ProgressEvent("writing", 0, 20),
        ProgressEvent("writing", 20, 20),
    ]
    shares = [progress_share(e) for e in events]
    assert shares == sorted(shares) and shares[0] == 0.0 and shares[-1] == 1.0


def test_admin_adds_a_user(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    at.text_input(key="new-name").input("dora")
    at.selectbox(key="new-role").set_value("reviewer")
    at.text_input(key="new-password").input("pw-dora-long")
    at.button(key="FormSubmitter:add-user-Add user").click().run()
    assert not at.exception
    with Store.open(team_db) as store:
        assert access.sign_in(store, "dora", "pw-dora-long").role == "reviewer"


def test_admin_sets_when_suggestions_show(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    at.radio(key="suggestions-mode").set_value("never").run()
    with Store.open(team_db) as store:
        assert store.settings()["suggestions_visible"] == "never"


def test_assign_form_is_disabled_without_coders(study: Path) -> None:
    with Store.open(study) as store:
        access.add_user(store, "admin", "admin", "pw-admin-1", "tester")
    at = open_page(study, "admin", "users")
    assert at.button(key="FormSubmitter:assign-Assign").disabled
    assert at.selectbox(key="assign-coder").disabled
    with Store.open(study) as store:
        assert store.assignments_frame().empty
