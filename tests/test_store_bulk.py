"""Bulk writes: what a cell holds arrives as it was, on each engine and each PostgreSQL path
(COPY through a staging table, or unnest arrays for a role that may not stage)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.exc import IntegrityError

from coding import service
from coding.errors import InvalidInput
from coding.store import Store, bulk
from coding.store import schema as t
from tests import pg

MEMOS = [
    "tab\there",
    "two\nlines",
    "back\\slash",
    "\\N",
    "\\.",
    'quoted "word", comma',
    "caf\u00e9 \u2014 \U0001f600",
    "",
]


def _codings_with_memos(path: Path, units: list[str]) -> Path:
    frame = pd.DataFrame(
        {
            "segment_id": [units[i % len(units)] for i in range(len(MEMOS))],
            "coder": "amira",
            "code": ["calm", "cues"] * (len(MEMOS) // 2) + ["calm"] * (len(MEMOS) % 2),
            "memo": MEMOS,
        }
    )
    frame = frame.drop_duplicates(["segment_id", "code"])
    frame.to_csv(path, index=False)
    return path


def _memos_round_trip(target: str | Path, tmp_path: Path) -> None:
    with Store.open(target) as store:
        units = [s.id for s in store.segments()]
        path = _codings_with_memos(tmp_path / "memos.csv", units)
        wanted = pd.read_csv(path, keep_default_na=False)
        result = service.import_codings(store, path, "t", add_new_coders=True)
        assert result.added == len(wanted)
        stored = store.annotations_frame()
    got = sorted(zip(stored["segment_id"], stored["code_id"], stored["memo"], strict=True))
    assert got == sorted(zip(wanted["segment_id"], wanted["code"], wanted["memo"], strict=True))


@pytest.mark.both_engines
def test_memos_with_tabs_lines_and_backslashes_are_stored_as_written(
    corpus_db: Path | str, tmp_path: Path
) -> None:
    _memos_round_trip(corpus_db, tmp_path)


def test_postgresql_stores_through_copy_when_the_role_may_stage(
    pg_templates: pg.Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_unnest(*_args: object) -> None:
        raise AssertionError("the unnest path was taken")

    monkeypatch.setattr(bulk, "_unnest_writer", no_unnest)
    monkeypatch.setattr(bulk, "BATCH", 2)  # several COPY batches through one staging table
    with pg_templates.copy("corpus") as url:
        with Store.open(url) as store, store.engine.connect() as conn:
            assert bulk.may_stage(conn)
        _memos_round_trip(url, tmp_path)


def _role_without_temporary_tables(url: str) -> str:
    """The database's URL as a role that reads and writes rows but may not create temporary
    tables (as docs/postgres-roles.sql leaves the app's role)."""
    import psycopg

    role, database = "concord_bulk_no_temp", url.rsplit("/", 1)[1]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} LOGIN; END IF; END $$"
        )
        c.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
        c.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        c.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        c.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        c.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    return url.replace("://concord@", f"://{role}@", 1)


def test_postgresql_stores_through_unnest_when_the_role_may_not_stage(
    pg_templates: pg.Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_copy(*_args: object) -> None:
        raise AssertionError("the COPY path was taken")

    monkeypatch.setattr(bulk, "_copy_writer", no_copy)
    with pg_templates.copy("corpus") as url:
        restricted = _role_without_temporary_tables(url)
        with Store.open(restricted) as store, store.engine.connect() as conn:
            assert not bulk.may_stage(conn)
        _memos_round_trip(restricted, tmp_path)


def _annotation_rows(store: Store, memo: str) -> pd.DataFrame:
    segment = store.segments()[0]
    return pd.DataFrame(
        {
            "segment_id": [segment.id],
            "code_id": ["calm"],
            "coder": ["amira"],
            "codebook_version": [1],
            "memo": [memo],
            "whole_segment": [1],
            "span_start": [segment.start],
            "span_end": [segment.end],
            "created_at": ["2026-01-01T00:00:00+00:00"],
        }
    )


@pytest.mark.both_engines
def test_a_failed_bulk_write_leaves_nothing_and_the_next_one_works(
    corpus_db: Path | str,
) -> None:
    with Store.open(corpus_db) as store:
        service.add_coders(store, ["amira"], "t")
        rows = _annotation_rows(store, "first\r\n\t\\N")
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            bulk.insert_many(conn, t.annotations, pd.concat([rows, rows]))
        assert store.count("annotations") == 0
        with store.engine.begin() as conn:
            assert bulk.insert_many(conn, t.annotations, rows) == 1
            again = rows.assign(memo="second")
            assert bulk.insert_many(conn, t.annotations, again, on_conflict=bulk.skip_stored) == 0
        assert store.annotations_frame()["memo"].tolist() == ["first\r\n\t\\N"]


@pytest.mark.both_engines
def test_a_memo_holding_a_nul_character_is_refused_with_its_row(
    corpus_db: Path | str, tmp_path: Path
) -> None:
    with Store.open(corpus_db) as store:
        unit = store.segments()[0].id
        path = tmp_path / "nul.csv"
        path.write_text(
            f"segment_id,coder,code,memo\n{unit},amira,calm,fine\n{unit},amira,cues,bad\x00memo\n",
            encoding="utf-8",
        )
        with pytest.raises(InvalidInput) as raised:
            service.import_codings(store, path, "t", add_new_coders=True)
        assert store.count("annotations") == 0
    assert raised.value.source == str(path)
    assert [(p.where, p.message) for p in raised.value.problems] == [
        ("row 3", "'memo' holds a NUL character (U+0000), which a study cannot store")
    ]
