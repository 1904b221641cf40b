"""``coding agreement``: per-code, per-document and overall agreement for a study."""

from __future__ import annotations

import math
from collections.abc import Sequence

import click
import pandas as pd

from coding import service
from coding.cli.common import (
    BOOTSTRAP,
    FORMAT,
    SEED,
    STUDY,
    actor,
    echo_disagreements,
    echo_frame,
    flag,
    friendly,
    note,
    open_study,
    refusing,
)
from coding.cli.main import cli
from coding.service import agreement as agreement_service
from coding.service import agreement_by
from coding.service.access import Operator

SHOWN = (
    "pair",
    "code_id",
    "document_id",
    "level",
    "rolled_up",
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
        "--level",
    ),
    "--disagreements": (
        "--pairwise",
        "--nlp",
        "--consensus",
        "--by",
        "--bootstrap",
        "--seed",
        "--level",
    ),
    "--pairwise": ("--by",),  # one table per pair, always by code
}
AGREEING = {("--pairwise", "--by code")}  # what --pairwise does anyway


@cli.command()
@STUDY
@click.option(
    "--coders",
    help="Comma-separated coders (default: all with completed units). "
    "'nlp' and 'consensus' may be named too.",
)
@click.option(
    "--by",
    default="code",
    show_default=True,
    help="What each row is about: code, document, code-document, or an attribute of units "
    "or documents (the per-code table for each of its values).",
)
@click.option(
    "--level",
    type=click.IntRange(min=1),
    help="One level of the code hierarchy alone (1: top-level codes), each parent rolled up; "
    "the overall row then pools that level's codes. Without it, a codebook with parent codes "
    "gives every code's row, a parent's rolled up (columns level and rolled_up), and the "
    "overall row pools the codes as coded.",
)
@BOOTSTRAP
@SEED
@flag("--nlp", "Add NLP suggestions as coder 'nlp'.", "include_nlp")
@flag("--consensus", "Add the consensus coding as coder 'consensus'.", "include_consensus")
@flag("--pairwise", "One table per pair of coders.")
@flag(
    "--spans",
    "Span level: Krippendorff's u-alpha and character-level kappa per document and code.",
    "span_level",
)
@flag("--disagreements", "List the units where coders differ instead.", "list_disagreements")
@FORMAT()
@refusing(IGNORED_BY, AGREEING)
@friendly
def agreement(
    study: str,
    coders: str | None,
    by: str,
    level: int | None,
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

    A parent code is rolled up: a coder applied it on a unit where they applied it or any of
    its descendants. The disagreements stay per code as coded.

    Example: coding agreement study.db --bootstrap 1000 --format csv
    """
    names = [c.strip() for c in coders.split(",") if c.strip()] if coders else None
    keep: list[str] = []
    with open_study(study) as store:
        if by not in agreement_by.BUILT_IN and not (span_level or list_disagreements or pairwise):
            table = agreement_by.agreement_by_attribute(
                store,
                Operator(actor()),
                by,
                names,
                bootstrap,
                seed,
                include_nlp,
                include_consensus,
                level,
            )
            keep = [str(table.columns[0])]
        elif span_level:
            table = agreement_service.span_report(store, names)
        elif list_disagreements:
            table = service.disagreements(store, names)
        elif pairwise:
            table = agreement_service.pairwise_report(
                store, names, include_nlp, include_consensus, bootstrap, seed, level
            )
        else:
            table = agreement_service.agreement_report(
                store, names, by, bootstrap, seed, include_nlp, include_consensus, level
            )
    if list_disagreements:
        echo_disagreements(table, fmt)
        return
    echo_agreement(table, fmt, keep)


def echo_agreement(table: pd.DataFrame, fmt: str, keep: Sequence[str] = ()) -> None:
    """An agreement table as ``fmt``; as a table, notes become footnotes and, where rows pool
    the codes, a note on stderr says what n_units counts there. ``keep`` names columns shown
    first, before the metrics (an attribute's values)."""

    def view(shown: pd.DataFrame) -> pd.DataFrame:
        metrics = _metrics_view(shown)
        return pd.concat([shown[list(keep)], metrics], axis=1) if keep else metrics

    echo_frame(table, fmt, view=view, left=["note", *keep], footnotes="note")
    if fmt == "table" and _pooled(table):
        note(N_UNITS_NOTE)


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
        if column == "rolled_up":
            shown[column] = shown[column].map({True: "yes", False: ""})
        elif column == "level":
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else str(v))
        elif shown[column].dtype.kind == "f" or column.endswith(("_ci_low", "_ci_high")):
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
