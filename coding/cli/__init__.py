"""The ``coding`` command line: thin commands over coding.service.

Every module in this package registers its commands on ``coding.cli.main.cli`` when imported;
all of them are imported here, in name order.
"""

import importlib
import pkgutil

from coding.cli.main import cli

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in ("main", "common"):
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["cli"]
