"""``python -m coding`` runs the CLI."""

from coding.cli import cli

cli(prog_name="coding")
