"""Past ``max_training`` reference units, each supervised model is fitted on a seeded sample."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from coding.cli import cli
from coding.service import suggest as suggest_service
from coding.service.demo import build_demo
from coding.store import Store
from coding.suggest import SupervisedParams, SupervisedSuggester
from coding.suggest.settings import MAX_TRAINING, training_sample
from tests.conftest import new_target
from tests.test_suggest_supervised import CODEBOOK, TEST, TRAIN, labels_for


def _engine(cap: int | None, frame: pd.DataFrame = TRAIN, least: int = 5) -> SupervisedSuggester:
    params = replace(SupervisedParams(), max_training=cap, min_positives=least)
    return SupervisedSuggester(CODEBOOK, params=params).fit(
        list(frame["text"]), labels_for(frame, CODEBOOK), list(frame["document_id"])
    )


def test_the_sample_is_seeded_sorted_and_only_taken_past_the_cap() -> None:
    picked = training_sample(1000, 100, 3)
    assert picked is not None and len(picked) == len(set(picked.tolist())) == 100
    assert picked.tolist() == sorted(picked.tolist())
    assert np.array_equal(picked, training_sample(1000, 100, 3))
    assert not np.array_equal(picked, training_sample(1000, 100, 4))
    assert training_sample(100, 100, 0) is None
    assert training_sample(100, None, 0) is None


def test_a_capped_model_is_the_model_of_its_sample() -> None:
    cap = 60
    capped = _engine(cap)
    picked = training_sample(len(TRAIN), cap, 0)
    assert picked is not None
    alone = _engine(None, TRAIN.iloc[picked])
    assert capped.training == {"reference_units": len(TRAIN), "fitted_on": cap}
    assert alone.training == {"reference_units": cap, "fitted_on": cap}
    assert capped.thresholds() == alone.thresholds()
    texts = list(TEST["text"])
    np.testing.assert_allclose(
        capped.scores(texts).to_numpy(), alone.scores(texts).to_numpy(), rtol=0, atol=1e-6
    )
    uncapped = _engine(None)
    assert uncapped.training == {"reference_units": len(TRAIN), "fitted_on": len(TRAIN)}
    assert not np.allclose(
        np.nan_to_num(uncapped.scores(texts).to_numpy()),
        np.nan_to_num(capped.scores(texts).to_numpy()),
    )


def test_a_code_too_rare_in_the_sample_says_the_sample_is_why() -> None:
    # Two of the 84 reference units have family_involvement: enough with min_positives 2,
    # none in the sample of 12.
    full, capped = _engine(None, least=2), _engine(12, least=2)
    rare = [c for c, m in capped.code_models.items() if not m.models and full.code_models[c].models]
    assert rare, "the 12-unit sample should lose a code the full reference can model"
    for code_id in rare:
        reason = capped.reasons()[code_id]
        assert reason.startswith("too few reference labels")
        assert f"random sample of 12 of {len(TRAIN)} reference units" in reason
    assert not any("sample" in r for r in full.reasons().values())


@pytest.fixture(scope="module")
def demo(
    engine: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path | str]:
    with new_target(engine, request, tmp_path_factory.mktemp("sample")) as target:
        build_demo(target, suggest=False)
        yield target


@pytest.mark.both_engines
@pytest.mark.parametrize("kind", ["supervised", "auto"])
def test_a_run_records_what_its_models_were_fitted_on(demo: Path | str, kind: str) -> None:
    with Store.open(demo) as store:
        capped = suggest_service.run_suggestions(store, "tester", kind, max_training=40)
        first = json.loads(store.suggestion_runs().iloc[-1]["params"])
        every = suggest_service.run_suggestions(store, "tester", kind, max_training=0)
        second = json.loads(store.suggestion_runs().iloc[-1]["params"])
    reference = first["reference_segments"]
    assert reference > 40
    assert first["training"] == {"reference_units": reference, "fitted_on": 40}
    assert second["training"] == {"reference_units": reference, "fitted_on": reference}
    assert capped.model_version != every.model_version
    assert capped.fitted_on == 40 and every.fitted_on is None


def test_the_cli_takes_the_cap_and_the_llm_engine_refuses_it(tmp_path: Path) -> None:
    study = str(tmp_path / "demo.db")
    build_demo(study, suggest=False)
    runner = CliRunner()
    done = runner.invoke(
        cli, ["suggest", "run", study, "--engine", "supervised", "--max-training", "50"]
    )
    assert done.exit_code == 0, done.output
    assert "trained on a seeded sample of 50 of " in done.output
    with Store.open(study) as store:
        params = json.loads(store.suggestion_runs().iloc[-1]["params"])
    assert params["training"]["fitted_on"] == 50
    refused = runner.invoke(
        cli, ["suggest", "run", study, "--engine", "llm", "--max-training", "5"]
    )
    assert refused.exit_code == 2
    assert "--max-training is for the supervised engines" in refused.output


def test_the_help_names_the_engines_default_cap() -> None:
    shown = CliRunner().invoke(cli, ["suggest", "run", "--help"], terminal_width=200).output
    assert f"(default {MAX_TRAINING:,}; 0: all of them)" in " ".join(shown.split())


def test_evaluation_fits_its_folds_on_the_sample_too(tmp_path: Path) -> None:
    study = str(tmp_path / "demo.db")
    build_demo(study, suggest=False)
    with Store.open(study) as store:
        capped = suggest_service.evaluate_suggestions(store, "supervised", 2, max_training=30)
        every = suggest_service.evaluate_suggestions(store, "supervised", 2, max_training=0)
        default = suggest_service.evaluate_suggestions(store, "supervised", 2)
    kappas = [[c["cohen_kappa"] for c in r["codes"]] for r in (capped, every, default)]
    assert kappas[0] != kappas[1]
    assert kappas[1] == kappas[2]  # the demo's reference is far below the default cap
