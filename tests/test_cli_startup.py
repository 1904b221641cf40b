"""The command line starts lean: a command imports the module that defines it and the
libraries it uses, no more (``coding status`` reads counts and never loads pandas, nor does
the table of ``coding disagreements``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from coding.cli import cli
from coding.cli.main import HOMES, command_modules, load_all
from tests.conftest import ROOT

HEAVY = ("pandas", "numpy", "sklearn", "spacy", "streamlit", "scipy")


def _imported_by(*args: str) -> list[str]:
    """The heavy libraries a fresh interpreter holds after ``python -m coding ARGS``."""
    script = (
        "import json, runpy, sys\n"
        f"sys.argv = ['coding', *{list(args)!r}]\n"
        "try:\n"
        "    runpy.run_module('coding', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.sqlite_only("the study is a file the subprocess opens")
def test_status_imports_no_heavy_library(coded_db: Path) -> None:
    assert _imported_by("status", str(coded_db)) == []
    assert _imported_by("status", str(coded_db), "--format", "json") == []


@pytest.mark.sqlite_only("the study is a file the subprocess opens")
def test_the_disagreements_table_imports_no_heavy_library(coded_db: Path) -> None:
    """The table of disagreements prints from plain rows; CSV and JSON go through a frame."""
    assert _imported_by("disagreements", str(coded_db)) == []
    assert "pandas" in _imported_by("disagreements", str(coded_db), "--format", "csv")


def test_every_command_is_found_in_its_module() -> None:
    """HOMES names, for every command, the module that defines it: running a command imports
    that module alone."""
    load_all()
    where = {name: getattr(c.callback, "__module__", "") for name, c in cli.commands.items()}
    assert {name: f"coding.cli.{module}" for name, module in HOMES.items()} == where


def test_listing_the_commands_finds_those_of_every_module() -> None:
    names = cli.list_commands(click.Context(cli))
    assert set(names) == set(HOMES)
    assert {HOMES[name] for name in names} == set(command_modules())
