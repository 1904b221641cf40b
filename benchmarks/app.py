"""Speed of the app's own work on a generated 20,000-unit study: the median of each action.

Each action is timed under AppTest (``streamlit.testing``) from the click to the end of the
rerun it causes, rerunning what the browser would ask for: only the fragment the page draws
its form in, when it draws one (see ``tests/ui_fragments.py``), else the whole page. A bare
Streamlit script's rerun, timed in the same run, is the floor: Streamlit's own cost per rerun.
Widgets are found by label or key only, so the figures follow the pages as they change.

    python benchmarks/app.py                        # 20,000 units, 5 of each action
    python benchmarks/app.py --units 2000 --repeats 3
    python benchmarks/app.py --browser              # click to drawn page in headless Chromium
    python benchmarks/app.py --screenshots docs/screenshots   # README screenshots (demo study)

``benchmarks/app_browser.py`` takes the same options and times in the browser.
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from coding import service  # noqa: E402
from coding.model import Annotation, Document, Segment, segment_id_for, sha256_text  # noqa: E402
from coding.review import Choice  # noqa: E402
from coding.service import access  # noqa: E402
from coding.service import export as export_service  # noqa: E402
from coding.service import queue as queue_service  # noqa: E402
from coding.service import review as review_service  # noqa: E402
from coding.store import Store  # noqa: E402
from coding.store import schema as t  # noqa: E402
from tests.ui_fragments import fragment_ids, run_fragment  # noqa: E402
from tests.ui_helpers import PAGES  # noqa: E402

PASSWORD = "bench-password"
BARE = "import streamlit as st\n\nst.title('Bare')\nst.write('One rerun of Streamlit itself.')\n"
TIMEOUT = 600
FLOOR = "bare Streamlit rerun (floor)"
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


Timings = dict[str, list[float]]


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def open_page(db: Path, user: str, page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["db_path"] = str(db)
    at.session_state["user"] = user
    at.user = {"email": f"{user}@example.org"}
    at.run()
    at.switch_page(PAGES[page]).run()
    if at.exception:
        raise RuntimeError(f"the {page} page failed: {at.exception}")
    return at


def click(at: AppTest) -> AppTest:
    """Rerun after a click: the page's fragment when it has exactly one, else the page."""
    return run_fragment(at) if len(fragment_ids(at)) == 1 else at.run()


def progress(at: AppTest) -> str:
    bars = at.get("progress")
    return str(bars[0].proto.text) if bars else ""


def button(at: AppTest, label: str) -> Any:
    found = [b for b in at.button if b.label == label]
    if not found:
        raise RuntimeError(f"no button labelled {label!r} on the page")
    return found[0]


def floor(timings: Timings, repeats: int) -> None:
    at = AppTest.from_string(BARE, default_timeout=TIMEOUT).run()
    timings[FLOOR] = [timed(at.run) for _ in range(repeats * 2)]


def first_code(at: AppTest) -> Any:
    """The open unit's first code checkbox (keys ``c-<segment>-<code>``)."""
    found = [c for c in at.checkbox if str(c.key).startswith("c-")]
    if not found:
        raise RuntimeError("no code checkbox on the Code page")
    return found[0]


def submit_and_next(db: Path, timings: Timings, repeats: int) -> None:
    """chloe ticks the first code of her unit (a tick reruns the page's fragment), then
    "Submit and next"."""
    at = open_page(db, "chloe", "code")
    ticks, times = [], []
    for _ in range(repeats):
        before = progress(at)
        first_code(at).check()
        ticks.append(timed(lambda: click(at)))
        if at.exception or not first_code(at).value:
            raise RuntimeError(f"the tick did not take: {at.exception}")
        button(at, "Submit and next").click()
        times.append(timed(lambda: click(at)))
        if at.exception or progress(at) == before:
            raise RuntimeError(f"submit and next did not take: {at.exception or before}")
    timings["code: tick a code"] = ticks
    timings["code: submit and next"] = times


def record_decision(db: Path, timings: Timings, repeats: int) -> None:
    """rosa records "Merge" with a rationale on the first unit of her queue."""
    at = open_page(db, "rosa", "resolve")
    times = []
    for k in range(repeats):
        before = progress(at)
        (choice,) = [r for r in at.radio if r.label == "Final codes"]
        choice.set_value(Choice.merge())
        (why,) = [a for a in at.text_area if a.label == "Rationale (required)"]
        why.input(f"benchmark decision {k}")
        button(at, "Record decision").click()
        times.append(timed(lambda: click(at)))
        if at.exception or progress(at) == before:
            raise RuntimeError(f"the decision did not take: {at.exception or before}")
    timings["resolve: record decision"] = times
    at.run()  # the whole page, as after a change of filter
    timings["resolve: whole page rerun"] = [timed(at.run) for _ in range(repeats)]


def decide_one(db: Path, k: int) -> None:
    """One more decision, written straight to the study (an edit between two views)."""
    with Store.open(db) as store:
        page, _ = queue_service.review_queue(store, "rosa", limit=1)
        sid = str(page["segment_id"].iloc[0])
        review_service.decide(store, "rosa", sid, Choice.merge(), f"edit {k} between views")


def agreement(db: Path, timings: Timings, repeats: int) -> None:
    cold, edited = [], []
    for k in range(repeats):
        st.cache_data.clear()
        st.cache_resource.clear()  # the page keeps the study's agreement data there
        quiet()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.session_state["db_path"], at.session_state["user"] = str(db), "rosa"
        at.run()
        cold.append(timed(lambda: at.switch_page(PAGES["agreement"]).run()))  # noqa: B023
        decide_one(db, k)
        edited.append(timed(at.run))
        if at.exception:
            raise RuntimeError(f"the agreement page failed: {at.exception}")
    timings["agreement: open cold"] = cold
    timings["agreement: after one edit"] = edited


def exports(db: Path, timings: Timings, repeats: int) -> None:
    at = open_page(db, "rosa", "export")
    for kind, fmt, name in export_service.available_exports():
        times = []
        for _ in range(repeats):
            at.button(key=f"build-{kind}-{fmt}").click()
            times.append(timed(at.run))
            if at.exception or at.error or not at.get("download_button"):
                raise RuntimeError(f"{name} was not built: {at.exception or at.error}")
        timings[f"export: {name}"] = times


def quiet() -> None:
    """No warnings about Streamlit calls made outside a script run (cache clears here)."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def measure(db: Path, repeats: int) -> Timings:
    timings: Timings = {}
    quiet()
    floor(timings, repeats)
    submit_and_next(db, timings, repeats)
    record_decision(db, timings, repeats)
    agreement(db, timings, repeats)
    exports(db, timings, max(1, repeats // 2))
    floor(timings, repeats)  # once more at the end: the machine may have got busier
    return timings


def table(timings: Timings) -> str:
    base = statistics.median(timings[FLOOR]) if FLOOR in timings else None
    lines = [
        f"{'action':42} {'median':>9} {'min':>8} {'max':>8} {'n':>3} {'x floor':>8}",
        "-" * 83,
    ]
    for name, values in timings.items():
        median = statistics.median(values)
        lines.append(
            f"{name:42} {median * 1000:6.0f} ms {min(values) * 1000:5.0f} ms "
            f"{max(values) * 1000:5.0f} ms {len(values):3} "
            + (f"{median / base:8.1f}" if base else f"{'-':>8}")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5, help="Times each action is timed.")
    parser.add_argument("--browser", action="store_true", help="Time in headless Chromium.")
    parser.add_argument("--screenshots", type=Path, help="Write README screenshots here.")
    args = parser.parse_args(argv)
    if (args.browser or args.screenshots) and shutil.which("chromium") is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "study.db"
        if args.screenshots:
            import app_browser

            app_browser.demo(db)
            app_browser.screenshots(db, args.screenshots)
            print(f"screenshots in {args.screenshots}")
            return
        started = time.perf_counter()
        generate(db, args.units)
        print(f"generated {args.units} units in {time.perf_counter() - started:.1f} s")
        if args.browser:
            import app_browser

            found = app_browser.benchmark(db, args.repeats, PASSWORD)
            timings = {k: v if isinstance(v, list) else [v] for k, v in found.items()}
            print(table(timings))
            return
        print(table(measure(db, args.repeats)))


if __name__ == "__main__":
    main()
