"""``coding agreement``: per-code, per-document and overall agreement for a study."""

from __future__ import annotations

import math

import click
import pandas as pd
from click.core import ParameterSource

from coding import service
from coding.cli.common import (
    FORMAT,
    STUDY,
    echo_disagreements,
    echo_frame,
    friendly,
    note,
    open_study,
)
from coding.cli.main import cli
from coding.service import agreement as agreement_service

SHOWN = (
    "pair",
    "code_id",
    "document_id",
    "coders",
    "characters",
    "coded_characters",
    "u_alpha",
    "character_kappa",
    "n_units",
    "prevalence",
    "percent_agreement",
    "cohen_kappa",
    "krippendorff_alpha",
    "krippendorff_alpha_ci_low",
    "krippendorff_alpha_ci_high",
    "gwet_ac1",
    "alpha_band",
    "note",
)


# The flags each view ignores: given with the view, they are refused rather than dropped.
IGNORED_BY = {
    "--spans": (
        "--disagreements",
        "--pairwise",
        "--nlp",
        "--consensus",
        "--by",
        "--bootstrap",
        "--seed",
    ),
    "--disagreements": ("--pairwise", "--nlp", "--consensus", "--by", "--bootstrap", "--seed"),
    "--pairwise": ("--by",),  # one table per pair, always by code
}
_PARAMETERS = {
    "--spans": "span_level",
    "--disagreements": "list_disagreements",
    "--pairwise": "pairwise",
    "--nlp": "include_nlp",
    "--consensus": "include_consensus",
    "--by": "by",
    "--bootstrap": "bootstrap",
    "--seed": "seed",
}


@cli.command()
@STUDY
@click.option(
    "--coders",
    help="Comma-separated coders (default: all with completed units). "
    "'nlp' and 'consensus' may be named too.",
)
@click.option(
    "--by",
    type=click.Choice(["code", "document", "code-document"]),
    default="code",
    show_default=True,
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Bootstrap resamples for confidence intervals (0: none).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--nlp", "include_nlp", is_flag=True, help="Add NLP suggestions as coder 'nlp'.")
@click.option(
    "--consensus",
    "include_consensus",
    is_flag=True,
    help="Add the consensus coding as coder 'consensus'.",
)
@click.option("--pairwise", is_flag=True, help="One table per pair of coders.")
@click.option(
    "--spans",
    "span_level",
    is_flag=True,
    help="Span level: Krippendorff's u-alpha and character-level kappa per document and code.",
)
@click.option(
    "--disagreements",
    "list_disagreements",
    is_flag=True,
    help="List the units where coders differ instead.",
)
@FORMAT()
@click.pass_context
@friendly
def agreement(
    ctx: click.Context,
    study: str,
    coders: str | None,
    by: str,
    bootstrap: int,
    seed: int,
    include_nlp: bool,
    include_consensus: bool,
    pairwise: bool,
    span_level: bool,
    list_disagreements: bool,
    fmt: str,
) -> None:
    """Agreement per code and overall (alpha, kappa, AC1, ... with bootstrap CIs).

    Example: coding agreement study.db --bootstrap 1000 --format csv
    """
    _refuse_ignored_flags(ctx)
    names = [c.strip() for c in coders.split(",") if c.strip()] if coders else None
    with open_study(study) as store:
        if span_level:
            table = agreement_service.span_report(store, names)
        elif list_disagreements:
            table = service.disagreements(store, names)
        elif pairwise:
            table = agreement_service.pairwise_report(
                store, names, include_nlp, include_consensus, bootstrap, seed
            )
        else:
            table = agreement_service.agreement_report(
                store, names, by, bootstrap, seed, include_nlp, include_consensus
            )
    if list_disagreements:
        echo_disagreements(table, fmt)
        return
    echo_agreement(table, fmt)


def echo_agreement(table: pd.DataFrame, fmt: str) -> None:
    """An agreement table as ``fmt``; as a table, notes become footnotes and, where rows pool
    the codes, a note on stderr says what n_units counts there."""
    echo_frame(table, fmt, view=_metrics_view, left=["note"], footnotes="note")
    if fmt == "table" and _pooled(table):
        note(N_UNITS_NOTE)


def _refuse_ignored_flags(ctx: click.Context) -> None:
    """A usage error naming both flags when a view is asked for with a flag it ignores."""
    given = {flag for flag, name in _PARAMETERS.items() if _given(ctx, name)}
    for view, ignored in IGNORED_BY.items():
        clash = next((flag for flag in ignored if flag in given), None) if view in given else None
        if clash is not None:
            raise click.UsageError(
                f"{view} and {clash} cannot be used together ({view} ignores {clash})", ctx
            )


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user gave parameter ``name``: a flag turned on, or an option set on the
    command line. ``--by code`` with --pairwise is no clash: it is what --pairwise does."""
    value = ctx.params[name]
    if isinstance(value, bool):
        return value
    if name == "by" and value == "code" and ctx.params["pairwise"]:
        return False
    return ctx.get_parameter_source(name) is not ParameterSource.DEFAULT


POOLED_SCOPES = ("overall", "document")  # rows that pool every code: n_units counts pairs
N_UNITS_NOTE = (
    "note: n_units counts units on a code's rows, and (unit, code) pairs on rows that pool "
    "the codes (code_id * or overall)"
)
RENAMED = {
    "krippendorff_alpha": "alpha",
    "percent_agreement": "agree",
    "krippendorff_alpha_ci_low": "alpha_lo",
    "krippendorff_alpha_ci_high": "alpha_hi",
    "cohen_kappa": "kappa",
    "prevalence": "prev",
}


def _metrics_view(table: pd.DataFrame) -> pd.DataFrame:
    """The columns worth showing, numbers to 3 places ("-" when undefined), short names."""
    columns = [c for c in SHOWN if c in table.columns and _shown(table[c])]
    shown = table[columns].copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f" or column.endswith(("_ci_low", "_ci_high")):
            shown[column] = shown[column].map(_num)
    return shown.rename(columns=RENAMED)


def _pooled(table: pd.DataFrame) -> bool:
    """Whether the table shows n_units on rows that pool every code (the note explains it)."""
    return (
        "n_units" in table
        and _shown(table["n_units"])
        and "scope" in table
        and bool(table["scope"].isin(POOLED_SCOPES).any())
    )


def _shown(column: pd.Series) -> bool:
    """A column worth a place in the table: some value that is neither missing nor empty."""
    return bool((column.notna() & (column.astype(str) != "")).any())


def _num(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{float(value):.3f}" if isinstance(value, int | float) else str(value)
