"""Invariants of the agreement coefficients (hypothesis), and agreement with `krippendorff`."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from coding.agreement import (
    Coefficient,
    alpha_for_ratings,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    from_codes,
    gwet_ac,
    krippendorff_alpha,
    krippendorff_alpha_result,
    percent_agreement,
    reliability,
    scott_pi,
)
from coding.agreement.coincidence import NO_PAIRABLE, NO_VARIATION, ONE_CODER
from coding.agreement.ratings import Ratings, encode_numbers


@st.composite
def reliability_data(draw: st.DrawFn, min_coders: int = 2) -> np.ndarray:
    """A coders x units float matrix of small integer codes with NaN for missing values."""
    n_coders = draw(st.integers(min_coders, 5))
    n_units = draw(st.integers(2, 25))
    n_values = draw(st.integers(2, 5))
    cells = st.one_of(st.none(), st.integers(1, n_values))
    rows = draw(
        st.lists(
            st.lists(cells, min_size=n_units, max_size=n_units),
            min_size=n_coders,
            max_size=n_coders,
        )
    )
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def _ratings(data: np.ndarray) -> Ratings:
    codes, values = encode_numbers(data)
    return from_codes(codes, tuple(values.tolist()), [f"c{i}" for i in range(data.shape[0])])


def _defined(data: np.ndarray) -> bool:
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    return (
        bool(pairable.any()) and np.unique(data[:, pairable][~np.isnan(data[:, pairable])]).size > 1
    )


def _all_coefficients(data: np.ndarray) -> dict[str, float | None]:
    r = _ratings(data)
    f = r.freq[None, :]
    values: dict[str, float | None] = {
        "pa": float(percent_agreement(r, f)[0]),
        "fleiss": float(fleiss_kappa(r, f)[0]),
        "conger": float(conger_kappa(r, f)[0]),
        "ac1": float(gwet_ac(r, f)[0]),
        "bp": float(brennan_prediger(r, f)[0]),
        "alpha": alpha_for_ratings(r).alpha,
        "alpha_interval": alpha_for_ratings(r, "interval", list(r.categories)).alpha,  # type: ignore[arg-type]
    }
    if data.shape[0] == 2:
        values["cohen"] = float(cohen_kappa(r, f)[0])
        values["scott"] = float(scott_pi(r, f)[0])
    return values


def _close(a: dict[str, float | None], b: dict[str, float | None]) -> bool:
    for key in a:
        x, y = a[key], b[key]
        if x is None or y is None or np.isnan(x) or np.isnan(y):
            if not ((x is None or np.isnan(x)) and (y is None or np.isnan(y))):
                return False
        elif abs(x - y) > 1e-9:
            return False
    return True


@given(st.data())
def test_every_coefficient_is_one_when_coders_agree_and_values_vary(data: st.DataObject) -> None:
    n_units = data.draw(st.integers(2, 30))
    truth = data.draw(st.lists(st.integers(1, 4), min_size=n_units, max_size=n_units))
    assume(len(set(truth)) > 1)
    n_coders = data.draw(st.integers(2, 5))
    matrix = np.tile(np.array(truth, dtype=float), (n_coders, 1))
    values = _all_coefficients(matrix)
    for name, value in values.items():
        assert value == pytest.approx(1.0, abs=1e-12), name


@given(st.data())
def test_coefficients_do_not_depend_on_coder_or_unit_order(data: st.DataObject) -> None:
    matrix = data.draw(reliability_data())
    coders = data.draw(st.permutations(range(matrix.shape[0])))
    units = data.draw(st.permutations(range(matrix.shape[1])))
    shuffled = matrix[list(coders)][:, list(units)]
    assert _close(_all_coefficients(matrix), _all_coefficients(shuffled))


@given(reliability_data(), st.sampled_from(["nominal", "interval"]))
def test_alpha_equals_the_krippendorff_package(data: np.ndarray, level: str) -> None:
    assume(_defined(data))
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    ours = krippendorff_alpha(data, level)  # type: ignore[arg-type]
    assert ours is not None
    assert abs(ours - expected) <= 1e-9


@given(reliability_data(), st.sampled_from(["ordinal", "ratio"]))
def test_ordinal_and_ratio_alpha_equal_the_krippendorff_package(
    data: np.ndarray, level: str
) -> None:
    assume(_defined(data))
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    ours = krippendorff_alpha(data, level)  # type: ignore[arg-type]
    assert ours is not None
    assert abs(ours - expected) <= 1e-9


def test_alpha_is_none_with_one_coder() -> None:
    report = reliability(_frame([[1, 2, 3]]), "units_by_coders")
    assert report.value("krippendorff_alpha") is None
    assert report.value("fleiss_kappa") is None
    assert report.coefficient("krippendorff_alpha").reason == ONE_CODER
    assert dict(report.notes)["krippendorff_alpha"] == ONE_CODER


def test_alpha_is_none_without_variation() -> None:
    result = krippendorff_alpha_result([[1, 1, 1], [1, 1, 1]])
    assert result.alpha is None
    assert result.reason == NO_VARIATION


def test_alpha_is_none_without_a_pairable_unit() -> None:
    result = krippendorff_alpha_result([[1, np.nan, 2], [np.nan, 2, np.nan]])
    assert result.alpha is None
    assert result.reason == NO_PAIRABLE


@given(reliability_data(min_coders=1))
def test_undefined_statistics_come_with_a_reason(data: np.ndarray) -> None:
    report = reliability(_frame(data.tolist()), "units_by_coders")
    notes = dict(report.notes)
    for entry in report.statistics:
        if isinstance(entry, Coefficient) and entry.value is None:
            assert entry.reason and notes.get(entry.name) == entry.reason, entry.name


def _frame(rows: list[list[float]]) -> object:
    import pandas as pd

    n_units = len(rows[0])
    table = {"unit": [str(u) for u in range(n_units)]}
    for g, row in enumerate(rows):
        table[f"c{g}"] = ["" if v != v else str(int(v)) for v in row]
    return pd.DataFrame(table)
