"""Every check of the agreement reference (tests/data/agreement/expected.json, 128 checks).

Each check names a dataset file, its layout, a statistic, the options it needs (level, weights,
distance, coders, category) and the published/verified value with a tolerance.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pytest

from coding.agreement import (
    ByCategory,
    ReliabilityReport,
    jaccard_distance,
    masi_distance,
    reliability,
)

DATA = Path(__file__).parent / "data" / "agreement"
REFERENCE = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))

# Conger's (1980) "exact" kappa is what `conger_kappa` computes.
ALIASES = {"conger_exact_kappa": "conger_kappa"}


def _artstein_poesio_distance(a: Hashable, b: Hashable) -> float:
    """Artstein & Poesio (2008) custom distance: 0 if equal, 0.5 if either is 'Chck', else 1."""
    if a == b:
        return 0.0
    return 0.5 if "Chck" in (a, b) else 1.0


def _dkpro_set_factor(a: frozenset[str], b: frozenset[str]) -> float:
    """DKPro SetAnnotationDistance: 0 identical, 1/3 subset, 2/3 overlap, 1 disjoint."""
    if a == b:
        return 0.0
    if a <= b or b <= a:
        return 1.0 / 3.0
    return 2.0 / 3.0 if a & b else 1.0


def _dkpro_set_distance(a: Hashable, b: Hashable) -> float:
    assert isinstance(a, frozenset) and isinstance(b, frozenset)
    return _dkpro_set_factor(a, b)


def _dkpro_masi_distance(a: Hashable, b: Hashable) -> float:
    """DKPro's 'MASI': Jaccard distance times the set factor (not Passonneau's 1 - J*M)."""
    assert isinstance(a, frozenset) and isinstance(b, frozenset)
    return jaccard_distance(a, b) * _dkpro_set_factor(a, b)


def _options(check: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"level": check.get("level_of_measurement", "nominal")}
    weights = check.get("weights")
    if weights is not None:
        options["weights"] = {"irrCAC-ordinal": "gwet-ordinal"}.get(weights, weights.split()[0])
    distance = check.get("distance")
    if distance is not None:
        if distance.startswith("custom disagreement weights"):
            options["weights"] = lambda a, b: 1.0 - _artstein_poesio_distance(a, b)
        elif distance.startswith("custom"):
            options["distance"] = _artstein_poesio_distance
        elif distance.startswith("DKPro SetAnnotationDistance"):
            options["distance"] = _dkpro_set_distance
        elif distance.startswith("DKPro 'MASI'"):
            options["distance"] = _dkpro_masi_distance
        else:
            options["distance"] = distance.split()[0].rstrip(";").lower()
    if "coders" in check:
        options["coders"] = check["coders"]
    if check["statistic"] == "krippendorff_alpha_bootstrap":
        options.update(bootstrap=20_000, seed=20070101)
    return options


def _cases() -> list[Any]:
    cases = []
    for dataset in REFERENCE["datasets"]:
        for i, check in enumerate(dataset["checks"]):
            case_id = f"{dataset['id']}-{i}-{check['statistic']}"
            cases.append(pytest.param(dataset, check, id=case_id))
    return cases


def test_the_reference_has_128_checks() -> None:
    assert len(_cases()) == 128


def _set_pairs(dataset: dict[str, Any], tolerance: float) -> None:
    with (DATA / dataset["file"]).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        a, b = (frozenset(row[k].split("|")) - {""} for k in ("set_a", "set_b"))
        assert abs(jaccard_distance(a, b) - float(row["jaccard_distance"])) <= tolerance
        assert abs(masi_distance(a, b) - float(row["masi_distance"])) <= tolerance


def _computed(report: ReliabilityReport, check: dict[str, Any]) -> object:
    name = ALIASES.get(check["statistic"], check["statistic"])
    category = check.get("category")
    if name == "krippendorff_alpha_bootstrap":
        return report.bootstrap_summary()
    if any(isinstance(s, ByCategory) and s.name == name for s in report.statistics):
        by_category = report.by_category(name)  # a statistic given only per category
        return by_category if category is None else by_category[category]
    if category is not None and not str(category).startswith("ALL"):
        return report.by_category(f"{name}_by_category")[category]
    return report.value(name)


@pytest.mark.parametrize(("dataset", "check"), _cases())
def test_reference_check(dataset: dict[str, Any], check: dict[str, Any]) -> None:
    if dataset["layout"] == "set_pairs":
        _set_pairs(dataset, check["tolerance"])
        return
    continuum = dataset.get("continuum")
    result = reliability(
        DATA / dataset["file"],
        dataset["layout"],
        continuum=(continuum["begin"], continuum["end"]) if continuum else None,
        **_options(check),
    )
    computed = _computed(result, check)
    expected, tolerance = check["expected"], check["tolerance"]
    if isinstance(expected, dict):
        assert isinstance(computed, dict)
        for key, value in expected.items():
            assert abs(computed[key] - value) <= tolerance[key], (key, computed[key], value)
        return
    assert isinstance(computed, float), computed
    assert abs(computed - expected) <= tolerance, (computed, expected)
