"""One function per user action. The CLI and the app call these and nothing below them."""

from coding.service.codings import CodingsImport, add_coders, assign, import_codings
from coding.service.review import disagreements, resolve, status
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
    "add_coders",
    "assign",
    "disagreements",
    "import_codings",
    "import_documents",
    "init_study",
    "load_codebook",
    "resolve",
    "status",
    "unit_kind",
]
