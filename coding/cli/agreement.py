"""``coding agreement``: per-code, per-document and overall agreement for a study."""

from __future__ import annotations

import math

import click
import pandas as pd

from coding import service
from coding.cli.common import disagreements_text, friendly, note, open_study, table_text
from coding.cli.main import cli
from coding.export.cells import csv_text
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


@cli.command()
@click.argument("study", metavar="STUDY")
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
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@friendly
def agreement(
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
    _emit(table, fmt, full=list_disagreements)


POOLED_SCOPES = ("overall", "document")  # rows that pool every code: n_units counts pairs
N_UNITS_NOTE = (
    "note: n_units counts units on a code's rows, and (unit, code) pairs on rows that pool "
    "the codes (code_id * or overall)"
)


def _emit(table: pd.DataFrame, fmt: str, full: bool) -> None:
    if fmt == "csv":
        click.echo(csv_text(table), nl=False)
        return
    if fmt == "json":
        click.echo(table.to_json(orient="records", indent=2, force_ascii=False))
        return
    if full:
        click.echo(disagreements_text(table))
        return
    columns = [c for c in SHOWN if c in table.columns and _shown(table[c])]
    shown = table[columns].copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f" or column.endswith(("_ci_low", "_ci_high")):
            shown[column] = shown[column].map(_num)
    footnotes: list[str] = []
    if "note" in shown:
        shown["note"] = [_footnote(str(text), footnotes) for text in shown["note"]]
    shown = shown.rename(
        columns={
            "krippendorff_alpha": "alpha",
            "percent_agreement": "agree",
            "krippendorff_alpha_ci_low": "alpha_lo",
            "krippendorff_alpha_ci_high": "alpha_hi",
            "cohen_kappa": "kappa",
            "prevalence": "prev",
        }
    )
    click.echo(table_text(shown, left=["note"]))
    for number, text in enumerate(footnotes, start=1):
        click.echo(f"[{number}] {text}")
    if "n_units" in shown and "scope" in table and table["scope"].isin(POOLED_SCOPES).any():
        note(N_UNITS_NOTE)


def _shown(column: pd.Series) -> bool:
    """A column worth a place in the table: some value that is neither missing nor empty."""
    return bool((column.notna() & (column.astype(str) != "")).any())


def _footnote(text: str, footnotes: list[str]) -> str:
    """The note's marker ("[2]"), adding the note to ``footnotes`` once; "" for no note."""
    if not text:
        return ""
    if text not in footnotes:
        footnotes.append(text)
    return f"[{footnotes.index(text) + 1}]"


def _num(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{float(value):.3f}" if isinstance(value, int | float) else str(value)
