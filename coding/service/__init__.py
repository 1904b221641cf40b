"""One function per user action. The CLI and the app call these and nothing below them."""

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
