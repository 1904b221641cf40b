"""``coding users``: people who sign in to the app, with their roles."""

from __future__ import annotations

import sys

import click

from coding.cli.common import STUDY, actor, echo_rows, flag, friendly, open_study
from coding.cli.main import cli
from coding.service import access


@cli.group()
def users() -> None:
    """Add and list the users who sign in to the app (coder, reviewer, admin)."""


@users.command("add")
@STUDY
@click.argument("name")
@click.option("--role", type=click.Choice([str(role) for role in access.ROLES]), required=True)
@flag("--password-stdin", "Read the password from the first line of standard input.")
@friendly
def users_add(study: str, name: str, role: str, password_stdin: bool) -> None:
    """Add a user (a coder also becomes one of the study's coders).

    Example: coding users add study.db chloe --role coder
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    with open_study(study) as store:
        user = access.add_user(store, name, role, password, actor())
    click.echo(f"added {user.name} ({user.role})")


@users.command("list")
@STUDY
@friendly
def users_list(study: str) -> None:
    """List users and their roles.  Example: coding users list study.db"""
    with open_study(study) as store:
        table = access.users(store, access.Operator(actor()))
    echo_rows(table[["name", "role", "created_at"]], widths={"name": 20, "role": 9})
