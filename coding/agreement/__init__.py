"""Inter-coder agreement: Krippendorff's alpha, the kappa family, u-alpha, bootstraps, reports.

A pure core package: it takes and returns data (numpy arrays, DataFrames, dicts) and never
touches a store, a path outside :mod:`coding.agreement.layouts`, or the command line.
"""

from coding.agreement.bootstrap import (
    ALPHA_CI_METHODS,
    AlphaBootstrap,
    alpha_bootstrap,
    alpha_unit_bootstrap,
    unit_bootstrap,
)
from coding.agreement.calculator import reliability
from coding.agreement.coincidence import (
    DISTANCES,
    LEVELS,
    AlphaResult,
    alpha_for_ratings,
    alpha_from_coincidences,
    coincidences,
    jaccard_distance,
    krippendorff_alpha,
    krippendorff_alpha_result,
    level_distances,
    masi_distance,
)
from coding.agreement.kappa import (
    WEIGHTS,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    percent_agreement,
    scott_pi,
    weight_matrix,
)
from coding.agreement.layouts import LAYOUTS, read_layout
from coding.agreement.ratings import Ratings, from_codes, from_contingency, from_unit_counts
from coding.agreement.reliability_report import ByCategory, Coefficient, ReliabilityReport
from coding.agreement.report import agreement_table, alpha_band, kappa_band, study_table
from coding.agreement.sets import set_alpha
from coding.agreement.study import code_matrices
from coding.agreement.unitizing import Span, UnitizingResult, character_kappa, u_alpha

__all__ = [
    "ALPHA_CI_METHODS",
    "DISTANCES",
    "LAYOUTS",
    "LEVELS",
    "WEIGHTS",
    "AlphaBootstrap",
    "AlphaResult",
    "ByCategory",
    "Coefficient",
    "Ratings",
    "ReliabilityReport",
    "Span",
    "UnitizingResult",
    "agreement_table",
    "alpha_band",
    "alpha_bootstrap",
    "alpha_for_ratings",
    "alpha_from_coincidences",
    "alpha_unit_bootstrap",
    "brennan_prediger",
    "character_kappa",
    "code_matrices",
    "cohen_kappa",
    "coincidences",
    "conger_kappa",
    "fleiss_kappa",
    "from_codes",
    "from_contingency",
    "from_unit_counts",
    "gwet_ac",
    "jaccard_distance",
    "kappa_band",
    "krippendorff_alpha",
    "krippendorff_alpha_result",
    "level_distances",
    "masi_distance",
    "percent_agreement",
    "read_layout",
    "reliability",
    "scott_pi",
    "set_alpha",
    "study_table",
    "u_alpha",
    "unit_bootstrap",
    "weight_matrix",
]
