"""One function per user action. The CLI and the app call these and nothing below them.

Each name is imported from its module when first used, so a command loads only the services
(and the libraries) it calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coding.service.access import Operator
    from coding.service.assignment import assign
    from coding.service.codings import CodingsImport, add_coders, import_codings
    from coding.service.overview import Overview, study_overview
    from coding.service.review import disagreements, resolve, standing_decision
    from coding.service.study import (
        CodebookLoad,
        ImportedDocument,
        import_documents,
        init_study,
        load_codebook,
        unit_kind,
    )

_HOMES = {
    "CodebookLoad": "study",
    "CodingsImport": "codings",
    "ImportedDocument": "study",
    "Operator": "access",
    "Overview": "overview",
    "add_coders": "codings",
    "assign": "assignment",
    "disagreements": "review",
    "import_codings": "codings",
    "import_documents": "study",
    "init_study": "study",
    "load_codebook": "study",
    "resolve": "review",
    "standing_decision": "review",
    "study_overview": "overview",
    "unit_kind": "study",
}

__all__ = [
    "CodebookLoad",
    "CodingsImport",
    "ImportedDocument",
    "Operator",
    "Overview",
    "add_coders",
    "assign",
    "disagreements",
    "import_codings",
    "import_documents",
    "init_study",
    "load_codebook",
    "resolve",
    "standing_decision",
    "study_overview",
    "unit_kind",
]


def __getattr__(name: str) -> Any:
    """``service.NAME``: imported from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
