"""StoreBase: opening a study, migrations, transactions with their audit row, settings."""

from __future__ import annotations

import errno
import json
import os
import secrets
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Connection, Engine, Label, Table, func, insert, inspect, select, text, update
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, OperationalError

from coding.errors import CodingError, Conflict, NotFound
from coding.model import (
    utcnow,
)
from coding.store import schema as t
from coding.store.engine import BUSY_TIMEOUT_MS, display_target, is_url, make_engine
from coding.store.migrations import MIGRATIONS

if TYPE_CHECKING:
    import pandas as pd

CRASH_ENV = "CONCORD_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    """A test hook: when $CONCORD_TEST_CRASH_AT names this point, the process kills itself here
    (SIGKILL: no cleanup runs), so tests can check that an interrupted write leaves the study
    as it was or complete. Does nothing unless that variable is set to ``name``."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def process_gone(pid: int) -> bool:
    """True when no process ``pid`` runs any more (so files it left are stale).

    Only POSIX can tell; elsewhere a process is taken to be running.
    """
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


def _remove_stale_files(folder: Path, prefix: str) -> None:
    """Remove files ``<prefix><pid>-<token>[-wal|-shm]`` whose process is gone."""
    for leftover in folder.iterdir():
        if not leftover.name.startswith(prefix):
            continue
        pid = leftover.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and process_gone(int(pid)):
            leftover.unlink(missing_ok=True)


def timestamp(value: datetime | None = None) -> str:
    """A time as the store keeps it: ISO-8601 text in UTC (now, when no time is given)."""
    return (value or utcnow()).astimezone(UTC).isoformat()


def from_timestamp(value: str | None) -> datetime | None:
    """The time a stored ISO-8601 text holds; None for none."""
    return datetime.fromisoformat(value) if value else None


def serialise(conn: Connection, key: str) -> None:
    """On PostgreSQL, queue writers that read-then-write ``key`` (SQLite serialises them all)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def insert_row(conn: Connection, table: Table, **values: Any) -> int:
    """Insert one row into a table keyed by an ``id`` the database numbers; return that id."""
    return int(conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one())


# Where a read names a column otherwise than its table does: a frame's ``segment_id`` is
# ``segments.id``, and an annotation's span is ``start``, ``end``.
READ_NAMES = {
    "segments": {"segment_id": "id"},
    "annotations": {"start": "span_start", "end": "span_end"},
}


def read_columns(table: Table, *names: str) -> list[Label[Any]]:
    """Columns of ``table`` under the names reads give them (see READ_NAMES).

    >>> [c.name for c in read_columns(t.annotations, "code_id", "start")]
    ['code_id', 'start']
    """
    stored = READ_NAMES.get(table.name, {})
    return [table.c[stored.get(name, name)].label(name) for name in names]


def _move_into_place(temp: Path, path: Path, shown: str) -> None:
    """Give the finished study its name without ever replacing a file that is there.

    A hard link fails if the name is taken meanwhile. Where the file system has no hard
    links (some network and removable drives), the study is renamed into place after one
    more check: a file created in the instant between the check and the rename would be
    replaced, a window no ordinary use meets.
    """
    try:
        os.link(temp, path)
    except FileExistsError as err:
        raise Conflict(f"{shown}: a file already exists there") from err
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if path.exists() or path.is_symlink():
            raise Conflict(f"{shown}: a file already exists there") from err
        os.rename(temp, path)


class StoreBase:
    """Connection, schema and transaction handling shared by the Store's parts."""

    def __init__(self, engine: Engine, target: str) -> None:
        self.engine = engine
        self.target = target

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, target: str | Path, *, create: bool = False) -> Self:
        """Open a study (file path or database URL); ``create=True`` makes a new one
        (see :meth:`create`)."""
        if create:
            return cls.create(target)
        target = str(target)
        shown = display_target(target)  # messages never carry a database password
        if not is_url(target) and not Path(target).is_file():
            raise NotFound(f"{shown}: no such study (create one with 'coding init')")
        return cls._connect(target, shown, create=False)

    @classmethod
    def create(cls, target: str | Path, fill: Callable[[Self], None] | None = None) -> Self:
        """Create a new study, run ``fill`` on it (settings, first codebook), and return it open.

        All or nothing for a SQLite file: the study is built under a temporary name in the
        target's folder (``.NAME.init-PID-TOKEN``) and hard-linked to its name only once
        migrated and filled, so a killed ``init`` leaves no study file (the next ``init`` in
        that folder removes the temporary file), and an existing file is never replaced.
        On PostgreSQL each migration is one transaction; a database left with tables but no
        event at all (an ``init`` stopped before its first write) is taken up and completed.
        """
        target = str(target)
        shown = display_target(target)
        if is_url(target):
            store = cls._connect(target, shown, create=True)
            try:
                if fill is not None:
                    fill(store)
            except BaseException:
                store.close()
                raise
            return store
        path = Path(target)
        if path.exists() or path.is_symlink():
            hint = (
                " (an empty file: if an interrupted init of an older Concord left it, remove it)"
                if path.is_file() and path.stat().st_size == 0
                else ""
            )
            raise Conflict(f"{shown}: a file already exists there{hint}")
        prefix = f".{path.name}.init-"
        if path.parent.is_dir():
            _remove_stale_files(path.parent, prefix)
        temp = path.with_name(f"{prefix}{os.getpid()}-{secrets.token_hex(4)}")
        try:
            store = cls._connect(str(temp), shown, create=True)
            try:
                if fill is not None:
                    fill(store)
                store._checkpoint()
            finally:
                store.close()
            crash_point("init-before-link")
            _move_into_place(temp, path, shown)
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{temp}{suffix}").unlink(missing_ok=True)
        return cls.open(path)

    def _checkpoint(self) -> None:
        """Move a SQLite study's write-ahead log into its file (before it is linked)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    @classmethod
    def _connect(cls, target: str, shown: str, *, create: bool) -> Self:
        try:
            store = cls(make_engine(target), shown)
        except ArgumentError as err:
            raise CodingError(f"{shown}: not a valid database URL") from err
        try:
            applied = store.schema_version()
            if create:
                if applied and store.revision():
                    raise Conflict(f"{shown}: the database already holds a study")
                store.migrate()  # also completes an init stopped before its first write
            elif applied == 0:
                raise NotFound(f"{shown}: not a Concord study (no schema_version table)")
            elif applied < len(MIGRATIONS):
                store.migrate()
            elif applied > len(MIGRATIONS):
                raise CodingError(
                    f"{shown}: study schema v{applied} is newer than this Concord (v"
                    f"{len(MIGRATIONS)}); upgrade Concord"
                )
        except DatabaseError as err:  # not a database, locked, unreachable server, ...
            store.close()
            raise CodingError(f"{shown}: cannot open the database ({err.orig})") from err
        except CodingError:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("schema_version"):
                return 0
            return int(
                conn.execute(select(func.count()).select_from(t.schema_version)).scalar_one()
            )

    def migrate(self, upto: int | None = None) -> int:
        """Apply pending migrations in order, each in one transaction; return the version."""
        with self._write() as conn:
            t.metadata.create_all(conn, tables=[t.schema_version])
        target = len(MIGRATIONS) if upto is None else upto
        for number in range(1, target + 1):
            with self._write() as conn:
                # Re-read inside the write transaction: another process may have migrated.
                if conn.dialect.name == "postgresql":
                    conn.execute(text("LOCK TABLE schema_version IN EXCLUSIVE MODE"))
                applied = conn.execute(select(func.count()).select_from(t.schema_version))
                if applied.scalar_one() >= number:
                    continue
                MIGRATIONS[number - 1](conn)
                conn.execute(
                    insert(t.schema_version).values(version=number, applied_at=timestamp())
                )
        return self.schema_version()

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            # The flag lives on the pooled DBAPI connection: clear it, or later reads on
            # that connection would take the write lock too.
            conn.info["write"] = True
            try:
                with conn.begin():
                    yield conn
            except OperationalError as err:
                if "locked" in str(err.orig) or "busy" in str(err.orig):
                    raise Conflict(
                        f"{self.target}: the study is busy (another writer held it for more "
                        f"than {BUSY_TIMEOUT_MS // 1000} s); nothing was written, try again"
                    ) from err
                raise
            finally:
                conn.info.pop("write", None)

    @contextmanager
    def transaction(
        self, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None
    ) -> Iterator[Connection]:
        """One write transaction that also appends its row to the audit trail."""
        with self._writing(action, subject) as conn:
            yield conn
            self.append_event(conn, actor, action, subject, detail or {})

    @contextmanager
    def _writing(self, action: str, subject: str = "") -> Iterator[Connection]:
        """A write transaction whose caller appends its own audit rows (none, or several).

        Test hooks (:func:`crash_point`): ``commit:ACTION`` just before the commit and
        ``committed:ACTION`` just after it.
        """
        try:
            with self._write() as conn:
                yield conn
                crash_point(f"commit:{action}")
        except IntegrityError as err:
            where = f"{action} {subject}".strip()
            raise Conflict(f"{where}: conflicts with stored data ({err.orig})") from err
        crash_point(f"committed:{action}")

    @staticmethod
    def append_event(
        conn: Connection, actor: str, action: str, subject: str, detail: dict[str, Any]
    ) -> None:
        """Append one audit row inside an open write transaction (a row writer's connection,
        as :meth:`transaction` gives it), so the row commits or rolls back with the change."""
        conn.execute(
            insert(t.events).values(
                at=timestamp(),
                actor=actor,
                action=action,
                subject=subject,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )

    def revision(self) -> int:
        """The number of audit events: a cache key that grows with every committed write.

        A count, not ``max(id)``: PostgreSQL hands out ids at insert time, so a transaction
        can commit a lower id after a reader has seen a higher one; the count still grows.
        """
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.events)).scalar_one())

    def events(self) -> pd.DataFrame:
        return self.frame(select(t.events).order_by(t.events.c.id))

    def frame(self, query: Any) -> pd.DataFrame:
        """The rows of a SELECT as a DataFrame with the query's column names."""
        import pandas as pd  # here, not at the top: commands without frames start faster

        with self.engine.connect() as conn:
            result = conn.execute(query)
            keys = list(result.keys())
            columns: list[list[Any]] = [[] for _ in keys]  # by columns: twice as quick
            for rows in result.partitions(50_000):  # never all the rows at once
                for column, values in zip(columns, zip(*rows, strict=True), strict=True):
                    column.extend(values)
        return pd.DataFrame(dict(zip(keys, columns, strict=True)), columns=keys)

    def plain_frame(self, query: Any) -> pd.DataFrame:
        """:meth:`frame` for large reads of plain text and integer columns: the database
        driver's cursor fills the columns directly, without SQLAlchemy's row objects (about
        three times faster). No result types are converted and no IN lists are expanded, so
        only for such columns and queries."""
        import pandas as pd

        with self.engine.connect() as conn:
            compiled = query.compile(dialect=conn.dialect)
            params = compiled.construct_params()
            bound: Any = (
                tuple(params[name] for name in compiled.positiontup or ())
                if compiled.positional
                else params
            )
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(str(compiled), bound)
                keys = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
            finally:
                cursor.close()
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(keys)
        return pd.DataFrame({k: list(c) for k, c in zip(keys, columns, strict=True)}, columns=keys)

    # -- settings --------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.key: r.value for r in conn.execute(select(t.settings))}

    def set_setting(self, key: str, value: str, actor: str) -> None:
        with self.transaction(actor, "set_setting", key, {"value": value}) as conn:
            exists = conn.execute(select(t.settings.c.key).where(t.settings.c.key == key)).first()
            if exists:
                conn.execute(update(t.settings).where(t.settings.c.key == key).values(value=value))
            else:
                conn.execute(insert(t.settings).values(key=key, value=value))

    # -- counts ----------------------------------------------------------------------------
    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            tbl = t.metadata.tables[table]
            return int(conn.execute(select(func.count()).select_from(tbl)).scalar_one())
