"""The one output layer every command prints through, and agreement's flags that exclude
each other."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from coding.cli import cli
from coding.cli.agreement import IGNORED_BY
from coding.cli.common import DISAGREEMENT_COLUMNS, echo_frame, echo_json, progress_shown
from coding.model import ProgressEvent
from coding.service import review as review_service
from tests.conftest import DATA, ROOT

# How to give each flag in a test (a value other than its default).
GIVEN = {
    "--spans": ["--spans"],
    "--disagreements": ["--disagreements"],
    "--pairwise": ["--pairwise"],
    "--nlp": ["--nlp"],
    "--consensus": ["--consensus"],
    "--by": ["--by", "document"],
    "--bootstrap": ["--bootstrap", "10"],
    "--seed": ["--seed", "7"],
    "--level": ["--level", "1"],
}
REFUSED = [(view, flag) for view, flags in IGNORED_BY.items() for flag in flags]


def test_every_refused_pair_is_listed() -> None:
    assert len(REFUSED) == 16
    assert set(GIVEN) == {flag for pair in REFUSED for flag in pair}


@pytest.mark.parametrize(("view", "flag"), REFUSED)
@pytest.mark.parametrize("order", ["view first", "flag first"])
def test_a_flag_the_view_would_ignore_is_refused_naming_both(
    tmp_path: Path, view: str, flag: str, order: str
) -> None:
    flags = [*GIVEN[view], *GIVEN[flag]] if order == "view first" else [*GIVEN[flag], *GIVEN[view]]
    result = CliRunner().invoke(cli, ["agreement", str(tmp_path / "s.db"), *flags])
    assert result.exit_code == 2  # a usage error, before the study is opened
    assert f"{view} and {flag} cannot be used together ({view} ignores {flag})" in result.output
    assert not (tmp_path / "s.db").exists()


def test_pairwise_by_code_is_allowed(coded_db: Path) -> None:
    """--pairwise is by code, so saying so is no conflict."""
    result = CliRunner().invoke(
        cli, ["agreement", str(coded_db), "--pairwise", "--by", "code", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert {row["pair"] for row in json.loads(result.stdout)} == {"amira vs ben"}


def test_combinations_that_work_stay_allowed(coded_db: Path) -> None:
    db = str(coded_db)
    pairwise = ["--pairwise", "--consensus", "--bootstrap", "20", "--seed", "3"]
    for flags in (
        [*pairwise, "--coders", "amira,ben"],
        ["--by", "document", "--consensus", "--bootstrap", "20", "--seed", "3"],
        ["--spans", "--coders", "amira,ben"],
        ["--disagreements", "--coders", "amira,ben"],
    ):
        result = CliRunner().invoke(cli, ["agreement", db, *flags, "--format", "json"])
        assert result.exit_code == 0, (flags, result.output)
        assert json.loads(result.stdout)


def test_csv_neutralises_formulas_and_json_keeps_every_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = pd.DataFrame({"code_id": ["=HYPERLINK(1)", "calm"], "n": [-1, 2]})
    echo_frame(frame, "csv")
    assert capsys.readouterr().out == 'code_id,n\n"\'=HYPERLINK(1)",-1\n"calm",2\n'
    echo_frame(frame, "json", view=lambda f: f[["n"]])
    assert json.loads(capsys.readouterr().out) == frame.to_dict(orient="records")


def test_the_table_clips_text_and_footnotes_notes(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame(
        {"code_id": ["calm", "cues"], "text": ["a b\nc d e f", "short"], "note": ["rare", "rare"]}
    )
    echo_frame(frame, "table", left=["text", "note"], clipped={"text": 5}, footnotes="note")
    assert capsys.readouterr().out.splitlines() == [
        "code_id text  note",
        "   calm a b \u2026 [1]",
        "   cues short [1]",
        "[1] rare",
    ]
    echo_frame(frame.iloc[:0], "table", empty="(none)")
    assert capsys.readouterr().out == "(none)\n"


def test_an_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        echo_frame(pd.DataFrame({"n": [1]}), "xml")


def test_the_study_argument_is_defined_once() -> None:
    sources = {
        p.name: p.read_text(encoding="utf-8") for p in (ROOT / "coding" / "cli").glob("*.py")
    }
    defining = sorted(
        name for name, text in sources.items() if re.search(r'argument\(\s*"study"', text)
    )
    assert defining == ["common.py"]


def test_users_list_is_aligned_rows_without_a_header(study: Path) -> None:
    assert CliRunner().invoke(cli, ["users", "list", str(study)]).stdout == ""  # no users yet
    for name, role in (("rosa", "reviewer"), ("a-much-longer-user-name", "coder")):
        result = CliRunner().invoke(
            cli,
            ["users", "add", str(study), name, "--role", role, "--password-stdin"],
            input="pw-test-8\n",
        )
        assert result.exit_code == 0, result.output
    lines = CliRunner().invoke(cli, ["users", "list", str(study)]).stdout.splitlines()
    assert [line[:34] for line in lines] == [  # names at least 20 wide, longer ones kept aligned
        "a-much-longer-user-name coder     ",
        "rosa                    reviewer  ",
    ]


def test_a_table_column_is_at_least_its_given_width(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame({"code": ["calm", "macro"], "f1": ["0.500", "-"]})
    echo_frame(frame, "table", left=["code"], widths={"code": 8, "f1": 6})
    assert capsys.readouterr().out.splitlines() == [
        "code         f1",
        "calm      0.500",
        "macro         -",
    ]


def test_coders_list_is_one_name_a_line(study: Path) -> None:
    assert CliRunner().invoke(cli, ["coders", "list", str(study)]).stdout == ""
    assert (
        CliRunner().invoke(cli, ["coders", "add", str(study), "ben", "amira-long"]).exit_code == 0
    )
    out = CliRunner().invoke(cli, ["coders", "list", str(study)]).stdout
    assert out == "amira-long\nben\n"  # no padding after the shorter name


def test_both_disagreement_commands_write_the_same_csv(coded_db: Path) -> None:
    listed = CliRunner().invoke(cli, ["disagreements", str(coded_db), "--format", "csv"])
    via_agreement = CliRunner().invoke(
        cli, ["agreement", str(coded_db), "--disagreements", "--format", "csv"]
    )
    assert listed.exit_code == 0 and via_agreement.exit_code == 0
    assert via_agreement.stdout == listed.stdout
    assert "['" not in listed.stdout  # coders as a|b, not a Python list


def test_json_writes_null_for_numbers_that_are_not_finite(
    capsys: pytest.CaptureFixture[str],
) -> None:
    echo_json({"alpha": math.nan, "values": [1.5, math.inf], "n": 2})
    assert json.loads(capsys.readouterr().out) == {"alpha": None, "values": [1.5, None], "n": 2}


def test_progress_shows_a_bar_notes_after_it_and_steps_as_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with progress_shown() as on_progress:
        on_progress(ProgressEvent("reading", 0, 2, "a.md"))
        on_progress(ProgressEvent("reading", 0, 2, "a.md", note="a.md is new"))
        on_progress(ProgressEvent("reading", 1, 2, "b.md"))
        on_progress(ProgressEvent("storing", item="2 document(s)"))
        on_progress(ProgressEvent("checking", note="all well"))
    shown = capsys.readouterr()
    assert shown.out == ""
    assert shown.err.splitlines() == [
        "reading",  # the bar, as it shows where stderr is not a terminal
        "note: a.md is new",
        "storing 2 document(s)",
        "note: all well",
    ]


def test_import_shows_progress_and_notes_on_stderr_and_results_on_stdout(
    study: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,document_id\nmanual.md,steps\nother.md,other\n")
    result = CliRunner().invoke(
        cli, ["import", str(study), str(DATA / "manual.md"), "--manifest", str(manifest)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:3] == ["new", "steps", "4"]
    assert result.stderr.splitlines() == [
        "reading",
        "note: manifest rows for files not imported here: other.md",
        "storing 1 document(s)",
    ]


@pytest.mark.parametrize("mode", ["auto", "none"])
def test_import_codings_refuses_yes_where_it_completes_no_drafts(tmp_path: Path, mode: str) -> None:
    args = ["import-codings", str(tmp_path / "s.db"), str(tmp_path / "codings.csv"), "--yes"]
    result = CliRunner().invoke(cli, [*args, "--complete", mode])
    assert result.exit_code == 2
    view = f"--complete {mode}"
    assert f"{view} and --yes cannot be used together ({view} ignores --yes)" in result.output
    assert not (tmp_path / "s.db").exists()


def test_the_disagreements_table_shows_the_columns_the_service_names() -> None:
    assert DISAGREEMENT_COLUMNS[:5] == tuple(review_service.DISAGREEMENT_COLUMNS[:5])
    assert set(DISAGREEMENT_COLUMNS) <= set(review_service.DISAGREEMENT_COLUMNS)
