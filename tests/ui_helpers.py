"""Helpers for the app's tests: a coded study with users, and an AppTest on app.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from coding import service
from coding.service import access
from coding.store import Store

ROOT = Path(__file__).parent.parent
PASSWORD = "pw-test-8"
TEAM = (
    ("amira", "coder"),
    ("ben", "coder"),
    ("chloe", "coder"),
    ("rosa", "reviewer"),
    ("admin", "admin"),
)
PAGES = {
    "study": "coding/ui/study.py",
    "code": "coding/ui/coder.py",
    "resolve": "coding/ui/resolve.py",
    "agreement": "coding/ui/agreement.py",
    "export": "coding/ui/export.py",
    "users": "coding/ui/admin.py",
}


def add_team(db: Path) -> Path:
    """Users for every role; chloe (a coder) gets every unit, not yet coded."""
    with Store.open(db) as store:
        for name, role in TEAM:
            access.add_user(store, name, role, PASSWORD, "tester")
        service.assign(store, "chloe", "tester")
    return db


def app(db: Path | None, user: str | None = None, timeout: float = 60) -> AppTest:
    """app.py on a study, signed in as ``user`` (None: nobody)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if db is not None:
        at.session_state["db_path"] = str(db)
    if user is not None:
        at.session_state["user"] = user
    at.user = {"email": f"{user or 'nobody'}@example.org"}
    return at


def open_page(db: Path, user: str, page: str) -> AppTest:
    """Run app.py as ``user`` and switch to one of their pages."""
    at = app(db, user).run()
    assert not at.exception, at.exception
    at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


def html_bodies(at: AppTest) -> str:
    """Everything the page sent as st.html, joined (what reaches the browser)."""
    return "\n".join(str(e.proto.body) for e in at.get("html"))


def tree_text(at: AppTest) -> str:
    """Every element's message as sent to the browser (labels, texts, options, data), joined."""
    found: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(found)


def errors_in_form(at: AppTest, form_id: str) -> list[str]:
    """The texts of the errors drawn inside the form ``form_id`` (shown beside its fields)."""
    found: list[str] = []

    def walk(node: Any, inside: bool) -> None:
        proto = getattr(node, "proto", None)
        form = getattr(getattr(proto, "form", None), "form_id", "")
        inside = inside or form == form_id
        if inside and getattr(node, "type", None) == "error":
            found.append(plain(str(node.value)))
        for child in getattr(node, "children", {}).values():
            walk(child, inside)

    walk(at._tree, False)
    return found


def plain(markdown: str) -> str:
    """Markdown as the reader sees it, for text escaped with render.md (backslashes dropped)."""
    return re.sub(r"\\(.)", r"\1", markdown)


# -- real browser ------------------------------------------------------------------------------
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_app(
    db: Path, timeout: float = 30, attempts: int = 3
) -> tuple[subprocess.Popen[bytes], int]:
    """``streamlit run app.py`` on a free loopback port; returns (process, port) once healthy.

    A port found free can be taken by another process (another test worker) before Streamlit
    binds it; then the server exits at once and we try again on a fresh port.
    """
    failures: list[str] = []
    for _ in range(attempts):
        port = free_port()
        process, problem = _serve(db, port, timeout)
        if problem is None:
            return process, port
        failures.append(f"port {port}: {problem}")
    raise RuntimeError("the app did not start: " + "; ".join(failures))


def _serve(db: Path, port: int, timeout: float) -> tuple[subprocess.Popen[bytes], str | None]:
    import os
    import sys
    import time
    import urllib.request

    env = {
        **os.environ,
        "CONCORD_STUDY": str(db),
        "PYTHONPATH": str(ROOT),
        "CONCORD_AUTH": "password",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            return process, f"exited with {process.returncode}: {stderr.strip()[-300:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.read() == b"ok":
                    return process, None
        except OSError:
            time.sleep(0.2)
    process.terminate()
    process.wait(timeout=10)
    return process, f"no answer from /_stcore/health within {timeout:.0f} s"
