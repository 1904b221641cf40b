"""The study store: migrations, transactions, audit trail, and no lost writes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect

from coding import service
from coding.errors import Conflict, NotFound
from coding.model import Annotation, Decision, Resolution, utcnow
from coding.store import Store
from coding.store import schema as t
from coding.store.engine import make_engine
from coding.store.migrations import MIGRATIONS
from tests.conftest import DATA

pytestmark = pytest.mark.both_engines


def _schema(store: Store) -> dict[str, list[tuple[str, str]]]:
    with store.engine.connect() as conn:
        insp = inspect(conn)
        return {
            name: sorted((c["name"], str(c["type"])) for c in insp.get_columns(name))
            + sorted(("index", i["name"], *i["column_names"]) for i in insp.get_indexes(name))
            for name in sorted(insp.get_table_names())
        }


def test_fresh_study_has_every_migration_applied(study: Path) -> None:
    with Store.open(study) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert set(_schema(store)) == {tbl.name for tbl in t.metadata.sorted_tables}


@pytest.mark.parametrize("from_version", range(1, len(MIGRATIONS)))
def test_migrating_an_older_study_gives_the_fresh_schema(
    targets: Callable[[], str], from_version: int
) -> None:
    old_target, fresh_target = targets(), targets()
    old = Store(make_engine(old_target), "old")
    old.migrate(upto=from_version)
    assert old.schema_version() == from_version
    old.close()
    with Store.open(old_target) as migrated:  # opening migrates
        assert migrated.schema_version() == len(MIGRATIONS)
        upgraded = _schema(migrated)
    with Store.open(fresh_target, create=True) as fresh:
        assert upgraded == _schema(fresh)


def test_migrating_keeps_the_study_s_work(
    target: str, tmp_path: Path, small_codebook: Path
) -> None:
    path = target
    old = Store(make_engine(path), "old.db")
    old.migrate(upto=len(MIGRATIONS) - 1)
    service.load_codebook(old, small_codebook, "tester")
    service.import_documents(old, [DATA / "manual.md"], "tester")
    unit = old.segments()[1].id
    service.add_coders(old, ["amira"], "tester")
    # the store's own writes (today's import also keeps tables the older schema lacks)
    old.assign([unit], "amira", "tester")
    annotation = Annotation(unit, "calm", "amira", memo="kept", codebook_version=1)
    old.add_annotations([annotation], "tester", complete=[(unit, "amira")])
    before = (old.annotations_frame().to_dict("records"), old.revision())
    old.close()
    with Store.open(path) as migrated:
        assert migrated.schema_version() == len(MIGRATIONS)
        assert (migrated.annotations_frame().to_dict("records"), migrated.revision()) == before


@pytest.mark.sqlite_only("a missing file; PostgreSQL's databases are made by the server's admin")
def test_opening_a_missing_study_names_it(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"nope\.db"):
        Store.open(tmp_path / "nope.db")


@pytest.mark.sqlite_only("an existing file; test_store_engines covers an existing database")
def test_creating_over_an_existing_file_is_refused(study: Path) -> None:
    with pytest.raises(Conflict, match="already exists"):
        Store.open(study, create=True)


def test_a_file_that_is_not_a_study_is_refused(target: str) -> None:
    Store(make_engine(target), target).schema_version()  # an empty database
    with pytest.raises(NotFound, match="not a Concord study"):
        Store.open(target)


def test_every_write_appends_an_event(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        before = store.revision()
        store.set_setting("note", "x", "tester")
        assert store.revision() == before + 1
        last = store.events().iloc[-1]
        assert (last["actor"], last["action"], last["subject"]) == ("tester", "set_setting", "note")


def test_a_failed_transaction_leaves_no_trace(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        before = (store.revision(), store.count("annotations"))
        segment = store.segments()[0].id
        duplicate = Annotation(segment, "calm", "amira", codebook_version=1)
        with pytest.raises(Conflict):
            store.add_annotations([duplicate, duplicate], "tester")
        assert (store.revision(), store.count("annotations")) == before


def test_resolutions_never_touch_annotations(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        before = store.annotations_frame()
        segment = store.segments()[1].id
        store.add_resolutions(
            [
                Resolution(
                    segment,
                    "calm",
                    Decision.REJECT,
                    "rosa",
                    "Staff do it",
                    utcnow(),
                    codebook_version=1,
                )
            ],
            "rosa",
        )
        after = store.annotations_frame()
        assert before.equals(after)


def test_withdrawing_a_decision_keeps_the_history(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        segment = store.segments()[1].id
        first = Resolution(
            segment,
            "calm",
            Decision.APPLY,
            "rosa",
            "Parent self-soothes",
            utcnow(),
            codebook_version=1,
        )
        undo = Resolution(
            segment, "calm", Decision.WITHDRAW, "rosa", "Misread", utcnow(), codebook_version=1
        )
        store.add_resolutions([first], "rosa")
        store.add_resolutions([undo], "rosa")
        assert [r.decision for r in store.resolutions()] == [Decision.APPLY, Decision.WITHDRAW]
        assert store.current_resolutions_frame().empty


def test_withdrawing_with_nothing_to_undo_is_a_conflict(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        segment = store.segments()[1].id
        undo = Resolution(
            segment, "calm", Decision.WITHDRAW, "rosa", "x", utcnow(), codebook_version=1
        )
        with pytest.raises(Conflict, match="nothing to undo"):
            store.add_resolutions([undo], "rosa")


def test_sql_rejects_an_empty_rationale(coded_db: Path) -> None:
    with (
        Store.open(coded_db) as store,
        pytest.raises(Conflict),
        store.transaction("x", "raw", "test") as conn,
    ):
        conn.execute(
            t.resolutions.insert().values(
                segment_id=store.segments()[0].id,
                code_id="calm",
                codebook_version=1,
                decision="apply",
                reviewer="r",
                rationale="   ",
                at="2026-01-01T00:00:00+00:00",
            )
        )


def test_sql_rejects_a_code_missing_from_its_codebook_version(coded_db: Path) -> None:
    with Store.open(coded_db) as store, pytest.raises(Conflict):
        store.add_annotations(
            [Annotation(store.segments()[0].id, "nonexistent", "amira", codebook_version=1)],
            "tester",
        )


def test_concurrent_writers_lose_nothing(coded_db: Path) -> None:
    """8 threads, each with its own Store, write 25 settings each: all 200 land."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with Store.open(coded_db) as store:
                for i in range(25):
                    store.set_setting(f"w{n}-{i}", str(i), f"writer{n}")
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with Store.open(coded_db) as store:
        assert sum(k.startswith("w") for k in store.settings()) == 200


def test_codebook_versions_are_kept(study: Path, tmp_path: Path) -> None:
    changed = tmp_path / "cb.yaml"
    text = (Path(__file__).parent / "data" / "codebook_small.yaml").read_text()
    changed.write_text(
        text.replace(
            "The parent reads the infant's cues.", "The parent reads and answers the infant's cues."
        )
    )
    with Store.open(study) as store:
        result = service.load_codebook(store, changed, "tester")
        assert result.version == 2
        assert result.changes == ("code 'cues': definition changed",)
        assert store.codebook(1).codebook.code("cues").definition.startswith("The parent reads the")
        assert store.codebook().version == 2
        again = service.load_codebook(store, changed, "tester")
        assert again.unchanged and store.codebook_versions() == [1, 2]


def test_annotations_keep_the_codebook_version_they_were_made_under(
    coded_db: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "cb.yaml"
    text = (Path(__file__).parent / "data" / "codebook_small.yaml").read_text()
    changed.write_text(text.replace("Small test codebook", "Small test codebook, revised"))
    with Store.open(coded_db) as store:
        service.load_codebook(store, changed, "tester")
        assert set(store.annotations_frame()["codebook_version"]) == {1}


@pytest.mark.sqlite_only("SQLite's file-wide write lock (BEGIN IMMEDIATE)")
def test_reads_after_a_write_do_not_wait_for_the_write_lock(study: Path) -> None:
    import sqlite3

    with Store.open(study) as store:
        store.set_setting("x", "1", "tester")  # leaves a pooled connection behind
        other = sqlite3.connect(study, isolation_level=None, timeout=0.1)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert store.settings()["x"] == "1"  # would block 10 s, then fail, if it took the lock
            assert store.count("events") >= 1
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_migrating_concurrently_from_an_older_version_is_safe(target: str) -> None:
    path = target
    old = Store(make_engine(path), str(path))
    old.migrate(upto=1)
    old.close()
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            Store.open(path).close()
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with Store.open(path) as store:
        assert store.schema_version() == len(MIGRATIONS)
