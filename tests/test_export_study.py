"""Study exports: every kind and format, final codes labelled, blinding, determinism."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.export import document as doc
from coding.service import access
from coding.service.export import FORMATS, export_bytes, export_study
from coding.store import Store
from tests.conftest import write_codings

pytestmark = pytest.mark.both_engines


@pytest.fixture
def resolved_db(coded_db: Path) -> Path:
    """coded_db with the 'calm' disagreement in unit 1 resolved (apply), with a rationale."""
    with Store.open(coded_db) as store:
        unit = store.segments()[1].id
        access.add_user(store, "rev", "reviewer", "pw-test-8", "tester")
        service.resolve(store, "rev", unit, "calm", "apply", "Describes <calming> & soothing")
    return coded_db


@pytest.fixture
def blinded_db(resolved_db: Path, tmp_path: Path) -> Path:
    """A third coder, carol, has coded unit 0 with 'cues' but not submitted it."""
    with Store.open(resolved_db) as store:
        service.add_coders(store, ["carol"], "tester")
        unit = store.segments()[0].id
        path = write_codings(tmp_path / "carol.csv", [(unit, "carol", "cues")])
        service.import_codings(store, path, "tester", complete="none")
    return resolved_db


def test_cli_writes_every_export_in_every_format(resolved_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", str(resolved_db), "--to", str(out)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    expected = {
        "coded_segments.csv",
        "coded_segments.xlsx",
        "coded_segments.json",
        "theme_report.md",
        "theme_matrix.png",
        "theme_report.html",
        "theme_report.docx",
        "matrix.csv",
        "matrix.xlsx",
        "matrix.png",
        "matrix.svg",
        "agreement.csv",
        "agreement.xlsx",
        "agreement.html",
        "audit_log.csv",
        "audit_events.csv",
        "audit_log.xlsx",
        "audit_log.json",
        "codebook.qdc",
        "project.qdpx",
    }
    assert names == expected


def test_only_and_format_filter_the_exports(resolved_db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "export",
            str(resolved_db),
            "--to",
            str(tmp_path / "o"),
            "--only",
            "segments,matrix",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "o").iterdir()} == {"coded_segments.csv", "matrix.csv"}


def test_unknown_export_is_a_clear_error(resolved_db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", str(resolved_db), "--to", str(tmp_path), "--only", "pie"]
    )
    assert result.exit_code == 1 and "unknown export" in result.output


def test_exports_are_byte_identical_when_run_twice(resolved_db: Path, tmp_path: Path) -> None:
    with Store.open(resolved_db) as store:
        first = export_study(store, tmp_path / "a")
        second = export_study(store, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_coded_segments_label_the_basis_of_each_final_code(resolved_db: Path) -> None:
    with Store.open(resolved_db) as store:
        frame = pd.read_csv(
            io.BytesIO(export_bytes(store, "segments", "csv")[1]), keep_default_na=False
        )
    calm = frame[frame["code_id"] == "calm"].iloc[0]
    assert (calm["final"], calm["status"], calm["decision"]) == ("yes", "resolved", "apply")
    assert calm["rationale"] == "Describes <calming> & soothing"
    assert calm["basis"].startswith("consensus resolution")
    assert (calm["coder_amira"], calm["coder_ben"]) == ("applied", "not applied")
    cues = frame[frame["code_id"] == "cues"]
    assert set(cues["status"]) == {"agreed", "open"}
    assert set(cues[cues["status"] == "open"]["final"]) == {"open"}


def test_unsubmitted_work_is_never_exported(blinded_db: Path) -> None:
    with Store.open(blinded_db) as store:
        unit0 = store.segments()[0].id
        outputs = {
            (kind, fmt): export_bytes(store, kind, fmt)[1]
            for kind, fmts in FORMATS.items()
            for fmt in fmts
            if fmt not in ("png", "svg", "xlsx", "docx")
        }
    segments = pd.read_csv(io.BytesIO(outputs["segments", "csv"]), keep_default_na=False)
    assert not ((segments["segment_id"] == unit0) & (segments["code_id"] == "cues")).any()
    assert set(segments["coder_carol"]) == {"not completed"}
    with zipfile.ZipFile(io.BytesIO(outputs["qdpx", "qdpx"])) as archive:
        project = archive.read("project.qde").decode()
    from coding.refi.qdpx_write import user_guid

    assert f'creatingUser="{user_guid("carol")}"' not in project


def test_html_report_escapes_text(resolved_db: Path) -> None:
    with Store.open(resolved_db) as store:
        html = export_bytes(store, "themes", "html")[1].decode()
    assert "&lt;calming&gt; &amp; soothing" in html and "<calming>" not in html


def test_theme_report_has_summary_definitions_locations_and_reliability(
    resolved_db: Path,
) -> None:
    with Store.open(resolved_db) as store:
        md = export_bytes(store, "themes", "md")[1].decode()
    assert md.index("## Summary") < md.index("## Calm")
    assert "chars " in md and "Reliability" in md and "data:image/png;base64," in md


def test_docx_and_xlsx_open(resolved_db: Path) -> None:
    import docx
    import openpyxl

    with Store.open(resolved_db) as store:
        word = docx.Document(io.BytesIO(export_bytes(store, "themes", "docx")[1]))
        book = openpyxl.load_workbook(io.BytesIO(export_bytes(store, "matrix", "xlsx")[1]))
    assert any("Summary" in p.text for p in word.paragraphs)
    assert book.sheetnames == ["counts", "share", "cells"]


def test_matrix_counts_and_shares(resolved_db: Path) -> None:
    with Store.open(resolved_db) as store:
        cells = pd.read_csv(io.BytesIO(export_bytes(store, "matrix", "csv")[1]))
        units = len(store.segments())
    calm = cells[cells["code_id"] == "calm"].iloc[0]
    assert (calm["programme"], calm["segments"], calm["programme_segments"]) == (
        "Small Steps",
        1,
        units,
    )
    assert calm["share"] == pytest.approx(round(1 / units, 4))


def test_svg_figure_is_deterministic(resolved_db: Path) -> None:
    with Store.open(resolved_db) as store:
        first = export_bytes(store, "matrix", "svg")[1]
        second = export_bytes(store, "matrix", "svg")[1]
    assert first == second and b"<svg" in first


def test_audit_log_records_before_and_after(resolved_db: Path) -> None:
    with Store.open(resolved_db) as store:
        data = json.loads(export_bytes(store, "audit", "json")[1])
    [decision] = data["decisions"]
    assert decision["reviewer"] == "rev" and decision["decision"] == "apply"
    assert decision["before"] == "open: applied by amira; not by ben"
    assert decision["after"] == "code applied (consensus)"
    assert any(e["action"] == "resolve" for e in data["events"])


def test_agreement_export_has_method_notes(resolved_db: Path) -> None:
    with Store.open(resolved_db) as store:
        html = export_bytes(store, "agreement", "html")[1].decode()
    assert "Method notes" in html and "Per code (before consensus)" in html
    assert "the (segment, code) pairs compared" in html  # what 'units' counts on pooled rows


def test_markdown_tables_escape_pipes() -> None:
    text = doc.to_markdown([doc.Table(pd.DataFrame({"a": ["x|y"]}))])
    assert "x\\|y" in text
