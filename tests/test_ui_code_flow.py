"""Code page flow: unsaved work kept as a draft when the coder moves on, the suggestions on a
unit shown after its submit (and only as the study's setting allows), and finding a unit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding.model import Suggestion
from coding.service import coder as coder_service
from coding.store import Store
from tests.ui_helpers import html_bodies, open_page, plain, tree_text

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def units_of(db: Path, coder: str = "chloe") -> list[str]:
    with Store.open(db) as store:
        return [u.segment_id for u in coder_service.coder_page(store, coder).units]


def saved(db: Path, sid: str, coder: str = "chloe") -> tuple[list[str], str, bool]:
    """A coder's codes, memo and submitted flag on one unit, as stored."""
    with Store.open(db) as store:
        unit = next(u for u in coder_service.coder_page(store, coder).units if u.segment_id == sid)
    return sorted(unit.codes), unit.memo, unit.completed


def shown_unit(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown if m.value.startswith("Unit **"))


def toasts(at: AppTest) -> str:
    return "\n".join(plain(str(t.value)) for t in at.toast)


def set_mode(db: Path, mode: str) -> None:
    with Store.open(db) as store:
        coder_service.set_suggestions_mode(store, "admin", mode)


def suggest(db: Path, found: list[tuple[str, str, float]]) -> None:
    """One run of the rules engine: (segment, code, score), evidence on the first 5 characters."""
    with Store.open(db) as store:
        starts = {s.id: s.start for s in store.segments()}
        rows = [
            Suggestion(
                sid,
                code,
                score,
                "rules",
                json.dumps([{"start": starts[sid], "end": starts[sid] + 5, "text": "Paren"}]),
            )
            for sid, code, score in found
        ]
        store.add_suggestion_run("rules", "t1", 1, {}, rows, "tester")


# -- drafts --------------------------------------------------------------------------------------
def test_unsaved_ticks_and_memo_survive_next_as_a_draft(team_db: Path) -> None:
    first = units_of(team_db)[0]
    at = open_page(team_db, "chloe", "code")
    at.checkbox(key=f"c-{first}-calm").check()
    at.text_area(key=f"memo-{first}").input("half a thought")
    at.button(key="code-next").click().run()
    assert not at.exception
    assert "Unit **2** of 4" in shown_unit(at)
    assert saved(team_db, first) == (["calm"], "half a thought", False)
    assert "as a draft (calm)" in toasts(at)
    at.button(key="code-prev").click().run()
    assert at.checkbox(key=f"c-{first}-calm").value
    assert at.text_area(key=f"memo-{first}").value == "half a thought"


def test_unsaved_work_survives_opening_another_unit_from_the_box(team_db: Path) -> None:
    first = units_of(team_db)[0]
    at = open_page(team_db, "chloe", "code")
    at.checkbox(key=f"c-{first}-cues").check()
    at.text_input(key="code_find").input("3").run()
    assert "Unit **3** of 4" in shown_unit(at)
    assert saved(team_db, first) == (["cues"], "", False)


def test_unsaved_work_survives_a_change_of_filter(team_db: Path) -> None:
    first = units_of(team_db)[0]
    at = open_page(team_db, "chloe", "code")
    at.checkbox(key=f"c-{first}-cues").check()
    at.radio(key="code_state").set_value("All").run()
    assert saved(team_db, first) == (["cues"], "", False)


def test_moving_on_from_an_untouched_unit_writes_nothing(team_db: Path) -> None:
    with Store.open(team_db) as store:
        before = store.revision()
    at = open_page(team_db, "chloe", "code")
    at.button(key="code-next").click().run()
    at.button(key="code-prev").click().run()
    with Store.open(team_db) as store:
        assert store.revision() == before
    assert not toasts(at)


def test_the_page_table_marks_a_draft(team_db: Path) -> None:
    first = units_of(team_db)[0]
    with Store.open(team_db) as store:
        coder_service.save_unit(store, "chloe", first, ["calm"], "")
    at = open_page(team_db, "chloe", "code")
    assert list(at.dataframe[0].value["status"])[:2] == ["draft", "to do"]


# -- suggestions after submit -------------------------------------------------------------------
def test_suggestions_appear_after_submit_with_score_explained_and_evidence(team_db: Path) -> None:
    first, second = units_of(team_db)[:2]
    suggest(team_db, [(first, "calm", 0.87), (second, "cues", 0.66)])
    at = open_page(team_db, "chloe", "code")
    assert "NLP suggestions" not in tree_text(at) and "0.87" not in tree_text(at)
    at.checkbox(key=f"c-{first}-cues").check()
    at.button(key="code-submit").click().run()
    assert not at.exception
    feedback = html_bodies(at)
    assert "NLP suggestions on the unit you just submitted" in tree_text(at)
    assert "Calm 0.87" in feedback and "you did not apply it" in feedback
    assert "Matched: &quot;Paren&quot;." in feedback  # the score explained
    assert "border-bottom:2px dashed" in feedback  # the evidence underlined in the text
    assert "You applied Cues; the engine did not suggest it." in feedback
    assert "0.66" not in tree_text(at)  # the open unit's own suggestion stays hidden


def test_no_suggestions_after_submit_when_the_study_says_never(team_db: Path) -> None:
    first = units_of(team_db)[0]
    suggest(team_db, [(first, "calm", 0.87)])
    set_mode(team_db, "never")
    at = open_page(team_db, "chloe", "code")
    at.button(key="code-submit").click().run()
    assert "Submitted" in toasts(at)
    assert "NLP suggestions" not in tree_text(at) and "0.87" not in tree_text(at)


def test_suggestions_show_before_submit_only_when_the_study_says_always(team_db: Path) -> None:
    first = units_of(team_db)[0]
    suggest(team_db, [(first, "calm", 0.87)])
    set_mode(team_db, "always")
    at = open_page(team_db, "chloe", "code")
    assert "NLP suggestions on this unit" in tree_text(at)
    assert "Calm 0.87" in html_bodies(at)


def test_no_suggestion_run_shows_no_suggestions(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    at.button(key="code-submit").click().run()
    assert "Submitted" in toasts(at)
    assert "NLP suggestions" not in tree_text(at)


# -- finding a unit -----------------------------------------------------------------------------
def test_search_finds_a_unit_and_opens_it(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    at.text_input(key="code_find").input("CHECK-IN").run()
    assert not at.exception
    hits = [b for b in at.button if b.key and b.key.startswith("code-hit-")]
    assert len(hits) == 1 and "check\\-in" in hits[0].label
    hits[0].click().run()
    assert "Unit **4** of 4" in shown_unit(at)
    assert "Each session opens with a check-in." in html_bodies(at)
    assert at.radio(key="code_state").value == "All"
    assert not [b for b in at.button if b.key and b.key.startswith("code-hit-")]


def test_search_says_when_nothing_matches(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    at.text_input(key="code_find").input("no such words").run()
    assert "None of your units holds" in plain(" ".join(c.value for c in at.caption))


def test_a_unit_number_opens_that_unit_of_the_view(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    at.text_input(key="code_find").input("2").run()
    assert "Unit **2** of 4" in shown_unit(at)
    assert at.text_input(key="code_find").value == ""


def test_a_panel_rerun_after_signing_out_draws_nothing_and_fails_nothing(team_db: Path) -> None:
    # Typing a memo and then clicking Sign out sends two reruns: the panel's, then the page's.
    # The sign-out has cleared the session by the time the panel reruns.
    from coding.ui import state
    from tests.ui_fragments import run_fragment

    at = open_page(team_db, "chloe", "code")
    del at.session_state[state.USER]
    run_fragment(at)
    assert not at.exception
