"""Agreement read as arrays gives the very tables the whole-frame computation gives.

``tests/agreement_frames.py`` is the service as it computed from whole frames (every
submitted coding as a row, the consensus through ``review.final_codes``); every table here
must equal its table exactly: same rows, columns, dtypes and values, bootstrap intervals
included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coding.agreement import sets
from coding.agreement.study import applied_from_masks, build_study, consensus, unit_order
from coding.errors import CodingError
from coding.service import agreement as agreement_service
from coding.service.access import Operator
from coding.store import Store
from coding.store import agreement as agreement_store
from tests import agreement_frames as frames
from tests import agreement_studies as studies

OPERATOR = Operator("tests")


@pytest.fixture(params=[0, 1, 2])
def study(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    store = studies.random_study(tmp_path, seed=request.param)
    yield store
    store.close()


def _same(new: Callable[[], pd.DataFrame], old: Callable[[], pd.DataFrame]) -> None:
    """Both give the same frame, or both refuse with the same message."""
    try:
        expected: pd.DataFrame | str = old()
    except CodingError as err:
        expected = str(err)
    if isinstance(expected, str):
        with pytest.raises(CodingError) as raised:
            new()
        assert str(raised.value) == expected
    else:
        pd.testing.assert_frame_equal(new(), expected)


@pytest.mark.parametrize("by", ["code", "document", "code-document"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"include_nlp": True},
        {"include_consensus": True},
        {"include_nlp": True, "include_consensus": True, "bootstrap": 40, "seed": 5},
        {"coders": ["amira", "consensus"], "bootstrap": 30},
        {"coders": ["ben", "nlp", "chloe"]},
        {"coders": ["amira", "dana"]},
        {"coders": ["amira", "nobody"]},
        {"coders": ["amira"]},
    ],
)
def test_reports_equal_the_whole_frame_reports(
    study: Store, by: str, options: dict[str, object]
) -> None:
    data = agreement_service.AgreementData.read(study)
    reference = frames.AgreementData.read(study)
    _same(
        lambda: agreement_service.agreement_report(data, by=by, **options),  # type: ignore[arg-type]
        lambda: frames.agreement_report(reference, by=by, **options),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("nlp, consensus", [(False, False), (True, False), (True, True)])
def test_pairwise_reports_equal_the_whole_frame_reports(
    study: Store, nlp: bool, consensus: bool
) -> None:
    _same(
        lambda: agreement_service.pairwise_report(study, None, nlp, consensus, 25, 3),
        lambda: frames.pairwise_report(
            frames.AgreementData.read(study), None, nlp, consensus, 25, 3
        ),
    )


def test_the_page_views_equal_the_whole_frame_views(study: Store) -> None:
    views = list(agreement_service.AgreementView)
    found = agreement_service.agreement_views(study, OPERATOR, views, bootstrap=50, seed=1)
    expected = frames.agreement_views(study, OPERATOR, list(frames.AgreementView), 50, 1)
    for view in views:
        table, reference = found[view], expected[frames.AgreementView(str(view))]
        if isinstance(reference, str):
            assert table == reference
        else:
            assert isinstance(table, pd.DataFrame)
            pd.testing.assert_frame_equal(table, reference)


def test_a_study_without_suggestions_says_so(tmp_path: Path) -> None:
    from coding import service

    with service.init_study(
        tmp_path / "s.db", "t", studies.codebook_file(tmp_path / "c.yaml", 2)
    ) as store:
        data = agreement_service.AgreementData.read(store)
        with pytest.raises(CodingError, match="no suggestions"):
            agreement_service.agreement_report(data, ["amira", "nlp"])


def test_codebooks_of_more_than_one_mask_of_codes_read_every_code(tmp_path: Path) -> None:
    store = studies.random_study(tmp_path, seed=4, units=12, n_codes=70)
    with store:
        data = agreement_service.AgreementData.read(store)
        reference = frames.AgreementData.read(store)
        applied = reference.annotations.drop_duplicates(["segment_id", "coder", "code_id"])
        assert int(data.work.applied.sum()) == len(applied)
        assert (applied["code_id"] > "c61").any()  # codes past the first mask are there
        _same(
            lambda: agreement_service.agreement_report(data, include_consensus=True),
            lambda: frames.agreement_report(reference, include_consensus=True),
        )


def test_code_masks_leave_out_codes_outside_the_list(study: Store) -> None:
    coders = ["amira", "ben"]
    ids, masks = agreement_store.code_masks(study, coders, ["c01"])
    applied = study.annotations_frame()
    wanted = applied[(applied["code_id"] == "c01") & applied["coder"].isin(coders)]
    assert masks.shape == (len(ids), 2, 1)
    found = {
        (s, c)
        for s, row in zip(ids, masks[:, :, 0], strict=True)
        for c, m in zip(coders, row, strict=True)
        if m
    }
    assert found == set(zip(wanted["segment_id"], wanted["coder"], strict=True))
    assert set(np.unique(masks)) <= {0, 1}


def test_masks_decode_to_codes_coders_and_units() -> None:
    masks = np.array([[[1 << 61, 0b10], [0, 0]], [[0, 0], [0b11, 1 << 7]]], dtype=np.int64)
    applied = applied_from_masks(np.array([2, 0]), masks, 70, 3)
    assert {tuple(x) for x in np.argwhere(applied).tolist()} == {
        (61, 0, 2),
        (63, 0, 2),
        (0, 1, 0),
        (1, 1, 0),
        (69, 1, 0),
    }


@pytest.mark.parametrize("shared_starts", [True, False])
def test_units_are_ordered_as_build_study_orders_them(shared_starts: bool) -> None:
    rng = np.random.default_rng(3)
    ids = np.array([f"s{i:03d}" for i in rng.permutation(200)], dtype=object)
    documents = rng.choice(np.array(["b", "a", "c@v2"], dtype=object), 200)
    # many segments of a document start together (the ids decide), or none do
    starts = rng.integers(0, 30, 200) if shared_starts else rng.permutation(200)
    segments = pd.DataFrame({"segment_id": ids, "document_id": documents, "start": starts})
    assignments = segments.assign(coder="amira", completed=True)
    none = pd.DataFrame(columns=["segment_id", "document_id", "coder", "code_id", "start"])
    built = build_study(none, assignments, ["x"], ["amira"], segments)
    assert list(ids[unit_order(ids, documents, starts)]) == list(built.segment_ids)


def test_consensus_arrays_follow_final_codes(study: Store) -> None:
    data = agreement_service.AgreementData.read(study)
    finals = frames.AgreementData.read(study).finals()
    shape = (len(data.code_ids), len(data.segment_ids))
    is_open, final = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    position = {s: i for i, s in enumerate(data.segment_ids)}
    for row in finals.itertuples(index=False):
        k, u = data.code_ids.index(row.code_id), position[row.segment_id]
        is_open[k, u] = row.status == "open"
        final[k, u] = row.final is True
    several = data.work.completed.sum(axis=0) >= 2
    found = consensus(data.work.applied, data.work.completed, data.decisions())
    assert (found.settled_by_code == (several & ~is_open)).all()
    assert (found.settled == (several & ~is_open.any(axis=0))).all()
    assert (found.final[found.settled_by_code] == final[found.settled_by_code]).all()
    assert is_open.any() and found.settled.any()


def test_tabulated_set_distances_are_the_computed_ones() -> None:
    rng = np.random.default_rng(8)
    for n_codes in (1, 4, 10, 30):
        members = np.unique(rng.random((300, n_codes)) < 0.4, axis=0)
        sizes = members.sum(axis=1).astype(np.float64)
        marginals = rng.integers(1, 40, members.shape[0]).astype(np.float64)
        names = ("masi", "jaccard")
        tabulated = sets._expected_sums(members, sizes, marginals, names)
        assert tabulated == sets._expected_sums(members, sizes, marginals, names, tabulate=False)
