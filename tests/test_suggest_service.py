"""Suggestions in a study: stored with provenance, cross-fitted, blind, scored as a third coder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from coding.cli import cli
from coding.errors import CodingError
from coding.model import ProgressEvent
from coding.service import suggest as suggest_service
from coding.service.agreement import agreement_report
from coding.service.demo import build_demo
from coding.service.suggest_models import Models
from coding.store import Store
from tests.conftest import new_target

pytestmark = pytest.mark.both_engines


@pytest.fixture(scope="module")
def demo(
    engine: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path | str]:
    with new_target(engine, request, tmp_path_factory.mktemp("suggest")) as target:
        build_demo(target, suggest=False)
        yield target


def test_rules_run_is_stored_with_its_provenance(demo: Path) -> None:
    with Store.open(demo) as store:
        revision = store.revision()
        run = suggest_service.run_suggestions(store, "tester", "rules")
        runs = store.suggestion_runs()
        stored = store.suggestions_frame()
    last = runs.iloc[-1]
    assert (last["engine"], last["codebook_version"], last["data_revision"]) == (
        "rules",
        1,
        revision,
    )
    assert last["model_version"] == run.model_version
    assert len(stored) == run.suggestions > 0
    evidence = json.loads(stored.iloc[0]["evidence"])
    assert evidence  # matched spans or terms, never empty


def test_suggestions_never_become_annotations(demo: Path) -> None:
    with Store.open(demo) as store:
        before = store.annotations_frame()
        suggest_service.run_suggestions(store, "tester", "rules")
        assert store.annotations_frame().equals(before)


def test_supervised_run_is_cross_fitted_by_document(demo: Path) -> None:
    with Store.open(demo) as store:
        suggest_service.run_suggestions(store, "tester", "auto")
        params = json.loads(store.suggestion_runs().iloc[-1]["params"])
    # The trainee's manual is pending, so it is no reference and is scored by the full model.
    assert sorted(params["cross_fitted_documents"]) == ["dyadic", "family", "sequential"]
    assert params["scored_documents"] == ["dyadic", "family", "residential", "sequential"]


def test_runs_are_reproducible(demo: Path) -> None:
    with Store.open(demo) as store:
        suggest_service.run_suggestions(store, "tester", "auto", seed=3)
        first = store.suggestions_frame().drop(columns=["run_id"])
        suggest_service.run_suggestions(store, "tester", "auto", seed=3)
        second = store.suggestions_frame().drop(columns=["run_id"])
    assert first.drop(columns=["data_revision"]).equals(second.drop(columns=["data_revision"]))


def test_nlp_is_scored_as_a_third_coder_over_every_scored_unit(demo: Path) -> None:
    with Store.open(demo) as store:
        suggest_service.run_suggestions(store, "tester", "rules")
        table = agreement_report(store, ["ben", "nlp"])
        units = len(store.segments())
    codes = table[table["scope"] == "code"]
    assert (codes["n_units"] == units).all()


def test_nlp_agreement_without_a_run_is_a_clear_error(target: str) -> None:
    build_demo(target, suggest=False)
    with Store.open(target) as store, pytest.raises(CodingError, match="no sug"):
        agreement_report(store, ["amira", "nlp"])


def test_evaluate_reports_every_code_next_to_human_kappa(demo: Path) -> None:
    result = CliRunner().invoke(
        cli, ["suggest", "evaluate", str(demo), "--engine", "rules", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["engine"] == "rules" and report["folds"] == 3
    assert report["codes"][0]["code"] == "emotion_regulation"
    for entry in report["codes"]:
        assert {
            "n",
            "prevalence",
            "precision",
            "recall",
            "f1",
            "cohen_kappa",
            "gwet_ac1",
            "human_kappa",
        } <= set(entry)
        assert 0.5 < entry["human_kappa"] < 1
    assert "f1" in report["macro"]


def test_evaluate_says_on_stderr_why_it_uses_fewer_folds(demo: Path) -> None:
    args = ["suggest", "evaluate", str(demo), "--engine", "rules", "--folds", "4"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "note: 4 folds asked for, 3 used: folds are grouped by document and only 3 documents "
        "have a reference coding (none yet in: residential)"
    )
    assert result.stdout.startswith("engine rules, 3 folds grouped by document")
    result = CliRunner().invoke(cli, [*args[:-1], "3"])
    assert result.exit_code == 0 and result.stderr == ""


def test_next_orders_the_coders_open_units_and_holds_some_out(demo: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["suggest", "next", str(demo), "--coder", "chloe", "--engine", "rules", "--limit", "50"],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    with Store.open(demo) as store:
        open_units = {s.id for s in store.segments(document_id="residential")}
    ordered = [o["segment_id"] for o in out["order"]]
    assert set(ordered) | set(out["holdout"]) == open_units
    assert not set(ordered) & set(out["holdout"])


def test_next_scores_units_with_their_neighbours_heading_and_attributes(demo: Path) -> None:
    """The order reads each unit as a run does: with its context, not its text alone."""
    from coding.service.suggest_context import contexts
    from coding.suggest import uncertainty

    with Store.open(demo) as store:
        result = suggest_service.next_units(store, "chloe", "supervised", limit=1000)
        segments, labels = suggest_service._reference(store)
        engine = Models(store, "supervised", 0, segments, labels).fit()
        units = contexts(store, segments, suggest_service.MAX_CONTEXT)
    shown = {o["segment_id"]: o["uncertainty"] for o in result["order"]}
    rows = [i for i, s in enumerate(segments) if s.id in shown]
    texts = [segments[i].text for i in rows]
    read = {
        "context": engine.scores(texts, [units[i] for i in rows]),
        "text": engine.scores(texts),
    }
    closeness = {k: uncertainty(v, engine.thresholds()).round(4) for k, v in read.items()}
    ids = [segments[i].id for i in rows]
    assert [shown[s] for s in ids] == closeness["context"].tolist()
    assert [shown[s] for s in ids] != closeness["text"].tolist()


def test_unknown_engine_is_refused(demo: Path) -> None:
    result = CliRunner().invoke(cli, ["suggest", str(demo), "--engine", "magic"])
    assert result.exit_code == 2 and "magic" in result.output


def test_run_reports_its_progress_one_model_at_a_time(demo: Path) -> None:
    events: list[ProgressEvent] = []
    with Store.open(demo) as store:
        run = suggest_service.run_suggestions(store, "tester", "auto", on_progress=events.append)
    training = [e for e in events if e.stage == "training"]
    # The model on every reference unit, then one per fold of the three reference documents.
    assert [e.done for e in training] == [0, 1, 2, 3, 4]
    assert {e.total for e in training} == {4}
    assert training[1].item == "fold 1 of 3"
    assert events[0].stage == "preparing" and events[-1].stage == "storing"
    assert events[-1].item == f"run #{run.run_id}" and events[-1].done == events[-1].total


def test_run_command_shows_progress_on_stderr_and_the_run_on_stdout(demo: Path) -> None:
    result = CliRunner().invoke(cli, ["suggest", "run", str(demo), "--engine", "supervised"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run #") and "training" not in result.stdout
    assert "training" in result.stderr and "storing" in result.stderr
