"""Nothing lost, nothing forged: a coder's save keeps what it replaces, and an import never
submits a coder's open work in the app unless asked to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from coding import service
from coding.cli import cli
from coding.errors import CodingError
from coding.service import coder as coder_service
from coding.service import queue as queue_service
from coding.store import Store
from coding.store import coder as coder_store
from coding.store import schema as t
from coding.store.engine import make_engine
from coding.store.migrations import MIGRATIONS
from tests.conftest import DATA
from tests.snapshot import snapshot

pytestmark = pytest.mark.both_engines

SPAN_MEMO = "imported: only the stress line"
WHOLE_MEMO = "imported: whole unit"


@pytest.fixture
def team(team_db: Path) -> Iterator[Store]:
    """The team study (chloe has every unit open in the app)."""
    with Store.open(team_db) as opened:
        yield opened


def _unit(store: Store, position: int) -> str:
    return store.segments()[position].id


def _import_for_chloe(store: Store, tmp_path: Path) -> str:
    """chloe's codings from another tool on unit 1, left open: a span on 'calm' with a memo,
    and 'cues' on the whole unit with another memo. Returns the unit id."""
    unit = store.segments()[1]
    path = tmp_path / "chloe.csv"
    path.write_text(
        "document_id,start,end,coder,code,memo\n"
        f"manual,{unit.start},{unit.start + 41},chloe,calm,{SPAN_MEMO}\n"
        f"manual,{unit.start},{unit.end},chloe,cues,{WHOLE_MEMO}\n",
        encoding="utf-8",
    )
    service.import_codings(store, path, "tester", complete="none")
    return unit.id


def _own(store: Store, unit: str) -> list[tuple[str, bool, int, int, str]]:
    mine = coder_store.own_annotations(store, "chloe", [unit])
    return sorted(
        (str(r.code_id), bool(r.whole_segment), int(r.start), int(r.end), str(r.memo))
        for r in mine.itertuples(index=False)
    )


# -- item 2: a coder's save keeps every annotation and memo it replaces ------------------------
def test_saving_with_the_code_still_ticked_keeps_the_span_and_each_memo(
    team: Store, tmp_path: Path
) -> None:
    unit = _import_for_chloe(team, tmp_path)
    before = _own(team, unit)
    shown = next(u for u in coder_service.coder_page(team, "chloe").units if u.segment_id == unit)
    assert set(shown.codes) == {"calm", "cues"}
    coder_service.save_unit(team, "chloe", unit, list(shown.codes), shown.memo)
    assert _own(team, unit) == before  # still the span, and each annotation's own memo


def test_unticking_a_code_keeps_the_annotation_in_the_history(team: Store, tmp_path: Path) -> None:
    unit = _import_for_chloe(team, tmp_path)
    span = next(a for a in _own(team, unit) if a[0] == "calm")
    coder_service.save_unit(team, "chloe", unit, ["cues"], WHOLE_MEMO)
    assert [a[0] for a in _own(team, unit)] == ["cues"]
    history = team.annotation_history()
    assert len(history) == 1
    row = history.iloc[0]
    kept = (row.code_id, bool(row.whole_segment), int(row.start), int(row.end), row.memo)
    assert kept == span
    assert (row.change, row.superseded_by, row.coder) == ("removed", "chloe", "chloe")


def test_ticking_a_removed_code_again_adds_a_new_annotation(team: Store, tmp_path: Path) -> None:
    unit = _import_for_chloe(team, tmp_path)
    coder_service.save_unit(team, "chloe", unit, ["cues"], WHOLE_MEMO)
    coder_service.save_unit(team, "chloe", unit, ["calm", "cues"], WHOLE_MEMO)
    calm = [a for a in _own(team, unit) if a[0] == "calm"]
    assert len(calm) == 1 and calm[0][1]  # a whole-unit annotation this time
    assert list(team.annotation_history()["code_id"]) == ["calm"]  # the span stays on record


def test_a_code_missing_from_the_current_codebook_survives_a_save(
    team: Store, tmp_path: Path
) -> None:
    unit = _import_for_chloe(team, tmp_path)
    without_calm = tmp_path / "codebook_v2.yaml"
    text = (DATA / "codebook_small.yaml").read_text(encoding="utf-8")
    without_calm.write_text(text[: text.index("  - id: calm")] + text[text.index("  - id: cues") :])
    service.load_codebook(team, without_calm, "tester")
    assert "calm" not in team.codebook().codebook.code_ids
    coder_service.save_unit(team, "chloe", unit, ["cues"], "the form offers cues only")
    assert [a[0] for a in _own(team, unit)] == ["calm", "cues"]  # calm was not on the form
    assert team.annotation_history().empty  # nothing removed; each memo its own, kept


def test_a_changed_memo_keeps_every_earlier_text(team: Store) -> None:
    unit = _unit(team, 0)
    coder_service.save_unit(team, "chloe", unit, ["calm"], "first thought")
    coder_service.save_unit(team, "chloe", unit, ["calm"], "second thought")
    coder_service.save_unit(team, "chloe", unit, [], "")
    assert team.annotation_history()["memo"].tolist() == ["first thought", "second thought"]
    assert team.annotation_history()["change"].tolist() == ["memo", "removed"]
    memos = team.unit_memo_history()
    assert memos["memo"].tolist() == ["first thought", "second thought"]
    assert coder_service.coder_page(team, "chloe").units[0].memo == ""


def test_an_unchanged_save_records_no_history(team: Store, tmp_path: Path) -> None:
    unit = _import_for_chloe(team, tmp_path)
    shown = next(u for u in coder_service.coder_page(team, "chloe").units if u.segment_id == unit)
    coder_service.save_unit(team, "chloe", unit, list(shown.codes), shown.memo)
    coder_service.save_unit(team, "chloe", unit, list(shown.codes), shown.memo)
    assert team.annotation_history().empty and team.unit_memo_history().empty


def test_the_save_event_carries_before_and_after(team: Store, tmp_path: Path) -> None:
    unit = _import_for_chloe(team, tmp_path)
    coder_service.save_unit(team, "chloe", unit, ["cues"], "only cues now")
    event = team.events().iloc[-1]
    detail = json.loads(event["detail"])
    start = team.segments()[1].start
    assert detail["before"]["codes"] == ["calm", "cues"]
    assert detail["before"]["memo"] == f"{SPAN_MEMO}; {WHOLE_MEMO}"
    assert ["calm", start, start + 41, SPAN_MEMO] in detail["before"]["annotations"]
    assert detail["after"]["codes"] == ["cues"]
    assert detail["after"]["memo"] == "only cues now"
    assert detail["codes"] == ["cues"] and detail["memo"] == "only cues now"


def test_current_reads_leave_superseded_annotations_out(team: Store, tmp_path: Path) -> None:
    unit = _import_for_chloe(team, tmp_path)
    coder_service.save_unit(team, "chloe", unit, ["cues"], WHOLE_MEMO, submit=True)
    frame = team.annotations_frame(["chloe"])
    assert frame["code_id"].tolist() == ["cues"]
    assert (
        service.study_overview(team, service.Operator("tests")).as_dict()["progress"]["chloe"][
            "annotations"
        ]
        == 1
    )
    assert queue_service.review_item(team, "rosa", unit).codes_of("chloe") == ["cues"]


def test_an_older_study_migrates_with_its_work_on_each_engine(target: str) -> None:
    old = Store(make_engine(target), "old")
    old.migrate(upto=4)
    old.close()
    with Store.open(target) as store:  # opening migrates
        assert store.schema_version() == len(MIGRATIONS)
        with store.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            columns = {c["name"] for c in inspect(conn).get_columns("annotation_history")}
        assert {"annotation_history", "unit_memo_history"} <= tables
        assert columns == {c.name for c in t.annotation_history.columns}
        service.load_codebook(store, DATA / "codebook_small.yaml", "tester")
        service.import_documents(store, [DATA / "manual.md"], "tester")
        service.add_coders(store, ["chloe"], "tester")
        service.assign(store, "chloe", "tester")
        from coding.service import access

        access.add_user(store, "chloe", "coder", "pw-test-8", "tester")
        unit = _unit(store, 0)
        coder_service.save_unit(store, "chloe", unit, ["calm"], "one")
        coder_service.save_unit(store, "chloe", unit, ["cues"], "two")
        assert store.annotation_history()["code_id"].tolist() == ["calm"]
        assert store.unit_memo_history()["memo"].tolist() == ["one"]


# -- item 3: an import never submits a coder's open work in the app unless asked -------------
def _one_row(tmp_path: Path, unit: str, coder: str = "chloe", code: str = "cues") -> Path:
    path = tmp_path / "one.csv"
    path.write_text(f"segment_id,coder,code\n{unit},{coder},{code}\n", encoding="utf-8")
    return path


def _chloe_done(store: Store) -> int:
    asg = store.assignments_frame(["chloe"])
    return int(asg["completed"].sum())


def test_the_default_import_leaves_open_units_open(team: Store, tmp_path: Path) -> None:
    coder_service.save_unit(team, "chloe", _unit(team, 0), ["calm"], "draft")
    result = service.import_codings(team, _one_row(tmp_path, _unit(team, 2)), "tester")
    assert _chloe_done(team) == 0
    assert result.completed_units == 0
    assert [(h.coder, h.document_id, h.units, h.drafts) for h in result.left_open] == [
        ("chloe", "manual", 4, 1)
    ]
    assert ("cues", True) in [(a[0], a[1]) for a in _own(team, _unit(team, 2))]


def test_the_default_import_completes_documents_of_coders_without_open_work(
    team: Store, tmp_path: Path
) -> None:
    service.add_coders(team, ["dora"], "tester")
    result = service.import_codings(team, _one_row(tmp_path, _unit(team, 2), "dora"), "tester")
    assert result.completed_units == 4 and not result.left_open
    assert int(team.assignments_frame(["dora"])["completed"].sum()) == 4


def test_completing_documents_with_drafts_needs_consent(team: Store, tmp_path: Path) -> None:
    coder_service.save_unit(team, "chloe", _unit(team, 0), [], "a memo is a draft too")
    coder_service.save_unit(team, "chloe", _unit(team, 3), ["calm"], "")
    path = _one_row(tmp_path, _unit(team, 2))
    before = snapshot(team.target)
    with pytest.raises(CodingError, match=r"chloe.*2 of them with unsubmitted") as err:
        service.import_codings(team, path, "tester", complete="documents")
    assert "manual: 4 units" in str(err.value)
    assert snapshot(team.target) == before


def test_completing_documents_with_consent_records_the_units(team: Store, tmp_path: Path) -> None:
    coder_service.save_unit(team, "chloe", _unit(team, 0), ["calm"], "draft")
    path = _one_row(tmp_path, _unit(team, 2))
    result = service.import_codings(team, path, "tester", complete="documents", allow_drafts=True)
    assert _chloe_done(team) == 4
    assert [(c.coder, c.document_id, c.units, c.drafts) for c in result.completion] == [
        ("chloe", "manual", 4, 1)
    ]
    detail = json.loads(team.events().iloc[-1]["detail"])
    assert sorted(detail["completed_units"]["chloe"]) == sorted(_unit(team, i) for i in range(4))


def test_cli_refuses_to_complete_drafts_without_yes(team_db: Path, tmp_path: Path) -> None:
    with Store.open(team_db) as store:
        coder_service.save_unit(store, "chloe", _unit(store, 0), ["calm"], "draft")
        path = _one_row(tmp_path, _unit(store, 2))
    runner = CliRunner()
    refused = runner.invoke(
        cli, ["import-codings", str(team_db), str(path), "--complete", "documents"]
    )
    assert refused.exit_code == 1
    assert "chloe" in refused.stderr and "--yes" in refused.stderr
    assert "manual: 4 units (1 with a draft)" in refused.stderr
    done = runner.invoke(
        cli, ["import-codings", str(team_db), str(path), "--complete", "documents", "--yes"]
    )
    assert done.exit_code == 0, done.output
    assert "chloe: manual: 4 units (1 with a draft)" in done.stderr
    assert "4 units marked complete" in done.stdout


def test_cli_default_says_which_open_units_it_left_alone(team_db: Path, tmp_path: Path) -> None:
    with Store.open(team_db) as store:
        path = _one_row(tmp_path, _unit(store, 2))
    result = CliRunner().invoke(cli, ["import-codings", str(team_db), str(path)])
    assert result.exit_code == 0, result.output
    assert "0 units marked complete" in result.stdout
    assert "left open" in result.stderr and "chloe: manual: 4 units" in result.stderr
    with Store.open(team_db) as store:
        assert _chloe_done(store) == 0


def test_one_row_for_the_demo_trainee_submits_nothing(tmp_path: Path) -> None:
    from coding.service.demo import TRAINEE, TRAINEE_DOCUMENT, build_demo

    db = tmp_path / "demo.db"
    build_demo(db, suggest=False)
    with Store.open(db) as store:
        before = service.study_overview(store, service.Operator("tests")).as_dict()
        unit = store.segments(document_id=TRAINEE_DOCUMENT)[0].id
        code = store.codebook().codebook.code_ids[0]
        service.import_codings(store, _one_row(tmp_path, unit, TRAINEE, code), "tester")
        after = service.study_overview(store, service.Operator("tests")).as_dict()
    assert after["progress"][TRAINEE]["completed"] == 0
    assert after["progress"][TRAINEE]["assigned"] == before["progress"][TRAINEE]["assigned"]
    assert after["disagreements_open"] == before["disagreements_open"]
