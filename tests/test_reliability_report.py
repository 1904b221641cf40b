"""The calculator's typed report: values, reasons, intervals and notes, never a placeholder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from coding.agreement import ByCategory, Coefficient, ReliabilityReport, reliability
from coding.agreement.bootstrap import ALPHA_IS_ONE
from coding.agreement.calculator import NEEDS_PAIR

DATA = Path(__file__).parent / "data" / "agreement"
KRIPPENDORFF_2011 = DATA / "krippendorff2011_4obs_12units.csv"


def test_an_undefined_coefficient_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="without a reason"):
        Coefficient("cohen_kappa", None)
    with pytest.raises(ValueError, match="interval"):
        Coefficient("fleiss_kappa", 0.5, interval=(0.4, 0.6), interval_reason="why")


def test_the_report_is_frozen_and_says_why_a_coefficient_is_undefined() -> None:
    report = reliability(KRIPPENDORFF_2011, "units-by-coders")
    assert isinstance(report, ReliabilityReport)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.layout = "long"  # type: ignore[misc]
    cohen = report.coefficient("cohen_kappa")
    assert cohen.value is None and cohen.reason == NEEDS_PAIR
    assert dict(report.notes)["cohen_kappa"] == NEEDS_PAIR
    assert report.value("krippendorff_alpha") == pytest.approx(0.743421, abs=5e-6)
    assert report.by_category("fleiss_category_kappa")[5] == pytest.approx(1.0)
    with pytest.raises(KeyError):
        report.coefficient("gwet_ac2")  # weighted: only with weights


def test_every_defined_coefficient_has_an_interval_when_bootstrapped() -> None:
    plain = reliability(KRIPPENDORFF_2011, "units-by-coders")
    assert not any(isinstance(c, Coefficient) and c.bootstrapped for c in plain.statistics), (
        "no interval without a bootstrap"
    )
    report = reliability(KRIPPENDORFF_2011, "units-by-coders", bootstrap=200, seed=2)
    assert report.bootstrap_replicates == 200 and report.alpha_bootstrap is not None
    kappa_family = [
        c
        for c in report.statistics
        if isinstance(c, Coefficient) and not c.name.startswith(("krippendorff", "fleiss_"))
    ]
    for coefficient in kappa_family:
        if coefficient.value is None:
            assert not coefficient.bootstrapped, coefficient.name
            continue
        assert coefficient.interval is not None, coefficient.name
        low, high = coefficient.interval
        assert low <= coefficient.value <= high, coefficient.name
    alpha = report.coefficient("krippendorff_alpha")
    assert alpha.interval is not None and alpha.value is not None
    assert alpha.interval[0] < alpha.value < alpha.interval[1]


def test_the_plain_data_form_keeps_its_names_and_order() -> None:
    report = reliability(KRIPPENDORFF_2011, "units-by-coders", bootstrap=100, seed=1)
    data = report.to_dict()
    names = list(data)
    assert names[:8] == [
        "layout",
        "level",
        "distance",
        "weights",
        "n_units",
        "n_pairable_units",
        "n_coders",
        "categories",
    ]
    assert names.index("alpha_difference") == names.index("krippendorff_alpha") - 1
    assert names[-1] == "notes"
    assert data["fleiss_kappa_ci"] == list(report.coefficient("fleiss_kappa").interval or ())
    assert "cohen_kappa_ci" not in data  # undefined, so no interval
    assert data["notes"] == dict(report.notes)


def test_spans_give_a_continuum_and_per_code_statistics() -> None:
    report = reliability(
        DATA / "krippendorff2004_unitizing_p254.csv", "spans", continuum=(150, 450)
    )
    assert report.continuum == (150, 450) and report.level is None
    assert report.value("krippendorff_u_alpha") == pytest.approx(0.858665, abs=5e-4)
    by_code = report.by_category("krippendorff_u_alpha_by_category")
    assert by_code["c"] == pytest.approx(0.728599, abs=1e-4)
    assert any(isinstance(s, ByCategory) for s in report.statistics)
    lonely = reliability(DATA / "krippendorff2004_unitizing_p254.csv", "spans", coders=["i"])
    for name in ("krippendorff_u_alpha", "character_kappa"):
        coefficient = lonely.coefficient(name)
        assert coefficient.value is None and coefficient.reason, name


def test_an_interval_that_cannot_exist_comes_with_its_reason() -> None:
    frame = pd.DataFrame({"unit": ["1", "2", "3"], "A": ["a", "b", "a"], "B": ["a", "b", "a"]})
    report = reliability(frame, "units-by-coders", bootstrap=50, seed=0)
    alpha = report.coefficient("krippendorff_alpha")
    assert alpha.value == pytest.approx(1.0)
    assert alpha.interval is None and alpha.interval_reason == ALPHA_IS_ONE
    assert dict(report.notes)["krippendorff_alpha_ci"] == ALPHA_IS_ONE
    assert report.bootstrap_summary() is None
    assert report.to_dict()["krippendorff_alpha_ci"] is None
