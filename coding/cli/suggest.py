"""``coding suggest``: NLP suggestions, their evaluation and the active-learning order."""

from __future__ import annotations

from typing import Any

import click
import pandas as pd

from coding.cli import suggest_llm
from coding.cli.common import (
    FORMAT,
    SEED,
    STUDY,
    actor,
    choice,
    clip,
    echo_frame,
    echo_json,
    friendly,
    note,
    open_study,
    progress_shown,
    refusing,
)
from coding.cli.main import cli
from coding.service import suggest as suggest_service

ENGINE = choice("--engine", suggest_service.ENGINES, "auto", help="The suggestion engine.")
ENGINE_OR_LLM = choice(  # run and evaluate also take the llm engine, with its options
    "--engine",
    (*suggest_service.ENGINES, suggest_llm.NAME),
    "auto",
    help="The suggestion engine (llm: a language model on your own server, see --endpoint).",
)
CONTEXT = click.option(
    "--context",
    type=click.IntRange(0, suggest_service.MAX_CONTEXT),
    default=None,
    help="Neighbouring units on each side the supervised engine reads (default: its own).",
)
MAX_TRAINING = click.option(
    "--max-training",
    type=click.IntRange(min=0),
    default=None,
    help=(
        "Fit each supervised model on at most this many reference units, a seeded random"
        " sample past it (default 20,000; 0: all of them)."
    ),
)
EVALUATED = (  # the columns of suggest evaluate's table, after the code
    "n",
    "prevalence",
    "precision",
    "recall",
    "f1",
    "cohen_kappa",
    "gwet_ac1",
    "pr_auc",
    "brier",
    "human_kappa",
)


class _DefaultRun(click.Group):
    """``coding suggest STUDY`` means ``coding suggest run STUDY``; subcommands still work."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_DefaultRun)
def suggest() -> None:
    """NLP code suggestions: run (the default), evaluate, next.

    Example: coding suggest study.db --engine auto
    """


@suggest.command("run")
@STUDY
@ENGINE_OR_LLM
@SEED
@suggest_llm.llm_options
@CONTEXT
@MAX_TRAINING
@friendly
@refusing(suggest_llm.ignored_by(suggest_service.ENGINES))
def run(
    study: str, engine: str, seed: int, context: int | None, max_training: int | None, **llm: Any
) -> None:
    """Store NLP code suggestions for every unit (they never become codes by themselves).

    Example: coding suggest study.db --engine rules
    """
    if engine == suggest_llm.NAME:
        _no_context_for_llm(context, max_training=max_training)
        with open_study(study) as store:
            suggest_llm.run(store, llm)
        return
    with open_study(study) as store, progress_shown() as on_progress:
        result = suggest_service.run_suggestions(
            store,
            actor(),
            engine,
            seed,
            on_progress=on_progress,
            context=context,
            max_training=max_training,
        )
    trained = f"{result.reference_segments}"
    if result.fitted_on is not None:
        trained = f"a seeded sample of {result.fitted_on} of {trained}"
    click.echo(
        f"run #{result.run_id}: {result.engine} ({result.model_version}), codebook "
        f"v{result.codebook_version}, trained on {trained} reference "
        f"units; {result.suggestions} suggestions over {result.segments} units"
    )
    for code_id, reason in sorted(result.reasons.items()):
        note(f"  {code_id}: {reason}")


def _no_context_for_llm(
    context: int | None, ablation: bool = False, max_training: int | None = None
) -> None:
    """The llm engine reads each unit alone and fits nothing: --context, --ablation and
    --max-training are refused with it."""
    given_flags = (
        (context is not None, "--context"),
        (ablation, "--ablation"),
        (max_training is not None, "--max-training"),
    )
    for given, flag in given_flags:
        if given:
            raise click.UsageError(f"{flag} is for the supervised engines, not --engine llm")


@suggest.command("evaluate")
@STUDY
@ENGINE_OR_LLM
@SEED
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True)
@CONTEXT
@MAX_TRAINING
@click.option(
    "--ablation",
    is_flag=True,
    help="Also run the supervised engine with text only, + context, + attributes, + structure.",
)
@FORMAT("table", "json")
@suggest_llm.llm_options
@friendly
@refusing(suggest_llm.ignored_by(suggest_service.ENGINES))
def evaluate(
    study: str,
    engine: str,
    seed: int,
    folds: int,
    context: int | None,
    max_training: int | None,
    ablation: bool,
    fmt: str,
    **llm: Any,
) -> None:
    """Cross-validate an engine, folds grouped by document, next to a TF-IDF + logistic
    regression baseline on the same folds and to human-human kappa.

    Example: coding suggest evaluate study.db --folds 4 --ablation
    """
    with open_study(study) as store:
        if engine == suggest_llm.NAME:
            _no_context_for_llm(context, ablation, max_training)
            result = suggest_llm.evaluate(store, folds, seed, llm)
        else:
            result = suggest_service.evaluate_suggestions(
                store,
                engine,
                folds,
                seed,
                context=context,
                ablation=ablation,
                max_training=max_training,
            )
    if "folds_note" in result:
        note(f"note: {result['folds_note']}")
    if fmt == "json":
        echo_json(result)
        return
    click.echo(
        f"engine {result['engine']}, {result['folds']} folds grouped by document, "
        f"seed {result['seed']}"
    )
    rows = [*result["codes"], {"code": "macro", **result["macro"]}]
    table = pd.DataFrame(
        {"code": [row["code"] for row in rows]}
        | {clip(c, 11): [_fmt(row.get(c)) for row in rows] for c in EVALUATED}
    )
    echo_frame(table, "table", left=["code"], widths={**dict.fromkeys(table, 11), "code": 24})
    _echo_comparison(result)
    if "llm" in result:
        suggest_llm.echo_tally(result["llm"])


def _echo_comparison(result: dict[str, Any]) -> None:
    """The engine next to the baseline on the same folds and to the first two human coders."""
    baseline, human = result["baseline"], result["human"]
    click.echo(f"features: {result['features'] or 'not described for this engine'}")
    click.echo(f"baseline: {baseline['model']}, same folds")
    units = human["units"]
    click.echo(
        f"human: first two coders of each of {units} double-coded units"
        if units
        else "human: n/a (no unit is double-coded)"
    )
    engine = [*result["codes"], result["macro"]]
    base = [*baseline["codes"], baseline["macro"]]
    people = [*human["codes"], human["macro"]]
    table = pd.DataFrame(
        {
            "code": [*(row["code"] for row in baseline["codes"]), "macro"],
            "engine_f1": [_fmt(row["f1"]) for row in engine],
            "baseline_f1": [_fmt(row["f1"]) for row in base],
            "engine_kappa": [_fmt(row["cohen_kappa"]) for row in engine],
            "base_kappa": [_fmt(row["cohen_kappa"]) for row in base],
            "human_kappa": [_fmt(row["cohen_kappa"]) if units else "n/a" for row in people],
        }
    )
    echo_frame(table, "table", left=["code"], widths={**dict.fromkeys(table, 12), "code": 24})
    if "ablation" in result:
        _echo_ablation(result["ablation"], base, people if units else None)


def _echo_ablation(
    steps: list[dict[str, Any]], base: list[dict[str, Any]], people: list[dict[str, Any]] | None
) -> None:
    """Kappa of the supervised engine at each ablation step, beside baseline and humans."""
    click.echo("ablation: supervised engine, cohen_kappa on the same folds")
    for step in steps:
        click.echo(f"  {step['step']}: {step['features']}")
    rows = [*steps[0]["codes"], {"code": "macro"}]
    table = pd.DataFrame(
        {"code": [row["code"] for row in rows]}
        | {
            clip(step["step"], 12): [
                _fmt(row.get("cohen_kappa")) for row in [*step["codes"], step["macro"]]
            ]
            for step in steps
        }
        | {
            "base_kappa": [_fmt(row["cohen_kappa"]) for row in base],
            "human_kappa": [_fmt(r["cohen_kappa"]) for r in people] if people else "n/a",
        }
    )
    echo_frame(table, "table", left=["code"], widths={**dict.fromkeys(table, 12), "code": 24})


@suggest.command("next")
@STUDY
@click.option("--coder", required=True)
@ENGINE
@SEED
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@friendly
def next_(study: str, coder: str, engine: str, seed: int, limit: int) -> None:
    """Which of a coder's open units to code next (most uncertain, diverse; a random
    sample held out for unbiased evaluation).

    Example: coding suggest next study.db --coder chloe
    """
    with open_study(study) as store:
        result = suggest_service.next_units(store, coder, engine, seed, limit)
    echo_json(result)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
