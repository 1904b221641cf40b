"""Agreement, Export and Users pages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
from streamlit.testing.v1 import AppTest

from coding.errors import CodingError
from coding.model import OnProgress, ProgressEvent, Suggestion
from coding.service import access
from coding.service import coder as coder_service
from coding.service import export as export_service
from coding.store import Store
from coding.ui import agreement
from tests.ui_helpers import errors_in_form, open_page, plain

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def test_agreement_page_shows_table_and_chart(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "agreement")
    table = at.dataframe[0].value
    assert {"Calm", "Cues"} <= set(table["Code"])
    assert agreement.A_CI in table.columns
    assert len(at.get("vega_lite_chart")) == 1
    subheaders = [s.value for s in at.subheader]
    assert "Coder x coder" in subheaders and "Before and after consensus" in subheaders


def test_agreement_tables_have_names_and_few_short_columns(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "agreement")
    per_code = at.dataframe[0].value
    assert list(per_code["Code"]) == ["Calm", "Cues", agreement.ALL_CODES]
    assert len(per_code.columns) <= 9
    assert all(len(c) <= 12 and "_" not in c for c in per_code.columns)
    for frame in at.dataframe:
        assert "calm" not in set(frame.value["Code"])  # names, never ids


def test_intervals_are_computed_by_default_and_never_none(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "agreement")
    assert at.select_slider(key="agr-bootstrap").value == agreement.DEFAULT_RESAMPLES == 1000
    calm = at.dataframe[0].value.set_index("Code").loc["Calm"]
    assert re.fullmatch(
        r"-?\d\.\d{3} \((-?\d\.\d{3}\u2013-?\d\.\d{3}|\u2013)\)", calm[agreement.A_CI]
    )
    for frame in at.dataframe:
        cells = frame.value.astype(str).to_numpy().ravel().tolist()
        assert not {"None", "nan", "NaN", "<NA>"} & set(cells)
        assert not any("None" in c for c in cells)


def test_without_intervals_a_caption_says_so(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "agreement")
    at.select_slider(key="agr-bootstrap").set_value(0).run()
    assert not at.exception
    calm = at.dataframe[0].value.set_index("Code").loc["Calm"]
    assert re.fullmatch(r"-?\d\.\d{3}", calm[agreement.A_CI])
    assert "Intervals are off" in " ".join(c.value for c in at.caption)


def chart_cells(at: AppTest) -> set[str]:
    """Every value in the data the page's chart draws."""
    proto = at.get("vega_lite_chart")[0].proto
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in proto.datasets]
    return {str(v) for frame in frames for v in frame.to_numpy().ravel()}


def test_the_chart_has_code_names_and_labelled_cut_offs(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "agreement")
    cells = chart_cells(at)
    assert {"Calm", "Cues", "tentative \u2265 .667", "reliable \u2265 .800"} <= cells
    assert {"0.667", "0.8"} <= cells and "calm" not in cells
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert "Coefficient" in json.dumps(spec)  # the x axis says what it shows


def _all_submitted_by_chloe(db: Path) -> None:
    with Store.open(db) as store:
        for segment in store.segments():
            coder_service.save_unit(store, "chloe", segment.id, ["cues"], "", submit=True)


def test_three_coders_show_the_multi_coder_kappas(team_db: Path) -> None:
    _all_submitted_by_chloe(team_db)
    at = open_page(team_db, "rosa", "agreement")
    per_code = at.dataframe[0].value
    assert {agreement.FLEISS, agreement.CONGER} <= set(per_code.columns)
    assert agreement.K_CI not in per_code.columns  # Cohen's kappa is for two coders only
    calm = per_code.set_index("Code").loc["Calm"]
    assert re.fullmatch(r"-?\d\.\d{3}", calm[agreement.FLEISS])
    pairs = at.dataframe[1].value  # pairs of coders keep Cohen's kappa
    assert agreement.K_CI in pairs.columns


def test_an_undefined_value_gets_no_band() -> None:
    row = {
        "scope": "code",
        "code_id": "calm",
        "n_units": 3,
        "n_coders": 3,
        "krippendorff_alpha": None,
        "alpha_band": "reliable",
        "fleiss_kappa": float("nan"),
        "kappa_band": "almost perfect",
        "percent_agreement": 1.0,
        "prevalence": None,
    }
    shown = agreement.per_code(pd.DataFrame([row]), {"calm": "Calm"}, 1000, multi=True)
    assert shown.loc[0, agreement.A_READING] == agreement.DASH
    assert shown.loc[0, agreement.A_CI] == shown.loc[0, agreement.FLEISS] == agreement.DASH
    assert shown.loc[0, "Prevalence"] == agreement.DASH


def test_pairwise_tables_lead_with_nlp_and_consensus(team_db: Path) -> None:
    with Store.open(team_db) as store:
        units = [s.id for s in store.segments()]
        documents = sorted({s.document_id for s in store.segments()})
        found = [Suggestion(units[1], "calm", 0.9, "rules", "[]")]
        params = {"scored_documents": documents}
        store.add_suggestion_run("rules", "rules:1", 1, params, found, "tester")
    at = open_page(team_db, "rosa", "agreement")
    subheaders = [s.value for s in at.subheader]
    tables = dict(zip(subheaders[1:], [f.value for f in at.dataframe[1:]], strict=True))
    nlp, consensus = tables["Coder x NLP"], tables["Before and after consensus"]
    assert nlp["Pair"].iloc[0] == "amira \u00d7 NLP"
    assert list(nlp["Pair"].iloc[-3:]) == ["amira \u00d7 ben"] * 3
    assert consensus["Pair"].iloc[0] == "amira \u00d7 consensus"
    assert list(consensus["Pair"].iloc[-3:]) == ["amira \u00d7 ben"] * 3


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


class Sent:
    """The elements a run has sent to the browser so far, by place on the page (delta path)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.messages: list[ForwardMsg] = []
        enqueue = ScriptRunContext.enqueue

        def spy(ctx: ScriptRunContext, msg: ForwardMsg) -> None:
            self.messages.append(msg)
            enqueue(ctx, msg)

        monkeypatch.setattr(ScriptRunContext, "enqueue", spy)

    def elements(self) -> dict[tuple[int, ...], Any]:
        """The last element sent to each place."""
        return {
            tuple(m.metadata.delta_path): m.delta.new_element
            for m in self.messages
            if m.HasField("delta") and m.delta.WhichOneof("type") == "new_element"
        }


def test_while_a_file_builds_a_progress_bar_stands_where_the_last_download_was(
    team_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = Sent(monkeypatch)
    at = open_page(team_db, "rosa", "export")
    sent.messages.clear()
    at.button(key="build-segments-csv").click().run()
    (old,) = [p for p, e in sent.elements().items() if e.WhichOneof("type") == "download_button"]
    building: dict[tuple[int, ...], Any] = {}

    def build(*_args: object, excerpts: int, on_progress: OnProgress) -> tuple[str, bytes]:
        on_progress(ProgressEvent("reading", 3, 6, "annotations"))
        building.update(sent.elements())  # what the browser shows while the file builds
        return "matrix.csv", b"code,share\n"

    monkeypatch.setattr(export_service, "export_download", build)
    sent.messages.clear()
    at.button(key="build-matrix-csv").click().run()
    assert not at.exception
    kinds = {p: e.WhichOneof("type") for p, e in building.items()}
    assert "download_button" not in kinds.values()
    # The browser keeps an element of the last run until this run sends one to its place:
    # the bar has taken the old download button's place, so that button is gone at once.
    assert kinds.get(old) == "progress"
    assert building[old].progress.text == "Reading the study annotations"
    (download,) = at.get("download_button")
    assert download.proto.label == "Download matrix.csv"


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
    assert at.text_input(key="new-name").value == ""  # ready for the next user


def save_mode(at: AppTest, mode: str, *, confirm: bool = False) -> AppTest:
    at.radio(key="suggestions-mode").set_value(mode)
    if confirm:
        at.checkbox(key="suggestions-confirm").check()
    return at.button(key="FormSubmitter:suggestions-Save").click().run()


def test_admin_sets_when_suggestions_show(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    save_mode(at, "never")
    assert not at.exception
    with Store.open(team_db) as store:
        assert store.settings()["suggestions_visible"] == "never"


def test_showing_suggestions_always_needs_a_confirmation(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    save_mode(at, "always")
    assert not at.exception
    (error,) = errors_in_form(at, "suggestions")
    assert "ends blind coding" in error
    with Store.open(team_db) as store:
        assert store.settings()["suggestions_visible"] == "after_submit"


def test_showing_suggestions_always_is_recorded_in_the_audit_trail(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    save_mode(at, "always", confirm=True)
    assert not at.exception and not at.error
    with Store.open(team_db) as store:
        assert store.settings()["suggestions_visible"] == "always"
        last = store.events().iloc[-1]
    assert (last["actor"], last["action"], last["subject"]) == (
        "admin",
        "set_setting",
        "suggestions_visible",
    )
    assert json.loads(last["detail"]) == {"value": "always"}


def test_assigning_with_no_document_chosen_assigns_nothing(team_db: Path) -> None:
    with Store.open(team_db) as store:
        before = len(store.assignments_frame())
    at = open_page(team_db, "admin", "users")
    at.selectbox(key="assign-coder").set_value("amira")
    at.button(key="FormSubmitter:assign-Assign").click().run()
    assert not at.exception
    (error,) = errors_in_form(at, "assign")
    assert "All documents" in error
    with Store.open(team_db) as store:
        assert len(store.assignments_frame()) == before


def test_assigning_all_documents_is_an_explicit_choice(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    at.selectbox(key="assign-coder").set_value("amira")
    at.checkbox(key="assign-all").check()
    at.button(key="FormSubmitter:assign-Assign").click().run()
    assert not at.exception and not at.error
    with Store.open(team_db) as store:
        assignments = store.assignments_frame()
        units = len(store.segments())
    assert (assignments["coder"] == "amira").sum() == units


def test_a_failed_add_user_keeps_the_form(team_db: Path) -> None:
    at = open_page(team_db, "admin", "users")
    at.text_input(key="new-name").input("dora")
    at.selectbox(key="new-role").set_value("reviewer")
    at.text_input(key="new-password").input("short")
    at.button(key="FormSubmitter:add-user-Add user").click().run()
    assert not at.exception
    assert errors_in_form(at, "add-user")  # why, beside the form
    assert at.text_input(key="new-name").value == "dora"
    assert at.selectbox(key="new-role").value == "reviewer"
    assert at.text_input(key="new-password").value == "short"
    with Store.open(team_db) as store:
        assert access.get_user(store, "dora") is None


def test_assign_form_is_disabled_without_coders(study: Path) -> None:
    with Store.open(study) as store:
        access.add_user(store, "admin", "admin", "pw-admin-1", "tester")
    at = open_page(study, "admin", "users")
    assert at.button(key="FormSubmitter:assign-Assign").disabled
    assert at.selectbox(key="assign-coder").disabled
    with Store.open(study) as store:
        assert store.assignments_frame().empty
