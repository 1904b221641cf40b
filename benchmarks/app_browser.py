"""Speed of the app in a real browser, from the click to the updated page, and the README
screenshots; ``benchmarks/app.py --browser`` and ``--screenshots`` run these.

Times here include the browser's drawing and the websocket; ``benchmarks/app.py`` alone times
the app's own work per action under AppTest.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from coding.service.demo import DEMO_PASSWORD, build_demo
from tests.ui_helpers import CHROMIUM_ARGS, start_app

WAIT = 30_000


def demo(db: Path) -> None:
    """The demo study as `make demo` builds it (users, chloe's manual, suggestions)."""
    build_demo(db, "demo")


def since(start: float) -> float:
    return time.perf_counter() - start


def sign_in(page: Page, name: str, password: str) -> None:
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=WAIT)


def go(page: Page, title: str, ready: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_text(ready).first.wait_for(timeout=WAIT)


PROGRESS = '[data-testid="stProgress"]'


def progress_text(page: Page) -> str:
    return str(page.locator(PROGRESS).first.inner_text())


def wait_changed(page: Page, before: str, forms: int) -> None:
    """Until the progress text differs from ``before`` (the action took effect) and the
    previous unit's form is gone (the new unit is fully drawn)."""
    page.wait_for_function(
        "([sel, before, forms]) => { const e = document.querySelector(sel);"
        " return e !== null && e.innerText !== before &&"
        " document.querySelectorAll('[data-testid=stForm]').length === forms; }",
        arg=[PROGRESS, before, forms],
        timeout=WAIT,
        polling="raf",
    )


def settle(page: Page, forms: int) -> None:
    """Until the page shows exactly ``forms`` forms (no stale ones from the last render)."""
    page.wait_for_function(
        "(forms) => document.querySelectorAll('[data-testid=stForm]').length === forms"
        " && document.querySelectorAll('[data-stale=true]').length === 0",
        arg=forms,
        timeout=WAIT,
        polling="raf",
    )


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)


def benchmark(db: Path, actions: int, password: str) -> dict[str, float | list[float]]:
    server, port = start_app(db)
    results: dict[str, float | list[float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                _measure(page, port, actions, password, results)
            except Exception:
                page.screenshot(path="/tmp/bench-fail.png", full_page=True)
                raise
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results


def _measure(
    page: Page, port: int, actions: int, password: str, results: dict[str, float | list[float]]
) -> None:
    """Sign in as chloe and code, then as rosa and review; each time from click to drawn page."""
    t0 = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/")
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
    results["first render (sign-in page)"] = since(t0)
    sign_in(page, "chloe", password)
    t0 = time.perf_counter()
    go(page, "Code", "units submitted")
    settle(page, forms=1)
    results["first render: Code page"] = since(t0)
    coding: list[float] = []
    for _ in range(actions):
        settle(page, forms=1)
        page.get_by_test_id("stForm").get_by_text("Caregiver attunement", exact=True).click()
        before = progress_text(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Submit and next").click()
        wait_changed(page, before, forms=1)
        coding.append(since(t0))
    results["code: submit and next"] = coding
    moves: list[float] = []
    for k in range(2, 2 + actions):
        settle(page, forms=1)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Next ▶").click()
        page.get_by_text(f"Unit {k} of").wait_for(timeout=WAIT)
        settle(page, forms=1)
        moves.append(since(t0))
    results["code: next unit"] = moves
    sign_out(page)
    sign_in(page, "rosa", password)
    t0 = time.perf_counter()
    go(page, "Study", "What to do next")
    results["first render: Study page (signed in)"] = since(t0)
    t0 = time.perf_counter()
    go(page, "Resolve", "disagreements resolved")
    settle(page, forms=2)
    results["first render: Resolve page"] = since(t0)
    review: list[float] = []
    for k in range(1, actions + 1):
        settle(page, forms=2)
        page.get_by_text("Merge:").click()
        page.get_by_label("Rationale (required)").fill(f"benchmark decision {k}")
        before = progress_text(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Record decision").click()
        wait_changed(page, before, forms=2)
        review.append(since(t0))
    results["review: record decision"] = review


def screenshots(db: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    server, port = start_app(db)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
            page.screenshot(path=str(out / "signin.png"))
            sign_in(page, "chloe", DEMO_PASSWORD)
            go(page, "Code", "units submitted")
            page.get_by_test_id("stForm").get_by_text("Emotion regulation", exact=True).click()
            page.get_by_label("Memo").fill("Grounding routine for cravings: regulation.")
            page.screenshot(path=str(out / "code.png"), full_page=True)
            sign_out(page)
            sign_in(page, "rosa", DEMO_PASSWORD)
            go(page, "Study", "What to do next")
            page.screenshot(path=str(out / "study.png"), full_page=True)
            go(page, "Resolve", "disagreements resolved")
            page.screenshot(path=str(out / "resolve.png"), full_page=True)
            go(page, "Agreement", "Per code")
            page.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=WAIT)
            time.sleep(1.0)
            page.screenshot(path=str(out / "agreement.png"), full_page=True)
            go(page, "Export", "Click a format to build the file")
            page.screenshot(path=str(out / "export.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
