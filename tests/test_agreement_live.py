"""The Agreement page's data kept across edits gives the tables a fresh read gives.

After a coder's save or submission or a reviewer's decision, :class:`LiveAgreement` reads
only the units the edit touched and recomputes only the rows whose data changed; every table
must still equal a computation from scratch exactly, bootstrap intervals included.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coding import service
from coding.model import Decision, Resolution, utcnow
from coding.service import access
from coding.service import agreement as agreement_service
from coding.service import coder as coder_service
from coding.store import Store, events
from coding.store.events import touched_units
from tests import agreement_frames as frames
from tests import agreement_studies as studies

VIEWS = list(agreement_service.AgreementView)
OPERATOR = access.Operator("tests")


@pytest.fixture(params=[0, 1, 2])
def study(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    store = studies.random_study(tmp_path, seed=request.param)
    for coder in studies.CODERS:
        access.add_user(store, coder, "coder", f"{coder}-password", "tests")
    yield store
    store.close()


def _assert_same(
    found: dict[object, pd.DataFrame | str], fresh: dict[object, pd.DataFrame | str]
) -> None:
    assert found.keys() == fresh.keys()
    for view, table in fresh.items():
        if isinstance(table, str):
            assert found[view] == table
        else:
            shown = found[view]
            assert isinstance(shown, pd.DataFrame)
            pd.testing.assert_frame_equal(shown, table)


def _open_units(store: Store) -> list[tuple[str, str]]:
    asg = store.assignments_frame()
    left = asg[~asg["completed"]]
    return sorted(zip(left["segment_id"], left["coder"], strict=True))


def _edit(store: Store, rng: random.Random) -> str:
    """One random edit a user makes in the app; its kind."""
    codes = list(store.codebook().codebook.code_ids)
    kind = rng.choice(["submit", "submit", "draft", "decide", "undo"])
    if kind in ("submit", "draft") and _open_units(store):
        segment_id, coder = rng.choice(_open_units(store))
        chosen = [c for c in codes if rng.random() < 0.4]
        coder_service.save_unit(store, coder, segment_id, chosen, submit=kind == "submit")
        return kind
    standing = store.current_resolutions_frame()
    if kind == "undo" and not standing.empty:
        row = standing.iloc[rng.randrange(len(standing))]
        decision, segment_id, code = Decision.WITHDRAW, row["segment_id"], row["code_id"]
    else:
        kind = "decide"
        segment_id = rng.choice(store.assignments_frame()["segment_id"].tolist())
        decision, code = rng.choice([Decision.APPLY, Decision.REJECT]), rng.choice(codes)
    store.add_resolutions(
        [Resolution(segment_id, code, decision, "rosa", "why", utcnow(), None, 1)], "rosa"
    )
    return kind


def test_tables_after_random_edits_equal_a_fresh_computation(study: Store) -> None:
    rng = random.Random(len(study.segments()))
    live = agreement_service.LiveAgreement()
    agreement_service.agreement_views(study, OPERATOR, VIEWS, 40, 9, live=live)
    kept = live.data
    for _ in range(12):
        kind = _edit(study, rng)
        found = agreement_service.agreement_views(study, OPERATOR, VIEWS, 40, 9, live=live)
        assert live.data is kept, f"a {kind} should update the kept data, not read it again"
        _assert_same(found, agreement_service.agreement_views(study, OPERATOR, VIEWS, 40, 9))


def test_an_edit_recomputes_only_the_rows_it_changes(study: Store) -> None:
    live = agreement_service.LiveAgreement()
    agreement_service.agreement_views(study, OPERATOR, VIEWS, 40, 9, live=live)
    assert live.data is not None
    memo = live.data.memo
    again = memo.computed
    agreement_service.agreement_views(study, OPERATOR, VIEWS, 40, 9, live=live)
    assert memo.computed == again  # nothing changed: every row reused
    disputed = service.disagreements(study, open_only=True).iloc[0]
    segment_id, code = disputed["segment_id"], disputed["code_id"]
    study.add_resolutions(
        [Resolution(segment_id, code, Decision.APPLY, "rosa", "why", utcnow(), None, 1)], "rosa"
    )
    before = memo.computed, memo.reused
    agreement_service.agreement_views(study, OPERATOR, VIEWS, 40, 9, live=live)
    computed, reused = memo.computed - before[0], memo.reused - before[1]
    assert 0 < computed < reused  # the consensus's rows of one code, and pooled rows


def test_other_writes_read_the_study_again_and_sign_ins_do_not(study: Store) -> None:
    live = agreement_service.LiveAgreement()
    agreement_service.agreement_views(study, OPERATOR, VIEWS, live=live)
    kept = live.data
    access.add_user(study, "ines", "reviewer", "ines-password", "tests")
    agreement_service.agreement_views(study, OPERATOR, VIEWS, live=live)
    assert live.data is kept
    segment_id, coder = _open_units(study)[0]
    study.complete([(segment_id, coder)], "tests")  # an import's completion: more than a unit edit
    found = agreement_service.agreement_views(study, OPERATOR, VIEWS, live=live)
    assert live.data is not kept
    _assert_same(found, agreement_service.agreement_views(study, OPERATOR, VIEWS))


def test_changes_are_not_trusted_across_studies_or_late_events(study: Store) -> None:
    count, top, began = events.event_mark(study)
    assert events.changes_since(study, (count, top, began)) is not None
    assert events.changes_since(study, (count, top, "another study")) is None
    # one event fewer than the count says: one committed out of id order
    assert events.changes_since(study, (count - 2, top - 1, began)) is None


def test_edits_touch_the_units_their_events_name() -> None:
    events = [
        ("code_unit", "s1", {"complete": True}),
        ("sign_in_failed", "someone", {}),
        ("resolve", "1 decisions", {"decisions": [["s3", "c00", "apply"]]}),
    ]
    assert touched_units(events) == ["s1", "s3"]
    assert touched_units([("assign", "ben", {})]) is None


def test_the_consensus_of_edited_units_is_the_consensus_of_a_fresh_read(study: Store) -> None:
    live = agreement_service.LiveAgreement()
    data = live.current(study)
    data.consensus()
    rng = random.Random(7)
    for _ in range(6):
        _edit(study, rng)
    updated = live.current(study)
    fresh = agreement_service.AgreementData.read(study)
    assert updated is data
    for name in ("final", "settled_by_code", "settled"):
        assert np.array_equal(getattr(updated.consensus(), name), getattr(fresh.consensus(), name))
    assert np.array_equal(updated.decisions(), fresh.decisions())


def test_kept_tables_equal_fresh_ones_on_each_engine(target: str, tmp_path: Path) -> None:
    with studies.random_study(tmp_path, seed=5, units=16, target=target) as store:
        for coder in studies.CODERS:
            access.add_user(store, coder, "coder", f"{coder}-password", "tests")
        fresh = agreement_service.agreement_views(store, OPERATOR, VIEWS, 20, 4)
        expected = frames.agreement_views(store, OPERATOR, list(frames.AgreementView), 20, 4)
        _assert_same(
            fresh, {agreement_service.AgreementView(str(k)): v for k, v in expected.items()}
        )
        live = agreement_service.LiveAgreement()
        agreement_service.agreement_views(store, OPERATOR, VIEWS, 20, 4, live=live)
        rng = random.Random(5)
        for _ in range(4):
            _edit(store, rng)
            found = agreement_service.agreement_views(store, OPERATOR, VIEWS, 20, 4, live=live)
            _assert_same(found, agreement_service.agreement_views(store, OPERATOR, VIEWS, 20, 4))
