"""The ``coding`` command line: thin commands over coding.service."""

from coding.cli import study  # noqa: F401  (registers commands)
from coding.cli.main import cli

__all__ = ["cli"]
