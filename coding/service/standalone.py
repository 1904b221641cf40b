"""What the command line does without a study, through the same door as everything else: the
reliability calculator on one CSV file, a codebook file checked or printed, and CSV text for
any table (formula-like cells made inert)."""

from __future__ import annotations

from coding.agreement import (
    ALPHA_CI_METHODS,
    DISTANCES,
    LEVELS,
    WEIGHTS,
    ByCategory,
    Coefficient,
    ReliabilityReport,
    reliability,
)
from coding.agreement.layouts import LAYOUTS
from coding.codebook import read_codebook, write_codebook
from coding.export.cells import csv_text

__all__ = [
    "ALPHA_CI_METHODS",
    "DISTANCES",
    "LAYOUTS",
    "LEVELS",
    "WEIGHTS",
    "ByCategory",
    "Coefficient",
    "ReliabilityReport",
    "csv_text",
    "read_codebook",
    "reliability",
    "write_codebook",
]
