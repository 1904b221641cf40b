"""Speed of the app in a real browser on a generated 20,000-segment study.

Prints the first render of each page and the median time of coding and review actions, from
the click to the updated page, measured in headless Chromium against ``streamlit run``.

    python benchmarks/app.py                     # the benchmark (20,000 units)
    python benchmarks/app.py --units 2000        # a smaller study
    python benchmarks/app.py --screenshots docs/screenshots   # README screenshots (demo study)
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from coding import service  # noqa: E402
from coding.model import Annotation, Document, Segment, segment_id_for, sha256_text  # noqa: E402
from coding.service import access  # noqa: E402
from coding.service.demo import DEMO_PASSWORD, build_demo  # noqa: E402
from coding.store import schema as t  # noqa: E402
from tests.ui_helpers import CHROMIUM_ARGS, start_app  # noqa: E402

PASSWORD = "bench-password"
WORDS = (
    "parent",
    "infant",
    "calm",
    "stress",
    "cue",
    "attune",
    "reflect",
    "safe",
    "staff",
    "session",
    "baby",
    "feeling",
    "notice",
    "soothe",
    "relationship",
    "trust",
    "attachment",
    "practice",
    "group",
    "home",
    "visit",
    "mind",
    "sense",
    "care",
)
WAIT = 30_000


def generate(db: Path, units: int, per_document: int = 200, seed: int = 0) -> None:
    """A study with ``units`` paragraph units; amira and ben coded all but chloe's 200."""
    rng = random.Random(seed)
    store = service.init_study(db, "bench", ROOT / "codebooks/mechanisms.yaml")
    codes = store.codebook().codebook.code_ids
    items = []
    for d in range(units // per_document):
        paragraphs = [
            " ".join(rng.choices(WORDS, k=rng.randint(25, 70))).capitalize() + "."
            for _ in range(per_document)
        ]
        text = "\n\n".join(paragraphs)
        doc_id = f"manual-{d:03d}"
        document = Document(
            id=doc_id,
            name=doc_id,
            title=f"Manual {d}",
            text=text,
            sha256=sha256_text(text),
            programme="bench",
        )
        segments, pos = [], 0
        for i, para in enumerate(paragraphs):
            segments.append(
                Segment(
                    id=segment_id_for(doc_id, pos, pos + len(para)),
                    document_id=doc_id,
                    start=pos,
                    end=pos + len(para),
                    text=para,
                    position=i,
                )
            )
            pos += len(para) + 2
        items.append((document, segments))
    store.add_documents(items, "bench")
    all_ids = [s.id for _, segs in items for s in segs]
    for name, role in (
        ("amira", "coder"),
        ("ben", "coder"),
        ("chloe", "coder"),
        ("rosa", "reviewer"),
    ):
        access.add_user(store, name, role, PASSWORD, "bench")
    annotations = []
    for sid in all_ids:
        shared = rng.sample(codes, rng.randint(0, 2))
        for coder in ("amira", "ben"):
            mine = set(shared)
            if rng.random() < 0.15:
                mine ^= {rng.choice(codes)}
            annotations += [Annotation(sid, c, coder, codebook_version=1) for c in sorted(mine)]
    store.add_annotations(annotations, "bench")
    now = "2026-01-01T00:00:00+00:00"
    with store.transaction("bench", "assign", "bench") as conn:
        conn.execute(
            insert(t.assignments),
            [
                {"segment_id": s, "coder": c, "assigned_at": now, "completed_at": now}
                for s in all_ids
                for c in ("amira", "ben")
            ],
        )
        conn.execute(
            insert(t.assignments),
            [
                {"segment_id": s, "coder": "chloe", "assigned_at": now, "completed_at": None}
                for s in all_ids[:200]
            ],
        )
    store.close()


def demo(db: Path) -> None:
    """The demo study as `make demo` builds it (users, chloe's manual, suggestions)."""
    build_demo(db, "demo")


def since(start: float) -> float:
    return time.perf_counter() - start


def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
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


def benchmark(db: Path, actions: int) -> dict[str, float | list[float]]:
    server, port = start_app(db)
    results: dict[str, float | list[float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                _measure(page, port, actions, results)
            except Exception:
                page.screenshot(path="/tmp/bench-fail.png", full_page=True)
                raise
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results


def _measure(page: Page, port: int, actions: int, results: dict[str, float | list[float]]) -> None:
    """Sign in as chloe and code, then as rosa and review; each time from click to drawn page."""
    t0 = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/")
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
    results["first render (sign-in page)"] = since(t0)
    sign_in(page, "chloe")
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
    sign_in(page, "rosa")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--actions", type=int, default=10)
    parser.add_argument("--screenshots", type=Path, help="Write README screenshots here.")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "study.db"
        if args.screenshots:
            demo(db)
            screenshots(db, args.screenshots)
            print(f"screenshots in {args.screenshots}")
            return
        started = time.perf_counter()
        generate(db, args.units)
        print(f"generated {args.units} units in {time.perf_counter() - started:.1f} s")
        for name, value in benchmark(db, args.actions).items():
            if isinstance(value, list):
                print(
                    f"{name:40} median {statistics.median(value) * 1000:6.0f} ms "
                    f"(min {min(value) * 1000:.0f}, max {max(value) * 1000:.0f}, "
                    f"n={len(value)})"
                )
            else:
                print(f"{name:40} {value:6.2f} s")


if __name__ == "__main__":
    main()
