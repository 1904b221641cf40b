"""The tables a study is created with, as each engine's DDL, against a recorded copy.

Migration 1 creates its tables from the Table objects in ``coding/store/schema.py``, so any
change to one changes new studies but not older ones: it shows here first, and needs a
migration of its own. Rewrite the recorded copy (``write_recorded``) only with that migration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from coding.store import Store
from coding.store import migrations as m
from coding.store import schema as t
from tests.conftest import DATA

DIALECTS: dict[str, Dialect] = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}
RECORDED = DATA / "schema"


def schema_ddl(dialect: Dialect) -> str:
    """Every table and index of a fresh study, in the order the migrations create them."""
    statements = []
    for table in t.metadata.tables.values():
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements += [
            str(CreateIndex(index).compile(dialect=dialect))
            for index in sorted(table.indexes, key=lambda index: str(index.name))
        ]
    statements += [*m.V3_INDEXES, *m.V6_INDEXES, *m.V9_INDEXES, *m.V10_INDEXES]
    return ";\n\n".join(statements) + ";\n"


def write_recorded() -> None:
    """Record the current DDL (run by hand, together with the migration that changes it)."""
    for name, dialect in DIALECTS.items():
        (RECORDED / f"{name}.sql").write_text(schema_ddl(dialect), encoding="utf-8")


@pytest.mark.parametrize("name", list(DIALECTS))
def test_tables_are_created_as_recorded(name: str) -> None:
    recorded = (RECORDED / f"{name}.sql").read_text(encoding="utf-8")
    assert schema_ddl(DIALECTS[name]) == recorded


def test_a_fresh_sqlite_study_holds_the_recorded_ddl(tmp_path: Path) -> None:
    """SQLite keeps the text of each CREATE statement (less ``IF NOT EXISTS``)."""
    with Store.open(tmp_path / "study.db", create=True) as store, store.engine.connect() as conn:
        stored = {
            sql for (sql,) in conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE sql > ''")
        }
    recorded = (RECORDED / "sqlite.sql").read_text(encoding="utf-8").removesuffix(";\n")
    assert stored == {sql.replace(" IF NOT EXISTS", "") for sql in recorded.split(";\n\n")}
