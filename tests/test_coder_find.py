"""A coder finds their own units (by words, by place in a view), reads their progress, and sees
the suggestions on a unit only as the study's blinding setting allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from coding.errors import NotFound, PermissionDenied
from coding.model import Suggestion
from coding.service import access
from coding.service import coder as coder_service
from coding.store import Store
from tests.ui_helpers import PASSWORD

pytestmark = pytest.mark.both_engines


@pytest.fixture
def team(team_db: Path) -> Iterator[Store]:
    with Store.open(team_db) as opened:
        yield opened


def ids(store: Store) -> list[str]:
    return [u.segment_id for u in coder_service.coder_page(store, "chloe").units]


def test_find_units_ignores_case_and_lists_the_coders_units_in_order(team: Store) -> None:
    found = coder_service.find_units(team, "chloe", "  THE   parent ")
    assert found.total == 1
    hit = found.units.iloc[0]
    assert hit["segment_id"] == ids(team)[2] and not hit["completed"]
    assert "the parent" in hit["snippet"].lower()


def test_find_units_takes_wildcards_literally(team: Store) -> None:
    assert coder_service.find_units(team, "chloe", "%").total == 0
    assert coder_service.find_units(team, "chloe", "_").total == 0
    assert coder_service.find_units(team, "chloe", "   ").total == 0


def test_find_units_searches_only_the_coders_own_units(team: Store) -> None:
    access.add_user(team, "dora", "coder", PASSWORD, "tester")
    assert coder_service.find_units(team, "dora", "parent").total == 0


def test_find_units_refuses_a_reviewer(team: Store) -> None:
    with pytest.raises(PermissionDenied):
        coder_service.find_units(team, "rosa", "parent")


def test_unit_index_is_the_place_in_the_view(team: Store) -> None:
    units = ids(team)
    assert coder_service.unit_index(team, "chloe", units[2]) == 2
    coder_service.save_unit(team, "chloe", units[0], [], "", submit=True)
    assert coder_service.unit_index(team, "chloe", units[2], state="todo") == 1
    assert coder_service.unit_index(team, "chloe", units[0], state="todo") is None


def test_coder_view_counts_progress(team: Store) -> None:
    coder_service.save_unit(team, "chloe", ids(team)[0], ["calm"], "", submit=True)
    view = coder_service.coder_view(team, "chloe", state="todo", limit=2)
    assert (view.assigned, view.completed, view.total, len(view.units)) == (4, 1, 3, 2)


def _suggest(store: Store, sid: str) -> None:
    evidence = json.dumps([{"start": 0, "end": 5, "text": "Intro"}])
    store.add_suggestion_run(
        "rules", "t1", 1, {}, [Suggestion(sid, "calm", 0.9, "rules", evidence)], "tester"
    )


def test_unit_suggestions_stay_hidden_until_the_unit_is_submitted(team: Store) -> None:
    sid = ids(team)[0]
    _suggest(team, sid)
    assert coder_service.unit_suggestions(team, "chloe", sid) is None
    coder_service.save_unit(team, "chloe", sid, ["cues"], "", submit=True)
    shown = coder_service.unit_suggestions(team, "chloe", sid)
    assert shown is not None and shown.codes == ("cues",)
    assert list(shown.suggestions["code_id"]) == ["calm"]


@pytest.mark.parametrize(
    ("mode", "before", "after"), [("always", True, True), ("never", False, False)]
)
def test_unit_suggestions_follow_the_study_setting(
    team: Store, mode: str, before: bool, after: bool
) -> None:
    sid = ids(team)[0]
    _suggest(team, sid)
    coder_service.set_suggestions_mode(team, "admin", mode)
    assert (coder_service.unit_suggestions(team, "chloe", sid) is not None) is before
    coder_service.save_unit(team, "chloe", sid, [], "", submit=True)
    assert (coder_service.unit_suggestions(team, "chloe", sid) is not None) is after


def test_unit_suggestions_only_on_the_coders_own_units(team: Store) -> None:
    access.add_user(team, "dora", "coder", PASSWORD, "tester")
    with pytest.raises(NotFound):
        coder_service.unit_suggestions(team, "dora", ids(team)[0])
