"""The study-data report: per-code matrices, the agreement table and the disagreement list."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest

from coding.agreement import (
    agreement_table,
    alpha_band,
    code_matrices,
    kappa_band,
    krippendorff_alpha,
    reliability,
)
from coding.review import find_disagreements

CODES = ["blame", "praise"]


def _study(
    codings: dict[tuple[str, str], set[str]], completed: dict[tuple[str, str], bool]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Annotations, assignments and segments from {(coder, segment): codes} and completion."""
    segments = pd.DataFrame(
        {
            "segment_id": ["s1", "s2", "s3", "s4", "s5"],
            "document_id": ["d2", "d1", "d1", "d2", "d1"],
            "start": [0, 10, 0, 20, 30],
            "end": [9, 19, 9, 29, 39],
            "text": ["one", "two", "three", "four", "five"],
        }
    )
    doc = dict(zip(segments["segment_id"], segments["document_id"], strict=True))
    start = dict(zip(segments["segment_id"], segments["start"], strict=True))
    annotations = pd.DataFrame(
        [
            {
                "segment_id": s,
                "document_id": doc[s],
                "coder": c,
                "code_id": k,
                "start": start[s],
                "end": start[s] + 9,
            }
            for (c, s), codes in codings.items()
            for k in sorted(codes)
        ],
        columns=["segment_id", "document_id", "coder", "code_id", "start", "end"],
    )
    assignments = pd.DataFrame(
        [
            {"segment_id": s, "document_id": doc[s], "coder": c, "completed": done}
            for (c, s), done in completed.items()
        ]
    )
    return annotations, assignments, segments


ALL = ["s1", "s2", "s3", "s4", "s5"]
CODINGS = {
    ("ana", "s1"): {"blame"},
    ("ben", "s1"): {"blame"},
    ("ana", "s2"): {"blame", "praise"},
    ("ben", "s2"): {"praise"},
    ("ana", "s3"): set(),
    ("ben", "s3"): set(),
    ("ana", "s4"): {"praise"},
    ("ben", "s4"): {"praise"},
    ("ana", "s5"): {"blame"},
}
COMPLETED = {(c, s): True for c in ("ana", "ben") for s in ALL} | {("ben", "s5"): False}


@pytest.fixture
def study() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return _study(CODINGS, COMPLETED)


def test_matrices_hold_one_zero_and_nan_for_an_uncompleted_segment(study: tuple) -> None:
    annotations, assignments, segments = study
    blame = code_matrices(annotations, assignments, CODES, segments=segments)["blame"]
    assert list(blame.index) == ["ana", "ben"]
    assert list(blame.columns) == ["s3", "s2", "s5", "s1", "s4"]  # by document, then start
    assert blame.loc["ana"].tolist() == [0, 1, 1, 1, 0]
    assert blame.loc["ben", "s5"] != blame.loc["ben", "s5"]  # NaN: ben did not complete s5
    assert blame.loc["ben"].drop("s5").tolist() == [0, 0, 1, 0]


def test_an_annotation_counts_even_when_the_segment_is_not_completed() -> None:
    codings = dict(CODINGS) | {("ben", "s5"): {"blame"}}
    annotations, assignments, segments = _study(codings, COMPLETED)
    blame = code_matrices(annotations, assignments, CODES, segments=segments)["blame"]
    assert blame.loc["ben", "s5"] == 1


def test_table_has_a_row_per_code_and_an_overall_row(study: tuple) -> None:
    table = agreement_table(*study, CODES)
    assert table["code_id"].tolist() == ["blame", "praise", "overall"]
    assert table["scope"].tolist() == ["code", "code", "overall"]
    assert table["n_units"].tolist() == [4, 4, 8]  # s5 is not pairable
    assert table["n_coders"].tolist() == [2, 2, 2]


def test_table_values_match_the_calculator_on_the_same_matrix(study: tuple) -> None:
    annotations, assignments, segments = study
    table = agreement_table(annotations, assignments, segments, CODES).set_index("code_id")
    for code_id, matrix in code_matrices(annotations, assignments, CODES).items():
        frame = matrix.T.reset_index(drop=True)
        frame = frame.apply(lambda col: col.map(lambda v: "" if v != v else str(int(v))))
        frame.insert(0, "unit", [str(i) for i in range(len(frame))])
        expected = reliability(frame, "units-by-coders")
        for column in (
            "percent_agreement",
            "cohen_kappa",
            "scott_pi",
            "fleiss_kappa",
            "gwet_ac1",
            "brennan_prediger",
            "krippendorff_alpha",
        ):
            assert table.loc[code_id, column] == pytest.approx(expected.value(column)), column


def test_overall_row_pools_every_segment_and_code(study: tuple) -> None:
    annotations, assignments, segments = study
    table = agreement_table(annotations, assignments, segments, CODES).set_index("code_id")
    pooled = np.hstack(
        [m.to_numpy() for m in code_matrices(annotations, assignments, CODES).values()]
    )
    expected = krippendorff.alpha(reliability_data=pooled, level_of_measurement="nominal")
    assert table.loc["overall", "krippendorff_alpha"] == pytest.approx(expected)
    assert table.loc["overall", "krippendorff_alpha"] == pytest.approx(krippendorff_alpha(pooled))


def test_table_by_document_pools_codes_within_each_document(study: tuple) -> None:
    table = agreement_table(*study, CODES, by="document")
    assert table["document_id"].tolist() == ["d1", "d2", "overall"]
    assert table["code_id"].tolist() == ["*", "*", "overall"]
    assert table["n_units"].tolist() == [4, 4, 8]  # d1: s2, s3 x 2 codes (s5 unpaired)


def test_table_by_code_and_document(study: tuple) -> None:
    table = agreement_table(*study, CODES, by="code-document")
    pairs = list(zip(table["code_id"], table["document_id"], strict=True))
    assert pairs == [
        ("blame", "d1"),
        ("praise", "d1"),
        ("blame", "d2"),
        ("praise", "d2"),
        ("overall", "overall"),
    ]


def test_confidence_intervals_are_nan_without_bootstrap(study: tuple) -> None:
    table = agreement_table(*study, CODES)
    for column in (
        "krippendorff_alpha_ci_low",
        "krippendorff_alpha_ci_high",
        "cohen_kappa_ci_low",
        "cohen_kappa_ci_high",
    ):
        assert table[column].isna().all()


def _big_study(seed: int = 3, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    first = rng.random(n) < 0.3
    second = np.where(rng.random(n) < 0.85, first, ~first)
    return _double_coded(first, second)


def _double_coded(
    first: np.ndarray, second: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A study of one code, 'blame', that ana and ben applied where ``first``/``second``."""
    n = len(first)
    ids = [f"s{i:05d}" for i in range(n)]
    segments = pd.DataFrame(
        {
            "segment_id": ids,
            "document_id": "d",
            "start": range(n),
            "end": range(1, n + 1),
            "text": "x",
        }
    )
    annotations = pd.DataFrame(
        [
            {
                "segment_id": ids[i],
                "document_id": "d",
                "coder": c,
                "code_id": "blame",
                "start": i,
                "end": i + 1,
            }
            for c, applied in (("ana", first), ("ben", second))
            for i in np.flatnonzero(applied)
        ]
    )
    assignments = pd.DataFrame(
        [
            {"segment_id": s, "document_id": "d", "coder": c, "completed": True}
            for c in ("ana", "ben")
            for s in ids
        ]
    )
    return annotations, assignments, segments


def test_bootstrap_intervals_bracket_the_estimate_and_repeat_with_the_seed() -> None:
    big = _big_study()
    table = agreement_table(*big, ["blame"], bootstrap=300, seed=5)
    row = table.iloc[0]
    assert row["krippendorff_alpha_ci_low"] < row["krippendorff_alpha"]
    assert row["krippendorff_alpha"] < row["krippendorff_alpha_ci_high"]
    assert row["cohen_kappa_ci_low"] < row["cohen_kappa"] < row["cohen_kappa_ci_high"]
    again = agreement_table(*big, ["blame"], bootstrap=300, seed=5)
    pd.testing.assert_frame_equal(table, again)
    other = agreement_table(*big, ["blame"], bootstrap=300, seed=6)
    assert not other["cohen_kappa_ci_low"].equals(table["cohen_kappa_ci_low"])


def test_report_names_the_alpha_ci_method_and_defaults_to_units() -> None:
    big = _big_study(n=100)
    assert agreement_table(*big, ["blame"])["alpha_ci_method"].isna().all()  # no bootstrap
    units = agreement_table(*big, ["blame"], bootstrap=200)
    kalpha = agreement_table(*big, ["blame"], bootstrap=200, alpha_ci="krippendorff")
    assert units["alpha_ci_method"].tolist() == ["units", "units"]
    assert kalpha["alpha_ci_method"].tolist() == ["krippendorff", "krippendorff"]
    assert not units["krippendorff_alpha_ci_low"].equals(kalpha["krippendorff_alpha_ci_low"])


def test_kappa_interval_does_not_depend_on_the_alpha_method() -> None:
    big = _big_study(n=100)
    units = agreement_table(*big, ["blame"], bootstrap=200, seed=4)
    kalpha = agreement_table(*big, ["blame"], bootstrap=200, seed=4, alpha_ci="krippendorff")
    for column in ("cohen_kappa_ci_low", "cohen_kappa_ci_high"):
        pd.testing.assert_series_equal(units[column], kalpha[column])


def test_report_alpha_interval_narrows_with_four_times_the_segments() -> None:
    rng = np.random.default_rng(9)
    first = rng.random(150) < 0.3
    second = np.where(rng.random(150) < 0.85, first, ~first)

    def width(copies: int) -> float:
        study = _double_coded(np.tile(first, copies), np.tile(second, copies))
        row = agreement_table(*study, ["blame"], bootstrap=1000, seed=1).iloc[0]
        return float(row["krippendorff_alpha_ci_high"] - row["krippendorff_alpha_ci_low"])

    assert width(4) < 0.65 * width(1)


def test_unknown_alpha_ci_method_is_an_error(study: tuple) -> None:
    with pytest.raises(ValueError, match="alpha_ci"):
        agreement_table(*study, CODES, bootstrap=10, alpha_ci="efron")


def test_cohen_kappa_is_none_with_three_coders(study: tuple) -> None:
    annotations, assignments, segments = study
    extra = assignments[assignments["coder"] == "ana"].assign(coder="cai")
    table = agreement_table(annotations, pd.concat([assignments, extra]), segments, CODES)
    assert table["n_coders"].tolist() == [3, 3, 3]
    assert table["cohen_kappa"].isna().all()
    assert table["fleiss_kappa"].notna().all()


def test_a_code_nobody_applied_has_undefined_alpha_with_a_note(study: tuple) -> None:
    table = agreement_table(*study, ["blame", "unused"]).set_index("code_id")
    assert np.isnan(table.loc["unused", "krippendorff_alpha"])
    assert "no variation" in table.loc["unused", "note"]
    assert table.loc["unused", "percent_agreement"] == 1.0


def test_kappa_paradox_is_noted_for_a_rare_code() -> None:
    n = 100
    ids = [f"s{i:03d}" for i in range(n)]
    # a rare code: both apply it once together, and each applies it once alone -> 98% agreement
    applied = {"ana": {0, 1}, "ben": {0, 2}}
    annotations = pd.DataFrame(
        [
            {
                "segment_id": ids[i],
                "document_id": "d",
                "coder": c,
                "code_id": "rare",
                "start": i,
                "end": i + 1,
            }
            for c, rows in applied.items()
            for i in sorted(rows)
        ]
    )
    assignments = pd.DataFrame(
        [
            {"segment_id": s, "document_id": "d", "coder": c, "completed": True}
            for c in applied
            for s in ids
        ]
    )
    segments = pd.DataFrame(
        {
            "segment_id": ids,
            "document_id": "d",
            "start": range(n),
            "end": range(1, n + 1),
            "text": "x",
        }
    )
    row = agreement_table(annotations, assignments, segments, ["rare"]).iloc[0]
    assert row["percent_agreement"] == pytest.approx(0.98)
    assert row["cohen_kappa"] < 0.6
    assert "kappa paradox" in row["note"]


def test_disagreements_list_each_segment_and_code_where_completed_coders_differ(
    study: tuple,
) -> None:
    annotations, assignments, _segments = study
    found = find_disagreements(annotations, assignments, CODES)
    assert found[["segment_id", "code_id"]].values.tolist() == [["s2", "blame"]]
    row = found.iloc[0]
    assert row["document_id"] == "d1"
    assert (row["applied_by"], row["not_applied_by"]) == (["ana"], ["ben"])


def test_a_segment_one_coder_did_not_complete_is_no_disagreement(study: tuple) -> None:
    annotations, assignments, _segments = study
    found = find_disagreements(annotations, assignments, CODES)
    assert "s5" not in set(found["segment_id"])


@pytest.mark.parametrize(
    ("alpha", "band"),
    [
        (0.8, "reliable"),
        (0.7999, "tentative"),
        (0.667, "tentative"),
        (0.6669, "unreliable"),
        (None, None),
    ],
)
def test_alpha_bands(alpha: float | None, band: str | None) -> None:
    assert alpha_band(alpha) == band


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.41, "moderate"),
        (0.61, "substantial"),
        (0.81, "almost perfect"),
        (None, None),
    ],
)
def test_kappa_bands(value: float | None, band: str | None) -> None:
    assert kappa_band(value) == band
