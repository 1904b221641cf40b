"""Commands of the review: status, disagreements and resolve."""

from __future__ import annotations

from typing import Any

import click

from coding import service
from coding.cli.common import (
    FORMAT,
    STUDY,
    actor,
    echo_disagreement_rows,
    echo_json,
    friendly,
    open_study,
)
from coding.cli.main import cli
from coding.errors import Conflict
from coding.model import Decision
from coding.service.access import Operator
from coding.service.review_list import disagreement_rows


@cli.command()
@STUDY
@FORMAT("table", "json")
@friendly
def status(study: str, fmt: str) -> None:
    """Documents, segments, coders, codes, progress and disagreements.

    Example: coding status study.db --format json
    """
    with open_study(study) as store:
        info = service.study_overview(store, Operator(actor())).as_dict()
    if fmt == "json":
        echo_json(info)
        return
    click.echo(f"study            {info['study']} (schema v{info['schema_version']})")
    click.echo(f"codebook         v{info['codebook_version']}, {info['codes']} codes")
    click.echo(f"documents        {info['documents']} ({info['document_versions']} versions)")
    click.echo(f"segments         {info['segments']} (unit: {info['unit']})")
    click.echo(
        f"coders           {info['coders']} with submitted work "
        f"({info['coders_registered']} registered)"
    )
    click.echo(f"annotations      {info['annotations']}")
    for coder, p in info["progress"].items():
        share = p["completed"] / p["assigned"] if p["assigned"] else 0.0
        click.echo(
            f"  {coder:14} {p['completed']:5d}/{p['assigned']} assigned units done "
            f"({share:.0%}), {p['annotations']} annotations"
        )
    click.echo(
        f"disagreements    {info['disagreements']} ({info['disagreements_open']} open, "
        f"{info['disagreements_resolved']} resolved)"
    )
    click.echo(f"suggestions      {info['suggestions']}")
    if info.get("attributes"):
        echo_attributes(info["attributes"])


def echo_attributes(attributes: list[dict[str, Any]], shown: int = 4) -> None:
    """Each attribute's name, scope, type and distinct values (the first few of them)."""
    click.echo(f"attributes       {len(attributes)}")
    for a in attributes:
        values = a["distinct"][:shown] + (["..."] if len(a["distinct"]) > shown else [])
        click.echo(
            f"  {a['name']:14} {a['scope']:9} {a['type']:7} {a['values']:5d} value(s): "
            + ", ".join(values)
        )


@cli.command()
@STUDY
@click.option("--code", "code_id", help="Only this code.")
@click.option("--open-only", is_flag=True, help="Hide disagreements that have a decision.")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip the first N.")
@FORMAT()
@friendly
def disagreements(
    study: str, code_id: str | None, open_only: bool, limit: int | None, offset: int, fmt: str
) -> None:
    """List (segment, code) pairs where coders differ.

    Example: coding disagreements study.db --code emotion_regulation
    """
    with open_study(study) as store:
        found = disagreement_rows(
            store, code_id=code_id, open_only=open_only, limit=limit, offset=offset
        )
    echo_disagreement_rows(found, fmt)


@cli.command()
@STUDY
@click.argument("segment_id")
@click.option("--code", "code_id", required=True, help="The code decided on.")
@click.option(
    "--decision",
    type=click.Choice(["apply", "reject", "withdraw"]),
    required=True,
    help="apply: the code stands; reject: it does not; withdraw: undo the last decision.",
)
@click.option(
    "--rationale",
    required=True,
    help="Why, in at least 3 words and 15 letters (kept in the audit trail).",
)
@click.option(
    "--reviewer",
    default=None,
    help="A registered user with the reviewer or admin role who did not code this unit "
    "(default: $CONCORD_USER, else your login name). Add one with "
    "'coding users add STUDY NAME --role reviewer'.",
)
@click.option(
    "--supersedes",
    type=int,
    default=None,
    help="The standing decision (#id, from 'coding disagreements') this one replaces. "
    "Without it, a unit that already has a decision is refused, so none is overridden unseen.",
)
@friendly
def resolve(
    study: str,
    segment_id: str,
    code_id: str,
    decision: str,
    rationale: str,
    reviewer: str | None,
    supersedes: int | None,
) -> None:
    """Record a consensus decision on one disagreement (coders' codings stay as they were).

    The reviewer must be a registered reviewer (or admin) of the study, never one of the
    unit's coders, and the rationale must say why in at least 3 words and 15 letters.

    Example: coding resolve study.db 3f2a... --code relational_safety --decision apply
    --reviewer rosa --rationale "Describes the staff-parent alliance"
    """
    reviewer = reviewer or actor()
    with open_study(study) as store:
        if decision == Decision.WITHDRAW and supersedes is None:
            # withdrawing is about the standing decision, whichever it is
            supersedes = service.standing_decision(store, reviewer, segment_id, code_id)
        try:
            rid = service.resolve(
                store,
                reviewer,
                segment_id,
                code_id,
                Decision(decision),
                rationale,
                supersedes,
                actor=actor(),
            )
        except Conflict as err:
            standing = service.standing_decision(store, reviewer, segment_id, code_id)
            if standing == supersedes:
                raise  # not about which decision stands
            raise Conflict(_supersedes_hint(segment_id, code_id, supersedes, standing)) from err
    click.echo(f"recorded resolution #{rid}: {code_id} {decision} on {segment_id}")


def _supersedes_hint(
    segment_id: str, code_id: str, supersedes: int | None, standing: int | None
) -> str:
    """What to type instead, when the decision named (or not) is not the standing one.

    >>> _supersedes_hint("s1", "calm", None, 3)
    'segment s1 code calm already has decision #3; to replace it, run again with --supersedes 3'
    """
    where = f"segment {segment_id} code {code_id}"
    if standing is None:
        return (
            f"{where}: decision #{supersedes} was withdrawn and none stands; "
            "run again without --supersedes"
        )
    named = "" if supersedes is None else f" (not #{supersedes})"
    return (
        f"{where} already has decision #{standing}{named}; "
        f"to replace it, run again with --supersedes {standing}"
    )
