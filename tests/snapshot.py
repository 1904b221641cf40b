"""A fingerprint of a whole study, to assert that a refused input changed nothing at all.

Tables derived from the study's work (the kept disagreements and their mark) are left out:
they are rebuilt from the work whenever they are behind it, so a write killed between its
commit and their refresh has lost nothing (``tests/test_disputes_kept.py`` checks them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, create_engine, select, text

from coding.store.engine import is_url

DERIVED = frozenset({"disputes", "derived"})


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]  # rows per table
    digest: str  # sha256 over every row of every table, in a fixed order
    integrity: str  # SQLite's integrity_check ("ok"), or "n/a" on PostgreSQL


def snapshot(target: str | Path) -> Snapshot:
    """Row counts, a content hash of every table and the engine's integrity check."""
    target = str(target)
    engine = create_engine(target if is_url(target) else f"sqlite:///{target}")
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        counts: dict[str, int] = {}
        digest = hashlib.sha256()
        with engine.connect() as conn:
            for name in sorted(set(metadata.tables) - DERIVED):
                table = metadata.tables[name]
                rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                counts[name] = len(rows)
                digest.update(name.encode())
                for row in rows:
                    digest.update(row.encode())
            integrity = (
                str(conn.execute(text("PRAGMA integrity_check")).scalar_one())
                if engine.dialect.name == "sqlite"
                else "n/a"
            )
        return Snapshot(counts, digest.hexdigest(), integrity)
    finally:
        engine.dispose()
