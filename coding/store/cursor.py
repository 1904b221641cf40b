"""Large reads through the driver's cursor, without SQLAlchemy's row objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from coding.store.base import StoreBase

_CHUNK = 50_000  # rows fetched from the cursor at a time


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a read builds many small tuples (they hold no
    cycles; the collector would walk them again and again as they pile up)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def driver_rows(store: StoreBase, query: Any) -> list[tuple[Any, ...]]:
    """The rows of ``query`` as the driver returns them (plain tuples), the collector paused.

    Bound values are sent as they are and no result types are converted, so only for plain
    text and integer columns; IN lists are expanded when the query is compiled."""
    rows: list[tuple[Any, ...]] = []
    with collector_paused(), store.engine.connect() as conn:
        compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.construct_params()
        bound: Any = (
            tuple(params[name] for name in compiled.positiontup or ())
            if compiled.positional
            else params
        )
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(str(compiled), bound)
            while chunk := cursor.fetchmany(_CHUNK):
                rows += chunk
        finally:
            cursor.close()
    return rows
