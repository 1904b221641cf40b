"""Shared CLI helpers: the acting user, opening a study, turning errors into messages."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click

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
