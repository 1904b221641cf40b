"""The ``coding`` command line: thin commands over coding.service.

Every module in this package registers its commands on ``coding.cli.main.cli`` when imported;
the group imports a command's module when the command is run (``coding.cli.main.HOMES``).
"""

from coding.cli.main import cli

__all__ = ["cli"]
