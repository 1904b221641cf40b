"""NLP code suggestions: rules, supervised and combined engines, evaluation and active learning.

A suggestion proposes a code for a segment, with evidence; it becomes an annotation only when a
coder accepts it. Pure core: takes and returns data, never a Store.

>>> sorted(SUGGESTERS)
['auto', 'rules', 'supervised']
"""

from coding.suggest.active import ActiveOrder, active_order, holdout_draw, uncertainty
from coding.suggest.base import SUGGESTERS, SharesTexts, Suggester, SuggesterFactory
from coding.suggest.combine import CombinedSuggester, RuleCalibration, calibrate_rules
from coding.suggest.evaluate import (
    binary_metrics,
    cohen_kappa,
    evaluate,
    grouped_folds,
    gwet_ac1,
)
from coding.suggest.nlp import lemmatise, pipeline
from coding.suggest.reference import reference_labels
from coding.suggest.rules import (
    Hit,
    Pattern,
    RuleMatcher,
    RulesSuggester,
    build_patterns,
    rule_score,
    veto_phrases,
)
from coding.suggest.supervised import SupervisedParams, SupervisedSuggester

__all__ = [
    "SUGGESTERS",
    "ActiveOrder",
    "CombinedSuggester",
    "Hit",
    "Pattern",
    "RuleCalibration",
    "RuleMatcher",
    "RulesSuggester",
    "SharesTexts",
    "Suggester",
    "SuggesterFactory",
    "SupervisedParams",
    "SupervisedSuggester",
    "active_order",
    "binary_metrics",
    "build_patterns",
    "calibrate_rules",
    "cohen_kappa",
    "evaluate",
    "grouped_folds",
    "gwet_ac1",
    "holdout_draw",
    "lemmatise",
    "pipeline",
    "reference_labels",
    "rule_score",
    "uncertainty",
    "veto_phrases",
]
