"""Kill each writing command at several points: the study is as it was or complete, never half.

Each command runs with $CONCORD_TEST_CRASH_AT naming a point inside it (see
``coding.store.base.crash_point``): just before a transaction commits (``commit:ACTION``),
just after (``committed:ACTION``), or a named step of a command (``import-after-coders``,
``init-before-link``, ``export-before-swap``, ...). There the process SIGKILLs itself: no
``finally``, no rollback handler, no clean-up runs. Then the study must equal its snapshot
from before (or hold the complete result), pass SQLite's integrity check, and the command
run again must succeed.

The killed runs are forked from the test process (``coding`` is already imported, so each
costs milliseconds); one test runs the real ``python -m coding`` in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.service import access
from coding.store import Store
from coding.store.base import CRASH_ENV
from tests.conftest import DATA, ROOT, write_codings
from tests.snapshot import snapshot

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def killed_at(point: str, *args: str) -> int:
    """Run ``coding ARGS`` in a forked child that kills itself at ``point``; the signal."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 3
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.environ[CRASH_ENV] = point
            cli.main(list(args), prog_name="coding", standalone_mode=False)
            status = 0  # the point was never reached
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), f"{point}: the command ran to its end without being killed"
    return os.WTERMSIG(status)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def copy_study(source: Path, target: Path) -> Path:
    """A copy of a closed SQLite study (its write-ahead log is folded in on close)."""
    assert not Path(f"{source}-wal").exists()
    shutil.copy(source, target)
    return target


@pytest.fixture
def base(coded_db: Path) -> Path:
    """coded_db (amira and ben disagree twice) with reviewer rosa."""
    with Store.open(coded_db) as store:
        access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    return coded_db


def check_all_or_nothing(
    base: Path,
    tmp_path: Path,
    args: Callable[[Path], list[str]],
    unchanged_at: list[str],
    complete_at: list[str],
    again: int = 0,
) -> None:
    """Kill the command at each point on a fresh copy of ``base``, then check the study, and
    that running the command again gives exit status ``again`` (after a complete run) or 0
    (after a killed one) and the complete result."""
    reference = copy_study(base, tmp_path / "reference.db")
    code, out = run(*args(reference))
    assert code == 0, out
    complete = snapshot(reference).counts
    before = snapshot(base)
    for number, point in enumerate(unchanged_at + complete_at):
        study = copy_study(base, tmp_path / f"s{number}.db")
        assert killed_at(point, *args(study)) == signal.SIGKILL
        after = snapshot(study)
        assert after.integrity == "ok", point
        if point in unchanged_at:
            assert after == before, point  # a snapshot holds no file name: copies compare
            code, out = run(*args(study))
            assert code == 0, (point, out)
            assert snapshot(study).counts == complete, point
        else:
            assert after.counts == complete, point
            code, out = run(*args(study))
            assert code == again, (point, out)


def test_import_codings_with_new_coders_is_all_or_nothing(base: Path, tmp_path: Path) -> None:
    with Store.open(base) as store:
        units = [s.id for s in store.segments()]
    codings = write_codings(
        tmp_path / "new.csv", [(units[0], "carol", "calm"), (units[1], "dan", "cues")]
    )
    check_all_or_nothing(
        base,
        tmp_path,
        lambda db: ["import-codings", str(db), str(codings), "--add-coders"],
        ["import-after-coders", "import-after-annotations", "commit:add_annotations"],
        ["committed:add_annotations"],
    )


def test_resolve_is_all_or_nothing(base: Path, tmp_path: Path) -> None:
    with Store.open(base) as store:
        unit = store.segments()[1].id  # amira applied calm, ben did not
    args = ["--code", "calm", "--decision", "apply", "--reviewer", "rosa"]
    why = ["--rationale", "The parent calms herself down"]
    check_all_or_nothing(
        base,
        tmp_path,
        lambda db: ["resolve", str(db), unit, *args, *why],
        ["commit:resolve"],
        ["committed:resolve"],
        again=1,  # the decision stands: a second one must name it (--supersedes)
    )


def test_import_of_documents_is_all_or_nothing(study: Path, tmp_path: Path) -> None:
    check_all_or_nothing(
        study,
        tmp_path,
        lambda db: ["import", str(db), str(DATA / "manual.md"), str(DATA / "crlf.txt")],
        ["commit:import_documents"],
        ["committed:import_documents"],
    )


def test_suggest_run_is_all_or_nothing(base: Path, tmp_path: Path) -> None:
    check_all_or_nothing(
        base,
        tmp_path,
        lambda db: ["suggest", "run", str(db), "--engine", "rules"],
        ["commit:suggest"],
        ["committed:suggest"],
    )


@pytest.mark.parametrize(
    "point", ["commit:set_setting", "commit:load_codebook", "init-before-link"]
)
def test_a_killed_init_leaves_no_study(point: str, tmp_path: Path) -> None:
    study = tmp_path / "s.db"
    args = ["init", str(study), "--codebook", str(DATA / "codebook_small.yaml")]
    assert killed_at(point, *args) == signal.SIGKILL
    assert not study.exists()
    code, out = run(*args)
    assert code == 0, out
    assert [p.name for p in tmp_path.iterdir()] == ["s.db"]  # the leftover is gone
    after = snapshot(study)
    assert after.integrity == "ok"
    assert (after.counts["codebook_versions"], after.counts["settings"]) == (1, 2)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("point", "whole"),
    [
        ("export-after-first-file", "earlier"),
        ("export-before-swap", "earlier"),
        ("export-before-cleanup", "new"),
    ],
)
def test_a_killed_export_leaves_one_whole_export(
    point: str, whole: str, base: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    kinds = ["--only", "segments,matrix,audit", "--format", "csv"]
    assert run("export", str(base), "--to", str(out), *kinds)[0] == 0
    for path in out.iterdir():  # mark the earlier export so it can be told from a new one
        path.write_bytes(b"earlier " + path.read_bytes())
    earlier = _files(out)
    before = snapshot(base)
    assert killed_at(point, "export", str(base), "--to", str(out), *kinds) == signal.SIGKILL
    assert snapshot(base) == before
    now = _files(out)
    assert set(now) == set(earlier)
    if whole == "earlier":
        assert now == earlier
    else:
        assert not any(content.startswith(b"earlier ") for content in now.values())
    code, output = run("export", str(base), "--to", str(out), *kinds)
    assert code == 0, output
    assert not any(content.startswith(b"earlier ") for content in _files(out).values())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == []


def test_the_real_command_killed_after_adding_coders_adds_none(
    corpus_db: Path, tmp_path: Path
) -> None:
    """`python -m coding import-codings --add-coders` killed between coders and codings."""
    with Store.open(corpus_db) as store:
        unit = store.segments()[0].id
    codings = write_codings(tmp_path / "c.csv", [(unit, "newcomer", "calm")])
    before = snapshot(corpus_db)
    args = ["import-codings", str(corpus_db), str(codings), "--add-coders"]
    env = {**os.environ, CRASH_ENV: "import-after-coders"}
    done = subprocess.run(
        [sys.executable, "-m", "coding", *args], env=env, cwd=ROOT, capture_output=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert snapshot(corpus_db) == before
    code, out = run(*args)
    assert code == 0 and "1 annotations added" in out, out
    with Store.open(corpus_db) as store:
        assert (
            "newcomer" in store.coders()
            and service.study_overview(store, service.Operator("tests")).as_dict()["annotations"]
            == 1
        )
