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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

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
        run = {"check": True, "capture_output": True, "timeout": 120}
        subprocess.run(
            _as_server_user(
                [
                    f"{bindir}/initdb",
                    "-D",
                    data,
                    "-U",
                    "concord",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            **run,
        )
        port = _start(bindir, root, data)
        yield f"postgresql+psycopg://concord@127.0.0.1:{port}"
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(
                _as_server_user([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def _start(bindir: str, root: str, data: str, attempts: int = 3) -> int:
    """Start the server on a free loopback port and return it.

    A port found free can be taken by another process (another test worker's server) before
    PostgreSQL binds it; then the start fails and we try again on a fresh port.
    """
    failures: list[str] = []
    for _ in range(attempts):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        options = f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c full_page_writes=off"
        log = os.path.join(root, "log")
        started = subprocess.run(
            _as_server_user(
                [f"{bindir}/pg_ctl", "-D", data, "-l", log, "-w", "start", "-o", options]
            ),
            capture_output=True,
            timeout=120,
            check=False,
        )
        if started.returncode == 0:
            return port
        failures.append(f"port {port}: {started.stderr.decode(errors='replace').strip()[-300:]}")
    raise RuntimeError("the PostgreSQL test server did not start: " + "; ".join(failures))


def _admin_dsn(base_url: str) -> str:
    return base_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"


def _admin_connection(base_url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to the server's ``postgres`` database; waits for a new server."""
    import psycopg

    deadline = time.monotonic() + 20
    while True:
        try:
            return psycopg.connect(_admin_dsn(base_url), autocommit=True)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fresh_database(base_url: str) -> str:
    """Create an empty database on the server and return its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin_connection(base_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


class Templates:
    """Template databases on one server, each built once; every test gets its own copy.

    ``steps`` maps a name to (the step it builds on or None, a function that builds it on a
    study URL). ``copy("coded")`` builds the chain of templates up to "coded" on first use,
    then clones it with ``CREATE DATABASE ... TEMPLATE``, which takes a fraction of the time
    the steps take; the copy is dropped when the ``with`` block ends.
    """

    def __init__(
        self, base_url: str, steps: dict[str, tuple[str | None, Callable[[str], None]]]
    ) -> None:
        self.base_url = base_url
        self.steps = steps
        self.prefix = f"c{uuid.uuid4().hex[:8]}"  # two test processes may share a server
        self.built: list[str] = []
        self._conn = _admin_connection(base_url)

    def _create(self, name: str, template: str | None) -> None:
        # FILE_COPY (PostgreSQL 15+) copies the files instead of logging every page: about
        # 0.1 s against 0.3-0.7 s for the default WAL_LOG with small databases like ours.
        options = f' TEMPLATE "{template or "template1"}"'
        if self._conn.info.server_version >= 150000:
            options += " STRATEGY FILE_COPY"
        self._conn.execute(f'CREATE DATABASE "{name}"{options}')

    def template(self, step: str) -> str:
        """The name of the template database for ``step``, built on first use."""
        name = f"{self.prefix}_{step}"
        if name in self.built:
            return name
        parent, build = self.steps[step]
        self._create(name, self.template(parent) if parent else None)
        self.built.append(name)
        build(f"{self.base_url}/{name}")
        return name

    @contextmanager
    def copy(self, step: str | None) -> Iterator[str]:
        """A new database holding a copy of ``step``'s template (None: an empty database)."""
        name = f"{self.prefix}_t{uuid.uuid4().hex[:12]}"
        self._create(name, self.template(step) if step else None)
        try:
            yield f"{self.base_url}/{name}"
        finally:
            self._conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        for name in reversed(self.built):
            self._conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.built.clear()
        self._conn.close()
