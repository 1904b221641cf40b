"""Shared CLI helpers: the acting user, opening a study, turning errors into messages."""

from __future__ import annotations

import getpass
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
import pandas as pd

from coding.errors import CodingError
from coding.store import Store

P = ParamSpec("P")
R = TypeVar("R")


def actor() -> str:
    """Who is acting: $CONCORD_USER, else the login name."""
    return os.environ.get("CONCORD_USER") or getpass.getuser() or "unknown"


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn CodingError into one clear message and exit status 1 (no traceback)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CodingError as err:
            raise click.ClickException(str(err)) from err

    return wrapper


@contextmanager
def open_study(target: str) -> Iterator[Store]:
    with Store.open(target) as store:
        yield store


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def note(message: str) -> None:
    """Progress and notes go to stderr, data to stdout."""
    click.echo(message, err=True)


ELLIPSIS = "\u2026"


def clip(text: object, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis where it was cut.

    >>> clip("Short separations\\nhappen", 40)
    'Short separations happen'
    >>> clip("Short separations happen in every session", 20)
    'Short separations h…'
    """
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + ELLIPSIS


def table_text(frame: pd.DataFrame, left: Sequence[str] = ()) -> str:
    """``frame`` as aligned columns (no index): values right-aligned, those of the ``left``
    columns left-aligned, and no blanks at the ends of lines. Values print with ``str``, so
    round floats first; a missing value prints as nothing.

    >>> print(table_text(pd.DataFrame({"code": ["calm", "cues"], "n": [12, 3],
    ...                                "note": ["", "rare"]}), left=["note"]))
    code  n note
    calm 12
    cues  3 rare
    """
    cells = {
        str(c): ["" if _missing(v) else str(v) for v in frame[c].tolist()] for c in frame.columns
    }
    widths = {c: max([len(c), *map(len, values)]) for c, values in cells.items()}

    def line(values: dict[str, str]) -> str:
        parts = [v.ljust(widths[c]) if c in left else v.rjust(widths[c]) for c, v in values.items()]
        return " ".join(parts).rstrip()

    rows = [line({c: cells[c][i] for c in cells}) for i in range(len(frame))]
    return "\n".join([line({c: c for c in cells}), *rows])


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


DISAGREEMENT_COLUMNS = (
    "segment_id",
    "document_id",
    "code_id",
    "applied_by",
    "not_applied_by",
    "decision",
    "decision_id",
    "text",
)


def disagreements_text(found: pd.DataFrame, text_width: int = 50) -> str:
    """Disagreements as a table: the essentials, coders as "a|b", the text last and clipped."""
    if found.empty:
        return "(none)"
    shown = found[list(DISAGREEMENT_COLUMNS)].astype({"decision_id": object})
    shown["applied_by"] = shown["applied_by"].map("|".join)
    shown["not_applied_by"] = shown["not_applied_by"].map("|".join)
    shown["decision_id"] = shown["decision_id"].map(lambda v: "" if _missing(v) else f"#{v}")
    shown["text"] = shown["text"].map(lambda text: clip(text, text_width))
    return table_text(shown, left=["text"])
