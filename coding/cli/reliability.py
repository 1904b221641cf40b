"""``coding reliability``: the standalone agreement calculator for one CSV file."""

from __future__ import annotations

import json
import math

import click

from coding.agreement import (
    ALPHA_CI_METHODS,
    DISTANCES,
    LEVELS,
    WEIGHTS,
    ByCategory,
    Coefficient,
    ReliabilityReport,
    reliability,
)
from coding.agreement.layouts import LAYOUTS
from coding.cli.main import cli
from coding.errors import CodingError


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


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _cell(value: object) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def format_table(report: ReliabilityReport) -> str:
    """The calculator report as aligned ``statistic  value`` lines, then the notes."""
    rows = [(name, "-" if value is None else _cell(value)) for name, value in report.settings()]
    for name, entry in report.rows():
        if isinstance(entry, ByCategory):
            rows.extend((f"{name}[{k}]", _cell(v)) for k, v in entry.values)
        elif isinstance(entry, Coefficient):
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
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {text}" for name, text in rows]
    if report.notes:
        lines.append("")
        lines.append("undefined or caveats:")
        lines.extend(f"  {name}: {reason}" for name, reason in report.notes)
    return "\n".join(lines)


@cli.command("reliability")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="units-by-coders",
    show_default=True,
    help="How the CSV is laid out.",
)
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="nominal",
    show_default=True,
    help="Level of measurement (alpha's difference function).",
)
@click.option(
    "--distance",
    type=click.Choice([d for d in DISTANCES if d != "binary"]),
    default=None,
    help="Set distance for set-valued codes (alpha).",
)
@click.option(
    "--weights",
    type=click.Choice(WEIGHTS),
    default=None,
    help="Agreement weights for weighted kappa, AC2 and the weighted coefficients.",
)
@click.option("--coders", callback=_coders, default=None, help="Only these coders, e.g. A,B.")
@click.option(
    "--continuum",
    callback=_continuum,
    default=None,
    help="Spans layout: the continuum BEGIN:END (default: first start to last end).",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Bootstrap replicates for 95% confidence intervals (0: none).",
)
@click.option(
    "--alpha-ci",
    type=click.Choice(ALPHA_CI_METHODS),
    default="krippendorff",
    show_default=True,
    help="Alpha's bootstrap: 'krippendorff' (Hayes & Krippendorff 2007, as kalpha) or 'units' "
    "(resample units; the interval narrows as units are added, use it for large studies).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def reliability_command(
    file: str,
    layout: str,
    level: str,
    distance: str | None,
    weights: str | None,
    coders: tuple[str, ...] | None,
    continuum: tuple[int, int] | None,
    bootstrap: int,
    alpha_ci: str,
    seed: int,
    fmt: str,
) -> None:
    """Agreement statistics for one CSV file of codings.

    Example: coding reliability codings.csv --level ordinal --bootstrap 1000 --alpha-ci units
    """
    try:
        report = reliability(
            file,
            layout,
            level=level,
            distance=distance,
            weights=weights,
            coders=coders,
            continuum=continuum,
            bootstrap=bootstrap,
            seed=seed,
            alpha_ci=alpha_ci,
        )
    except CodingError as err:
        raise click.ClickException(str(err)) from err
    if fmt == "json":
        click.echo(json.dumps(_json_safe(report.to_dict()), indent=2, ensure_ascii=False))
    else:
        click.echo(format_table(report))
