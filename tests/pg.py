"""A throwaway PostgreSQL server for the store's tests, started from the Debian binaries.

Set CONCORD_TEST_POSTGRES_URL (a URL to a server whose user may create databases) to use a
server of your own instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ENV_URL = "CONCORD_TEST_POSTGRES_URL"


def _binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def why_unavailable() -> str | None:
    """None when a server can be had, else the reason the PostgreSQL tests skip."""
    if os.environ.get(ENV_URL):
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    if _binaries() is None:
        return "no PostgreSQL server binaries (run scripts/test-services.sh as root)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to drop to the postgres user"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def server() -> Iterator[str]:
    """Yield a base URL (without database name) of a running server; stop it afterwards."""
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL].rsplit("/", 1)[0]
        return
    bindir = _binaries()
    assert bindir is not None
    root = tempfile.mkdtemp(prefix="concord-pg-")
    data = os.path.join(root, "data")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        run = {"check": True, "capture_output": True, "timeout": 120}
        subprocess.run(
            _as_server_user(
                [f"{bindir}/initdb", "-D", data, "-U", "concord", "--auth=trust", "-E", "UTF8"]
            ),
            **run,
        )
        subprocess.run(
            _as_server_user(
                [
                    f"{bindir}/pg_ctl",
                    "-D",
                    data,
                    "-l",
                    os.path.join(root, "log"),
                    "-w",
                    "start",
                    "-o",
                    f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c full_page_writes=off",
                ]
            ),
            **run,
        )
        yield f"postgresql+psycopg://concord@127.0.0.1:{port}"
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(
                _as_server_user([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(base_url: str) -> str:
    """Create an empty database on the server and return its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = base_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    deadline = time.monotonic() + 20
    while True:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return f"{base_url}/{name}"
