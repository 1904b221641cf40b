"""``coding reliability``: the standalone agreement calculator for one CSV file."""

from __future__ import annotations

from typing import Any

import click
import pandas as pd

from coding.cli.common import (
    BOOTSTRAP,
    FORMAT,
    SEED,
    choice,
    echo_json,
    echo_rows,
    friendly,
    refusing,
)
from coding.cli.main import cli
from coding.service import standalone as calc

# The options each layout ignores: given with the layout, they are refused rather than dropped.
IGNORED_BY = {
    "--layout spans": (
        "--level",
        "--distance",
        "--weights",
        "--bootstrap",
        "--alpha-ci",
        "--seed",
    ),
    **{
        f"--layout {layout}": ("--coders", "--continuum")
        for layout in ("counts", "contingency")  # no coder names, no continuum
    },
    **{f"--layout {layout}": ("--continuum",) for layout in ("units-by-coders", "long")},
}


def _coders(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    coders = tuple(c.strip() for c in value.split(",") if c.strip())
    if len(coders) < 1:
        raise click.BadParameter("give coder names separated by commas, e.g. A,B")
    return coders


def _continuum(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        begin, end = (int(part) for part in value.split(":"))
    except ValueError:
        raise click.BadParameter("use BEGIN:END with whole numbers, e.g. 150:450") from None
    if end <= begin:
        raise click.BadParameter(f"END ({end}) must be greater than BEGIN ({begin})")
    return begin, end


def _cell(value: object) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def report_rows(report: calc.ReliabilityReport) -> pd.DataFrame:
    """The calculator report as (name, value) rows: settings, statistics, alpha's bootstrap."""
    rows = [(name, "-" if value is None else _cell(value)) for name, value in report.settings()]
    for name, entry in report.rows():
        if isinstance(entry, calc.ByCategory):
            rows.extend((f"{name}[{k}]", _cell(v)) for k, v in entry.values)
        elif isinstance(entry, calc.Coefficient):
            text = _cell(entry.value)
            if entry.interval is not None:
                text += f"  95% CI {_cell(entry.interval)}"
            rows.append((name, text))
        else:
            rows.append((name, entry))
    if report.alpha_bootstrap is not None:
        rows.append(("bootstrap_replicates", str(report.bootstrap_replicates)))
        rows.append(("krippendorff_alpha_ci_method", report.alpha_bootstrap.method))
    summary = report.bootstrap_summary() or {}
    rows.extend((f"krippendorff_alpha_bootstrap[{k}]", _cell(v)) for k, v in summary.items())
    return pd.DataFrame(rows, columns=["name", "value"])


def echo_report(report: calc.ReliabilityReport) -> None:
    """The report as aligned ``name  value`` lines, then the notes."""
    rows = report_rows(report)
    echo_rows(rows, widths={"name": int(rows["name"].str.len().max()) + 1})
    if report.notes:
        click.echo("\nundefined or caveats:")
        for name, reason in report.notes:
            click.echo(f"  {name}: {reason}")


@cli.command("reliability")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@choice("--layout", calc.LAYOUTS, "units-by-coders", help="How the CSV is laid out.")
@choice(
    "--level", calc.LEVELS, "nominal", help="Level of measurement (alpha's difference function)."
)
@choice(
    "--distance",
    [d for d in calc.DISTANCES if d != "binary"],
    help="Set distance for set-valued codes (alpha).",
)
@choice(
    "--weights",
    calc.WEIGHTS,
    help="Agreement weights for weighted kappa, AC2 and the weighted coefficients.",
)
@click.option("--coders", callback=_coders, default=None, help="Only these coders, e.g. A,B.")
@click.option(
    "--continuum",
    callback=_continuum,
    default=None,
    help="Spans layout: the continuum BEGIN:END (default: first start to last end).",
)
@BOOTSTRAP
@choice(
    "--alpha-ci",
    calc.ALPHA_CI_METHODS,
    "krippendorff",
    help="Alpha's bootstrap: 'krippendorff' (Hayes & Krippendorff 2007, as kalpha) or 'units' "
    "(resample units; the interval narrows as units are added, use it for large studies).",
)
@SEED
@FORMAT("table", "json", show_default=True)
@refusing(IGNORED_BY)
@friendly
def reliability_command(file: str, fmt: str, **calculator: Any) -> None:
    """Agreement statistics for one CSV file of codings.

    Example: coding reliability codings.csv --level ordinal --bootstrap 1000 --alpha-ci units
    """
    report = calc.reliability(file, **calculator)
    if fmt == "json":
        echo_json(report.to_dict())
    else:
        echo_report(report)
