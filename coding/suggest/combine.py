"""The "auto" engine: one calibrated score per (segment, code) from the rules and supervised ones.

For a code with a calibrated supervised model, the score is that model's probability (rule
scores are already among its features, so they are not counted twice). For any other code the
score is the rule score, rescaled so that its mean over reference segments with a hit matches the
precision of the rules on those segments, shrunk toward the rules' own prior. Before any coding
the rule score is used as it is. The codebook's structure then decides as it does for the
supervised engine (:mod:`coding.suggest.structure`): within an exclusive group only the
highest-scoring code at or above its threshold is suggested, and parents roll up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd

from coding.model import Segment, Suggestion
from coding.suggest.base import SUGGESTERS, label_matrix, suggestions_from_scores, version_string
from coding.suggest.explain import Explainer, Prediction
from coding.suggest.rules import Hit, spans_evidence
from coding.suggest.supervised import SharedTexts, SupervisedSuggester, UnitContext

PRIOR_STRENGTH = 4.0  # pseudo-segments behind the rules' own score when rescaling it


@dataclass(frozen=True, slots=True)
class RuleCalibration:
    """How reference labels rescale a code's rule score: ``score * factor``, clipped to 1."""

    factor: float
    hits: int  # reference segments with a rule hit for the code
    applied: int  # of those, segments the code applies to


def calibrate_rules(
    rule_scores: np.ndarray, labels: np.ndarray, prior_strength: float = PRIOR_STRENGTH
) -> RuleCalibration:
    """Shrunk precision of the rule hits over their mean score: the factor for rule scores.

    >>> calibrate_rules(np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0])).factor
    1.0
    """
    hit = (rule_scores > 0) & ~np.isnan(labels)
    n, applied = int(hit.sum()), int(np.nansum(labels[hit]))
    if n == 0:
        return RuleCalibration(1.0, 0, 0)
    prior = float(rule_scores[hit].mean())
    precision = (applied + prior_strength * prior) / (n + prior_strength)
    return RuleCalibration(precision / prior, n, applied)


class CombinedSuggester(SupervisedSuggester):
    """Engine "auto": the supervised score where calibrated, else the calibrated rule score.

    It is the supervised engine (``predict`` gives that engine's own prediction) whose
    ``scores`` and suggestions fall back on the rules for codes without a calibrated model.
    """

    name = "auto"
    _calibration: dict[str, RuleCalibration] | None = None  # set by fit: rules alone before

    @property
    def calibration(self) -> dict[str, RuleCalibration]:
        if self._calibration is None:
            return {c: RuleCalibration(1.0, 0, 0) for c in self.codebook.code_ids}
        return self._calibration

    def fit_rows(
        self,
        shared: SharedTexts,
        rows: Sequence[int] | np.ndarray,
        labels: pd.DataFrame,
        groups: Sequence[str],
    ) -> Self:
        super().fit_rows(shared, rows, labels, groups)
        # The rules are calibrated on every reference unit, also when the models had a sample.
        every = [shared.hits[int(i)] for i in np.asarray(rows).reshape(-1)]
        rule_scores = self.rules.scores_from_hits(every).to_numpy()
        y = label_matrix(labels, self.codebook.code_ids)
        self._calibration = {
            code_id: calibrate_rules(rule_scores[:, j], y[:, j])
            for j, code_id in enumerate(self.codebook.code_ids)
        }
        return self

    def _uses_supervised(self, code_id: str) -> bool:
        model = self.code_models.get(code_id)
        return self._calibration is not None and model is not None and model.calibrated

    def _combine(
        self, prediction: Prediction | None, hits: list[list[Hit]]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Combined scores and the rule scores of the texts behind ``hits``."""
        rules = self.rules.scores_from_hits(hits)
        combined = rules.copy()
        for code_id in self.codebook.code_ids:
            if prediction is not None and self._uses_supervised(code_id):
                combined[code_id] = prediction.scores[code_id]
            else:
                factor = self.calibration[code_id].factor
                combined[code_id] = np.clip(rules[code_id] * factor, 0.0, 1.0)
        return combined, rules

    def scores(
        self, texts: Sequence[str], units: Sequence[UnitContext] | None = None
    ) -> pd.DataFrame:
        if self._calibration is None:
            return self.decide(self._combine(None, self.rules.matcher.hits(texts))[0])[0]
        prediction = self.predict(texts, units)
        return self.decide(self._combine(prediction, prediction.hits)[0])[0]

    def undecided_rows(self, shared: SharedTexts, rows: Sequence[int] | np.ndarray) -> pd.DataFrame:
        prediction = self.predict_rows(shared, rows)
        return self._combine(prediction, prediction.hits)[0]

    def thresholds(self) -> dict[str, float]:
        supervised = super().thresholds()
        rules = self.rules.thresholds()
        out = {}
        for c in self.codebook.code_ids:
            if self._uses_supervised(c):
                out[c] = supervised[c]
            elif c in rules:
                out[c] = min(1.0, rules[c] * self.calibration[c].factor)
        return out

    def reasons(self) -> dict[str, str]:
        if self._calibration is None:
            return dict.fromkeys(self.codebook.code_ids, "rules only: no reference labels yet")
        why = super().reasons()
        return {
            c: f"rules only: {why.get(c, 'no calibrated model')}"
            for c in self.codebook.code_ids
            if not self._uses_supervised(c)
        }

    @property
    def model_version(self) -> str:
        parts = [self.rules.model_version]
        if self._calibration is not None:
            parts.append(self.supervised_version())
            parts.append(repr(sorted(self._calibration.items())))
        return version_string(self.name, {"prior_strength": PRIOR_STRENGTH}, *parts)

    def suggest(
        self, segments: Sequence[Segment], units: Sequence[UnitContext] | None = None
    ) -> list[Suggestion]:
        if self._calibration is None:
            hits = self.rules.matcher.hits([s.text for s in segments])
            return self._suggest_combined(None, hits, segments)
        prediction = self.predict([s.text for s in segments], units)
        return self._suggest_combined(prediction, prediction.hits, segments)

    def suggest_from(self, prediction: Prediction, segments: Sequence[Segment]) -> list[Suggestion]:
        return self._suggest_combined(prediction, prediction.hits, segments)

    def _suggest_combined(
        self, prediction: Prediction | None, hits: list[list[Hit]], segments: Sequence[Segment]
    ) -> list[Suggestion]:
        combined, rules = self._combine(prediction, hits)
        scores, decided = self.decide(combined)
        structured = self.params.structure and self.structure.active
        rolled = self.structure.rolled_up_from(decided) if structured else {}
        explain = Explainer(self, prediction, [s.id for s in segments]) if prediction else None

        def evidence(row: int, code_id: str) -> str:
            supervised = self._uses_supervised(code_id)
            out: dict[str, object] = {
                "source": "supervised" if supervised else "rules",
                "scores": {
                    "rules": round(float(rules.at[row, code_id]), 6),
                    "supervised": _score_or_none(prediction, row, code_id),
                },
                "spans": spans_evidence(hits[row], code_id, segments[row].start),
            }
            if supervised and explain is not None:
                out.update(explain(row, code_id))
            else:
                calibration = self.calibration[code_id]
                out["calibration"] = {"hits": calibration.hits, "applied": calibration.applied}
            if code_id in rolled:
                out["rolled_up_from"] = rolled[code_id][row]
            return json.dumps(out, ensure_ascii=False)

        # Only decided pairs are suggested: at most one code per exclusive group and unit.
        shown = scores.where(decided == 1)
        if explain is not None:
            supervised = [c for c in shown.columns if self._uses_supervised(str(c))]
            explain.prepare(shown[supervised].notna())
        return suggestions_from_scores(
            segments,
            shown,
            dict.fromkeys(shown.columns, 0.0),
            evidence,
            self.name,
            self.model_version,
        )


def _score_or_none(prediction: Prediction | None, row: int, code_id: str) -> float | None:
    if prediction is None:
        return None
    value = float(prediction.scores.at[row, code_id])
    return None if np.isnan(value) else round(value, 6)


SUGGESTERS["auto"] = CombinedSuggester
