"""Context features, exclusive code groups, parent roll-up and folds that never see test labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from coding.cli import cli
from coding.codebook import exclusive_groups, parse_codebook, rollup, write_codebook
from coding.errors import InvalidInput
from coding.model import Code, Codebook, Segment
from coding.service.demo import build_demo
from coding.suggest import (
    CombinedSuggester,
    SupervisedParams,
    SupervisedSuggester,
    evaluate,
    grouped_folds,
)
from coding.suggest.context import UnitContext, unit_contexts
from coding.suggest.evaluate import STEPS, _Run, _settings

GROUPED = """codebook: {id: talk}
codes:
  - {id: talk, name: Talk, definition: d, exclusive: true}
  - {id: talk.change, name: Change, definition: d, parent: talk}
  - {id: talk.sustain, name: Sustain, definition: d, parent: talk}
  - {id: question, name: Question, definition: d}
"""


def _book() -> Codebook:
    return parse_codebook(GROUPED, "talk.yaml")


def _dialogue(n: int = 480, seed: int = 0) -> tuple[list[str], pd.DataFrame, list[str], list]:
    """Client turns after a question are "answer"s; their own words say nothing about it.

    Change and sustain talk are exclusive children of "talk"; coders apply the parent too.
    """
    rng = np.random.default_rng(seed)
    words = [
        "we",
        "talked",
        "about",
        "the",
        "week",
        "and",
        "work",
        "and",
        "home",
        "and",
        "the",
        "kids",
    ]
    texts, rows, docs, positions, speakers = [], [], [], [], []
    for i in range(n):
        counsellor = i % 2 == 0
        text = " ".join(rng.choice(words, 8))
        row = dict.fromkeys(("talk", "talk.change", "talk.sustain", "question"), 0.0)
        if counsellor and rng.random() < 0.5:
            text, row["question"] = "what do you think " + text, 1.0
        elif not counsellor:
            kind = rng.integers(3)
            if kind < 2:
                child = ("talk.change", "talk.sustain")[kind]
                text = ("i want to stop " if kind == 0 else "i like it ") + text
                row[child] = row["talk"] = 1.0
        texts.append(text)
        rows.append(row)
        docs.append(f"d{i // 24}")
        positions.append(i % 24)
        speakers.append({"speaker": "counsellor" if counsellor else "client"})
    labels = pd.DataFrame(rows, index=[f"u{i}" for i in range(n)])
    units = unit_contexts(texts, docs, positions, attributes=speakers)
    return texts, labels, docs, units


def test_a_codebook_without_exclusive_reads_and_writes_as_before() -> None:
    book = parse_codebook(GROUPED.replace(", exclusive: true", ""), "old.yaml")
    assert not any(c.exclusive for c in book.codes)
    assert "exclusive" not in write_codebook(book, "yaml")
    assert "exclusive" not in write_codebook(book, "csv").splitlines()[0]


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_the_exclusive_flag_survives_every_format(fmt: str) -> None:
    book = _book()
    assert parse_codebook(write_codebook(book, fmt), f"talk.{fmt}", fmt=fmt) == book
    assert exclusive_groups(book) == {"talk": ("talk.change", "talk.sustain")}


def test_an_exclusive_code_needs_two_children() -> None:
    text = GROUPED.replace("parent: talk}", "parent: question}", 1)
    with pytest.raises(InvalidInput, match="exclusive but has 1 child"):
        parse_codebook(text, "talk.yaml")


def test_an_exclusive_flag_that_is_not_a_boolean_is_refused() -> None:
    with pytest.raises(InvalidInput, match="'exclusive' must be true or false"):
        parse_codebook(GROUPED.replace("exclusive: true", "exclusive: often"), "talk.yaml")


def test_rollup_gives_ancestors_the_highest_score_below_them() -> None:
    parents = {"a": None, "a.b": "a", "a.b.c": "a.b", "x": None}
    assert rollup({"a.b.c": 0.3, "x": 0.1}, parents) == {
        "a.b.c": 0.3,
        "x": 0.1,
        "a.b": 0.3,
        "a": 0.3,
    }


def test_unit_contexts_hold_neighbours_of_the_same_document_only() -> None:
    units = unit_contexts(["a", "b", "c", "d"], ["x", "x", "x", "y"], [0, 1, 2, 0], window=2)
    assert units[0] == UnitContext(before=(), after=("b", "c"))
    assert units[2].before == ("b", "a") and units[2].after == ()
    assert units[3] == UnitContext()


def test_context_features_learn_what_the_text_alone_cannot() -> None:
    texts, labels, docs, units = _dialogue()
    labels = labels.assign(answer=[float(i % 2 == 1) for i in range(len(texts))])
    labels["answer"] *= labels["question"].shift(1, fill_value=0.0).to_numpy()
    book = Codebook("b", "b", (*_book().codes, Code("answer", "Answer", "d")))
    kappas = {}
    for context in (0, 1):
        params = SupervisedParams(context=context, attributes=False, context_weight=1.0)
        report = evaluate(
            texts, labels, docs, "supervised", codebook=book, units=units, params=params
        )
        kappas[context] = next(c for c in report["codes"] if c["code"] == "answer")
    assert kappas[1]["cohen_kappa"] > kappas[0]["cohen_kappa"] + 0.3


def test_an_exclusive_group_gets_at_most_one_code_and_its_parent() -> None:
    texts, labels, docs, units = _dialogue()
    engine = SupervisedSuggester(_book()).fit(texts, labels, docs, units)
    scores, decided = engine.decide(engine.predict(texts, units).scores)
    children = decided[["talk.change", "talk.sustain"]].to_numpy()
    assert children.sum(axis=1).max() == 1
    assert (decided["talk"].to_numpy() == children.max(axis=1)).all()
    expected = scores[["talk.change", "talk.sustain"]].max(axis=1)
    assert np.allclose(scores["talk"], np.fmax(expected, scores["talk"]))
    assert (scores["talk"] >= expected - 1e-12).all()


def test_suggestions_never_hold_two_codes_of_an_exclusive_group() -> None:
    texts, labels, docs, units = _dialogue()
    segments = [Segment(f"s{i}", "d", i * 100, i * 100 + len(t), t) for i, t in enumerate(texts)]
    engine = SupervisedSuggester(_book()).fit(texts, labels, docs, units)
    by_unit: dict[str, set[str]] = {}
    for s in engine.suggest(segments, units):
        by_unit.setdefault(s.segment_id, set()).add(s.code_id)
    assert by_unit
    assert all(len(c & {"talk.change", "talk.sustain"}) <= 1 for c in by_unit.values())
    assert all("talk" in c for c in by_unit.values() if c & {"talk.change", "talk.sustain"})


RULED = GROUPED.replace(
    "{id: talk.change, name: Change, definition: d,",
    "{id: talk.change, name: Change, definition: d, indicators: [want to stop, cut down],",
).replace(
    "{id: talk.sustain, name: Sustain, definition: d,",
    "{id: talk.sustain, name: Sustain, definition: d, indicators: [like it, relax],",
)
CHILDREN = ["talk.change", "talk.sustain"]


def _segments(texts: list[str]) -> list[Segment]:
    return [Segment(f"s{i}", "d", i * 100, i * 100 + len(t), t) for i, t in enumerate(texts)]


def _suggested(suggestions: list) -> dict[str, set[str]]:
    by_unit: dict[str, set[str]] = {}
    for s in suggestions:
        by_unit.setdefault(s.segment_id, set()).add(s.code_id)
    return by_unit


def test_auto_before_any_coding_suggests_the_highest_scoring_code_of_a_group() -> None:
    texts = [
        "i want to stop and cut down but i like it",  # change: two indicators, sustain: one
        "i like it and it helps me relax so i want to stop",  # sustain: two, change: one
    ]
    engine = CombinedSuggester(parse_codebook(RULED, "talk.yaml"))
    rules = engine.rules.scores(texts)[CHILDREN]
    assert (rules >= 0.5).all(axis=None)  # the rules alone would suggest both children
    suggested = _suggested(engine.suggest(_segments(texts)))
    assert suggested["s0"] == {"talk", "talk.change"}
    assert suggested["s1"] == {"talk", "talk.sustain"}
    scores = engine.scores(texts)
    assert (scores["talk"] == rules.max(axis=1)).all()  # the parent rolls up its children


def test_auto_keeps_one_code_of_a_group_once_trained_in_evaluation_and_suggestions() -> None:
    """Trained with too few labels of the group for a model, the group falls back on the
    rules, which fire for both children; the group still gets one code per unit."""
    texts, labels, docs, units = _dialogue()
    texts = [t + " but i like it" if t.startswith("i want to stop") else t for t in texts]
    labels.iloc[12:, [labels.columns.get_loc(c) for c in CHILDREN]] = np.nan
    book = parse_codebook(RULED, "talk.yaml")
    engine = CombinedSuggester(book).fit(texts, labels, docs, units)
    assert all(engine.reasons()[c].startswith("rules only") for c in CHILDREN)
    suggested = _suggested(engine.suggest(_segments(texts), units))
    assert any(c & set(CHILDREN) for c in suggested.values())
    assert all(len(c & set(CHILDREN)) <= 1 for c in suggested.values())
    assert all("talk" in c for c in suggested.values() if c & set(CHILDREN))
    splits = grouped_folds(docs, 3, 0)
    run = _Run(book, texts, labels, docs, units, 0)
    _, decided, _ = run.scores("auto", _settings("auto", None, 0), splits)
    children = decided[:, [book.code_ids.index(c) for c in CHILDREN]]
    assert np.nansum(children, axis=1).max() == 1


def test_a_fold_never_sees_its_test_labels() -> None:
    """Thresholds and calibration come from the training rows: changing the labels of one
    fold's test documents leaves that fold's scores and decisions as they were."""
    texts, labels, docs, units = _dialogue()
    book = _book()
    splits = grouped_folds(docs, 4, 0)
    _, test = splits[0]
    changed = labels.copy()
    changed.iloc[test] = 1.0 - changed.iloc[test].to_numpy()
    params = _settings("supervised", None, 0)
    runs = [_Run(book, texts, y, docs, units, 0) for y in (labels, changed)]
    (s1, d1, _), (s2, d2, _) = (run.scores("supervised", params, splits[:1]) for run in runs)
    assert np.array_equal(s1[test], s2[test], equal_nan=True)
    assert np.array_equal(d1[test], d2[test], equal_nan=True)


@pytest.mark.parametrize("engine", ["supervised", "auto"])
def test_a_folds_thresholds_are_chosen_without_its_test_labels(engine: str) -> None:
    """Flipping every label of a fold's test documents leaves its model's thresholds as they
    were; flipping the labels of its training documents does not."""
    texts, labels, docs, units = _dialogue()
    book = parse_codebook(RULED, "talk.yaml")
    train, test = grouped_folds(docs, 4, 0)[0]
    flipped_test, flipped_train = labels.copy(), labels.copy()
    flipped_test.iloc[test] = 1.0 - labels.iloc[test].to_numpy()
    flipped_train.iloc[train] = 1.0 - labels.iloc[train].to_numpy()
    params = _settings(engine, None, 0)
    thresholds = [
        _Run(book, texts, y, docs, units, 0)._fold(engine, params, train, test)[2].thresholds()
        for y in (labels, flipped_test, flipped_train)
    ]
    assert thresholds[0] and thresholds[0] == thresholds[1]
    assert thresholds[0] != thresholds[2]


def test_ablation_runs_every_step_on_the_same_folds() -> None:
    texts, labels, docs, units = _dialogue(240)
    report = evaluate(
        texts, labels, docs, "supervised", codebook=_book(), units=units, ablation=True
    )
    steps = report["ablation"]
    assert [s["step"] for s in steps] == list(STEPS)
    assert {"features", "baseline", "macro", "codes"} <= set(report)
    assert all(set(s["macro"]) == {"f1", "cohen_kappa", "pr_auc"} for s in steps)
    assert steps[-1]["features"] == report["features"]


def test_the_cli_evaluates_with_a_context_window_and_an_ablation(tmp_path: Path) -> None:
    target = tmp_path / "demo.db"
    build_demo(target, suggest=False)
    args = ["suggest", "evaluate", str(target), "--engine", "supervised", "--context", "2"]
    result = CliRunner().invoke(cli, [*args, "--ablation"])
    assert result.exit_code == 0, result.output
    assert "words of 2 neighbouring unit(s) on each side" in result.stdout
    assert "ablation: supervised engine" in result.stdout
    assert "+ structure" in result.stdout
    loaded = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).stdout)
    assert "ablation" not in loaded and "unit attributes" in loaded["features"]


def test_the_service_window_is_the_engines_widest() -> None:
    from coding.service.suggest import MAX_CONTEXT
    from coding.suggest.context import MAX_WINDOW

    assert MAX_CONTEXT == MAX_WINDOW


def test_predicting_without_contexts_is_predicting_with_empty_ones() -> None:
    texts, labels, docs, units = _dialogue(240)
    engine = SupervisedSuggester(_book()).fit(texts, labels, docs, units)
    without = engine.predict(texts).scores
    empty = engine.predict(texts, [UnitContext() for _ in texts]).scores
    with_context = engine.predict(texts, units).scores
    assert np.array_equal(without.to_numpy(), empty.to_numpy(), equal_nan=True)
    assert not np.array_equal(without.to_numpy(), with_context.to_numpy(), equal_nan=True)


def test_the_engine_reads_document_and_unit_attributes(tmp_path: Path) -> None:
    from coding import service
    from coding.service.suggest_context import unit_attributes
    from coding.store import Store
    from tests.conftest import DATA

    units = tmp_path / "units.csv"
    units.write_text(
        "document_id,segment_id,text,speaker,site\n"
        "d1,0,The parent calms down.,amira,north\n"
        "d1,1,Staff notice cues.,nurse,south\n",
        encoding="utf-8",
    )
    with service.init_study(tmp_path / "s.db", "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [units], "t")
    with Store.open(tmp_path / "s.db") as store:
        segments = sorted(store.segments(), key=lambda s: s.position)
        found = unit_attributes(store, segments)
    assert [f["speaker"] for f in found] == ["amira", "nurse"]
    assert [f["site"] for f in found] == ["north", "south"]
    assert all("programme" in f for f in found)
