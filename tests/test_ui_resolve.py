"""Resolve page: the reviewer's queue, decisions with rationale, undo, codebook notes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from coding import service
from coding.model import Decision, Suggestion
from coding.review import Choice
from coding.service import assignment as assignment_service
from coding.service import coder as coder_service
from coding.service import queue as queue_service
from coding.service import review as review_service
from coding.store import Store
from coding.ui import pages, resolve
from tests.conftest import DATA
from tests.ui_fragments import run_fragment
from tests.ui_helpers import errors_in_form, html_bodies, open_page, plain

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
    assert "disputed: Cues" in html_bodies(at)


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


def record(at: AppTest, sid: str) -> AppTest:
    return at.button(key=f"FormSubmitter:decide-{sid}-Record decision").click().run()


def test_no_decision_is_preselected(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    assert at.radio(key=f"choice-{sid}").value is None


def test_recording_with_nothing_chosen_asks_for_a_choice_beside_the_form(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    at.text_area(key=f"why-{sid}").input("The parent calms herself down.")
    record(at, sid)
    assert not at.exception
    assert errors_in_form(at, f"decide-{sid}") == ["Choose a decision first."]
    with Store.open(team_db) as store:
        assert store.resolutions() == []


def test_the_rationale_error_is_shown_beside_the_rationale(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    decide(at, sid, Choice.merge(), "ok")
    (error,) = errors_in_form(at, f"decide-{sid}")
    assert "rationale" in error
    assert len(at.error) == 1  # beside the field only, not again at the top of the page


def _three_coders_on_unit_2(db: Path) -> str:
    """chloe submits unit 2 with calm and cues: amira and ben applied only cues."""
    with Store.open(db) as store:
        unit = [s.id for s in store.segments()][2]
        coder_service.save_unit(store, "chloe", unit, ["calm", "cues"], "", submit=True)
    return unit


def test_choice_labels_say_what_each_coder_applied_and_the_result(team_db: Path) -> None:
    unit = _three_coders_on_unit_2(team_db)
    at = open_page(team_db, "rosa", "resolve")
    at.button(key="queue-next").click().run()
    options = [plain(o) for o in at.radio(key=f"choice-{unit}").options]
    assert options == [
        "Accept amira: Cues (agreed)",
        "Accept ben: Cues (agreed)",
        "Accept chloe: Calm + Cues (agreed)",
        "Merge (every code a coder applied): Calm + Cues (agreed)",
        "Neither (drop the disputed codes): Cues (agreed)",
        "Other: the codes you choose below",
    ]


def _unit_1(db: Path) -> tuple[str, int, str]:
    with Store.open(db) as store:
        segment = store.segments()[1]
    return segment.id, segment.start, segment.text


def _suggest(db: Path, engine: str, sid: str, evidence: object) -> None:
    with Store.open(db) as store:
        suggestion = Suggestion(sid, "calm", 0.8, engine, json.dumps(evidence))
        store.add_suggestion_run(engine, f"{engine}:1", 1, {}, [suggestion], "tester")


def test_rules_evidence_is_highlighted_in_the_unit_not_shown_as_json(team_db: Path) -> None:
    sid, start, text = _unit_1(team_db)
    at_ = text.index("calm down")
    evidence = [{"start": start + at_, "end": start + at_ + 4, "text": "calm", "pattern": "calm"}]
    _suggest(team_db, "rules", sid, evidence)
    at = open_page(team_db, "rosa", "resolve")
    bodies = html_bodies(at)
    assert 'dashed #b45309" title="NLP (rules) for Calm: matched &quot;calm&quot;">calm</mark>' in (
        bodies
    )
    shown = " ".join(plain(c.value) for c in at.caption)
    assert 'Matched: "calm".' in shown
    assert '"start"' not in shown and '"start"' not in bodies


def test_supervised_evidence_is_highlighted_and_explained(team_db: Path) -> None:
    sid, _, _ = _unit_1(team_db)
    evidence = {
        "calibrated": True,
        "threshold": 0.42,
        "terms": [{"term": "word:soothe themselves", "weight": 0.3}, {"term": "rule:calm"}],
        "neighbours": [{"segment_id": "abc", "similarity": 0.61, "codes": ["calm"]}],
    }
    _suggest(team_db, "supervised", sid, evidence)
    at = open_page(team_db, "rosa", "resolve")
    assert '">soothe themselves</mark>' in html_bodies(at)
    shown = " ".join(plain(c.value) for c in at.caption)
    assert "Words that raised the score: soothe themselves." in shown
    assert "Most similar coded units: similarity 0.61 (Calm)." in shown
    assert "{" not in shown


def test_a_legend_says_what_the_highlights_mean(team_db: Path) -> None:
    sid, start, text = _unit_1(team_db)
    at_ = text.index("calm")
    evidence = [{"start": start + at_, "end": start + at_ + 4, "text": "calm", "pattern": "calm"}]
    _suggest(team_db, "rules", sid, evidence)
    at = open_page(team_db, "rosa", "resolve")
    bodies = html_bodies(at)
    assert "Highlights:" in bodies and ">NLP evidence</mark>" in bodies
    assert "several coders" not in bodies  # no coder marked a part of this unit


def test_undo_errors_are_shown_beside_the_undo_form(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    at.radio(key="q_state").set_value("All").run()
    decide(at, sid, Choice.neither(), "Staff calm, not the parent.")
    at.button(key="queue-prev").click().run()
    at.button(key=f"FormSubmitter:undo-{sid}-Undo decision").click().run()
    assert not at.exception
    (error,) = errors_in_form(at, f"undo-{sid}")
    assert "needs a rationale" in error


def test_after_an_undo_the_page_stays_on_the_unit(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    at.radio(key="q_state").set_value("All").run()
    decide(at, sid, Choice.neither(), "Staff calm, not the parent.")
    at.button(key="queue-prev").click().run()
    at.text_input(key=f"undo-why-{sid}").input("that was far too hasty")
    at.button(key=f"FormSubmitter:undo-{sid}-Undo decision").click().run()
    assert not at.exception
    assert at.session_state["queue_pos"] == 0
    assert at.radio(key=f"choice-{sid}")  # this unit's form is still the one shown


def test_an_undo_that_takes_the_unit_out_of_the_queue_keeps_it_in_view(team_db: Path) -> None:
    sid = current_segment(team_db)
    at = open_page(team_db, "rosa", "resolve")
    decide(at, sid, Choice.neither(), "Staff calm, not the parent.")
    at.radio(key="q_state").set_value("Resolved").run()
    at.text_input(key=f"undo-why-{sid}").input("that was far too hasty")
    at.button(key=f"FormSubmitter:undo-{sid}-Undo decision").click().run()
    assert not at.exception
    assert "Staff help them calm down" in html_bodies(at)
    assert "out of the queue" in at.info[0].value
    with Store.open(team_db) as store:
        assert [r.decision for r in store.resolutions()] == [Decision.REJECT, Decision.WITHDRAW]


# -- a decision reruns only the panel -----------------------------------------------------------
class Runs:
    """How often the app's body and the Resolve page's body ran (spies on calls only they make)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app = self.page = 0
        sidebar, document_ids = pages.sidebar, assignment_service.document_ids

        def app_body(*args: Any) -> None:
            self.app += 1
            sidebar(*args)

        def page_body(*args: Any, **options: Any) -> list[str]:
            self.page += 1
            return document_ids(*args, **options)

        monkeypatch.setattr(pages, "sidebar", app_body)
        monkeypatch.setattr(assignment_service, "document_ids", page_body)


def test_recording_a_decision_reruns_the_panel_not_the_page(
    team_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = current_segment(team_db)
    runs = Runs(monkeypatch)
    at = open_page(team_db, "rosa", "resolve")
    before = (runs.app, runs.page)
    at.radio(key=f"choice-{first}").set_value(Choice.accept("amira"))
    at.text_area(key=f"why-{first}").input("The parent calms herself down.")
    at.button(key=f"FormSubmitter:decide-{first}-Record decision").click()
    run_fragment(at, resolve.PANEL)
    assert not at.exception
    assert (runs.app, runs.page) == before  # neither the app nor the page ran again
    assert "1 of 2 disagreements resolved" in at.get("progress")[0].proto.text
    second = current_segment(team_db)
    assert second != first
    assert at.radio(key=f"choice-{second}").value is None  # the panel drew the next unit
    with Store.open(team_db) as store:
        assert [(r.segment_id, r.code_id) for r in store.resolutions()] == [(first, "calm")]


def test_undo_in_place_reruns_only_the_panel(
    team_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = current_segment(team_db)
    runs = Runs(monkeypatch)
    at = open_page(team_db, "rosa", "resolve")
    at.radio(key="q_state").set_value("All").run()
    before = (runs.app, runs.page)
    at.radio(key=f"choice-{sid}").set_value(Choice.neither())
    at.text_area(key=f"why-{sid}").input("Staff calm, not the parent.")
    at.button(key=f"FormSubmitter:decide-{sid}-Record decision").click()
    run_fragment(at, resolve.PANEL)
    at.button(key="queue-prev").click()
    run_fragment(at, resolve.PANEL)
    at.text_input(key=f"undo-why-{sid}").input("that was far too hasty")
    at.button(key=f"FormSubmitter:undo-{sid}-Undo decision").click()
    run_fragment(at, resolve.PANEL)
    assert not at.exception
    assert (runs.app, runs.page) == before
    assert "Undone: 1 decision(s) withdrawn" in plain(at.success[0].value)
    assert at.radio(key=f"choice-{sid}")  # still on the same unit
    with Store.open(team_db) as store:
        assert [r.decision for r in store.resolutions()] == [Decision.REJECT, Decision.WITHDRAW]


def test_a_panel_rerun_after_signing_out_draws_nothing_and_fails_nothing(team_db: Path) -> None:
    from coding.ui import state

    at = open_page(team_db, "rosa", "resolve")
    del at.session_state[state.USER]
    run_fragment(at, resolve.PANEL)
    assert not at.exception
