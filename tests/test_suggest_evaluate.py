"""Evaluation: 2x2 agreement statistics, grouped folds, thresholds from training folds only."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score

from coding.agreement import reliability
from coding.cli import cli
from coding.errors import InvalidInput
from coding.model import Code, Codebook, Segment, Suggestion
from coding.service.demo import build_demo
from coding.suggest import (
    SUGGESTERS,
    binary_metrics,
    cohen_kappa,
    evaluate,
    grouped_folds,
    gwet_ac1,
)
from coding.suggest.evaluate import human_agreement

evaluate_module = importlib.import_module("coding.suggest.evaluate")  # not the function
DATA = Path(__file__).parent / "data" / "suggest"
AGREEMENT = Path(__file__).parent / "data" / "agreement"


def load() -> tuple[Codebook, pd.DataFrame, pd.DataFrame]:
    raw = json.loads((DATA / "codebook.json").read_text(encoding="utf-8"))
    codebook = Codebook(
        raw["id"],
        raw["name"],
        tuple(
            Code(c["id"], c["name"], c["definition"], indicators=tuple(c["indicators"]))
            for c in raw["codes"]
        ),
    )
    frame = pd.read_csv(DATA / "segments.csv", keep_default_na=False)
    labels = pd.DataFrame(
        {c: [float(c in codes.split(";")) for codes in frame["codes"]] for c in codebook.code_ids},
        index=frame["segment_id"],
    )
    return codebook, frame, labels


CODEBOOK, FRAME, LABELS = load()
TEXTS = list(FRAME["text"])
GROUPS = list(FRAME["document_id"])


def test_kappa_and_ac1_on_the_high_agreement_paradox_table() -> None:
    # 118 both apply, 5 engine only, 2 reference only, 0 neither: po = 0.944.
    assert cohen_kappa(118, 5, 2, 0) == pytest.approx((0.944 - 0.94528) / (1 - 0.94528))
    assert gwet_ac1(118, 5, 2, 0) == pytest.approx((0.944 - 0.054432) / (1 - 0.054432))


@pytest.mark.parametrize("table", [(10, 3, 4, 20), (5, 0, 0, 5), (1, 7, 2, 9), (0, 3, 3, 10)])
def test_kappa_matches_scikit_learn(table: tuple[int, int, int, int]) -> None:
    tp, fp, fn, tn = table
    engine = [1] * tp + [1] * fp + [0] * fn + [0] * tn
    reference = [1] * tp + [0] * fp + [1] * fn + [0] * tn
    assert cohen_kappa(*table) == pytest.approx(cohen_kappa_score(engine, reference))


def test_kappa_matches_the_published_value_and_ac1_the_agreement_core() -> None:
    # Artstein & Poesio (2008) p.558: STAT/IReq by two coders; STAT plays "applied".
    expected = json.loads((AGREEMENT / "expected.json").read_text(encoding="utf-8"))
    dataset = next(d for d in expected["datasets"] if d["id"] == "artstein_poesio2008_2x2")
    check = next(c for c in dataset["checks"] if c["statistic"] == "cohen_kappa")
    assert check["source_type"] == "published"
    table = pd.read_csv(AGREEMENT / dataset["file"], index_col=0)
    tp, fn = int(table.loc["STAT", "STAT"]), int(table.loc["IReq", "STAT"])
    fp, tn = int(table.loc["STAT", "IReq"]), int(table.loc["IReq", "IReq"])
    assert cohen_kappa(tp, fp, fn, tn) == pytest.approx(check["expected"], abs=check["tolerance"])
    core = reliability(AGREEMENT / dataset["file"], "contingency")
    assert cohen_kappa(tp, fp, fn, tn) == pytest.approx(core.value("cohen_kappa"), abs=1e-12)
    assert gwet_ac1(tp, fp, fn, tn) == pytest.approx(core.value("gwet_ac1"), abs=1e-12)


def test_kappa_is_none_when_both_raters_never_vary() -> None:
    assert cohen_kappa(0, 0, 0, 12) is None
    assert gwet_ac1(0, 0, 0, 12) == 1.0


def test_agreement_statistics_are_none_for_an_empty_table() -> None:
    assert cohen_kappa(0, 0, 0, 0) is None
    assert gwet_ac1(0, 0, 0, 0) is None


def test_kappa_and_ac1_do_not_depend_on_which_rater_is_which() -> None:
    assert cohen_kappa(9, 2, 5, 30) == pytest.approx(cohen_kappa(9, 5, 2, 30))
    assert gwet_ac1(9, 2, 5, 30) == pytest.approx(gwet_ac1(9, 5, 2, 30))


def test_binary_metrics_are_none_when_undefined() -> None:
    metrics = binary_metrics(np.zeros(4), np.zeros(4), np.full(4, 0.1))
    assert metrics["precision"] is None and metrics["recall"] is None and metrics["f1"] is None
    assert metrics["pr_auc"] is None
    assert metrics["brier"] == pytest.approx(0.01)


def test_grouped_folds_never_split_a_document() -> None:
    groups = np.asarray(GROUPS, dtype=object)
    folds = grouped_folds(GROUPS, folds=4, seed=0)
    assert len(folds) == 4
    for train, test in folds:
        assert set(groups[train]).isdisjoint(groups[test])
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(len(groups)))


def test_grouped_folds_depend_only_on_the_seed() -> None:
    first = grouped_folds(GROUPS, folds=3, seed=5)
    second = grouped_folds(GROUPS, folds=3, seed=5)
    assert all(
        (a == c).all() and (b == d).all() for (a, b), (c, d) in zip(first, second, strict=True)
    )


def test_grouped_folds_need_two_documents() -> None:
    with pytest.raises(InvalidInput, match="2 or more documents"):
        grouped_folds(["only"] * 5, folds=3, seed=0)


class Spy:
    """An engine that records what it was trained on; its threshold is the training prevalence."""

    name = "spy"
    fits: ClassVar[list[set[str]]] = []
    scored: ClassVar[list[set[str]]] = []

    def __init__(self, codebook: Codebook, *, seed: int = 0) -> None:
        self.codebook = codebook

    def fit(self, texts: Sequence[str], labels: pd.DataFrame, groups: Sequence[str]) -> Self:
        Spy.fits.append(set(groups))
        self._threshold = float(np.nanmean(labels.to_numpy(dtype=float)))
        return self

    def scores(self, texts: Sequence[str]) -> pd.DataFrame:
        Spy.scored.append({text.split("-")[0] for text in texts})  # texts start with segment ids
        return pd.DataFrame(0.5, index=range(len(texts)), columns=list(self.codebook.code_ids))

    def thresholds(self) -> dict[str, float]:
        return dict.fromkeys(self.codebook.code_ids, self._threshold)

    def reasons(self) -> dict[str, str]:
        return {}

    def suggest(self, segments: Sequence[Segment]) -> list[Suggestion]:
        return []

    @property
    def model_version(self) -> str:
        return "spy"


def test_engines_are_trained_and_thresholded_without_the_evaluated_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(SUGGESTERS, "spy", Spy)
    monkeypatch.setattr(Spy, "fits", [])
    monkeypatch.setattr(Spy, "scored", [])
    tagged = [f"{s} {t}" for s, t in zip(FRAME["segment_id"], TEXTS, strict=True)]
    evaluate(tagged, LABELS, GROUPS, "spy", codebook=CODEBOOK, folds=5, seed=0)
    assert len(Spy.fits) == len(Spy.scored) == 5
    for trained, tested in zip(Spy.fits, Spy.scored, strict=True):
        assert trained.isdisjoint(tested)


@pytest.fixture(scope="module")
def report() -> dict[str, object]:
    return evaluate(TEXTS, LABELS, GROUPS, "supervised", codebook=CODEBOOK, folds=3, seed=0)


def test_report_has_every_metric_per_code_and_macro(report: dict[str, object]) -> None:
    keys = {"n", "prevalence", "precision", "recall", "f1", "cohen_kappa", "gwet_ac1", "pr_auc"}
    keys |= {"brier", "human_kappa"}
    codes = report["codes"]
    assert isinstance(codes, list)
    assert [c["code"] for c in codes] == list(CODEBOOK.code_ids)
    assert all(keys <= set(c) for c in codes)
    macro = report["macro"]
    assert isinstance(macro, dict) and keys <= set(macro)
    assert report["engine"] == "supervised" and report["folds"] == 3


def test_report_scores_learnable_codes_well(report: dict[str, object]) -> None:
    codes = {c["code"]: c for c in report["codes"]}  # type: ignore[attr-defined]
    assert codes["caregiver_attunement"]["f1"] > 0.8
    assert codes["caregiver_attunement"]["n"] == len(TEXTS)


def test_report_says_why_a_code_was_not_scored(report: dict[str, object]) -> None:
    codes = {c["code"]: c for c in report["codes"]}  # type: ignore[attr-defined]
    family = codes["family_involvement"]
    assert family["n_scored"] == 0 and family["f1"] is None
    assert "too few reference labels" in family["reason"]


def test_evaluation_is_reproducible() -> None:
    first = evaluate(TEXTS, LABELS, GROUPS, "rules", codebook=CODEBOOK, folds=3, seed=2)
    second = evaluate(TEXTS, LABELS, GROUPS, "rules", codebook=CODEBOOK, folds=3, seed=2)
    assert first == second


def test_the_baseline_is_trained_and_scored_on_the_engines_folds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[list[tuple[np.ndarray, np.ndarray]]] = []
    given: list[object] = []

    def folds(*args: object, **kwargs: object) -> list[tuple[np.ndarray, np.ndarray]]:
        made.append(grouped_folds(*args, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    def baseline(texts: list[str], y: np.ndarray, splits: object) -> object:
        given.append(splits)
        return real(texts, y, splits)

    real = evaluate_module.baseline_scores
    monkeypatch.setitem(SUGGESTERS, "spy", Spy)
    monkeypatch.setattr(Spy, "fits", [])
    monkeypatch.setattr(Spy, "scored", [])
    monkeypatch.setattr(evaluate_module, "grouped_folds", folds)
    monkeypatch.setattr(evaluate_module, "baseline_scores", baseline)
    ids = [f"row{i}" for i in range(len(TEXTS))]  # the spy keeps what comes before a "-"
    tagged = [f"{s}-{t}" for s, t in zip(ids, TEXTS, strict=True)]
    evaluate(tagged, LABELS, GROUPS, "spy", codebook=CODEBOOK, folds=4, seed=1)
    assert len(made) == 1 and given == [made[0]] and given[0] is made[0]
    held_out = [{ids[i] for i in test} for _, test in made[0]]
    assert held_out == Spy.scored  # the engine scored exactly the baseline's held-out rows


def test_report_has_the_baseline_with_every_metric(report: dict[str, object]) -> None:
    baseline = report["baseline"]
    assert isinstance(baseline, dict) and "logistic regression" in baseline["model"]
    assert [c["code"] for c in baseline["codes"]] == list(CODEBOOK.code_ids)
    assert all(
        {"n", "n_scored", "f1", "cohen_kappa", "precision"} <= set(c) for c in baseline["codes"]
    )
    assert {"f1", "cohen_kappa"} <= set(baseline["macro"])
    assert "human_kappa" not in baseline["macro"]  # the human figures are the engine's column
    assert "character n-grams" in str(report["features"])


def test_the_baseline_learns_codes_the_words_decide() -> None:
    rng = np.random.default_rng(3)
    filler = ["the", "a", "we", "then", "later", "again", "today", "session", "talked"]
    cue = {"alpha": "garden", "beta": "storm"}
    texts, groups, rows = [], [], []
    for i in range(160):
        applied = {c: bool(rng.random() < 0.35) for c in cue}
        words = list(rng.choice(filler, 8)) + [w for c, w in cue.items() if applied[c]]
        texts.append(" ".join(rng.permutation(words)))
        groups.append(f"doc{i % 8}")
        rows.append({c: float(v) for c, v in applied.items()})
    labels = pd.DataFrame(rows, index=[f"s{i}" for i in range(160)])
    codebook = Codebook(
        "cb", "cb", tuple(Code(c, c, f"about {w}", indicators=(w,)) for c, w in cue.items())
    )
    result = evaluate(texts, labels, groups, "rules", codebook=codebook, folds=4, seed=0)
    baseline = result["baseline"]
    assert isinstance(baseline, dict)
    for entry in baseline["codes"]:
        assert entry["n_scored"] == 160 and entry["cohen_kappa"] > 0.6
    assert baseline["macro"]["cohen_kappa"] > 0.6


def _coded(rows: list[tuple[str, str, int | None, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(segment, coder, completion time or None, codes separated by ;) -> the two frames."""
    assignments = pd.DataFrame(
        [(s, c, t) for s, c, t, _ in rows], columns=["segment_id", "coder", "completed_at"]
    )
    annotations = pd.DataFrame(
        [(s, c, k) for s, c, _, codes in rows for k in codes.split(";") if k],
        columns=["segment_id", "coder", "code_id"],
    )
    return annotations, assignments


def test_human_kappa_is_between_the_first_two_coders_of_each_unit() -> None:
    first = [1, 1, 0, 0, 1, 0, 1, 0]
    second = [1, 0, 0, 0, 1, 1, 1, 0]
    rows: list[tuple[str, str, int | None, str]] = []
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        one, two = ("ann", "bob") if i % 2 else ("bob", "ann")  # who came first varies
        rows += [(f"s{i}", one, 1, "x" * a), (f"s{i}", two, 2, "x" * b), (f"s{i}", "cy", 3, "")]
    rows += [("s9", "ann", 1, "x"), ("s9", "bob", None, "")]  # single-coded: left out
    annotations, assignments = _coded(rows)
    result = human_agreement(annotations, assignments, ["x", "y"])
    assert result["units"] == 8
    codes = result["codes"]
    assert isinstance(codes, list)
    assert codes[0]["cohen_kappa"] == pytest.approx(cohen_kappa_score(first, second))
    assert codes[1]["cohen_kappa"] is None  # nobody ever applied y
    assert result["macro"] == {"cohen_kappa": pytest.approx(cohen_kappa_score(first, second))}


def test_human_kappa_is_none_without_double_coded_units() -> None:
    annotations, assignments = _coded([("s1", "ann", 1, "x"), ("s2", "bob", 1, "")])
    result = human_agreement(annotations, assignments, ["x"])
    assert result == {
        "units": 0,
        "codes": [{"code": "x", "cohen_kappa": None}],
        "macro": {"cohen_kappa": None},
    }


@pytest.fixture(scope="module")
def demo_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    target = tmp_path_factory.mktemp("evaluate") / "demo.db"
    build_demo(target, suggest=False)
    args = ["suggest", "evaluate", str(target), "--engine", "rules", "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def test_json_keeps_its_keys_and_adds_baseline_and_human(demo_json: dict[str, object]) -> None:
    old = {"engine", "folds", "seed", "codes", "macro", "folds_requested"}
    assert old | {"baseline", "human", "features"} <= set(demo_json)
    codes = demo_json["codes"]
    assert isinstance(codes, list) and all("human_kappa" in c for c in codes)
    baseline, human = demo_json["baseline"], demo_json["human"]
    assert isinstance(baseline, dict) and isinstance(human, dict)
    assert [c["code"] for c in baseline["codes"]] == [c["code"] for c in codes]
    assert [c["code"] for c in human["codes"]] == [c["code"] for c in codes]
    assert human["units"] > 0 and 0.5 < human["macro"]["cohen_kappa"] < 1


def test_the_baseline_chooses_its_thresholds_from_the_training_rows_alone() -> None:
    import numpy as np

    from coding.suggest.baseline import baseline_fold

    rng = np.random.default_rng(0)
    words = ["calm", "soothe", "baby", "parent", "group", "visit", "home", "notice"]
    texts = [" ".join(rng.choice(words, size=8)) for _ in range(60)]
    y = np.array([[1.0 if "calm" in t else 0.0] for t in texts])
    train, test = np.arange(40), np.arange(40, 60)
    scores, decided, _ = baseline_fold(texts, y, train, test)
    flipped = y.copy()
    flipped[test] = 1 - flipped[test]  # what the held-out rows are labelled must not matter
    scores_again, decided_again, _ = baseline_fold(texts, flipped, train, test)
    assert np.array_equal(decided, decided_again) and np.allclose(scores, scores_again)
    agreement = (decided[:, 0] == y[test, 0]).mean()
    assert agreement > 0.8  # a word that decides the code is learnt
