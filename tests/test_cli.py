"""The command line: each command end to end, errors as one clear message."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from coding.cli import cli
from coding.service import access
from coding.store import Store
from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.both_engines


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_init_import_status_json(target: str) -> None:
    db = target
    assert run("init", db, "--codebook", str(DATA / "codebook_small.yaml"))[0] == 0
    code, out = run("import", db, str(DATA / "manual.md"), "--programme", "Small Steps")
    assert code == 0 and "new" in out and "4 units" in out
    code, out = run("status", db, "--format", "json")
    info = json.loads(out)
    assert code == 0
    assert {
        k: info[k]
        for k in ("documents", "segments", "coders", "codes", "annotations", "resolutions")
    } == {
        "documents": 1,
        "segments": 4,
        "coders": 0,
        "codes": 2,
        "annotations": 0,
        "resolutions": 0,
    }


def test_errors_are_one_message_without_traceback(tmp_path: Path) -> None:
    code, out = run("status", str(tmp_path / "missing.db"))
    assert code == 1
    assert "missing.db: no such study" in out and "Traceback" not in out
    code, out = run("codebook", "validate", str(DATA / "codebook_bad.yaml"))
    assert code == 1 and "6 problem(s)" in out and "line 12, codes[2].parent" in out


def test_codebook_load_reports_changes(study: Path, tmp_path: Path) -> None:
    changed = tmp_path / "cb.yaml"
    changed.write_text(
        (DATA / "codebook_small.yaml")
        .read_text()
        .replace("indicators: [cue, attune]", "indicators: [cue, attune, respond]")
    )
    code, out = run("codebook", "load", str(study), str(changed))
    assert code == 0 and "loaded codebook v2" in out and "code 'cues': indicators changed" in out
    code, out = run("codebook", "load", str(study), str(changed))
    assert "unchanged" in out


def add_reviewer(db: Path, name: str = "rosa") -> Path:
    """Register ``name`` as a reviewer of the study (a decision needs one)."""
    with Store.open(db) as store:
        access.add_user(store, name, "reviewer", "pw-test-8", "tester")
    return db


def test_import_codings_disagreements_and_resolve(coded_db: Path) -> None:
    add_reviewer(coded_db)
    code, out = run("disagreements", str(coded_db), "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 2
    first = rows[0]
    code, out = run(
        "resolve",
        str(coded_db),
        first["segment_id"],
        "--code",
        first["code_id"],
        "--decision",
        "reject",
        "--rationale",
        "Not about the parent",
        "--reviewer",
        "rosa",
    )
    assert code == 0 and "recorded resolution #1" in out
    code, out = run("disagreements", str(coded_db), "--open-only", "--format", "json")
    assert len(json.loads(out)) == 1


def test_resolve_without_rationale_is_refused(coded_db: Path) -> None:
    add_reviewer(coded_db, "tester")  # the acting user ($CONCORD_USER) is the reviewer
    with Store.open(coded_db) as store:
        seg = store.segments()[1].id
    code, out = run(
        "resolve", str(coded_db), seg, "--code", "calm", "--decision", "apply", "--rationale", " "
    )
    assert code == 1 and "rationale" in out


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = cli.list_commands(click.Context(cli))  # imports every module of commands
    missing = [name for name in names if f"coding {name}" not in readme]
    assert missing == []


def test_resolve_refuses_to_override_a_decision_unseen(coded_db: Path) -> None:
    add_reviewer(coded_db)
    rows = json.loads(run("disagreements", str(coded_db), "--format", "json")[1])
    seg, code = rows[0]["segment_id"], rows[0]["code_id"]
    base = ("resolve", str(coded_db), seg, "--code", code, "--reviewer", "rosa")
    assert run(*base, "--decision", "apply", "--rationale", "first look at the unit")[0] == 0
    code_, out = run(*base, "--decision", "reject", "--rationale", "second look at the unit")
    assert (
        code_ == 1
        and "already has decision #1; to replace it, run again with --supersedes 1" in out
    )
    rows = json.loads(run("disagreements", str(coded_db), "--format", "json")[1])
    assert rows[0]["decision_id"] == 1
    again = ("--rationale", "having seen decision one")
    assert run(*base, "--decision", "reject", *again, "--supersedes", "1")[0] == 0


def test_the_audit_trail_records_who_ran_the_command(coded_db: Path) -> None:
    add_reviewer(coded_db)
    rows = json.loads(run("disagreements", str(coded_db), "--format", "json")[1])
    run(
        "resolve",
        str(coded_db),
        rows[0]["segment_id"],
        "--code",
        rows[0]["code_id"],
        "--decision",
        "apply",
        "--rationale",
        "The parent calms down",
        "--reviewer",
        "rosa",
    )
    with Store.open(coded_db) as store:
        last = store.events().iloc[-1]
    assert last["actor"] == "tester" and '"reviewers": ["rosa"]' in last["detail"]


def test_commands_on_a_study_without_a_codebook_say_how_to_load_one(target: str) -> None:
    db = target
    run("init", db)
    codings = str(ROOT / "corpus" / "codings.csv")
    for args in (("disagreements", db), ("import-codings", db, codings)):
        code, out = run(*args)
        assert code == 1 and "has no codebook yet; load one with 'coding codebook load" in out


def test_suggest_next_for_an_unknown_coder_is_an_error(coded_db: Path) -> None:
    code, out = run("suggest", "next", str(coded_db), "--coder", "nobody", "--engine", "rules")
    assert code == 1 and "unknown coder 'nobody'" in out
