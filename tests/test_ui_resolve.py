"""Resolve page: the reviewer's queue, decisions with rationale, undo, codebook notes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding import service
from coding.model import Decision
from coding.review import Choice
from coding.service import coder as coder_service
from coding.service import queue as queue_service
from coding.service import review as review_service
from coding.store import Store
from tests.conftest import DATA
from tests.ui_helpers import html_bodies, open_page, plain

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def current_segment(db: Path) -> str:
    with Store.open(db) as store:
        page, _ = queue_service.review_queue(store, "rosa", limit=1)
    return str(page["segment_id"].iloc[0])


def decide(at: AppTest, sid: str, choice: Choice, why: str) -> AppTest:
    at.radio(key=f"choice-{sid}").set_value(choice)
    at.text_area(key=f"why-{sid}").input(why)
    return at.button(key=f"FormSubmitter:decide-{sid}-Record decision").click().run()


def test_resolve_page_shows_the_first_disagreement(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "resolve")
    assert "0 of 2 disagreements resolved" in at.get("progress")[0].proto.text
    bodies = html_bodies(at)
    assert "Staff help them calm down" in bodies  # the unit, highlighted in context
    assert "Intro text before the first section" in bodies  # the unit before it
    assert "amira" in " ".join(m.value for m in at.markdown)
    assert "The parent manages their own distress." in bodies  # codebook entry


def test_a_decision_writes_one_resolution_and_one_event(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    with Store.open(team_db) as store:
        revision = store.revision()
    decide(at, sid, Choice.accept("amira"), "The parent calms herself down.")
    assert not at.exception
    with Store.open(team_db) as store:
        resolutions = store.resolutions()
        events = store.events()
    assert len(resolutions) == 1
    assert (
        resolutions[0].segment_id,
        resolutions[0].code_id,
        resolutions[0].decision,
        resolutions[0].reviewer,
    ) == (sid, "calm", Decision.APPLY, "rosa")
    assert len(events[events["id"] > revision]) == 1
    assert events.iloc[-1]["action"] == "resolve"
    assert "1 of 2 disagreements resolved" in at.get("progress")[0].proto.text


def test_a_decision_without_rationale_is_refused(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    decide(at, sid, Choice.merge(), "   ")
    assert "rationale" in at.error[0].value
    with Store.open(team_db) as store:
        assert store.resolutions() == []


def test_undo_creates_a_withdrawal(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    at.radio(key="q_state").set_value("All").run()
    decide(at, sid, Choice.neither(), "Staff calm, not the parent.")
    at.button(key="queue-prev").click().run()
    at.text_input(key=f"undo-why-{sid}").input("that was far too hasty")
    at.button(key=f"FormSubmitter:undo-{sid}-Undo decision").click().run()
    assert not at.exception
    with Store.open(team_db) as store:
        assert [r.decision for r in store.resolutions()] == [Decision.REJECT, Decision.WITHDRAW]


def test_undo_after_someone_else_decided_withdraws_nothing(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    at.radio(key="q_state").set_value("All").run()
    decide(at, sid, Choice.neither(), "Staff calm, not the parent.")
    at.button(key="queue-prev").click().run()
    with Store.open(team_db) as store:  # meanwhile another reviewer decides differently
        item = queue_service.review_item(store, "admin", sid)
        seen = {str(r.code_id): int(r.id) for r in item.standing.itertuples()}
        review_service.decide(
            store, "admin", sid, Choice.merge(), "The parent calms down.", seen=seen
        )
    at.text_input(key=f"undo-why-{sid}").input("that was far too hasty")
    at.button(key=f"FormSubmitter:undo-{sid}-Undo decision").click().run()
    assert not at.exception
    assert "changed since you looked" in plain(at.error[0].value)
    with Store.open(team_db) as store:
        assert [r.decision for r in store.resolutions()] == [Decision.REJECT, Decision.APPLY]


def test_queue_filter_by_code(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "resolve")
    at.selectbox(key="q_code").set_value("cues").run()
    assert (
        "0 of 1 disagreements resolved; 1 units in this queue" in at.get("progress")[0].proto.text
    )
    assert "disputed: cues" in html_bodies(at)


def test_codebook_note_is_recorded(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    at.text_input(key=f"note-text-{sid}").input("Ambiguous: whose calm?")
    at.button(key=f"FormSubmitter:note-{sid}-Add note").click().run()
    assert not at.exception
    with Store.open(team_db) as store:
        notes = review_service.code_notes(store, "rosa")
    assert list(notes["note"]) == ["Ambiguous: whose calm?"]
    assert list(notes["segment_id"]) == [sid]


def test_a_code_removed_from_the_codebook_does_not_break_the_page(
    team_db: Path, tmp_path: Path
) -> None:
    with Store.open(team_db) as store:
        unit = [s.id for s in store.segments()][2]  # amira and ben agreed on cues here
        coder_service.save_unit(store, "chloe", unit, ["calm", "cues"], "", submit=True)
        text = (DATA / "codebook_small.yaml").read_text(encoding="utf-8")
        v2 = tmp_path / "v2.yaml"
        v2.write_text(text[: text.index("  - id: cues")], encoding="utf-8")
        service.load_codebook(store, v2, "tester")
    at = open_page(team_db, "rosa", "resolve")
    at.button(key="queue-next").click().run()
    assert not at.exception, at.exception
    assert at.multiselect(key=f"other-{unit}").value == []
    decide(at, unit, Choice.merge(), "calm applies to the parent")
    assert not at.exception
    with Store.open(team_db) as store:
        assert {(r.segment_id, r.code_id) for r in store.resolutions()} == {(unit, "calm")}
