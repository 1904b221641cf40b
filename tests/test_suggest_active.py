"""Active learning order: uncertainty first, near-duplicates pushed back, a fixed holdout."""

from __future__ import annotations

import pandas as pd
import pytest

from coding.suggest import active_order, holdout_draw, uncertainty

IDS = [f"s{i:03d}" for i in range(200)]
TEXTS = [f"segment {i} about topic{i % 17} and theme{i % 5}" for i in range(200)]
SCORES = pd.DataFrame({"x": [(i % 100) / 100 for i in range(200)], "y": [0.0] * 200})
THRESHOLDS = {"x": 0.5, "y": 0.3}


def test_holdout_and_order_split_the_pool() -> None:
    result = active_order(IDS, TEXTS, SCORES, THRESHOLDS, holdout=0.2, seed=1)
    assert set(result.order).isdisjoint(result.holdout)
    assert sorted([*result.order, *result.holdout]) == IDS
    assert 20 <= len(result.holdout) <= 60


def test_holdout_membership_does_not_change_as_the_pool_shrinks() -> None:
    full = active_order(IDS, TEXTS, SCORES, THRESHOLDS, holdout=0.2, seed=1)
    half = active_order(IDS[:100], TEXTS[:100], SCORES.iloc[:100], THRESHOLDS, holdout=0.2, seed=1)
    assert set(half.holdout) == {s for s in full.holdout if s in set(IDS[:100])}


def test_holdout_depends_on_the_seed() -> None:
    assert {holdout_draw("s001", 1), holdout_draw("s001", 2)} != {holdout_draw("s001", 1)}


def test_most_uncertain_segment_comes_first() -> None:
    result = active_order(IDS, TEXTS, SCORES, THRESHOLDS, holdout=0.0, diversity=0.0)
    first = result.order[0]
    assert result.uncertainty[first] == max(result.uncertainty.values()) == 1.0


def test_without_diversity_order_follows_uncertainty() -> None:
    result = active_order(IDS, TEXTS, SCORES, THRESHOLDS, holdout=0.0, diversity=0.0)
    values = [result.uncertainty[s] for s in result.order]
    assert values == sorted(values, reverse=True)


def test_near_duplicates_are_pushed_back() -> None:
    ids = ["a", "b", "c"]
    texts = ["the baby cries at night", "the baby cries at night", "parents meet the team"]
    scores = pd.DataFrame({"x": [0.5, 0.5, 0.45]})
    plain = active_order(ids, texts, scores, {"x": 0.5}, holdout=0.0, diversity=0.0)
    diverse = active_order(ids, texts, scores, {"x": 0.5}, holdout=0.0, diversity=0.5)
    assert plain.order == ("a", "b", "c")
    assert diverse.order == ("a", "c", "b")


def test_same_seed_gives_the_same_order() -> None:
    first = active_order(IDS, TEXTS, SCORES, THRESHOLDS, holdout=0.3, seed=7, batch=30)
    second = active_order(IDS, TEXTS, SCORES, THRESHOLDS, holdout=0.3, seed=7, batch=30)
    assert first == second


def test_uncertainty_ignores_codes_without_scores() -> None:
    scores = pd.DataFrame({"x": [float("nan"), 0.5]})
    assert uncertainty(scores, {"x": 0.5, "missing": 0.5}).tolist() == [0.0, 1.0]


def test_misaligned_input_is_an_error() -> None:
    with pytest.raises(ValueError, match="same length"):
        active_order(IDS[:3], TEXTS[:2], SCORES.iloc[:3], THRESHOLDS)
