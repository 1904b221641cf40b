"""Alpha's two bootstraps: resampling units (narrows with n) and Krippendorff's algorithm."""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import pytest

from coding.agreement import (
    alpha_bootstrap,
    alpha_unit_bootstrap,
    coincidences,
    from_contingency,
    krippendorff_alpha,
    reliability,
)
from coding.agreement.bootstrap import ALPHA_IS_ONE, alpha_statistic
from coding.agreement.ratings import Ratings, encode_numbers, from_codes

KRIPPENDORFF_2011 = (
    Path(__file__).parent / "data" / "agreement" / "krippendorff2011_4obs_12units.csv"
)
NOMINAL = 1.0 - np.eye(2)
# two coders, 0/1 codes: 25 units both 0, 15 both 1, 5 + 5 split -> alpha = .5875
TABLE = np.array([[25.0, 5.0], [5.0, 15.0]])


def _ratings(scale: int) -> Ratings:
    return from_contingency(TABLE * scale, (0, 1))


def _width(ratings: Ratings, replicates: int = 2000, seed: int = 1) -> float:
    boot = alpha_unit_bootstrap(ratings, NOMINAL, replicates, np.random.default_rng(seed))
    assert boot.ci_low is not None and boot.ci_high is not None
    return boot.ci_high - boot.ci_low


def test_units_interval_narrows_as_units_are_added() -> None:
    widths = [_width(_ratings(scale)) for scale in (1, 4, 16)]
    # the same proportions on 4x the units: about half as wide (1 / sqrt(4))
    assert widths[1] < 0.65 * widths[0]
    assert widths[2] < 0.65 * widths[1]


def test_krippendorff_interval_stops_narrowing_but_the_units_interval_does_not() -> None:
    big = _ratings(2000)  # 100,000 units
    kalpha = alpha_bootstrap(coincidences(big), NOMINAL, 2, 2000, np.random.default_rng(1))
    assert kalpha.draws == 100  # M = 25 x 4 non-zero cells, however many units
    assert kalpha.ci_low is not None and kalpha.ci_high is not None
    assert kalpha.ci_high - kalpha.ci_low > 10 * _width(big)


def test_units_interval_contains_the_estimate() -> None:
    ratings = _ratings(1)
    first = [0] * 30 + [1] * 20
    second = [0] * 25 + [1] * 5 + [0] * 5 + [1] * 15
    point = krippendorff_alpha(np.array([first, second]))
    boot = alpha_unit_bootstrap(ratings, NOMINAL, 1000, np.random.default_rng(3))
    assert point == pytest.approx(0.5875)
    assert boot.ci_low is not None and boot.ci_high is not None
    assert boot.ci_low < point < boot.ci_high
    assert boot.method == "units"
    assert boot.draws == 50  # pairable units resampled per replicate


def test_units_interval_repeats_with_the_seed_and_changes_with_another() -> None:
    ratings = _ratings(1)
    first = alpha_unit_bootstrap(ratings, NOMINAL, 500, np.random.default_rng(7))
    again = alpha_unit_bootstrap(ratings, NOMINAL, 500, np.random.default_rng(7))
    other = alpha_unit_bootstrap(ratings, NOMINAL, 500, np.random.default_rng(8))
    assert first == again
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)


def _naive_interval(data: np.ndarray, level: str, replicates: int, seed: int) -> np.ndarray:
    """Resample the pairable units (columns) with replacement and recompute alpha each time."""
    pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(replicates):
        sample = pairable[:, rng.integers(0, pairable.shape[1], pairable.shape[1])]
        present = sample[~np.isnan(sample)]
        if np.unique(present).size < 2:
            continue  # alpha undefined: no variation
        values.append(krippendorff.alpha(reliability_data=sample, level_of_measurement=level))
    return np.quantile(values, [0.025, 0.975])


def _as_ratings(data: np.ndarray) -> Ratings:
    codes, values = encode_numbers(data)
    return from_codes(codes, tuple(values.tolist()), [f"c{g}" for g in range(data.shape[0])])


def test_units_interval_matches_a_naive_resample_and_recompute_for_binary_codes() -> None:
    rng = np.random.default_rng(11)
    first = (rng.random(60) < 0.3).astype(float)
    second = np.where(rng.random(60) < 0.85, first, 1.0 - first)
    data = np.vstack([first, second])
    fast = alpha_unit_bootstrap(_as_ratings(data), NOMINAL, 4000, np.random.default_rng(1))
    naive = _naive_interval(data, "nominal", 3000, seed=2)
    assert fast.ci_low == pytest.approx(naive[0], abs=0.035)
    assert fast.ci_high == pytest.approx(naive[1], abs=0.035)


def test_units_interval_matches_a_naive_resample_for_ordinal_data_with_missing_values() -> None:
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 6, 40).astype(float)
    data = np.vstack([np.clip(truth + rng.integers(-1, 2, 40), 1, 5) for _ in range(3)])
    data[rng.random(data.shape) < 0.15] = np.nan
    # None: the ordinal metric, recomputed from each replicate's marginals
    fast = alpha_unit_bootstrap(_as_ratings(data), None, 4000, np.random.default_rng(1))
    naive = _naive_interval(data, "ordinal", 3000, seed=2)
    assert fast.ci_low == pytest.approx(naive[0], abs=0.035)
    assert fast.ci_high == pytest.approx(naive[1], abs=0.035)


def test_alpha_statistic_equals_alpha_on_a_resample() -> None:
    rng = np.random.default_rng(4)
    data = rng.integers(1, 5, (3, 25)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    ratings = _as_ratings(data)
    freq = rng.multinomial(round(ratings.freq.sum()), ratings.freq / ratings.freq.sum())
    # rebuild the resampled data from the unit types and compare with the krippendorff package
    codes = ratings.codes
    assert codes is not None
    categories = np.array(ratings.categories, dtype=float)
    resampled = np.repeat(codes, freq, axis=0).T
    values = np.where(resampled >= 0, categories[np.maximum(resampled, 0)], np.nan)
    for level, delta in (("ordinal", None), ("interval", (categories[:, None] - categories) ** 2)):
        ours = alpha_statistic(ratings, delta)(ratings, freq[None, :].astype(float))[0]
        expected = krippendorff.alpha(reliability_data=values, level_of_measurement=level)
        assert ours == pytest.approx(expected, abs=1e-9), level


def test_perfect_agreement_has_no_units_interval_and_says_why() -> None:
    ratings = from_contingency(np.array([[10.0, 0.0], [0.0, 5.0]]), (0, 1))
    boot = alpha_unit_bootstrap(ratings, NOMINAL, 200, np.random.default_rng(0))
    assert (boot.ci_low, boot.ci_high, boot.reason) == (None, None, ALPHA_IS_ONE)


def test_replicates_without_variation_are_left_out_and_counted() -> None:
    ratings = from_contingency(np.array([[1.0, 1.0], [0.0, 2.0]]), (0, 1))  # 4 units
    boot = alpha_unit_bootstrap(ratings, NOMINAL, 2000, np.random.default_rng(0))
    assert boot.undefined_replicates > 0
    assert boot.ci_low is not None


def test_calculator_reports_the_method_and_units_summary() -> None:
    data = KRIPPENDORFF_2011
    units = reliability(data, "units-by-coders", bootstrap=500, seed=1, alpha_ci="units")
    kalpha = reliability(data, "units-by-coders", bootstrap=500, seed=1)
    assert units.alpha_bootstrap is not None and units.alpha_bootstrap.method == "units"
    assert kalpha.alpha_bootstrap is not None and kalpha.alpha_bootstrap.method == "krippendorff"
    summary = units.bootstrap_summary()
    assert summary is not None
    assert summary["method"] == "units"
    assert summary["units_resampled"] == 11  # unit 12 has one value
    assert "M_draws" not in summary
    ci = units.coefficient("krippendorff_alpha").interval
    assert ci is not None
    assert ci[0] < 0.743421 < ci[1]


def test_unknown_alpha_ci_method_is_an_error() -> None:
    with pytest.raises(ValueError, match="alpha_ci"):
        reliability(KRIPPENDORFF_2011, "units-by-coders", alpha_ci="efron")
