"""Commands that build the demo study and start the app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import click

from coding import service
from coding.cli.common import (
    STUDY,
    actor,
    choice,
    flag,
    friendly,
    note,
    open_study,
    progress_shown,
    refusing,
)
from coding.cli.main import cli
from coding.errors import CodingError
from coding.service.demo import PROJECT_ROOT, build_demo, is_demo_study, rebuild_demo

APP_FILE = PROJECT_ROOT / "app.py"


PORT = click.option("--port", type=int, default=8501, show_default=True)
IGNORED_BY = {"--no-app": ("--port",)}  # given with the flag, refused rather than dropped


@cli.command()
@click.option("--db", "db", default="demo.db", show_default=True, help="Where to build it.")
@flag("--force", "Rebuild the demo study at --db (never replaces another study).")
@flag("--no-app", "Build only; do not start the app.")
@PORT
@refusing(IGNORED_BY)
@friendly
def demo(db: str, force: bool, no_app: bool, port: int) -> None:
    """Build the demo study (codebook, four manuals, two coders) and start the app.

    An existing demo study at --db is kept, with any work done on it in the app, unless
    --force rebuilds it. Example: coding demo --db demo.db --no-app
    """
    with progress_shown() as on_progress:
        if not Path(db).exists():
            build_demo(db, actor(), on_progress=on_progress)
        elif not is_demo_study(db):
            raise CodingError(f"{db} exists and is not a demo study; choose another --db")
        elif force:
            rebuild_demo(db, actor(), on_progress=on_progress)
        else:
            note(f"{db}: the demo study is already built; keeping it (--force rebuilds it)")
    with open_study(db) as store:
        info = service.study_overview(store, service.Operator(actor())).as_dict()
    click.echo(
        f"demo study {db}: {info['documents']} documents, {info['segments']} units, "
        f"{info['coders']} coders, {info['codes']} codes, {info['annotations']} "
        f"annotations, {info['disagreements']} disagreements to review"
    )
    if not no_app:
        _run_app(db, port)


@cli.command()
@STUDY
@PORT
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (keep 127.0.0.1 behind a reverse proxy).",
)
@choice(
    "--auth",
    ["password", "proxy", "oidc"],
    "password",
    help="Sign-in: the study's users and passwords, a trusted proxy header, or OIDC "
    "(see docs/deploy.md).",
)
@friendly
def app(study: str, port: int, address: str, auth: str) -> None:
    """Start the Streamlit app on a study.  Example: coding app study.db"""
    with open_study(study):
        pass  # fail here, clearly, if the study cannot be opened
    _run_app(study, port, address, auth)


def _run_app(study: str, port: int, address: str = "127.0.0.1", auth: str = "password") -> None:
    if not APP_FILE.is_file():
        raise CodingError(f"app entry point not found at {APP_FILE}")
    with socket.socket() as probe:
        if probe.connect_ex((address, port)) == 0:
            raise CodingError(f"port {port} on {address} is in use; pass --port")
    env = {
        **os.environ,
        "CONCORD_STUDY": str(Path(study).resolve()) if "://" not in study else study,
        "CONCORD_AUTH": auth,
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_FILE),
        "--server.headless",
        "true",
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    note(f"starting the app on http://{address}:{port} (Ctrl+C stops it)")
    try:
        finished = subprocess.run(command, env=env, check=False)
    except KeyboardInterrupt:
        note("stopped")
        return
    if finished.returncode != 0:
        raise CodingError(f"the app stopped with exit status {finished.returncode}")
