"""Nothing lost, nothing forged: writes are all or nothing, and decisions name a real reviewer
with a real rationale."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from coding import service
from coding.errors import CodingError, Conflict, PermissionDenied
from coding.review import Choice
from coding.service import access, folders
from coding.service import coder as coder_service
from coding.service import review as review_service
from coding.service.export import export_study
from coding.service.review import check_rationale
from coding.store import Store
from coding.store.engine import make_engine
from tests.conftest import DATA, write_codings
from tests.snapshot import snapshot

PASSWORD = "pw-test-8"


def _calm_unit(store: Store) -> str:
    return store.segments()[1].id  # amira applied 'calm', ben did not (coded_db)


# -- decisions: who and why ------------------------------------------------------------------
@pytest.fixture
def reviewed_db(coded_db: Path) -> Path:
    """coded_db with reviewer rosa, admin boss, and coder amira registered as app users."""
    with Store.open(coded_db) as store:
        access.add_user(store, "rosa", "reviewer", PASSWORD, "tester")
        access.add_user(store, "boss", "admin", PASSWORD, "tester")
        access.add_user(store, "amira", "coder", PASSWORD, "tester")
    return coded_db


@pytest.mark.parametrize(
    ("reviewer", "message"),
    [
        ("nobody", "not a registered reviewer"),
        ("", "not a registered reviewer"),
        ("amira", "amira is a coder"),
        ("ben", "not a registered reviewer"),  # a coder of the unit, not a user at all
    ],
)
def test_resolve_refuses_a_reviewer_who_is_not_one(
    reviewed_db: Path, reviewer: str, message: str
) -> None:
    before = snapshot(reviewed_db)
    with Store.open(reviewed_db) as store, pytest.raises(PermissionDenied, match=message):
        service.resolve(
            store, reviewer, _calm_unit(store), "calm", "apply", "The parent calms herself"
        )
    assert snapshot(reviewed_db) == before


def test_an_admin_who_coded_the_unit_cannot_decide_it(reviewed_db: Path) -> None:
    with Store.open(reviewed_db) as store:
        unit = _calm_unit(store)
        service.add_coders(store, ["boss"], "tester")
        path = write_codings(Path(store.target).with_name("boss.csv"), [(unit, "boss", "calm")])
        service.import_codings(store, path, "tester", complete="segments")
    before = snapshot(reviewed_db)
    with Store.open(reviewed_db) as store, pytest.raises(PermissionDenied, match="boss coded"):
        service.resolve(store, "boss", unit, "calm", "apply", "I coded it so I know best")
    assert snapshot(reviewed_db) == before


def test_a_study_without_users_has_no_reviewer_and_says_how_to_add_one(coded_db: Path) -> None:
    before = snapshot(coded_db)
    with Store.open(coded_db) as store, pytest.raises(PermissionDenied) as err:
        service.resolve(store, "tester", _calm_unit(store), "calm", "apply", "Parent calms")
    assert "coding users add STUDY NAME --role reviewer" in str(err.value)
    assert snapshot(coded_db) == before


@pytest.mark.parametrize(
    "rationale", [".", "ok", "...  !!! ???", "yes yes", "ok ok ok", "a b c d e f g", "x" * 30]
)
def test_a_rationale_without_real_words_is_refused(reviewed_db: Path, rationale: str) -> None:
    before = snapshot(reviewed_db)
    with Store.open(reviewed_db) as store, pytest.raises(CodingError, match="rationale"):
        service.resolve(store, "rosa", _calm_unit(store), "calm", "apply", rationale)
    assert snapshot(reviewed_db) == before


@pytest.mark.parametrize(
    "rationale", ["The parent calms herself", "staff calm, not the parent", "Élan vital: oui oui"]
)
def test_a_rationale_of_three_words_and_fifteen_letters_is_enough(rationale: str) -> None:
    assert check_rationale(f"  {rationale} ") == rationale


def test_a_registered_reviewer_and_an_admin_may_decide(reviewed_db: Path) -> None:
    with Store.open(reviewed_db) as store:
        unit = _calm_unit(store)
        first = service.resolve(store, "rosa", unit, "calm", "apply", "The parent calms herself")
        service.resolve(store, "boss", unit, "calm", "reject", "Staff calm, not the parent", first)
        assert [r.reviewer for r in store.resolutions()] == ["rosa", "boss"]


def test_the_cli_takes_the_reviewer_from_concord_user(
    reviewed_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from coding.cli import cli

    with Store.open(reviewed_db) as store:
        unit = _calm_unit(store)
    args = ["resolve", str(reviewed_db), unit, "--code", "calm", "--decision", "apply"]
    why = ["--rationale", "The parent calms herself"]
    monkeypatch.setenv("CONCORD_USER", "amira")  # a coder of this unit
    refused = CliRunner().invoke(cli, [*args, *why])
    assert refused.exit_code == 1 and "amira is a coder" in refused.output
    monkeypatch.setenv("CONCORD_USER", "rosa")
    done = CliRunner().invoke(cli, [*args, *why])
    assert done.exit_code == 0, done.output
    thin = CliRunner().invoke(cli, [*args, "--rationale", ".", "--reviewer", "boss"])
    assert thin.exit_code == 1 and "too thin" in thin.output


def test_the_app_refuses_a_reviewer_who_coded_the_unit(team_db: Path) -> None:
    with Store.open(team_db) as store:
        unit = _calm_unit(store)
        service.add_coders(store, ["admin"], "tester")  # an admin may code too
        store.assign([unit], "admin", "tester")
        coder_service.save_unit(store, "admin", unit, ["cues"], "", submit=True)
    before = snapshot(team_db)
    with Store.open(team_db) as store:
        with pytest.raises(PermissionDenied, match="admin coded"):
            review_service.decide(
                store, "admin", unit, Choice.merge(), "I know this unit very well"
            )
        with pytest.raises(CodingError, match="too thin"):
            review_service.decide(store, "rosa", unit, Choice.merge(), "ok.")
    assert snapshot(team_db) == before


def test_an_undo_needs_a_real_rationale_too(team_db: Path) -> None:
    with Store.open(team_db) as store:
        unit = _calm_unit(store)
        review_service.decide(store, "rosa", unit, Choice.merge(), "The parent calms herself")
    before = snapshot(team_db)
    with Store.open(team_db) as store, pytest.raises(CodingError, match="too thin"):
        review_service.undo(store, "rosa", unit, "oops")
    assert snapshot(team_db) == before


# -- coders and codings: all or nothing ------------------------------------------------------
def test_adding_coders_already_present_writes_no_event(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        revision = store.revision()
        assert service.add_coders(store, ["amira", "ben"], "tester") == []
        assert store.revision() == revision


def test_a_stale_view_of_the_coders_writes_no_event(
    coded_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer added amira between our look and our write: no spurious event."""
    monkeypatch.setattr(Store, "coders", lambda self, kind=None: [])
    with Store.open(coded_db) as store:
        revision = store.revision()
        assert store.add_coders(["amira"], "tester") == []
        assert store.revision() == revision


def test_a_failed_codings_import_adds_no_coder(
    corpus_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--add-coders: the new coders are written with the annotations or not at all."""
    import coding.store.coding as coding_store

    with Store.open(corpus_db) as store:
        units = [s.id for s in store.segments()]
    path = write_codings(tmp_path / "c.csv", [(units[0], "newcomer", "calm")])
    before = snapshot(corpus_db)

    def broken(*_args: object) -> int:
        raise CodingError("disk full")

    monkeypatch.setattr(coding_store, "insert_annotations", broken)
    with Store.open(corpus_db) as store, pytest.raises(CodingError, match="disk full"):
        service.import_codings(store, path, "tester", add_new_coders=True)
    assert snapshot(corpus_db) == before


def test_an_import_with_new_coders_is_one_transaction_with_both_events(
    corpus_db: Path, tmp_path: Path
) -> None:
    with Store.open(corpus_db) as store:
        units = [s.id for s in store.segments()]
        path = write_codings(tmp_path / "c.csv", [(units[0], "newcomer", "calm")])
        service.import_codings(store, path, "tester", add_new_coders=True)
        events = store.events().tail(2)
    assert list(events["action"]) == ["add_coders", "add_annotations"]
    assert events.iloc[0]["subject"] == "newcomer"


def _study_with_documents(target: str) -> list[str]:
    with service.init_study(target, "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [DATA / "manual.md"], "t")
        return [s.id for s in store.segments()]


def test_concurrent_identical_imports_add_the_rows_once(target: str, tmp_path: Path) -> None:
    units = _study_with_documents(target)
    rows = [(u, coder, "calm") for u in units for coder in ("amira", "ben")]
    path = write_codings(tmp_path / "c.csv", rows)
    start = threading.Barrier(3)
    results: list[object] = []

    def run() -> None:
        with Store.open(target) as store:
            start.wait()
            try:
                results.append(service.import_codings(store, path, "t", add_new_coders=True))
            except CodingError as err:  # what a lost race used to give
                results.append(err)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = sorted((r.added, r.already_present) for r in results)  # type: ignore[attr-defined]
    assert counts == [(0, len(rows)), (0, len(rows)), (len(rows), 0)]
    with Store.open(target) as store:
        assert store.count("annotations") == len(rows)
        actions = list(store.events()["action"])
    assert actions.count("add_coders") == 1
    assert actions.count("add_annotations") == 3


# -- init: a study appears complete or not at all --------------------------------------------
def _dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    return int(done.stdout)


def test_a_failed_init_leaves_no_file(
    tmp_path: Path, small_codebook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> int:
        raise CodingError("disk full")

    monkeypatch.setattr(Store, "add_codebook_version", broken)
    with pytest.raises(CodingError, match="disk full"):
        service.init_study(tmp_path / "s.db", "tester", small_codebook)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    service.init_study(tmp_path / "s.db", "tester", small_codebook).close()
    with Store.open(tmp_path / "s.db") as store:
        assert store.codebook().version == 1 and store.settings()["unit"] == "paragraph"


def test_init_removes_what_a_killed_init_left(tmp_path: Path, small_codebook: Path) -> None:
    leftover = tmp_path / f".s.db.init-{_dead_pid()}-0a1b2c3d"
    leftover.write_bytes(b"half a study")
    Path(f"{leftover}-wal").write_bytes(b"")
    other = tmp_path / f".t.db.init-{_dead_pid()}-0a1b2c3d"  # another study's: not ours
    other.write_bytes(b"x")
    service.init_study(tmp_path / "s.db", "tester", small_codebook).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "s.db"]


def test_init_never_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"")
    with pytest.raises(Conflict, match=r"already exists there \(an empty file: .* remove it\)"):
        service.init_study(path, "tester")
    assert path.read_bytes() == b"" and list(tmp_path.iterdir()) == [path]


def _no_hard_links(src: object, dst: object) -> None:
    raise OSError(errno.EPERM, "Operation not permitted", str(dst))


def test_init_works_where_the_file_system_has_no_hard_links(
    tmp_path: Path, small_codebook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", _no_hard_links)
    path = tmp_path / "s.db"
    service.init_study(path, "tester", small_codebook).close()
    with Store.open(path) as store:
        assert store.codebook().version == 1
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file
    with pytest.raises(Conflict, match="already exists"):
        service.init_study(path, "tester")


@pytest.mark.postgres
def test_init_takes_up_a_database_left_migrated_without_any_write(postgres_server: str) -> None:
    """PostgreSQL only (a killed SQLite init leaves no study file, tested above): an init
    killed after its migrations, before its first write."""
    from tests import pg

    target = pg.fresh_database(postgres_server)
    half = Store(make_engine(target), target)
    half.migrate()
    half.close()
    service.init_study(target, "t", DATA / "codebook_small.yaml").close()
    with Store.open(target) as store:
        assert store.codebook().version == 1 and store.settings()["unit"] == "paragraph"
    with pytest.raises(Conflict, match="already holds a study"):
        service.init_study(target, "t")


# -- export: the folder holds one whole export -----------------------------------------------
def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_an_export_replaces_an_earlier_one_and_keeps_files_it_does_not_write(
    coded_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with Store.open(coded_db) as store:
        export_study(store, out, ["segments", "matrix"], ["csv"])
        (out / "matrix.csv").write_text("earlier matrix\n")
        (out / "coded_segments.csv").write_text("earlier segments\n")
        written = export_study(store, out, ["segments"], ["csv"])
    assert written == [out / "coded_segments.csv"]
    assert _names(out) == {"coded_segments.csv", "matrix.csv"}
    assert (out / "matrix.csv").read_text() == "earlier matrix\n"
    assert (out / "coded_segments.csv").read_text().startswith("segment_id")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_without_an_atomic_exchange_the_folder_is_moved_aside_then_replaced(
    coded_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folders, "_exchange", lambda _a, _b: False)
    out = tmp_path / "out"
    with Store.open(coded_db) as store:
        export_study(store, out, ["segments"], ["csv", "json"])
        (out / "coded_segments.csv").write_text("earlier\n")
        export_study(store, out, ["segments"], ["csv"])
    assert _names(out) == {"coded_segments.csv", "coded_segments.json"}
    assert (out / "coded_segments.csv").read_text().startswith("segment_id")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_folder_with_other_files_is_refused_and_left_alone(
    coded_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "matrix.csv").write_text("earlier")
    with Store.open(coded_db) as store, pytest.raises(CodingError, match=r"notes\.txt"):
        export_study(store, out)
    assert _names(out) == {"notes.txt", "matrix.csv"}
    assert (out / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_the_current_folder_is_refused(
    coded_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    with Store.open(coded_db) as store, pytest.raises(CodingError, match="current folder"):
        export_study(store, ".", ["segments"], ["csv"])
    assert _names(out) == set()


def test_an_export_puts_back_a_folder_a_killed_run_moved_aside(
    coded_db: Path, tmp_path: Path
) -> None:
    """Killed between 'move the earlier export aside' and 'rename the new one in'."""
    out = tmp_path / "out"
    with Store.open(coded_db) as store:
        export_study(store, out, ["segments", "matrix"], ["csv"])
    dead = _dead_pid()
    aside, staging = tmp_path / f".out.old-{dead}-aa", tmp_path / f".out.staging-{dead}-bb"
    out.rename(aside)
    staging.mkdir()
    (staging / "coded_segments.csv").write_text("half")
    with Store.open(coded_db) as store:
        export_study(store, out, ["segments"], ["json"])
    assert _names(out) == {"coded_segments.csv", "matrix.csv", "coded_segments.json"}
    assert (out / "coded_segments.csv").read_text().startswith("segment_id")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_running_exports_work_folder_is_left_alone(coded_db: Path, tmp_path: Path) -> None:
    busy = tmp_path / f".out.staging-{os.getpid()}-cc"  # this process still runs
    busy.mkdir()
    with Store.open(coded_db) as store:
        export_study(store, tmp_path / "out", ["segments"], ["csv"])
    assert busy.is_dir()
