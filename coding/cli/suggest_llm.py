"""The options and output of ``coding suggest run/evaluate --engine llm``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from coding.cli.common import FC, actor, note, progress_shown
from coding.service import suggest_llm
from coding.service.suggest_llm import LLMSettings
from coding.store import Store

NAME = "llm"
OPTIONS = ("--endpoint", "--model", "--concurrency", "--timeout", "--retries", "--retry-wait")
FLAGS = ("--allow-remote",)
SHOWN_FAILURES = 5


def llm_options(func: FC) -> FC:
    """The options of the llm engine, passed to the command as keyword arguments."""
    decorators: list[Callable[[FC], FC]] = [
        click.option(
            "--endpoint",
            metavar="URL",
            help="llm: the OpenAI-compatible server (llama.cpp, Ollama, vLLM), e.g. "
            "http://127.0.0.1:8080; /v1/chat/completions is added unless the URL ends in "
            "/chat/completions.",
        ),
        click.option("--model", metavar="NAME", help="llm: the model name the server serves."),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1),
            default=4,
            show_default=True,
            help="llm: questions in flight at once.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=120.0,
            show_default=True,
            help="llm: seconds to wait for one answer.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            default=3,
            show_default=True,
            help="llm: attempts after the first, on 429, 5xx, timeouts and unreadable answers.",
        ),
        click.option(
            "--retry-wait",
            type=click.FloatRange(min=0),
            default=1.0,
            show_default=True,
            help="llm: seconds before the first retry, doubled for each next one.",
        ),
        click.option(
            "--allow-remote",
            is_flag=True,
            help="llm: allow an endpoint outside the local and private networks (the unit "
            "texts are sent there).",
        ),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def ignored_by(engines: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """For ``refusing``: every other engine ignores the llm options."""
    return {f"--engine {e}": (*OPTIONS, *FLAGS) for e in engines}


def settings(options: Mapping[str, Any]) -> LLMSettings:
    """The settings from the command's llm options; --endpoint and --model are required."""
    missing = [f"--{k}" for k in ("endpoint", "model") if not options.get(k)]
    if missing:
        raise click.UsageError(f"--engine llm needs {' and '.join(missing)}")
    return LLMSettings(
        endpoint=str(options["endpoint"]),
        model=str(options["model"]),
        concurrency=int(options["concurrency"]),
        timeout=float(options["timeout"]),
        retries=int(options["retries"]),
        retry_wait=float(options["retry_wait"]),
        allow_remote=bool(options["allow_remote"]),
    )


def run(store: Store, options: Mapping[str, Any]) -> None:
    """Store the model's suggestions and say what was sent where and what the checks dropped."""
    chosen = settings(options)
    with progress_shown() as on_progress:
        result = suggest_llm.run_llm_suggestions(store, actor(), chosen, on_progress)
    click.echo(
        f"run #{result.run_id}: {NAME} ({result.model_version}), codebook "
        f"v{result.codebook_version}, no training; {result.suggestions} suggestions over "
        f"{result.segments} units"
    )
    echo_tally(
        {
            "endpoint": result.endpoint,
            "sent": result.sent,
            "from_cache": result.from_cache,
            "failed": len(result.failed),
            "dropped_quotes": result.dropped_quotes,
            "unknown_codes": result.unknown_codes,
        }
    )
    if result.failed:
        note(f"warning: {len(result.failed)} units failed (asked again by the next run):")
        for segment_id, reason in list(result.failed.items())[:SHOWN_FAILURES]:
            note(f"  {segment_id}: {reason}")


def evaluate(store: Store, folds: int, seed: int, options: Mapping[str, Any]) -> dict[str, Any]:
    """The evaluation of the llm engine, as ``suggest evaluate`` prints any engine's."""
    chosen = settings(options)
    with progress_shown() as on_progress:
        return suggest_llm.evaluate_llm(store, actor(), chosen, folds, seed, on_progress)


def echo_tally(tally: Mapping[str, Any]) -> None:
    """One line: where the texts went, how many, and what the checks dropped."""
    unknown = tally["unknown_codes"]
    shown = ", ".join(f"{code!r} x{n}" for code, n in sorted(unknown.items())[:5])
    click.echo(
        f"{NAME}: {tally['sent']} units sent to {tally['endpoint']}, {tally['from_cache']} "
        f"answered from the study's cache, {tally['failed']} failed; dropped "
        f"{tally['dropped_quotes']} quotes not in their unit and {sum(unknown.values())} "
        f"unknown code ids{f' ({shown})' if shown else ''}"
    )
