"""Engines for SQLite (file, WAL, foreign keys, BEGIN IMMEDIATE for writes) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

from coding.errors import CodingError

BUSY_TIMEOUT_MS = 10_000


def is_url(target: str) -> bool:
    """True when a study target is a database URL rather than a file path.

    >>> is_url("postgresql+psycopg://me@localhost/study"), is_url("study.db")
    (True, False)
    """
    return "://" in target


def display_target(target: str) -> str:
    """A study target fit to show: a URL's password is masked.

    >>> display_target("postgresql+psycopg://me:secret@db/study")
    'postgresql+psycopg://me:***@db/study'
    """
    if not is_url(target):
        return target
    try:
        return make_url(target).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a database URL that could not be parsed)"


def make_engine(target: str | Path) -> Engine:
    """An engine for a SQLite file path or a SQLAlchemy URL (PostgreSQL for a team)."""
    target = str(target)
    if not is_url(target):
        return _sqlite_engine(Path(target))
    if target.startswith("sqlite"):
        raise CodingError(f"{target}: give a SQLite study as a file path, not a URL")
    try:
        return create_engine(target, pool_pre_ping=True)
    except ImportError as err:  # the driver for this URL is not installed
        raise CodingError(
            f"{target}: database driver missing ({err}); install concord-coding[postgres]"
        ) from err


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read that later upgrades to a write can deadlock under WAL; writers take the
        # write lock up front so concurrent writers queue instead of failing.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    return engine
