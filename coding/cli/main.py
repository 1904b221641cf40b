"""The ``coding`` click group. Commands live in the sibling modules and register on it.

A command's module is imported when the command runs (:data:`HOMES` says which), so a
command loads only the libraries it uses: ``coding status`` never imports pandas. Listing the
commands (``coding --help``) imports every module, as does a name :data:`HOMES` lacks.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import click

HOMES = {  # command -> the module of coding.cli that defines it
    "agreement": "agreement",
    "app": "app",
    "assign": "study",
    "codebook": "study",
    "coders": "study",
    "demo": "app",
    "disagreements": "review",
    "export": "export",
    "export-qdc": "export",
    "import": "study",
    "import-codings": "study",
    "import-qdc": "export",
    "import-qdpx": "export",
    "init": "study",
    "migrate": "study",
    "reliability": "reliability",
    "resolve": "review",
    "status": "review",
    "suggest": "suggest",
    "users": "users",
}
SHARED = ("main", "common", "progress", "suggest_llm")  # modules that define no command


def command_modules() -> list[str]:
    """The modules of coding.cli that define commands, in name order."""
    here = [str(Path(__file__).parent)]
    return sorted(m.name for m in pkgutil.iter_modules(here) if m.name not in SHARED)


class _Commands(click.Group):
    """A group whose commands are imported from their module when first asked for."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in HOMES:
            importlib.import_module(f"coding.cli.{HOMES[cmd_name]}")
        if cmd_name not in self.commands:
            load_all()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_all()
        return super().list_commands(ctx)


def load_all() -> None:
    """Import every module of commands (each registers its commands on :func:`cli`)."""
    for module in command_modules():
        importlib.import_module(f"coding.cli.{module}")


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="concord-coding")
def cli() -> None:
    """Concord: double-coding, agreement and consensus review for deductive qualitative coding."""
