"""Writing many rows in one statement per batch, inside an open transaction.

SQLite gets the driver's ``executemany`` with one compiled INSERT (no per-row work in
SQLAlchemy); PostgreSQL gets ``INSERT ... SELECT FROM unnest(arrays)``, a batch of rows sent
as one array per column. Both take an ``ON CONFLICT`` clause, so a writer can skip rows already
stored or update them, decided by the database inside the transaction. (COPY is faster still
on PostgreSQL but cannot skip stored rows without a temporary table, which the documented
app role may not create.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite

from coding.model import OnProgress, ProgressEvent, no_progress

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

BATCH = 50_000  # rows a statement
OnConflict = Callable[[Any], Any]  # adds an ON CONFLICT clause to a dialect's insert


def no_conflict_clause(statement: Any) -> Any:
    """Leave an insert as it is: a stored row makes it fail."""
    return statement


def skip_stored(statement: Any) -> Any:
    """``ON CONFLICT DO NOTHING``: rows already stored are skipped."""
    return statement.on_conflict_do_nothing()


def insert_many(
    conn: Connection,
    table: Table,
    rows: pd.DataFrame,
    *,
    on_conflict: OnConflict = no_conflict_clause,
    on_progress: OnProgress = no_progress,
    order: npt.NDArray[np.intp] | None = None,
) -> int:
    """Insert the rows of a frame whose columns are columns of ``table`` (in ``order``, row
    positions, when given); return how many rows the database wrote (inserted, or updated by
    an ``ON CONFLICT DO UPDATE``)."""
    import numpy as np  # here, not at the top: commands that write nothing start faster

    names = [str(c) for c in rows.columns]
    if conn.dialect.name == "postgresql":
        write = _unnest_writer(conn, table, names, on_conflict)
    else:
        write = _executemany_writer(conn, table, names, on_conflict)
    columns = [_Values(rows[name]) for name in names]
    written, total, batch = 0, len(rows), BATCH
    for start in range(0, total, batch):
        stop = min(start + batch, total)
        at = np.arange(start, stop) if order is None else order[start:stop]
        written += write([column.part(at) for column in columns])
        on_progress(ProgressEvent("storing", stop, total, item=table.name))
    return written


class _Values:
    """A column's values as plain Python values for the driver, None where one is missing,
    a slice at a time (a categorical column is expanded slice by slice)."""

    def __init__(self, column: pd.Series) -> None:
        import pandas as pd

        self.categories: np.ndarray | None = None
        if isinstance(column.dtype, pd.CategoricalDtype):
            self.categories = column.cat.categories.to_numpy(dtype=object)
            self.values = column.cat.codes.to_numpy()
        elif column.dtype == object or column.isna().any():
            values = column.to_numpy(dtype=object, copy=True)
            values[column.isna().to_numpy()] = None
            self.values = values
        else:
            self.values = column.to_numpy()

    def part(self, at: npt.NDArray[np.intp]) -> list[Any]:
        values = self.values[at]
        if self.categories is not None:
            values = self.categories[values]
        return list(values.tolist())


def _executemany_writer(
    conn: Connection, table: Table, names: list[str], on_conflict: OnConflict
) -> Callable[[list[list[Any]]], int]:
    compiled = on_conflict(sqlite.insert(table)).compile(dialect=conn.dialect, column_keys=names)
    order = [names.index(key) for key in compiled.positiontup or ()]
    sql = str(compiled)

    def write(columns: list[list[Any]]) -> int:
        rows = list(zip(*(columns[i] for i in order), strict=True))
        return int(conn.exec_driver_sql(sql, rows, {"preserve_rowcount": True}).rowcount)

    return write


def _unnest_writer(
    conn: Connection, table: Table, names: list[str], on_conflict: OnConflict
) -> Callable[[list[list[Any]]], int]:
    arrays = [
        cast(bindparam(f"values_{i}"), postgresql.ARRAY(table.c[name].type))
        for i, name in enumerate(names)
    ]
    rows = func.unnest(*arrays).table_valued(*names).render_derived(name="batch")
    statement = on_conflict(
        postgresql.insert(table).from_select(names, select(*(rows.c[n] for n in names)))
    )
    # The arrays go in psycopg's binary format (``%(name)b``): its text format quotes
    # each element in Python, which costs more than the insert.
    sql = str(statement.compile(dialect=conn.dialect))
    for i in range(len(names)):
        sql = sql.replace(f"%(values_{i})s", f"%(values_{i})b")

    def write(columns: list[list[Any]]) -> int:
        params = {f"values_{i}": values for i, values in enumerate(columns)}
        result = conn.exec_driver_sql(sql, params, {"preserve_rowcount": True})
        return int(result.rowcount)

    return write
