"""What the command line does without a study, through the same door as everything else: the
reliability calculator on one CSV file, a codebook file checked or printed, and CSV text for
any table (formula-like cells made inert)."""

from __future__ import annotations

from coding import agreement
from coding.agreement.layouts import LAYOUTS
from coding.codebook import read_codebook, write_codebook
from coding.export.cells import csv_text

ALPHA_CI_METHODS = agreement.ALPHA_CI_METHODS
DISTANCES = agreement.DISTANCES
LEVELS = agreement.LEVELS
WEIGHTS = agreement.WEIGHTS
ByCategory = agreement.ByCategory
Coefficient = agreement.Coefficient
ReliabilityReport = agreement.ReliabilityReport
reliability = agreement.reliability

__all__ = ["LAYOUTS", "csv_text", "read_codebook", "write_codebook"]
