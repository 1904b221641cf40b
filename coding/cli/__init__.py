"""The ``coding`` command line: thin commands over coding.service."""

from coding.cli import app, study  # noqa: F401  (modules register their commands)
from coding.cli.main import cli

__all__ = ["cli"]
