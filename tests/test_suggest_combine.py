"""The "auto" engine: rules before any coding, supervised scores where calibrated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coding.model import Code, Codebook, Segment
from coding.suggest import SUGGESTERS, CombinedSuggester, calibrate_rules

DATA = Path(__file__).parent / "data" / "suggest"


def load() -> tuple[Codebook, pd.DataFrame, pd.DataFrame]:
    raw = json.loads((DATA / "codebook.json").read_text(encoding="utf-8"))
    codebook = Codebook(
        raw["id"],
        raw["name"],
        tuple(
            Code(
                c["id"],
                c["name"],
                c["definition"],
                exclusion=tuple(c["exclusion"]),
                indicators=tuple(c["indicators"]),
            )
            for c in raw["codes"]
        ),
    )
    frame = pd.read_csv(DATA / "segments.csv", keep_default_na=False)
    labels = pd.DataFrame(
        {c: [float(c in codes.split(";")) for codes in frame["codes"]] for c in codebook.code_ids},
        index=frame["segment_id"],
    )
    return codebook, frame, labels


CODEBOOK, FRAME, LABELS = load()
TRAIN = FRAME["document_id"] <= "doc07"
SEGMENTS = [
    Segment(r.segment_id, r.document_id, 0, len(r.text), r.text)
    for r in FRAME[~TRAIN].itertuples(index=False)
]


def fitted(seed: int = 0) -> CombinedSuggester:
    train = FRAME[TRAIN]
    return CombinedSuggester(CODEBOOK, seed=seed).fit(
        list(train["text"]), LABELS[TRAIN.to_numpy()], list(train["document_id"])
    )


@pytest.fixture(scope="module")
def engine() -> CombinedSuggester:
    return fitted()


def test_auto_is_registered() -> None:
    assert SUGGESTERS["auto"] is CombinedSuggester


def test_before_any_coding_auto_suggests_from_the_rules() -> None:
    suggestions = CombinedSuggester(CODEBOOK).suggest(SEGMENTS)
    assert suggestions
    evidence = [json.loads(s.evidence) for s in suggestions]
    assert {e["source"] for e in evidence} == {"rules"}
    assert all(e["spans"] for e in evidence)
    assert {s.engine for s in suggestions} == {"auto"}


def test_calibrated_codes_take_the_supervised_score(engine: CombinedSuggester) -> None:
    texts = [s.text for s in SEGMENTS]
    combined, prediction = engine.scores(texts), engine.predict(texts)  # the supervised part
    code = "emotion_regulation"
    assert engine.code_models[code].calibrated
    assert np.allclose(combined[code], prediction.scores[code])
    assert engine.thresholds()[code] == engine.code_models[code].threshold


def test_uncalibrated_codes_fall_back_to_rules_with_a_reason(engine: CombinedSuggester) -> None:
    assert engine.reasons()["family_involvement"].startswith("rules only: too few")
    assert "family_involvement" not in engine.thresholds()  # no indicators, no model


def test_supervised_evidence_includes_rule_spans_and_neighbours(engine: CombinedSuggester) -> None:
    suggestion = next(s for s in engine.suggest(SEGMENTS) if s.code_id == "caregiver_attunement")
    evidence = json.loads(suggestion.evidence)
    assert evidence["source"] == "supervised"
    assert set(evidence["scores"]) == {"rules", "supervised"}
    assert evidence["neighbours"] and "terms" in evidence and "spans" in evidence


def test_output_is_sorted_and_deterministic(engine: CombinedSuggester) -> None:
    suggestions = engine.suggest(SEGMENTS)
    keys = [(-s.score, s.code_id, s.segment_id) for s in suggestions]
    assert keys == sorted(keys)
    assert fitted().suggest(SEGMENTS) == suggestions


def test_model_version_names_the_engine_and_changes_with_training(
    engine: CombinedSuggester,
) -> None:
    assert engine.model_version.startswith("auto:")
    assert engine.model_version != CombinedSuggester(CODEBOOK).model_version
    assert {s.model_version for s in engine.suggest(SEGMENTS)} == {engine.model_version}


def test_rule_calibration_shrinks_precision_toward_the_rule_score() -> None:
    scores = np.array([0.5] * 4 + [0.0] * 4)
    never = calibrate_rules(scores, np.array([0.0] * 8))
    always = calibrate_rules(scores, np.array([1.0] * 4 + [0.0] * 4))
    # (applied + 4 * 0.5) / (4 + 4) over the mean rule score 0.5
    assert never.factor == pytest.approx(0.5) and (never.hits, never.applied) == (4, 0)
    assert always.factor == pytest.approx(1.5)


def test_rule_calibration_ignores_unknown_labels() -> None:
    calibration = calibrate_rules(np.array([0.5, 0.5]), np.array([np.nan, np.nan]))
    assert calibration.factor == 1.0 and calibration.hits == 0
