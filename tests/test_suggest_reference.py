"""Reference labels: consensus, agreement of all coders, single coders, pending segments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from coding.suggest import reference_labels

CODES = ["x", "y", "z"]


def coded(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["segment_id", "coder", "code_id"])


def assigned(*rows: tuple[str, str, bool]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["segment_id", "coder", "completed"])


def resolved(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["segment_id", "code_id", "decision"])


def labels_of(frame: pd.DataFrame, segment_id: str) -> dict[str, float | None]:
    return {str(k): (None if math.isnan(v) else float(v)) for k, v in frame.loc[segment_id].items()}


def test_consensus_resolution_wins_over_coders() -> None:
    frame = reference_labels(
        coded(("s1", "a", "x"), ("s1", "b", "x"), ("s1", "a", "y")),
        assigned(("s1", "a", True), ("s1", "b", True)),
        resolved(("s1", "x", "reject"), ("s1", "y", "apply")),
        CODES,
    )
    assert labels_of(frame, "s1") == {"x": 0.0, "y": 1.0, "z": 0.0}


def test_codes_all_coders_applied_are_one_and_none_applied_are_zero() -> None:
    frame = reference_labels(
        coded(("s1", "a", "x"), ("s1", "b", "x")),
        assigned(("s1", "a", True), ("s1", "b", True)),
        resolved(),
        CODES,
    )
    assert labels_of(frame, "s1") == {"x": 1.0, "y": 0.0, "z": 0.0}


def test_code_only_some_coders_applied_is_unknown() -> None:
    frame = reference_labels(
        coded(("s1", "a", "x"), ("s1", "a", "y"), ("s1", "b", "x"), ("s1", "c", "x")),
        assigned(("s1", "a", True), ("s1", "b", True), ("s1", "c", True)),
        resolved(),
        CODES,
    )
    assert labels_of(frame, "s1") == {"x": 1.0, "y": None, "z": 0.0}


def test_single_coder_unit_takes_that_coders_codes() -> None:
    frame = reference_labels(
        coded(("s1", "a", "y"), ("s1", "a", "z")),
        assigned(("s1", "a", True)),
        resolved(),
        CODES,
    )
    assert labels_of(frame, "s1") == {"x": 0.0, "y": 1.0, "z": 1.0}


def test_unit_with_an_unfinished_assignment_is_left_out() -> None:
    args = (
        coded(("s1", "a", "x")),
        assigned(("s1", "a", True), ("s1", "b", False)),
        resolved(),
        CODES,
    )
    assert reference_labels(*args).empty
    assert labels_of(reference_labels(*args, include_pending=True), "s1")["x"] == 1.0


def test_annotations_of_unfinished_coders_do_not_count() -> None:
    frame = reference_labels(
        coded(("s1", "a", "x"), ("s1", "b", "y")),
        assigned(("s1", "a", True), ("s1", "b", False)),
        resolved(),
        CODES,
        include_pending=True,
    )
    assert labels_of(frame, "s1") == {"x": 1.0, "y": 0.0, "z": 0.0}


def test_resolved_unit_without_finished_coders_keeps_only_its_decisions() -> None:
    frame = reference_labels(coded(), assigned(), resolved(("s9", "y", "apply")), CODES)
    assert labels_of(frame, "s9") == {"x": None, "y": 1.0, "z": None}


def test_unit_unknown_for_every_code_is_dropped() -> None:
    frame = reference_labels(
        coded(("s1", "a", "x"), ("s1", "b", "y")),
        assigned(("s1", "a", True), ("s1", "b", True)),
        resolved(),
        ["x", "y"],
    )
    assert frame.empty


def test_codes_outside_the_codebook_are_ignored() -> None:
    frame = reference_labels(
        coded(("s1", "a", "retired"), ("s1", "a", "x")),
        assigned(("s1", "a", True)),
        resolved(("s1", "retired", "apply")),
        CODES,
    )
    assert list(frame.columns) == CODES
    assert labels_of(frame, "s1") == {"x": 1.0, "y": 0.0, "z": 0.0}


def test_withdrawn_decisions_must_be_filtered_out_first() -> None:
    with pytest.raises(ValueError, match="current decisions"):
        reference_labels(coded(), assigned(), resolved(("s1", "x", "withdraw")), CODES)


def test_presegmented_study_with_mixed_single_and_double_coded_documents() -> None:
    # Document d1 is double coded, d2 single coded; units carry one or several codes.
    frame = reference_labels(
        coded(
            ("d1-u1", "a", "x"),
            ("d1-u1", "b", "x"),
            ("d1-u1", "b", "y"),
            ("d1-u2", "a", "z"),
            ("d1-u2", "b", "z"),
            ("d2-u1", "a", "x"),
            ("d2-u1", "a", "y"),
            ("d2-u1", "a", "z"),
        ),
        assigned(
            ("d1-u1", "a", True),
            ("d1-u1", "b", True),
            ("d1-u2", "a", True),
            ("d1-u2", "b", True),
            ("d2-u1", "a", True),
            ("d2-u2", "a", True),
        ),
        resolved(("d1-u1", "y", "apply")),
        CODES,
    )
    assert frame.to_dict("index") == {
        "d1-u1": {"x": 1.0, "y": 1.0, "z": 0.0},
        "d1-u2": {"x": 0.0, "y": 0.0, "z": 1.0},
        "d2-u1": {"x": 1.0, "y": 1.0, "z": 1.0},
        "d2-u2": {"x": 0.0, "y": 0.0, "z": 0.0},
    }


def test_reference_labels_do_not_depend_on_row_order() -> None:
    ann = coded(("s1", "a", "x"), ("s2", "b", "y"), ("s1", "b", "x"))
    asg = assigned(("s1", "a", True), ("s1", "b", True), ("s2", "b", True))
    first = reference_labels(ann, asg, resolved(), CODES)
    second = reference_labels(ann.iloc[::-1], asg.iloc[::-1], resolved(), CODES)
    pd.testing.assert_frame_equal(first, second)
