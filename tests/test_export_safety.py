"""Exports never leak drafts, never run formulas, survive control characters, and either
write every file or none."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest

from coding import service
from coding.export import document as doc
from coding.export.xlsx import workbook_bytes
from coding.model import Annotation
from coding.service import export as export_service
from coding.service.export import export_study
from coding.service.refi import import_qdpx
from coding.store import Store
from tests.test_refi_study import Src, project_file

pytestmark = pytest.mark.both_engines

DRAFT_MEMO = "DRAFT-MEMO-do-not-export"


def _all_text(path: Path) -> str:
    """A file's text, or the text of every entry of a zip (xlsx, docx, qdpx)."""
    data = path.read_bytes()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8", "replace")


@pytest.fixture
def draft_db(coded_db: Path) -> Path:
    """carol has saved 'calm' with a memo on unit 0 (a draft) and submitted unit 2 ('cues')."""
    with Store.open(coded_db) as store:
        service.add_coders(store, ["carol"], "tester")
        units = [s.id for s in store.segments()]
        store.assign([units[0], units[2]], "carol", "tester")
        version = store.codebook().version
        draft = {"codes": ["calm"], "memo": DRAFT_MEMO, "complete": False}
        with store.transaction("carol", "code_unit", units[0], draft):
            pass  # the app's audit row for a draft save
        store.add_annotations(
            [Annotation(units[0], "calm", "carol", memo=DRAFT_MEMO, codebook_version=version)],
            "carol",
        )
        done = {"codes": ["cues"], "memo": "submitted memo", "complete": True}
        with store.transaction("carol", "code_unit", units[2], done):
            pass
        store.add_annotations(
            [Annotation(units[2], "cues", "carol", codebook_version=version)],
            "carol",
            complete=[(units[2], "carol")],
        )
    return coded_db


def test_a_draft_is_in_no_export_file(draft_db: Path, tmp_path: Path) -> None:
    with Store.open(draft_db) as store:
        written = export_study(store, tmp_path / "out")
    assert written
    for path in written:
        assert DRAFT_MEMO not in _all_text(path), path.name
    # Nor does the draft code: carol's codes show only where she submitted (units[2]).
    with Store.open(draft_db) as store:
        units = [s.id for s in store.segments()]
    rows = pd.read_csv(tmp_path / "out" / "coded_segments.csv", keep_default_na=False)
    carol = rows.set_index("segment_id")["codes_carol"]
    assert "calm" not in " ".join(carol[carol.index == units[0]])
    assert "cues" in " ".join(carol[carol.index == units[2]])
    with zipfile.ZipFile(tmp_path / "out" / "project.qdpx") as archive:
        root = ElementTree.fromstring(archive.read("project.qde"))
    ns = {"q": "urn:QDA-XML:project:1.0"}
    carol_guid = next(
        u.get("guid") for u in root.iterfind("q:Users/q:User", ns) if u.get("name") == "carol"
    )
    carol_codings = [
        c
        for c in root.iter("{urn:QDA-XML:project:1.0}Coding")
        if c.get("creatingUser") == carol_guid
    ]
    assert len(carol_codings) == 1  # the submitted 'cues' on units[2], never the draft


def test_the_event_trail_withholds_draft_codes_but_shows_submitted_ones(
    draft_db: Path, tmp_path: Path
) -> None:
    with Store.open(draft_db) as store:
        units = [s.id for s in store.segments()]
        export_study(store, tmp_path / "out", ["audit"], ["csv"])
    events = pd.read_csv(tmp_path / "out" / "audit_events.csv", keep_default_na=False)
    saves = events[events["action"] == "code_unit"].set_index("subject")
    assert "calm" not in saves.loc[units[0], "detail"]
    assert saves.loc[units[0], "withheld"].startswith("draft")
    assert "cues" in saves.loc[units[2], "detail"] and not saves.loc[units[2], "withheld"]


def test_unknown_events_keep_their_row_but_not_their_content(
    coded_db: Path, tmp_path: Path
) -> None:
    with Store.open(coded_db) as store:
        with store.transaction("ben", "future_action", "secret-subject", {"x": "secret-detail"}):
            pass
        export_study(store, tmp_path / "out", ["audit"], ["csv"])
    text = (tmp_path / "out" / "audit_events.csv").read_text()
    assert "future_action" in text and "secret" not in text


def test_xlsx_strings_are_never_formulas() -> None:
    values = ['=HYPERLINK("http://x.example","go")', "+A1", "-2+3", "@SUM(A1)", "=1+1"]
    content = workbook_bytes({"s": pd.DataFrame({"text": values})})
    sheet = openpyxl.load_workbook(io.BytesIO(content))["s"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == values
    assert {c.data_type for c in cells} == {"s"}
    # The quote prefix keeps them text even when a cell is edited in a spreadsheet.
    assert all(c.quotePrefix for c in cells)
    plain = workbook_bytes({"s": pd.DataFrame({"text": ["-0.5", "a=b"]})})
    assert not any(
        row[0].quotePrefix for row in openpyxl.load_workbook(io.BytesIO(plain))["s"].iter_rows()
    )


def test_markdown_makes_raw_html_inert() -> None:
    text = doc.to_markdown(
        [doc.Para("<script>alert(1)</script>"), doc.Quote("<b>x</b>", "a & <i>b</i>")]
    )
    assert "<script>" not in text and "<i>" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text


@pytest.fixture
def control_db(tmp_path: Path) -> Path:
    """A study whose text holds control characters (\\x0c, \\x01)."""
    raw = "Page one about calm.\x0c\n\nSecond <b>para</b> \x01 end."
    path = project_file(
        tmp_path / "ctl.qdpx",
        [Src("doc", raw, [(0, len(raw), "amy", "x"), (0, len(raw), "bob", "x")])],
        users=["amy", "bob"],
        codes={"x": "X <img> code"},
    )
    study = tmp_path / "ctl.db"
    service.init_study(study, "tester").close()
    with Store.open(study) as store:
        import_qdpx(store, path, "tester")
    return study


def test_control_characters_do_not_break_any_export(control_db: Path, tmp_path: Path) -> None:
    import docx

    with Store.open(control_db) as store:
        assert "\x0c" in store.documents()[0].text
        written = export_study(store, tmp_path / "out")
    names = {p.name for p in written}
    assert {"theme_report.docx", "coded_segments.xlsx", "project.qdpx"} <= names
    docx.Document(str(tmp_path / "out" / "theme_report.docx"))
    openpyxl.load_workbook(tmp_path / "out" / "coded_segments.xlsx")
    copy = tmp_path / "copy.db"
    service.init_study(copy, "tester").close()
    with Store.open(copy) as store:
        import_qdpx(store, tmp_path / "out" / "project.qdpx", "tester")
        assert "\x0c" in store.documents()[0].text  # the source text itself is kept exactly


def test_a_failed_export_writes_nothing(
    coded_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> list[tuple[str, bytes]]:
        raise RuntimeError("renderer failed")

    monkeypatch.setitem(export_service.RENDERERS, "qdpx", broken)
    out = tmp_path / "out"
    with Store.open(coded_db) as store, pytest.raises(RuntimeError):
        export_study(store, out)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("fixture", ["study", "corpus_db"])
def test_export_of_a_study_without_annotations(
    request: pytest.FixtureRequest, tmp_path: Path, fixture: str
) -> None:
    with Store.open(request.getfixturevalue(fixture)) as store:
        written = export_study(store, tmp_path / "out")
    assert len(written) == 20
    segments = pd.read_csv(tmp_path / "out" / "coded_segments.csv")
    assert segments.empty and "final" in segments.columns
