"""The ``coding`` click group. Commands live in the sibling modules and register on it."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="concord-coding")
def cli() -> None:
    """Concord: double-coding, agreement and consensus review for deductive qualitative coding."""
