"""Speed of the Code page's actions on a generated 20,000-unit study, as the app's own work.

For two coders, chloe (200 units, the others' work all around) and dana (all 20,000 units),
it times "Submit and next" and "Next" three ways, medians of ``--actions`` clicks:

- page: the whole app (app.py, the Code page) rerun by AppTest, as a full rerun costs;
- fragment: the Code page's panel alone (what a click inside the fragment reruns in the
  browser), run by AppTest from a script that only draws the panel;
- floor: a bare Streamlit script (one line of text) run by AppTest in the same process, the
  cost of any rerun at all. "fragment - floor" is the app's own work for one click.

    python benchmarks/code_page.py                   # 20,000 units
    python benchmarks/code_page.py --units 2000      # a smaller study
    python benchmarks/code_page.py --browser         # also click to drawn page in Chromium

With ``--browser`` it also times, for chloe in headless Chromium at 1280x800 against
``streamlit run``, each action from the click to the updated page (the server's work, the
messages and the browser's drawing).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from benchmarks.app import PASSWORD, generate  # noqa: E402
from coding import service  # noqa: E402
from coding.model import Suggestion  # noqa: E402
from coding.service import access  # noqa: E402
from coding.store import Store  # noqa: E402

SUBMIT, NEXT = "Submit and next", "Next ▶"


def floor_script() -> None:
    import streamlit as st

    st.markdown("floor")


SETUP: dict[tuple[str | None, str | None], tuple[Any, ...]] = {}


def panel_script() -> None:
    """The Code page's panel alone, as a click inside its fragment reruns it: what the page
    reads when it opens is read once (kept in SETUP) and passed in."""
    import inspect

    from benchmarks import code_page as bench
    from coding.ui import coder, state

    key = (state.study_target(), state.user_name())
    if key not in bench.SETUP:
        with state.study() as store:
            args: tuple[Any, ...] = (store.codebook().codebook.codes,)
            if len(inspect.signature(coder.panel).parameters) > 1:
                from coding.service import coder as coder_service

                args += (coder_service.coder_documents(store, state.user_name() or ""),)
        bench.SETUP[key] = args
    coder.panel(*bench.SETUP[key])


def prepare(db: Path, units: int) -> None:
    """The study of benchmarks/app.py, plus dana (every unit) and suggestions on all units."""
    generate(db, units)
    with Store.open(db) as store:
        access.add_user(store, "dana", "coder", PASSWORD, "bench")
        service.assign(store, "dana", "bench")
        codes = store.codebook().codebook.code_ids
        ids = [s.id for s in store.segments()]
        found = [
            Suggestion(s, codes[i % len(codes)], 0.8, "rules", "[]") for i, s in enumerate(ids)
        ]
        store.add_suggestion_run("rules", "bench", 1, {}, found, "bench")


def app_test(db: Path, user: str, script: Callable[[], None] | None) -> AppTest:
    at = (
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        if script is None
        else AppTest.from_function(script, default_timeout=120)
    )
    at.session_state["db_path"] = str(db)
    at.session_state["user"] = user
    at.run()
    if script is None:
        at.switch_page("coding/ui/coder.py").run()
    if at.exception:
        raise RuntimeError(str(at.exception))
    return at


def click(at: AppTest, label: str, tick: bool) -> float:
    """Tick the first unticked code (when ``tick``), click ``label``, time the rerun."""
    if tick:
        box = next(b for b in at.checkbox if not b.value and b.key and b.key.startswith("c-"))
        box.check()
    button = next(b for b in at.button if b.label == label)
    started = time.perf_counter()
    button.click().run()
    spent = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(str(at.exception))
    return spent


def medians(db: Path, user: str, actions: int) -> dict[str, float]:
    found = {}
    for where, script in (("page", None), ("fragment", panel_script)):
        at = app_test(db, user, script)
        found[f"{where}: submit and next"] = statistics.median(
            click(at, SUBMIT, tick=True) for _ in range(actions)
        )
        found[f"{where}: next unit"] = statistics.median(
            click(at, NEXT, tick=False) for _ in range(actions)
        )
    return found


def floor(actions: int) -> float:
    at = AppTest.from_function(floor_script, default_timeout=60).run()
    times = []
    for _ in range(actions):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def browser(db: Path, actions: int) -> dict[str, float]:
    """chloe's clicks in headless Chromium, from the click to the redrawn page."""
    import shutil

    from playwright.sync_api import sync_playwright

    from tests.ui_helpers import CHROMIUM_ARGS, start_app

    server, port = start_app(db)
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = chromium.new_page(viewport={"width": 1280, "height": 800})
            found = _clicks(page, port, actions)
            chromium.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return found


PROGRESS = '[data-testid="stProgress"]'
CODES = (  # the code checkboxes: in the page's form before, in its codes container now
    '.st-key-code-codes [data-testid="stCheckbox"], '
    '[data-testid="stForm"] [data-testid="stCheckbox"]'
)
IDLE = (
    "([sel, before]) => { const e = document.querySelector(sel); return e !== null &&"
    " e.innerText !== before && document.querySelectorAll('[data-stale=true]').length === 0;}"
)


def _clicks(page: Any, port: int, actions: int) -> dict[str, float]:
    wait = 30_000
    page.goto(f"http://127.0.0.1:{port}/")
    page.get_by_role("textbox", name="Name").fill("chloe")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("stSidebarNav").get_by_text("Code", exact=True).click()
    page.locator(PROGRESS).first.wait_for(timeout=wait)
    submits, moves = [], []
    for _ in range(actions):
        page.wait_for_function(IDLE, arg=[PROGRESS, ""], timeout=wait, polling="raf")
        page.locator(CODES).first.locator("label").click()
        time.sleep(0.3)  # a tick reruns the page's fragment (not inside a form): let it end
        page.wait_for_function(IDLE, arg=[PROGRESS, ""], timeout=wait, polling="raf")
        before = page.locator(PROGRESS).first.inner_text()
        started = time.perf_counter()
        page.get_by_role("button", name=SUBMIT).click()
        page.wait_for_function(IDLE, arg=[PROGRESS, before], timeout=wait, polling="raf")
        submits.append(time.perf_counter() - started)
    for _ in range(actions):
        page.wait_for_function(IDLE, arg=[PROGRESS, ""], timeout=wait, polling="raf")
        shown = page.get_by_text(re.compile(r"^Unit \d+ of")).first.inner_text()
        started = time.perf_counter()
        page.get_by_role("button", name=NEXT).click()
        page.wait_for_function(
            "([before]) => document.querySelectorAll('[data-stale=true]').length === 0 &&"
            " ![...document.querySelectorAll('p')].some(p => p.innerText === before)",
            arg=[shown],
            timeout=wait,
            polling="raf",
        )
        moves.append(time.perf_counter() - started)
    return {
        "browser: submit and next": statistics.median(submits),
        "browser: next unit": statistics.median(moves),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--actions", type=int, default=15)
    parser.add_argument("--browser", action="store_true", help="Also time clicks in Chromium.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "study.db"
        started = time.perf_counter()
        prepare(db, args.units)
        print(f"generated {args.units} units in {time.perf_counter() - started:.1f} s")
        bare = floor(args.actions)
        print(f"{'floor: a bare Streamlit rerun':44} {bare * 1000:6.0f} ms")
        for user in ("chloe", "dana"):
            for name, value in medians(db, user, args.actions).items():
                own = f"(app's own work {max(value - bare, 0) * 1000:4.0f} ms)"
                print(f"{user + ' ' + name:44} {value * 1000:6.0f} ms  {own}")
        if args.browser:
            for name, value in browser(db, args.actions).items():
                print(f"{'chloe ' + name:44} {value * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
