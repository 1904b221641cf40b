"""Speed of the app in a real browser, from the click to the updated page, and the README
screenshots (the demo study at 1280 x 800).

    python benchmarks/app_browser.py                 # as benchmarks/app.py --browser
    python benchmarks/app_browser.py --units 2000 --repeats 3
    python benchmarks/app_browser.py --screenshots docs/screenshots

Times here include the browser's drawing and the websocket; ``benchmarks/app.py`` alone times
the app's own work per action under AppTest.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, ViewportSize, sync_playwright

from coding.service.demo import DEMO_PASSWORD, build_demo
from tests.ui_helpers import CHROMIUM_ARGS, start_app

WAIT = 30_000
SCREEN: ViewportSize = {"width": 1280, "height": 800}
# What each page shows once drawn: the Code page its Submit button, the Resolve page its two
# forms (the decision and the codebook note).
CODE_READY = "document.querySelector('.st-key-code-submit button') !== null"
RESOLVE_READY = "document.querySelectorAll('[data-testid=stForm]').length === 2"
# Nothing left over from the last run, and the app no longer running.
IDLE = (
    "document.querySelectorAll('[data-stale=true]').length === 0"
    " && document.querySelector('[data-test-script-state=notRunning]') !== null"
)


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


def wait_changed(page: Page, before: str, ready: str) -> None:
    """Until the progress text differs from ``before`` (the action took effect) and the page
    is ``ready`` and idle (the new unit is fully drawn)."""
    page.wait_for_function(
        "([sel, before]) => { const e = document.querySelector(sel);"
        f" return e !== null && e.innerText !== before && {ready} && {IDLE}; }}",
        arg=[PROGRESS, before],
        timeout=WAIT,
        polling="raf",
    )


def settle(page: Page, ready: str) -> None:
    """Until the page is ``ready`` and idle (nothing stale from the last render)."""
    page.wait_for_function(f"() => {ready} && {IDLE}", timeout=WAIT, polling="raf")


def tick(page: Page, code: str) -> None:
    """Tick ``code`` on the Code page and wait for the rerun the tick causes."""
    page.locator(".st-key-code-codes").get_by_text(code, exact=True).click()
    page.locator(".st-key-code-codes").get_by_text("not saved yet").wait_for(timeout=WAIT)
    settle(page, CODE_READY)


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
    settle(page, CODE_READY)
    results["first render: Code page"] = since(t0)
    ticks: list[float] = []
    coding: list[float] = []
    for _ in range(actions):
        settle(page, CODE_READY)
        t0 = time.perf_counter()
        tick(page, "Caregiver attunement")
        ticks.append(since(t0))
        before = progress_text(page)
        t0 = time.perf_counter()
        page.locator(".st-key-code-submit button").click()
        wait_changed(page, before, CODE_READY)
        coding.append(since(t0))
    results["code: tick a code"] = ticks
    results["code: submit and next"] = coding
    moves: list[float] = []
    for k in range(2, 2 + actions):
        settle(page, CODE_READY)
        t0 = time.perf_counter()
        page.locator(".st-key-code-next button").click()
        page.get_by_text(f"Unit {k} of").wait_for(timeout=WAIT)
        settle(page, CODE_READY)
        moves.append(since(t0))
    results["code: next unit"] = moves
    sign_out(page)
    sign_in(page, "rosa", password)
    t0 = time.perf_counter()
    go(page, "Study", "What to do next")
    results["first render: Study page (signed in)"] = since(t0)
    t0 = time.perf_counter()
    go(page, "Resolve", "disagreements resolved")
    settle(page, RESOLVE_READY)
    results["first render: Resolve page"] = since(t0)
    review: list[float] = []
    for k in range(1, actions + 1):
        settle(page, RESOLVE_READY)
        page.get_by_text("Merge (every code a coder applied)").click()
        page.get_by_label("Rationale (required)").fill(f"benchmark decision {k}")
        before = progress_text(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Record decision").click()
        wait_changed(page, before, RESOLVE_READY)
        review.append(since(t0))
    results["review: record decision"] = review


def screenshots(db: Path, out: Path) -> None:
    """The README's screenshots of the demo study, one 1280 x 800 screen each."""
    out.mkdir(parents=True, exist_ok=True)
    server, port = start_app(db)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport=SCREEN)
            try:
                _shoot(page, port, out)
            except Exception:
                page.screenshot(path="/tmp/screenshots-fail.png", full_page=True)
                raise
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _shoot(page: Page, port: int, out: Path) -> None:
    page.goto(f"http://127.0.0.1:{port}/")
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
    page.screenshot(path=str(out / "signin.png"))
    sign_in(page, "chloe", DEMO_PASSWORD)
    go(page, "Code", "units submitted")
    settle(page, CODE_READY)
    tick(page, "Emotion regulation")
    page.get_by_label("Memo").fill("Grounding routine for cravings: regulation.")
    page.screenshot(path=str(out / "code.png"))
    page.goto(f"http://127.0.0.1:{port}/")  # a new session: the memo typed is not kept
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
    sign_in(page, "rosa", DEMO_PASSWORD)
    go(page, "Study", "What to do next")
    page.screenshot(path=str(out / "study.png"))
    go(page, "Resolve", "disagreements resolved")
    settle(page, RESOLVE_READY)
    scroll_to(page, PROGRESS)  # the queue's progress, the unit, both coders and the choices
    page.screenshot(path=str(out / "resolve.png"))
    go(page, "Agreement", "Per code")
    page.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=WAIT)
    time.sleep(1.0)  # the chart draws after its element appears
    scroll_to(
        page, "[data-testid=stHeading]:has-text('Per code')"
    )  # the table and the chart with its cut-offs
    page.screenshot(path=str(out / "agreement.png"))
    go(page, "Export", "Click a format to build the file")
    page.screenshot(path=str(out / "export.png"))


def scroll_to(page: Page, selector: str) -> None:
    """Scroll the page's main area until ``selector`` is just under the app's top bar."""
    page.locator(selector).first.evaluate(
        "e => { const main = document.querySelector('[data-testid=stMain]');"
        " main.scrollTop += e.getBoundingClientRect().top - 70; }"
    )
    page.wait_for_timeout(300)  # the scroll is drawn


if __name__ == "__main__":
    import app as bench  # benchmarks/app.py, beside this file

    bench.main(["--browser", *sys.argv[1:]])
