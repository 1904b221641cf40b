"""Alpha with each unit's set of codes as the value (MASI, Jaccard), in the core and the report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coding.agreement import (
    agreement_table,
    jaccard_distance,
    masi_distance,
    reliability,
    set_alpha,
)
from coding.agreement.coincidence import NO_PAIRABLE, NO_VARIATION, ONE_CODER
from coding.agreement.sets import distinct_sets, set_distances

DATA = Path(__file__).parent / "data" / "agreement"
REFERENCE = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
CODES = ["blame", "praise"]


def _study(
    codings: dict[tuple[str, str], set[str]], completed: dict[tuple[str, str], bool]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Study frames from {(coder, unit): codes} and {(coder, unit): completed}; one document
    per unit whose id starts with 'x', else document 'd'."""
    units = sorted({u for _, u in completed} | {u for _, u in codings})
    doc = {u: "dx" if u.startswith("x") else "d" for u in units}
    segments = pd.DataFrame(
        {
            "segment_id": units,
            "document_id": [doc[u] for u in units],
            "start": range(len(units)),
            "end": range(1, len(units) + 1),
            "text": "t",
        }
    )
    annotations = pd.DataFrame(
        [
            {
                "segment_id": u,
                "document_id": doc[u],
                "coder": c,
                "code_id": k,
                "start": 0,
                "end": 1,
            }
            for (c, u), codes in codings.items()
            for k in sorted(codes)
        ],
        columns=["segment_id", "document_id", "coder", "code_id", "start", "end"],
    )
    assignments = pd.DataFrame(
        [
            {"segment_id": u, "document_id": doc[u], "coder": c, "completed": done}
            for (c, u), done in completed.items()
        ]
    )
    return annotations, assignments, segments


# s1 {blame}/{blame}; s2 {blame, praise}/{praise}; s3 {}/{} (completed, no code);
# s4 {praise}/{praise}; s5 only ana completed it -> not pairable.
HAND = {
    ("ana", "s1"): {"blame"},
    ("ben", "s1"): {"blame"},
    ("ana", "s2"): {"blame", "praise"},
    ("ben", "s2"): {"praise"},
    ("ana", "s4"): {"praise"},
    ("ben", "s4"): {"praise"},
    ("ana", "s5"): {"blame"},
}
HAND_DONE = {(c, s): True for c in ("ana", "ben") for s in ("s1", "s2", "s3", "s4")} | {
    ("ana", "s5"): True
}


def test_overall_row_has_set_valued_alpha_checked_by_hand() -> None:
    # 8 pairable values: {b} x2, {b,p}, {p} x3, {} x2; the one disagreement is {b,p} vs {p}.
    # MASI: d({b,p},{p}) = 1 - 1/2 * 2/3 = 2/3, so Do = 2 * 2/3 / 8 = 1/6; the other pairs of
    # distinct sets are 2/3 ({b} vs {b,p}) or 1, so De = 2 (4/3 + 6 + 4 + 2 + 2 + 6) / 56 =
    # 16/21 and alpha = 1 - (1/6) / (16/21) = 25/32. Jaccard: Do = 1/8, De = 41/56 -> 34/41.
    table = agreement_table(*_study(HAND, HAND_DONE), CODES).set_index("scope")
    overall = table.loc["overall"]
    assert overall["krippendorff_alpha_masi"] == pytest.approx(25 / 32)
    assert overall["krippendorff_alpha_jaccard"] == pytest.approx(34 / 41)
    assert overall["n_units_sets"] == 4
    assert table.loc["code", "krippendorff_alpha_masi"].isna().all()
    assert table.loc["code", "n_units_sets"].isna().all()


def test_set_valued_alpha_equals_the_calculator_on_the_long_layout() -> None:
    rows = [
        {"unit": u, "coder": c, "labels": "|".join(sorted(HAND.get((c, u), set())))}
        for (c, u) in HAND_DONE
    ]
    frame = pd.DataFrame(rows)
    table = agreement_table(*_study(HAND, HAND_DONE), CODES).set_index("scope")
    for distance in ("masi", "jaccard"):
        expected = reliability(frame, "long", distance=distance).value("krippendorff_alpha")
        assert table.loc["overall", f"krippendorff_alpha_{distance}"] == pytest.approx(expected)


def test_a_coder_who_did_not_complete_a_segment_has_no_set_there() -> None:
    # ben annotated s5 but did not complete it: his set there is unknown, so s5 stays unpaired
    codings = HAND | {("ben", "s5"): {"praise"}}
    table = agreement_table(*_study(codings, HAND_DONE), CODES).set_index("scope")
    assert table.loc["overall", "n_units_sets"] == 4
    assert table.loc["overall", "krippendorff_alpha_masi"] == pytest.approx(25 / 32)
    assert table.loc["overall", "n_units"] == 9  # the 0/1 row pairs (s5, praise): 0 vs 1


def test_rows_pooled_by_document_have_set_valued_alpha_too() -> None:
    codings = HAND | {("ana", "x1"): {"blame"}, ("ben", "x1"): {"praise"}}
    done = HAND_DONE | {("ana", "x1"): True, ("ben", "x1"): True, ("ana", "x2"): True}
    done |= {("ben", "x2"): True}
    table = agreement_table(*_study(codings, done), CODES, by="document")
    by_document = table.set_index("document_id")
    assert by_document.loc["d", "krippendorff_alpha_masi"] == pytest.approx(25 / 32)
    assert by_document.loc["dx", "n_units_sets"] == 2
    # dx: {b}/{p} and {}/{}: Do = 2/4, De = 2 (1 + 2 + 2) / 12 -> alpha = 1 - 0.5 / (10/12) = 0.4
    assert by_document.loc["dx", "krippendorff_alpha_masi"] == pytest.approx(0.4)
    assert by_document.loc["overall", "n_units_sets"] == 6


def _reference(dataset_id: str, distance_prefix: str) -> float:
    dataset = next(d for d in REFERENCE["datasets"] if d["id"] == dataset_id)
    check = next(c for c in dataset["checks"] if c.get("distance", "").startswith(distance_prefix))
    return float(check["expected"])


def _long_file_as_study(name: str) -> tuple[tuple[pd.DataFrame, ...], list[str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    codings = {
        (r["coder"], f"u{r['unit']}"): set(filter(None, r["labels"].split("|"))) for r in rows
    }
    done = dict.fromkeys(codings, True)
    codes = sorted(set().union(*codings.values()))
    return _study(codings, done), codes


@pytest.mark.parametrize(
    ("name", "dataset_id"),
    [
        ("crowdkit_set_valued_3units.csv", "crowdkit_sets"),
        ("dkpro_set_annotations_9units.csv", "dkpro_sets"),
    ],
)
def test_overall_set_valued_alpha_matches_the_reference_datasets(
    name: str, dataset_id: str
) -> None:
    study, codes = _long_file_as_study(name)
    overall = agreement_table(*study, codes).set_index("scope").loc["overall"]
    masi = _reference(dataset_id, "MASI")
    jaccard = _reference(dataset_id, "Jaccard")
    assert overall["krippendorff_alpha_masi"] == pytest.approx(masi, abs=5e-6)
    assert overall["krippendorff_alpha_jaccard"] == pytest.approx(jaccard, abs=5e-6)


def test_vectorised_distances_equal_the_pairwise_functions() -> None:
    rng = np.random.default_rng(2)
    sets = [frozenset(np.flatnonzero(rng.random(5) < 0.4).tolist()) for _ in range(40)]
    sizes = np.array([len(s) for s in sets], dtype=float)
    inter = np.array([[len(a & b) for b in sets] for a in sets], dtype=float)
    found = set_distances(inter, sizes[:, None], sizes[None, :])
    for i, a in enumerate(sets):
        for j, b in enumerate(sets):
            assert found["masi"][i, j] == pytest.approx(masi_distance(a, b), abs=1e-12)
            assert found["jaccard"][i, j] == pytest.approx(jaccard_distance(a, b), abs=1e-12)


@pytest.mark.parametrize(("n_codes", "n_coders"), [(4, 2), (6, 4), (70, 3)])
def test_set_alpha_equals_the_generic_coincidence_path(n_codes: int, n_coders: int) -> None:
    rng = np.random.default_rng(n_codes)
    n_units = 60
    applied = rng.random((n_codes, n_coders, n_units)) < 2.0 / n_codes
    applied[:, 1] |= applied[:, 0] & (rng.random((n_codes, n_units)) < 0.7)  # some agreement
    valued = rng.random((n_coders, n_units)) < 0.8
    applied &= valued[None]
    rows = [
        {
            "unit": str(u),
            "coder": f"c{g}",
            "labels": "|".join(str(k) for k in np.flatnonzero(applied[:, g, u])),
        }
        for g in range(n_coders)
        for u in range(n_units)
        if valued[g, u]
    ]
    ours = set_alpha(applied, valued)
    for distance in ("masi", "jaccard"):
        expected = reliability(pd.DataFrame(rows), "long", distance=distance)
        assert ours[distance].alpha == pytest.approx(
            expected.value("krippendorff_alpha"), abs=1e-12
        )


def test_distinct_sets_for_a_large_codebook_uses_the_same_sets() -> None:
    applied = np.zeros((70, 1, 3), dtype=bool)
    applied[[0, 69], 0, 1] = True
    applied[69, 0, 2] = True
    values, members = distinct_sets(applied, np.ones((1, 3), dtype=bool))
    found = [frozenset(np.flatnonzero(members[v]).tolist()) for v in values[0]]
    assert found == [frozenset(), frozenset({0, 69}), frozenset({69})]


@pytest.mark.parametrize(
    ("applied", "valued", "reason"),
    [
        (np.ones((1, 1, 3), dtype=bool), np.ones((1, 3), dtype=bool), ONE_CODER),
        (np.ones((1, 2, 2), dtype=bool), np.array([[True, False], [False, True]]), NO_PAIRABLE),
        (np.zeros((2, 2, 3), dtype=bool), np.ones((2, 3), dtype=bool), NO_VARIATION),
    ],
)
def test_set_alpha_is_none_with_a_reason(
    applied: np.ndarray, valued: np.ndarray, reason: str
) -> None:
    for result in set_alpha(applied, valued).values():
        assert result.alpha is None
        assert result.reason == reason


def test_an_undefined_set_valued_alpha_is_noted_on_the_overall_row() -> None:
    done = {(c, s): True for c in ("ana", "ben") for s in ("s1", "s2")}
    row = agreement_table(*_study({}, done), CODES).set_index("scope").loc["overall"]
    assert pd.isna(row["krippendorff_alpha_masi"])
    assert "set-valued alpha undefined: no variation" in row["note"]
