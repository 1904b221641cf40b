"""End to end in headless Chromium: two coders code a unit, a reviewer resolves, then export.

Runs ``streamlit run app.py`` on 127.0.0.1 and drives it with Playwright. Screenshots of each
page go to $CONCORD_SCREENSHOTS when set (docs/screenshots is made from the demo study by
``benchmarks/app.py --screenshots``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coding import service
from coding.service import access
from coding.service import coder as coder_service
from coding.store import Store
from tests.ui_helpers import CHROMIUM_ARGS, PASSWORD, start_app

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail(
        "CI must run the browser tests: Chromium is missing (scripts/test-services.sh installs it)",
        pytrace=False,
    )
if CHROMIUM is None:
    pytest.skip(
        "Chromium is not installed (apt-get install chromium; see scripts/test-services.sh)",
        allow_module_level=True,
    )

from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

WAIT = 20_000


BEACON_TITLE = "![t](http://beacon.invalid/title.png) Cedar **House** manual"


@pytest.fixture
def two_coder_db(corpus_db: Path, tmp_path: Path) -> Path:
    """The small corpus with coders amira and ben (every unit assigned) and reviewer rosa,
    plus a manual whose title is a Markdown image (assigned to chloe): the reviewer's Study
    page shows it in chloe's progress, and the browser must not fetch the image."""
    beacon = tmp_path / "beacon.md"
    beacon.write_text(f"# {BEACON_TITLE}\n\nThe programme helps parents.\n", encoding="utf-8")
    with Store.open(corpus_db) as store:
        for name, role in (("amira", "coder"), ("ben", "coder"), ("rosa", "reviewer")):
            access.add_user(store, name, role, PASSWORD, "tester")
            if role == "coder":
                service.assign(store, name, "tester")
        service.import_documents(store, [beacon], "tester")
        access.add_user(store, "chloe", "coder", PASSWORD, "tester")
        service.assign(store, "chloe", "tester", ["beacon"])
    return corpus_db


@contextmanager
def browser_on(db: Path, height: int) -> Iterator[Page]:
    """A tab on the app serving ``db``, 1280 px wide; no request may leave the machine."""
    server, port = start_app(db)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(
                viewport={"width": 1280, "height": height}, accept_downloads=True
            )
            outside: list[str] = []
            context.on(
                "request",
                lambda r: (
                    outside.append(r.url)
                    if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                    else None
                ),
            )
            tab = context.new_page()
            tab.goto(f"http://127.0.0.1:{port}/")
            yield tab
            assert outside == [], f"requests left the machine: {outside[:5]}"
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def page(two_coder_db: Path) -> Iterator[Page]:
    with browser_on(two_coder_db, height=1000) as tab:
        yield tab


def shoot(page: Page, name: str) -> None:
    target = os.environ.get("CONCORD_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def sign_in(page: Page, name: str) -> None:
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible(timeout=WAIT)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT)


def go(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=WAIT)


def code_first_unit(page: Page, coder: str, code: str | None) -> None:
    sign_in(page, coder)
    go(page, "Code")
    expect(page.get_by_text("Unit 1 of 4")).to_be_visible(timeout=WAIT)
    for name in ("◀ Previous", "Next ▶"):  # nothing cut off at 1280 px, shortcut badges too
        button = page.get_by_role("button", name=name).first
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), name
        for part in button.locator("*").all():
            assert part.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), name
    code_settled(page)
    if code:
        codes(page).get_by_text(code, exact=True).click()
        expect(codes(page).get_by_role("checkbox", name=code)).to_be_checked(timeout=WAIT)
        expect(codes(page).get_by_text("not saved yet")).to_be_visible(timeout=WAIT)
        code_settled(page)
    shoot(page, f"code-{coder}")
    page.locator(".st-key-code-submit button").click()
    expect(page.get_by_text("Submitted (")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("1 of 4 units submitted")).to_be_visible(timeout=WAIT)
    sign_out(page)


def test_code_resolve_and_export(page: Page, two_coder_db: Path, tmp_path: Path) -> None:
    code_first_unit(page, "amira", "Calm")
    code_first_unit(page, "ben", None)
    with Store.open(two_coder_db) as store:
        assert len(service.disagreements(store)) == 1

    sign_in(page, "rosa")
    expect(page.get_by_text("Cedar **House** manual (beacon)", exact=False)).to_be_visible(
        timeout=WAIT
    )  # the title as written: no image fetched, no bold
    shoot(page, "study")
    go(page, "Resolve")
    expect(page.get_by_text("0 of 1 disagreements resolved")).to_be_visible(timeout=WAIT)
    page.get_by_text("Accept amira: Calm").click()
    page.get_by_label("Rationale (required)").fill("The intro frames parents calming down.")
    shoot(page, "resolve")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Recorded 1 decision(s).")).to_be_visible(timeout=WAIT)
    with Store.open(two_coder_db) as store:
        (resolution,) = store.resolutions()
    assert (resolution.code_id, resolution.reviewer) == ("calm", "rosa")

    go(page, "Agreement")
    shoot(page, "agreement")
    go(page, "Export")
    page.get_by_role("button", name="CSV").first.click()
    with page.expect_download(timeout=WAIT) as download:
        page.get_by_role("button", name="Download coded_segments.csv").click()
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    shoot(page, "export")
    text = saved.read_text(encoding="utf-8")
    assert "calm" in text and "segment_id" in text


# -- a coder's five units and a reviewer's five decisions, on one screen at 1280 x 800 ---------
SCREEN = {"width": 1280, "height": 800}
UNITS = [
    "The parent takes a breath before answering the baby.",
    "Staff show the parent how to notice when the baby looks away.",
    "The parent names the feeling out loud and waits.",
    "A home visit starts with the parent's own week.",
    "The group shares what helped them stay calm at night.",
    "The session ends with a plan for the next visit.",
]


@pytest.fixture
def five_unit_db(study: Path, tmp_path: Path) -> Path:
    """Six one-paragraph units; amira has submitted Calm on each; chloe has them all to do;
    reviewer rosa."""
    manual = tmp_path / "visits.md"
    manual.write_text("# Home visits\n\n" + "\n\n".join(UNITS) + "\n", encoding="utf-8")
    with Store.open(study) as store:
        service.import_documents(store, [manual], "tester")
        for name, role in (("amira", "coder"), ("chloe", "coder"), ("rosa", "reviewer")):
            access.add_user(store, name, role, PASSWORD, "tester")
            if role == "coder":
                service.assign(store, name, "tester")
        for segment in store.segments():
            coder_service.save_unit(store, "amira", segment.id, ["calm"], "", submit=True)
    return study


def on_one_screen(page: Page, unit: str) -> None:
    """The unit's text, every code's checkbox and Submit are inside the window unscrolled."""
    scrolled = page.evaluate(
        "() => [window.scrollY, ...[...document.querySelectorAll('*')]"
        ".filter(e => e.scrollTop > 0).map(e => e.scrollTop)]"
    )
    assert scrolled == [0], f"the page is scrolled: {scrolled}"
    parts = {
        "unit text": page.locator(".st-key-code-unit").get_by_text(unit).first,
        "Submit and next": page.locator(".st-key-code-submit button"),
        **{f"{code} checkbox": codes(page).get_by_role("checkbox", name=code) for code in CODES},
    }
    for name, part in parts.items():
        box = part.bounding_box()
        assert box is not None, f"{name} is not drawn"
        inside = (
            box["x"] >= 0
            and box["y"] >= 0
            and box["x"] + box["width"] <= SCREEN["width"]
            and box["y"] + box["height"] <= SCREEN["height"]
        )
        assert inside, f"{name} is outside the {SCREEN} window: {box}"


CODES = ("Calm", "Cues")


def codes(page: Page) -> Locator:
    """The Code page's checkboxes, one per code of the codebook."""
    return page.locator(".st-key-code-codes")


def code_settled(page: Page) -> None:
    """Until the Code page shows its Submit button, nothing left over from the last run, and
    the app has finished running (a tick reruns the page's fragment)."""
    page.wait_for_function(
        "() => document.querySelector('.st-key-code-submit button') !== null"
        " && document.querySelectorAll('[data-stale=true]').length === 0"
        " && document.querySelector('[data-test-script-state=notRunning]') !== null",
        timeout=WAIT,
    )


def settled(page: Page, forms: int) -> None:
    """Until the page shows ``forms`` forms and nothing left over from the last run (the
    Resolve page's decision and codebook note are forms)."""
    page.wait_for_function(
        "(forms) => document.querySelectorAll('[data-testid=stForm]').length === forms"
        " && document.querySelectorAll('[data-stale=true]').length === 0",
        arg=forms,
        timeout=WAIT,
    )


def test_a_coder_codes_five_units_on_one_screen(five_unit_db: Path) -> None:
    with browser_on(five_unit_db, height=SCREEN["height"]) as page:
        sign_in(page, "chloe")
        go(page, "Code")
        for k in range(5):
            unit = page.locator(".st-key-code-unit").get_by_text(UNITS[k])
            expect(unit.first).to_be_visible(timeout=WAIT)
            code_settled(page)
            cues = codes(page).get_by_role("checkbox", name="Cues")
            expect(cues).not_to_be_checked(timeout=WAIT)
            if k == 0:
                on_one_screen(page, UNITS[0])
            codes(page).get_by_text("Cues", exact=True).click()
            expect(cues).to_be_checked(timeout=WAIT)
            expect(codes(page).get_by_text("not saved yet")).to_be_visible(timeout=WAIT)
            code_settled(page)
            page.locator(".st-key-code-submit button").click()
            expect(page.get_by_text("Submitted (cues).").first).to_be_visible(timeout=WAIT)
            expect(page.get_by_text(f"{k + 1} of 6 units submitted")).to_be_visible(timeout=WAIT)
        shoot(page, "code-five")
    with Store.open(five_unit_db) as store:
        assert len(service.disagreements(store)) == 10  # Calm and Cues on five units


def test_a_reviewer_decides_five_units_and_undoes_one(five_unit_db: Path) -> None:
    with Store.open(five_unit_db) as store:
        for segment in store.segments()[:5]:
            coder_service.save_unit(store, "chloe", segment.id, ["cues"], "", submit=True)
    with browser_on(five_unit_db, height=SCREEN["height"]) as page:
        sign_in(page, "rosa")
        go(page, "Resolve")
        for k in range(5):
            expect(page.get_by_text(f"{2 * k} of 10 disagreements resolved")).to_be_visible(
                timeout=WAIT
            )
            expect(page.get_by_text(UNITS[k]).first).to_be_visible(timeout=WAIT)
            settled(page, forms=2)  # the decision and the codebook note
            page.get_by_text("Merge (every code a coder applied)").click()
            page.get_by_label("Rationale (required)").fill(f"Both readings hold for unit {k}.")
            page.get_by_role("button", name="Record decision").click()
            expect(page.get_by_text("Recorded 2 decision(s).")).to_be_visible(timeout=WAIT)
        expect(page.get_by_text("The queue is empty")).to_be_visible(timeout=WAIT)
        page.get_by_test_id("stRadio").get_by_text("Resolved", exact=True).click()
        expect(page.get_by_text(UNITS[0]).first).to_be_visible(timeout=WAIT)
        page.get_by_label("Why undo?").fill("Calm was the staff's, not the parent's.")
        page.get_by_role("button", name="Undo decision").click()
        expect(page.get_by_text("Undone: 2 decision(s) withdrawn")).to_be_visible(timeout=WAIT)
        expect(page.get_by_text("8 of 10 disagreements resolved")).to_be_visible(timeout=WAIT)
        expect(page.get_by_text(UNITS[0]).first).to_be_visible(timeout=WAIT)  # stays in view
        shoot(page, "resolve-five")
    with Store.open(five_unit_db) as store:
        decisions = [str(r.decision) for r in store.resolutions()]
    assert len(decisions) == 12 and decisions[-2:] == ["withdraw", "withdraw"]
