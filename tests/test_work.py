"""The app's service layer: blind coder work, the reviewer's queue, decisions and undo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from coding import review, service
from coding.errors import CodingError, Conflict, NotFound, PermissionDenied
from coding.model import Decision, Suggestion
from coding.review import Choice
from coding.service import access
from coding.service import coder as coder_service
from coding.service import export as export_service
from coding.service import overview as overview_service
from coding.service import queue as queue_service
from coding.service import review as review_service
from coding.store import Store
from coding.store import coder as coder_store
from tests.conftest import DATA

pytestmark = pytest.mark.both_engines


@pytest.fixture
def team(team_db: Path) -> Iterator[Store]:
    with Store.open(team_db) as opened:
        yield opened


def units(store: Store) -> list[str]:
    return [s.id for s in store.segments()]


def test_coder_page_holds_only_own_codes(team: Store) -> None:
    page = coder_service.coder_page(team, "amira")
    by_unit = {u.segment_id: u.codes for u in page.units}
    ids = units(team)
    assert by_unit[ids[1]] == ("calm",)
    assert by_unit[ids[3]] == ()  # ben coded 'cues' here; amira must not see it


def test_own_annotations_query_filters_by_coder(team: Store) -> None:
    frame = coder_store.own_annotations(team, "amira", units(team))
    assert set(frame["code_id"]) == {"calm", "cues"}
    assert len(frame) == 2


def test_coder_page_pages_with_limit_and_offset(team: Store) -> None:
    page = coder_service.coder_page(team, "chloe", limit=2, offset=1)
    assert page.total == 4
    assert [u.position for u in page.units] == [1, 2]
    assert page.assigned == 4 and page.completed == 0


def test_save_then_submit_locks_the_unit(team: Store) -> None:
    unit = units(team)[0]
    coder_service.save_unit(team, "chloe", unit, ["calm", "cues"], "first")
    coder_service.save_unit(team, "chloe", unit, ["cues"], "second", submit=True)
    mine = coder_store.own_annotations(team, "chloe", [unit])
    assert list(mine["code_id"]) == ["cues"]
    assert list(mine["memo"]) == ["second"]
    assert coder_service.coder_page(team, "chloe").units[0].completed
    with pytest.raises(Conflict, match="already submitted"):
        coder_service.save_unit(team, "chloe", unit, ["calm"])


def test_submit_with_no_codes_marks_the_unit_complete(team: Store) -> None:
    unit = units(team)[0]
    coder_service.save_unit(team, "chloe", unit, [], "", submit=True)
    done = team.assignments_frame(["chloe"])
    assert done.set_index("segment_id").at[unit, "completed"]


def test_a_memo_without_codes_is_kept(team: Store) -> None:
    unit = units(team)[0]
    coder_service.save_unit(team, "chloe", unit, [], "None of the codes fit; ask the reviewer")
    assert (
        coder_service.coder_page(team, "chloe").units[0].memo
        == "None of the codes fit; ask the reviewer"
    )
    coder_service.save_unit(team, "chloe", unit, ["calm"], "calm after all")
    coder_service.save_unit(team, "chloe", unit, [], "no code after all", submit=True)
    assert coder_service.coder_page(team, "chloe").units[0].memo == "no code after all"


def test_the_reviewer_reads_a_memo_without_codes_after_submit(team: Store) -> None:
    unit = units(team)[1]  # amira coded calm here, ben nothing: a disagreement
    coder_service.save_unit(team, "chloe", unit, [], "draft thought")
    assert "chloe" not in queue_service.review_item(team, "rosa", unit).memos_by_coder
    coder_service.save_unit(team, "chloe", unit, [], "Unsure: staff or parent calm?", submit=True)
    item = queue_service.review_item(team, "rosa", unit)
    assert item.memos_by_coder["chloe"] == "Unsure: staff or parent calm?"


def test_another_coder_never_reads_a_memo(team: Store) -> None:
    unit = units(team)[0]
    access.add_user(team, "dora", "coder", "pw-test-dora", "tester")
    service.assign(team, "dora", "tester")
    coder_service.save_unit(team, "chloe", unit, [], "CHLOE-ONLY", submit=True)
    assert all(u.memo != "CHLOE-ONLY" for u in coder_service.coder_page(team, "dora").units)
    assert "CHLOE-ONLY" not in coder_store.unit_memos(team, [unit], ["dora"]).to_csv()


def test_memo_and_codes_are_saved_in_one_event_and_kept_on_annotations(team: Store) -> None:
    unit = units(team)[0]
    before = team.revision()
    coder_service.save_unit(team, "chloe", unit, ["calm"], "why calm")
    assert team.revision() == before + 1
    assert list(coder_store.own_annotations(team, "chloe", [unit])["memo"]) == ["why calm"]


def test_save_writes_one_audit_event(team: Store) -> None:
    before = team.revision()
    coder_service.save_unit(team, "chloe", units(team)[0], ["calm"], "m", submit=True)
    events = team.events()
    assert team.revision() == before + 1
    assert events.iloc[-1]["action"] == "code_unit"


@pytest.mark.parametrize(
    ("user", "error"), [("rosa", PermissionDenied), ("ghost", PermissionDenied)]
)
def test_only_coders_save(team: Store, user: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        coder_service.save_unit(team, user, units(team)[0], ["calm"])


def test_cannot_code_an_unassigned_unit_or_unknown_code(team: Store) -> None:
    access.add_user(team, "dora", "coder", "pw-test-dora", "tester")
    with pytest.raises(NotFound, match="not assigned"):
        coder_service.save_unit(team, "dora", units(team)[0], ["calm"])
    with pytest.raises(NotFound, match="unknown code"):
        coder_service.save_unit(team, "chloe", units(team)[0], ["nope"])


def _suggest(store: Store, segment_id: str) -> None:
    evidence = json.dumps([{"start": 0, "end": 4, "text": "x", "pattern": "x"}])
    store.add_suggestion_run(
        "rules", "t1", 1, {}, [Suggestion(segment_id, "calm", 0.9, "rules", evidence)], "tester"
    )


@pytest.mark.parametrize(
    ("mode", "before", "after"),
    [
        ("after_submit", False, True),
        ("always", True, True),
        ("never", False, False),
    ],
)
def test_suggestions_follow_the_blinding_setting(
    team: Store, mode: str, before: bool, after: bool
) -> None:
    unit = units(team)[0]
    _suggest(team, unit)
    coder_service.set_suggestions_mode(team, "admin", mode)
    assert (coder_service.coder_page(team, "chloe").units[0].suggestions is not None) is before
    coder_service.save_unit(team, "chloe", unit, [], submit=True)
    assert (coder_service.coder_page(team, "chloe").units[0].suggestions is not None) is after


def test_only_an_admin_changes_the_blinding_setting(team: Store) -> None:
    with pytest.raises(PermissionDenied):
        coder_service.set_suggestions_mode(team, "rosa", "always")


def test_queue_matches_the_disagreements_service(team: Store) -> None:
    expected = service.disagreements(team)
    page, counts = queue_service.review_queue(team, "rosa", state="all")
    assert counts.pairs == len(expected) == 2
    assert set(page["segment_id"]) == set(expected["segment_id"])
    assert counts.resolved == 0


@pytest.mark.parametrize(
    ("filters", "items"),
    [
        ({"code_id": "calm"}, 1),
        ({"code_id": "cues"}, 1),
        ({"coder": "amira"}, 2),
        ({"coder": "chloe"}, 0),
        ({"document_id": "manual"}, 2),
        ({"document_id": "x"}, 0),
    ],
)
def test_queue_filters(team: Store, filters: dict[str, str], items: int) -> None:
    _, counts = queue_service.review_queue(team, "rosa", **filters)  # type: ignore[arg-type]
    assert counts.items == items


def test_coder_cannot_read_the_queue(team: Store) -> None:
    with pytest.raises(PermissionDenied):
        queue_service.review_queue(team, "amira")


def _item(store: Store, code_id: str) -> queue_service.QueueItem:
    page, _ = queue_service.review_queue(store, "rosa", code_id=code_id)
    return queue_service.review_item(store, "rosa", str(page["segment_id"].iloc[0]))


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (Choice.accept("amira"), {"calm": Decision.APPLY}),
        (Choice.accept("ben"), {"calm": Decision.REJECT}),
        (Choice.merge(), {"calm": Decision.APPLY}),
        (Choice.neither(), {"calm": Decision.REJECT}),
        (Choice.other(["cues"]), {"calm": Decision.REJECT, "cues": Decision.APPLY}),
    ],
)
def test_choices_map_to_decisions(
    team: Store, choice: Choice, expected: dict[str, Decision]
) -> None:
    assert _item(team, "calm").decisions(choice) == expected


def test_decision_writes_one_resolution_and_one_event(team: Store) -> None:
    item = _item(team, "calm")
    annotations_before = team.annotations_frame()
    revision = team.revision()
    ids = review_service.decide(
        team, "rosa", item.segment_id, Choice.accept("amira"), "Parent calms herself"
    )
    assert len(ids) == 1
    (resolution,) = team.resolutions()
    assert (resolution.code_id, resolution.decision, resolution.reviewer) == (
        "calm",
        Decision.APPLY,
        "rosa",
    )
    assert team.revision() == revision + 1
    assert team.annotations_frame().equals(annotations_before)
    _, counts = queue_service.review_queue(team, "rosa", state="all")
    assert counts.resolved == 1


def _final(store: Store, segment_id: str) -> set[str]:
    finals = review.final_codes(
        store.annotations_frame(),
        store.assignments_frame(),
        store.current_resolutions_frame(),
        store.codebook().codebook.code_ids,
    )
    mine = finals[(finals["segment_id"] == segment_id) & finals["final"].astype(bool)]
    return set(mine["code_id"])


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (Choice.accept("amira"), {"calm"}),
        (Choice.accept("ben"), set()),
        (Choice.merge(), {"calm"}),
        (Choice.neither(), set()),
    ],
)
def test_a_later_choice_replaces_an_earlier_other(
    team: Store, choice: Choice, expected: set[str]
) -> None:
    sid = _item(team, "calm").segment_id
    review_service.decide(
        team, "rosa", sid, Choice.other(["calm", "cues"]), "cues are there as well"
    )
    assert _final(team, sid) == {"calm", "cues"}
    item = queue_service.review_item(team, "rosa", sid)
    seen = {str(r.code_id): int(r.id) for r in item.standing.itertuples()}
    review_service.decide(team, "rosa", sid, choice, "second thoughts on this unit", seen=seen)
    assert _final(team, sid) == expected


def test_a_later_other_withdraws_what_an_earlier_other_added(team: Store) -> None:
    sid = _item(team, "calm").segment_id
    review_service.decide(
        team, "rosa", sid, Choice.other(["calm", "cues"]), "cues are there as well"
    )
    item = queue_service.review_item(team, "rosa", sid)
    seen = {str(r.code_id): int(r.id) for r in item.standing.itertuples()}
    review_service.decide(
        team, "rosa", sid, Choice.other(["calm"]), "only calm applies here", seen=seen
    )
    assert _final(team, sid) == {"calm"}


def _drop_cues(store: Store, tmp_path: Path) -> None:
    """Codebook v2 without 'cues', after chloe agreed with amira and ben on cues in unit 2
    and added calm there (so unit 2 is disputed on calm only)."""
    unit = units(store)[2]
    coder_service.save_unit(store, "chloe", unit, ["calm", "cues"], "", submit=True)
    text = (DATA / "codebook_small.yaml").read_text(encoding="utf-8")
    v2 = tmp_path / "v2.yaml"
    v2.write_text(text[: text.index("  - id: cues")], encoding="utf-8")
    service.load_codebook(store, v2, "tester")


def test_a_removed_code_is_neither_shown_nor_decided(team: Store, tmp_path: Path) -> None:
    _drop_cues(team, tmp_path)
    unit = units(team)[2]
    item = queue_service.review_item(team, "rosa", unit)
    assert {c: item.codes_of(c) for c in item.coders} == {
        "amira": [],
        "ben": [],
        "chloe": ["calm"],
    }
    assert item.unit.agreed() == set() and item.disputed == ["calm"]
    for choice in (Choice.accept("chloe"), Choice.merge(), Choice.neither()):
        assert set(item.decisions(choice)) == {"calm"}
    review_service.decide(team, "rosa", unit, Choice.other(["calm"]), "calm applies to the parent")
    assert {r.code_id for r in team.resolutions()} == {"calm"}


def test_decision_needs_a_rationale(team: Store) -> None:
    item = _item(team, "calm")
    with pytest.raises(CodingError, match="rationale"):
        review_service.decide(team, "rosa", item.segment_id, Choice.merge(), "  ")
    assert team.resolutions() == []


def test_coder_cannot_decide(team: Store) -> None:
    item = _item(team, "calm")
    with pytest.raises(PermissionDenied):
        review_service.decide(team, "amira", item.segment_id, Choice.accept("amira"), "mine")


def test_undo_adds_a_withdrawal_and_erases_nothing(team: Store) -> None:
    item = _item(team, "calm")
    review_service.decide(team, "rosa", item.segment_id, Choice.neither(), "not about the parent")
    review_service.undo(team, "rosa", item.segment_id, "decided this too fast")
    history = team.resolutions()
    assert [r.decision for r in history] == [Decision.REJECT, Decision.WITHDRAW]
    assert queue_service.review_item(team, "rosa", item.segment_id).open_codes == ["calm"]
    with pytest.raises(CodingError, match="no decision"):
        review_service.undo(team, "rosa", item.segment_id, "undo it once again")


def _seen(store: Store, segment_id: str) -> dict[str, int]:
    item = queue_service.review_item(store, "rosa", segment_id)
    return {str(r.code_id): int(r.id) for r in item.standing.itertuples()}


def test_undo_refuses_to_withdraw_a_decision_it_did_not_see(team: Store) -> None:
    sid = _item(team, "calm").segment_id
    review_service.decide(team, "rosa", sid, Choice.neither(), "not about the parent")
    seen = _seen(team, sid)
    review_service.decide(team, "admin", sid, Choice.merge(), "the parent calms down", seen=seen)
    with pytest.raises(Conflict, match="changed since you looked"):
        review_service.undo(team, "rosa", sid, "decided this too fast", seen=seen)
    assert [r.decision for r in team.resolutions()] == [Decision.REJECT, Decision.APPLY]
    review_service.undo(team, "rosa", sid, "now I have seen the decision", seen=_seen(team, sid))
    assert team.resolutions()[-1].decision == Decision.WITHDRAW


def test_undo_refuses_when_the_seen_decision_was_already_withdrawn(team: Store) -> None:
    sid = _item(team, "calm").segment_id
    review_service.decide(team, "rosa", sid, Choice.neither(), "not about the parent")
    seen = _seen(team, sid)
    review_service.undo(team, "admin", sid, "the admin undid it first", seen=seen)
    with pytest.raises(Conflict):
        review_service.undo(team, "rosa", sid, "undo it once again", seen=seen)


def test_code_note_is_recorded_by_a_reviewer(team: Store) -> None:
    item = _item(team, "calm")
    review_service.add_code_note(
        team, "rosa", "calm", "Ambiguous: staff calm vs parent calm", item.segment_id
    )
    notes = review_service.code_notes(team, "rosa", ["calm"])
    assert list(notes["author"]) == ["rosa"]
    assert queue_service.review_item(team, "rosa", item.segment_id).notes.shape[0] == 1
    with pytest.raises(PermissionDenied):
        review_service.add_code_note(team, "amira", "calm", "x")


def test_study_overview_counts_and_next_steps(team: Store) -> None:
    overview = overview_service.study_overview(team, "rosa")
    assert overview.codebook_version == 1
    assert overview.disagreements.pairs == 2
    assert any("chloe" in step for step in overview.next_steps)
    assert any("resolve 2" in step for step in overview.next_steps)


@pytest.mark.parametrize("user", ["amira", "chloe", "ghost"])
def test_the_full_study_overview_is_not_for_coders(team: Store, user: str) -> None:
    with pytest.raises(PermissionDenied):
        overview_service.study_overview(team, user)


def test_a_coders_overview_holds_only_their_own_work(team: Store) -> None:
    mine = overview_service.coder_overview(team, "amira")
    assert (mine.coder, mine.assigned, mine.completed) == ("amira", 4, 4)
    assert list(mine.documents.columns) == ["document_id", "title", "assigned", "completed"]
    shown = repr(mine) + mine.documents.to_csv()
    assert "ben" not in shown and "chloe" not in shown and "disagree" not in shown
    assert overview_service.coder_overview(team, "chloe").next_steps == [
        "4 unit(s) still to code on the Code page."
    ]
    with pytest.raises(PermissionDenied):
        overview_service.coder_overview(team, "rosa")


def test_export_needs_a_reviewer_and_returns_csv(team: Store) -> None:
    with pytest.raises(PermissionDenied):
        export_service.export_download(team, "amira", "segments", "csv")
    name, data = export_service.export_download(team, "rosa", "segments", "csv")
    assert name == "coded_segments.csv" and data.startswith(b"segment_id,")
