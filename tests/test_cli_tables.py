"""What the CLI's tables and messages say: notes as footnotes, clipped text, the fix named."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from coding.cli import cli
from coding.cli.agreement import N_UNITS_NOTE, echo_agreement


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_agreement_notes_are_footnotes_and_no_line_is_padded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    paradox = "kappa paradox: 95% agreement but Cohen's kappa 0.58 because the code is rare"
    table = pd.DataFrame(
        {
            "scope": ["document", "document", "document", "overall"],
            "code_id": ["*", "*", "*", "overall"],
            "document_id": ["dyadic", "residential", "sequential", "overall"],
            "n_units": [175, 175, 200, 550],
            "cohen_kappa": [0.739, 0.576, 0.58, 0.7],
            "note": ["", paradox, paradox, "few units"],
        }
    )
    echo_agreement(table, "table")
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["code_id", "document_id", "n_units", "kappa", "note"]
    assert [line.split()[-1] for line in lines[1:5]] == ["0.739", "[1]", "[1]", "[2]"]
    assert lines[5:] == [f"[1] {paradox}", "[2] few units"]
    assert all(line == line.rstrip() for line in lines)
    assert err == N_UNITS_NOTE + "\n"


def test_an_empty_note_column_is_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    table = pd.DataFrame({"scope": ["code"], "code_id": ["calm"], "n_units": [4], "note": [""]})
    echo_agreement(table, "table")
    out, err = capsys.readouterr()
    assert out.splitlines() == ["code_id n_units", "   calm       4"]
    assert err == ""  # one code's units: nothing pooled, nothing to explain


def test_n_units_is_explained_on_stderr_for_tables_only(coded_db: Path) -> None:
    code, out, err = invoke("agreement", str(coded_db))
    assert code == 0 and err == N_UNITS_NOTE + "\n" and "n_units" in out
    code, out, err = invoke("agreement", str(coded_db), "--format", "json")
    assert code == 0 and err == "" and json.loads(out)[0]["n_units"] == 4


@pytest.mark.parametrize("command", [("disagreements",), ("agreement", "--disagreements")])
def test_disagreement_text_is_cut_with_an_ellipsis(coded_db: Path, command: tuple[str]) -> None:
    code, out, _ = invoke(command[0], str(coded_db), *command[1:])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[-1] == "text"
    texts = [line[lines[0].index("text") :] for line in lines[1:]]
    assert texts == [
        "Parents learn to notice their own stress. Staff h\u2026",
        "Each session opens with a check-in.",
    ]
    assert "[" not in out and "<NA>" not in out  # coders as a|b, no missing-value markers


def test_a_withdrawn_decision_named_in_supersedes_says_to_leave_it_out(team_db: Path) -> None:
    rows = json.loads(invoke("disagreements", str(team_db), "--format", "json")[1])
    base = ("resolve", str(team_db), rows[0]["segment_id"], "--code", rows[0]["code_id"])
    base += ("--reviewer", "rosa")
    assert (
        invoke(*base, "--decision", "apply", "--rationale", "Reads as calm on a first look")[0] == 0
    )
    undo = ("--rationale", "Too early to say either way")
    assert invoke(*base, "--decision", "withdraw", *undo)[0] == 0
    again = ("--rationale", "Not calm after all, on reading it again", "--supersedes", "1")
    code, _, err = invoke(*base, "--decision", "reject", *again)
    assert code == 1
    assert "decision #1 was withdrawn and none stands; run again without --supersedes" in err
