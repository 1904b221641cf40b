"""End to end in headless Chromium: two coders code a unit, a reviewer resolves, then export.

Runs ``streamlit run app.py`` on 127.0.0.1 and drives it with Playwright. Screenshots of each
page go to $CONCORD_SCREENSHOTS when set (docs/screenshots is made from the demo study by
``benchmarks/app.py --screenshots``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from coding import service
from coding.service import access
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

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

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


@pytest.fixture
def page(two_coder_db: Path) -> Iterator[Page]:
    server, port = start_app(two_coder_db)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(
                viewport={"width": 1280, "height": 1000}, accept_downloads=True
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
    if code:
        page.get_by_test_id("stForm").get_by_text(code, exact=True).click()
    shoot(page, f"code-{coder}")
    page.get_by_role("button", name="Submit and next").click()
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
