"""Concord: deductive qualitative coding with double coding, agreement and consensus review."""

from coding.errors import CodingError, Conflict, InvalidInput, NotFound, Problem
from coding.model import (
    Annotation,
    Assignment,
    Code,
    Codebook,
    Decision,
    Document,
    Resolution,
    Segment,
    Suggestion,
)
from coding.store import Store

__all__ = [
    "Annotation",
    "Assignment",
    "Code",
    "Codebook",
    "CodingError",
    "Conflict",
    "Decision",
    "Document",
    "InvalidInput",
    "NotFound",
    "Problem",
    "Resolution",
    "Segment",
    "Store",
    "Suggestion",
]
