"""Study page: counts, progress per coder and document, disagreements, next steps; a coder's
own view; where the study lives shown to admins only; titles never rendered as Markdown."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from coding import service
from coding.service import access
from coding.service import coder as coder_service
from coding.store import Store
from tests.ui_helpers import app, open_page, plain, tree_text

BEACON = "![t](http://beacon.invalid/x.png) **bold**"

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def test_study_page_shows_progress_and_next_steps(team_db: Path) -> None:
    at = open_page(team_db, "rosa", "study")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Units"] == "4"
    assert metrics["Codebook"] == "v1"
    bars = [p.proto.text for p in at.get("progress")]
    assert any("0 resolved, 2 open of 2" in b for b in bars)
    assert any("chloe: all documents" in b for b in bars)
    steps = plain(" ".join(m.value for m in at.markdown))
    assert "chloe: 4 unit(s) still to code" in steps


@pytest.mark.parametrize("coder", ["amira", "chloe"])
def test_a_coder_sees_only_their_own_progress(team_db: Path, coder: str) -> None:
    at = open_page(team_db, coder, "study")
    sent = tree_text(at)
    others = {"amira", "ben", "chloe", "rosa", "admin"} - {coder}
    assert not [name for name in others if re.search(rf"\b{name}\b", sent)]
    for word in ("disagree", "resolve", "Resolve", " open "):
        assert word not in sent
    assert "units submitted" in " ".join(p.proto.text for p in at.get("progress"))


def test_a_coders_study_view_submitting_changes_nothing_about_others(team_db: Path) -> None:
    """What a coder is sent does not change when their submission creates a disagreement."""
    before = tree_text(open_page(team_db, "chloe", "study"))
    with Store.open(team_db) as store:
        unit = coder_service.coder_page(store, "chloe", limit=1).units[0].segment_id
        coder_service.save_unit(store, "chloe", unit, ["calm", "cues"], "", submit=True)
    after = tree_text(open_page(team_db, "chloe", "study"))
    strip = re.compile(r"\d+|id: \S+|value: \S+")  # own counts and element ids may change
    assert strip.sub("", before).count("progress") == strip.sub("", after).count("progress")
    assert "disagree" not in after and "amira" not in after


@pytest.mark.parametrize(("user", "shown"), [("admin", True), ("rosa", False), ("chloe", False)])
def test_only_admins_see_where_the_study_lives(team_db: Path, user: str, shown: bool) -> None:
    at = open_page(team_db, user, "study")
    assert any(str(team_db) in plain(c.value) for c in at.caption) is shown
    assert ("pytest" in tree_text(at)) is shown  # the tests' studies live under pytest-of-*


def test_sign_in_page_hides_why_a_study_cannot_be_opened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "secret-place" / "nope.db"
    with caplog.at_level(logging.ERROR):
        at = app(missing).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The study cannot be opened; see the server log."]
    assert "secret-place" not in tree_text(at)
    assert any("cannot be opened" in r.getMessage() for r in caplog.records)


def test_document_titles_are_not_rendered_as_markdown(team_db: Path, tmp_path: Path) -> None:
    source = tmp_path / "beacon.md"
    source.write_text(f"# {BEACON}\n\nA paragraph.\n\nAnother one.\n", encoding="utf-8")
    with Store.open(team_db) as store:
        service.import_documents(store, [source], "tester")
        service.assign(store, "chloe", "tester", ["beacon"])
    for user in ("rosa", "chloe"):
        at = open_page(team_db, user, "study")
        labels = [p.proto.text for p in at.get("progress")]
        labels += [e.proto.expandable.label for e in at.get("expandable")]
        labels += [m.value for m in at.markdown] + [c.value for c in at.caption]
        titled = [label for label in labels if "beacon" in label]
        assert titled, labels
        for label in titled:
            assert "![t](" not in label and "**bold**" not in label
            assert BEACON in plain(label)


COMMAND_LINE = re.compile(r"\bcoding (init|import|users|assign|codebook|suggest|app|demo)\b")


@pytest.mark.parametrize("coder", ["amira", "chloe", "dora"])
def test_coders_are_never_shown_command_lines(team_db: Path, coder: str) -> None:
    with Store.open(team_db) as store:  # dora: a coder with no units yet
        access.add_user(store, "dora", "coder", "pw-dora-long", "tester")
    at = open_page(team_db, coder, "study")
    assert not COMMAND_LINE.search(tree_text(at))
    assert "`" not in " ".join(m.value for m in at.markdown)


def test_the_sign_in_page_shows_no_command_line(team_db: Path) -> None:
    at = app(team_db).run()
    assert not at.exception
    assert not COMMAND_LINE.search(tree_text(at))
    assert "Ask an admin" in " ".join(c.value for c in at.caption)


@pytest.fixture
def no_coders_db(corpus_db: Path) -> Path:
    """Documents and a codebook, a reviewer and an admin, no coders yet."""
    with Store.open(corpus_db) as store:
        access.add_user(store, "rosa", "reviewer", "pw-rosa-long", "tester")
        access.add_user(store, "admin", "admin", "pw-admin-long", "tester")
    return corpus_db


def test_a_reviewer_reads_next_steps_in_words(no_coders_db: Path) -> None:
    at = open_page(no_coders_db, "rosa", "study")
    steps = plain(" ".join(m.value for m in at.markdown))
    assert "Add coders (an admin's task)." in steps
    assert not COMMAND_LINE.search(tree_text(at))


def test_an_admin_gets_the_command_line_of_a_next_step(no_coders_db: Path) -> None:
    at = open_page(no_coders_db, "admin", "study")
    steps = " ".join(m.value for m in at.markdown)
    assert "`coding users add STUDY NAME --role coder`" in steps
