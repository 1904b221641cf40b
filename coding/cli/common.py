"""What every command shares: the STUDY argument and the common options, printing frames,
JSON and progress, the acting user, opening a study, and turning errors into messages.

Every command prints a table of rows through :func:`echo_frame` and other data through
:func:`echo_json`, so a CSV from any command has its formula cells neutralised and a table
cuts long text the same way; a long action shows its progress through :func:`progress_shown`.
Options that a command's view would ignore are refused (:func:`refusing`).

pandas is imported by the functions that print frames, not here: a command that prints no
frame (``coding status``) starts without it.
"""

from __future__ import annotations

import getpass
import json
import math
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from click.core import ParameterSource

from coding.cli.progress import note as note
from coding.cli.progress import progress_shown as progress_shown
from coding.errors import CodingError
from coding.store import Store

if TYPE_CHECKING:
    import pandas as pd

    from coding.service.review_list import Disagreement

P = ParamSpec("P")
R = TypeVar("R")
FC = TypeVar("FC", bound=Callable[..., Any])

STUDY = click.argument("study", metavar="STUDY")
"""The study a command works on: a SQLite file or a PostgreSQL URL."""

FORMATS = ("table", "csv", "json")


def FORMAT(  # noqa: N802 - used as a decorator, like click.option
    *choices: str, default: str = "table", show_default: bool = False
) -> Callable[[FC], FC]:
    """The ``--format`` option (passed as ``fmt``) with ``choices`` (default: table, csv, json).

    Use it as ``@FORMAT()`` or ``@FORMAT("table", "json")``.
    """
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices or FORMATS)),
        default=default,
        show_default=show_default,
    )


def choice(
    name: str, choices: Iterable[str], default: str | None = None, help: str | None = None
) -> Callable[[FC], FC]:
    """An option taking one of ``choices``; --help shows its default when it has one."""
    return click.option(
        name,
        type=click.Choice(list(choices)),
        default=default,
        show_default=default is not None,
        help=help,
    )


def flag(name: str, help: str, dest: str | None = None) -> Callable[[FC], FC]:
    """An on/off option, passed as ``dest`` (default: named after the flag)."""
    return click.option(*(name, dest) if dest else (name,), is_flag=True, help=help)


BOOTSTRAP = click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Bootstrap replicates for 95% confidence intervals (0: none).",
)
SEED = click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed for the random draws."
)


def refusing(
    ignored_by: Mapping[str, Sequence[str]], agreeing: Collection[tuple[str, str]] = ()
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A command decorator: before the command runs, a usage error naming both options when a
    view is asked for with an option it ignores.

    A view is a flag ("--spans") or an option with one value ("--layout spans"); an option it
    ignores counts as given when it is a flag turned on or an option set on the command line.
    ``agreeing`` lists (view, "--option value") pairs that are no clash: what the view does
    anyway.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = click.get_current_context()
            for view, option in _ignored(ctx, ignored_by):
                if (view, f"{option} {ctx.params[_parameter(ctx, option)]}") not in agreeing:
                    raise click.UsageError(
                        f"{view} and {option} cannot be used together ({view} ignores {option})",
                        ctx,
                    )
            return func(*args, **kwargs)

        return wrapper

    return decorate


def _ignored(
    ctx: click.Context, ignored_by: Mapping[str, Sequence[str]]
) -> Iterator[tuple[str, str]]:
    """(view, option) for each option given that a view asked for ignores."""
    for view, ignored in ignored_by.items():
        shown_by, _, value = view.partition(" ")
        current = ctx.params[_parameter(ctx, shown_by)]
        if current is True if not value else str(current) == value:
            for option in ignored:
                name = _parameter(ctx, option)
                if ctx.params[name] is True or ctx.get_parameter_source(name) not in (
                    ParameterSource.DEFAULT,
                    None,
                ):
                    yield view, option


def _parameter(ctx: click.Context, option: str) -> str:
    """The name of the command's parameter that ``option`` ("--spans") sets."""
    return next(str(p.name) for p in ctx.command.params if option in p.opts)


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
    """``data`` (dicts, lists, numbers, text) as indented JSON; anything else as its text, and
    a number that is not finite as null."""
    click.echo(json.dumps(_json_safe(data), indent=2, ensure_ascii=False, default=str))


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def echo_frame(
    frame: pd.DataFrame,
    fmt: str,
    *,
    view: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    left: Sequence[str] = (),
    clipped: Mapping[str, int] | None = None,
    footnotes: str | None = None,
    empty: str | None = None,
    joined: Sequence[str] = (),
    widths: Mapping[str, int] | None = None,
    header: bool = True,
) -> None:
    """Print ``frame`` as ``fmt``: ``csv``, ``json`` or ``table``.

    csv and json carry every column: CSV through :func:`csv_text` (formula-like cells
    neutralised), with the list cells of the ``joined`` columns written as "a|b"; JSON as one
    record per row. The table shows ``view(frame)`` (default: the frame as it is) as aligned
    columns (see :func:`table_text`, ``left``, ``widths`` and ``header`` as there): text of
    the ``clipped`` columns on one line and cut to its width with an ellipsis; texts of the
    ``footnotes`` column replaced by markers ("[1]") and printed once each below the table;
    ``empty`` instead when there are no rows (default: the header alone, or nothing without
    it).
    """
    if fmt == "csv":
        from coding.service.standalone import csv_text

        flat = frame.copy()
        for column in joined:
            if column in flat:
                flat[column] = flat[column].map("|".join)
        click.echo(csv_text(flat), nl=False)
        return
    if fmt == "json":
        click.echo(frame.to_json(orient="records", indent=2, force_ascii=False))
        return
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}")
    if frame.empty and empty is not None:
        click.echo(empty)
        return
    shown = frame if view is None else view(frame)
    if clipped:
        shown = shown.copy()
        for column, width in clipped.items():
            shown[column] = shown[column].map(lambda text, width=width: clip(text, width))
    notes: list[str] = []
    if footnotes is not None and footnotes in shown:
        shown = shown.copy()
        shown[footnotes] = [_footnote(str(text), notes) for text in shown[footnotes]]
    table = table_text(shown, left=left, widths=widths, header=header)
    if header or table:
        click.echo(table)
    for number, text in enumerate(notes, start=1):
        click.echo(f"[{number}] {text}")


def _footnote(text: str, footnotes: list[str]) -> str:
    """The note's marker ("[2]"), adding the note to ``footnotes`` once; "" for no note."""
    if not text:
        return ""
    if text not in footnotes:
        footnotes.append(text)
    return f"[{footnotes.index(text) + 1}]"


def echo_rows(frame: pd.DataFrame, widths: Mapping[str, int] | None = None) -> None:
    """``frame`` as left-aligned rows without a header (each column at least its ``widths``)."""
    echo_frame(frame, "table", left=list(frame.columns), widths=widths, header=False)


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


def table_text(
    frame: pd.DataFrame | Mapping[str, Sequence[Any]],
    left: Sequence[str] = (),
    widths: Mapping[str, int] | None = None,
    header: bool = True,
) -> str:
    """``frame`` as aligned columns (no index): values right-aligned, those of the ``left``
    columns left-aligned, and no blanks at the ends of lines. A column is as wide as its
    widest value, and at least as its ``widths`` entry; the first line names the columns
    unless ``header`` is false. Values print with ``str``, so round floats first; a missing
    value prints as nothing. ``frame`` may be a mapping of column names to values instead.

    >>> import pandas as pd
    >>> print(table_text(pd.DataFrame({"code": ["calm", "cues"], "n": [12, 3],
    ...                                "note": ["", "rare"]}), left=["note"]))
    code  n note
    calm 12
    cues  3 rare
    """
    columns = frame if isinstance(frame, Mapping) else {c: frame[c].tolist() for c in frame}
    cells = {str(c): _texts(list(values)) for c, values in columns.items()}
    least = widths or {}
    width = {c: max([len(c), least.get(c, 0), *map(len, values)]) for c, values in cells.items()}

    # one format for every line: "{:<4} {:>2} {:<4}", each column at its width
    spec = " ".join(f"{{:{'<' if c in left else '>'}{width[c]}}}" for c in cells).format
    rows = [spec(*values).rstrip() for values in zip(*cells.values(), strict=True)]
    return "\n".join([spec(*cells).rstrip(), *rows] if header else rows)


def _texts(values: list[Any]) -> list[str]:
    """Values as printed in a table: ``str``, and "" where missing (a column of text, the
    usual case, is passed through)."""
    if all(type(v) is str for v in values):
        return values
    return ["" if _missing(v) else str(v) for v in values]


def _missing(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or type(value).__name__ == "NAType"  # pandas.NA, without importing pandas to ask
    )


DISAGREEMENT_COLUMNS = (
    # the unit, the code, who applied it, who not: the first five of
    # coding.service.review.DISAGREEMENT_COLUMNS (tests/test_cli_output.py checks)
    "segment_id",
    "document_id",
    "code_id",
    "applied_by",
    "not_applied_by",
    "decision",
    "decision_id",
    "text",
)
DISAGREEMENT_TEXT_WIDTH = 50


def disagreements_view(found: pd.DataFrame) -> pd.DataFrame:
    """The essentials of a disagreements frame for a table: coders as "a|b", "#id" for the
    decision, the text last."""
    shown = found[list(DISAGREEMENT_COLUMNS)].astype({"decision_id": object})
    shown["applied_by"] = shown["applied_by"].map("|".join)
    shown["not_applied_by"] = shown["not_applied_by"].map("|".join)
    shown["decision_id"] = shown["decision_id"].map(lambda v: "" if _missing(v) else f"#{v}")
    return shown


def echo_disagreement_rows(rows: Sequence[Disagreement], fmt: str) -> None:
    """Disagreements as :func:`echo_disagreements` prints them; the table straight from the
    rows (no frame, no pandas: a list of 100,000 prints in well under a second)."""
    if fmt != "table":
        from coding.service.review import disagreement_frame

        echo_disagreements(disagreement_frame(rows), fmt)
        return
    if not rows:
        click.echo("(none)")
        return
    cells: dict[str, list[str]] = {name: [] for name in DISAGREEMENT_COLUMNS}
    for row in rows:
        cells["segment_id"].append(row.segment_id)
        cells["document_id"].append(row.document_id)
        cells["code_id"].append(row.code_id)
        cells["applied_by"].append("|".join(row.applied_by))
        cells["not_applied_by"].append("|".join(row.not_applied_by))
        cells["decision"].append(row.decision)
        cells["decision_id"].append("" if row.decision_id is None else f"#{row.decision_id}")
        cells["text"].append(clip(row.text, DISAGREEMENT_TEXT_WIDTH))
    click.echo(table_text(cells, left=["text"]))


def echo_disagreements(
    found: pd.DataFrame, fmt: str, joined: Sequence[str] = ("applied_by", "not_applied_by")
) -> None:
    """Disagreements as ``fmt`` (coders as "a|b" outside JSON); the table shows the essentials
    with the text clipped."""
    echo_frame(
        found,
        fmt,
        view=disagreements_view,
        left=["text"],
        clipped={"text": DISAGREEMENT_TEXT_WIDTH},
        empty="(none)",
        joined=joined,
    )
