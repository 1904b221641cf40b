"""Speed of every export on generated studies of 10,000 and 100,000 units.

    python benchmarks/export.py                  # 10k and 100k units
    python benchmarks/export.py --sizes 2000,10000 --repeats 3
    python benchmarks/export.py --profile 10000  # cProfile of a full export, top 30 lines

A study has paragraph units in documents of 200 units across five programmes, a codebook of
ten codes, two coders who completed every unit and agree on about 90% of units, a reviewer's
decision on half of the disagreements, and an audit row for each coder's save of each unit.
Each export kind is timed in all its formats (median of ``--repeats`` runs at the smaller
sizes, one run at the largest), next to the floor: the time to read the study data
(``service.export.load`` without the agreement tables). The script prints wall time, CPU
time and peak RSS per kind, then the growth from the smallest to the largest size; a growth
over 1.2 times the growth in units (12x for 10k -> 100k), in wall and CPU time, is flagged.
The machine may be shared: CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from coding import service  # noqa: E402
from coding.model import (  # noqa: E402
    Annotation,
    Decision,
    Document,
    Resolution,
    Segment,
    segment_id_for,
    sha256_text,
)
from coding.service import export as export_service  # noqa: E402
from coding.store import Store  # noqa: E402
from coding.store import schema as t  # noqa: E402

WORDS = [
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
]
CODES = 10
PROGRAMMES = ("north", "south", "east", "west", "central")
CODERS = ("amira", "ben")
PER_DOCUMENT = 200
NOW = "2026-01-01T00:00:00+00:00"
WHY = "decided in the benchmark"


def _codebook(folder: Path) -> Path:
    lines = ["codebook:", "  id: bench", "  name: Benchmark codebook", "codes:"]
    for k in range(CODES):
        lines += [
            f"  - id: code_{k:02d}",
            f"    name: Code {k}",
            f"    definition: The {k}th mechanism of change in the benchmark.",
        ]
    path = folder / "codebook.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _documents(units: int, rng: random.Random) -> list[tuple[Document, list[Segment]]]:
    items = []
    for d in range((units + PER_DOCUMENT - 1) // PER_DOCUMENT):
        count = min(PER_DOCUMENT, units - d * PER_DOCUMENT)
        paragraphs = [
            " ".join(rng.choices(WORDS, k=rng.randint(25, 70))).capitalize() + "."
            for _ in range(count)
        ]
        text = "\n\n".join(paragraphs)
        doc_id = f"manual-{d:04d}"
        document = Document(
            id=doc_id,
            name=doc_id,
            title=f"Manual {d}",
            text=text,
            sha256=sha256_text(text),
            programme=PROGRAMMES[d % len(PROGRAMMES)],
        )
        segments, pos = [], 0
        for i, para in enumerate(paragraphs):
            end = pos + len(para)
            segments.append(
                Segment(segment_id_for(doc_id, pos, end), doc_id, pos, end, para, position=i)
            )
            pos = end + 2
        items.append((document, segments))
    return items


def generate(db: Path, units: int, seed: int = 0) -> None:
    """A study of ``units`` paragraph units, coded by two coders (about 90% of units agreed)."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = service.init_study(db, "bench", _codebook(Path(tmp)))
    codes = store.codebook().codebook.code_ids
    items = _documents(units, rng)
    store.add_documents(items, "bench")
    store.add_coders(CODERS, "bench")
    ids = [s.id for _, segments in items for s in segments]
    annotations, disagreements = [], []
    for sid in ids:
        shared = set(rng.sample(codes, rng.randint(0, 3)))
        other = set(shared)
        if rng.random() < 0.10:
            flipped = rng.choice(codes)
            other ^= {flipped}
            disagreements.append((sid, flipped, flipped in other))
        for coder, mine in zip(CODERS, (shared, other), strict=True):
            annotations += [Annotation(sid, c, coder, codebook_version=1) for c in sorted(mine)]
    store.add_annotations(annotations, "bench")
    with store.transaction("bench", "assign", "bench") as conn:
        rows = [
            {"segment_id": s, "coder": c, "assigned_at": NOW, "completed_at": NOW}
            for s in ids
            for c in CODERS
        ]
        conn.execute(insert(t.assignments), rows)
        # One audit row per unit save, as coding in the app leaves them.
        events = [
            {
                "at": NOW,
                "actor": coder,
                "action": "code_unit",
                "subject": sid,
                "detail": json.dumps({"codes": [], "complete": True, "memo": ""}),
            }
            for sid in ids
            for coder in CODERS
        ]
        conn.execute(insert(t.events), events)
    at = datetime(2026, 1, 2, tzinfo=UTC)
    decided = [
        Resolution(
            sid, code, Decision.APPLY if applied else Decision.REJECT, "rosa", WHY, at, None, 1
        )
        for sid, code, applied in disagreements[::2]
    ]
    store.add_resolutions(decided, "bench")
    store.close()


# -- timing ----------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(
    db: str,
    kind: str,
    out: str,
    limit: float,
    queue: multiprocessing.Queue[tuple[float, float, float]],
) -> None:
    """One export in a fresh process, so its peak RSS is its own; it is stopped once it has
    used ``limit`` seconds of CPU."""
    resource.setrlimit(resource.RLIMIT_CPU, (int(limit), int(limit) + 5))
    begin, cpu = time.perf_counter(), time.process_time()
    with Store.open(db) as store:
        if kind in ("read", "read+agreement"):
            export_service.load(store, with_reliability=kind != "read")
        else:
            export_service.export_study(store, out, [kind] if kind != "all" else None)
    queue.put((time.perf_counter() - begin, time.process_time() - cpu, _peak_rss_mb()))


def measure(db: Path, kind: str, repeats: int, limit: float) -> tuple[float, float, float] | None:
    """Median wall and CPU time (s) and largest peak RSS (MB) of ``repeats`` runs of one
    export; None when a run needs more than ``limit`` seconds of CPU (it is stopped: on a
    shared machine wall time depends on the neighbours, CPU time much less)."""
    context = multiprocessing.get_context("fork")
    times, cpus, peaks = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            queue: multiprocessing.Queue[tuple[float, float, float]] = context.Queue()
            args = (str(db), kind, f"{tmp}/out", limit, queue)
            process = context.Process(target=_run, args=args)
            process.start()
            while True:
                try:
                    seconds, cpu, peak = queue.get(timeout=5)
                    break
                except Empty:
                    if not process.is_alive():
                        return None
            process.join()
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
    return statistics.median(times), statistics.median(cpus), max(peaks)


def profile(db: Path, lines: int = 30) -> str:
    with tempfile.TemporaryDirectory() as tmp, Store.open(db) as store:
        profiler = cProfile.Profile()
        profiler.enable()
        export_service.export_study(store, f"{tmp}/out")
        profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(lines)
    return text.getvalue()


# read: the study data alone (the floor); read+agreement: with the agreement tables, which
# the theme report, the agreement export and a full export compute.
KINDS = ("read", "read+agreement", *export_service.KINDS, "all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated unit counts")
    parser.add_argument("--repeats", type=int, default=3, help="runs per export (small sizes)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds")
    parser.add_argument("--profile", type=int, help="profile a full export at this size")
    parser.add_argument(
        "--cpu-limit", type=float, default=1800, help="stop a run after this much CPU (s)"
    )
    parser.add_argument("--keep", type=Path, help="folder to keep generated studies in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="concord-export-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if args.profile:
            print(profile(_study(folder, args.profile)))
            return
        sizes = [int(s) for s in args.sizes.split(",")]
        kinds = args.kinds.split(",")
        figures: dict[tuple[int, str], tuple[float, float, float] | None] = {}
        for size in sizes:
            db = _study(folder, size)
            repeats = 1 if size == max(sizes) and len(sizes) > 1 else args.repeats
            for kind in kinds:
                figures[size, kind] = found = measure(db, kind, repeats, args.cpu_limit)
                if found is None:
                    print(f"{size:>8,d} units  {kind:<10} stopped after {args.cpu_limit:.0f} s CPU")
                    continue
                seconds, cpu, peak = found
                print(
                    f"{size:>8,d} units  {kind:<10} {seconds:8.2f} s wall  {cpu:8.2f} s CPU  "
                    f"{peak:6.0f} MB peak RSS",
                    flush=True,
                )
        _growth(figures, sizes, kinds)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _study(folder: Path, units: int) -> Path:
    db = folder / f"study-{units}.db"
    if not db.exists():
        begin = time.perf_counter()
        generate(db, units)
        print(f"generated {units:,d} units in {time.perf_counter() - begin:.1f} s", flush=True)
    return db


def _growth(
    figures: dict[tuple[int, str], tuple[float, float, float] | None],
    sizes: list[int],
    kinds: list[str],
) -> None:
    if len(sizes) < 2:
        return
    small, large = min(sizes), max(sizes)
    limit = 1.2 * large / small
    print(
        f"\ngrowth {small:,d} -> {large:,d} units "
        f"(x{large / small:.0f} units; flagged over x{limit:.0f})"
    )
    for kind in kinds:
        first, last = figures[small, kind], figures[large, kind]
        if first is None or last is None:
            print(f"  {kind:<10} (a run was stopped)")
            continue
        wall, cpu = (last[i] / max(first[i], 1e-9) for i in (0, 1))
        flag = "  <-- super-linear" if min(wall, cpu) > limit else ""
        print(f"  {kind:<10} wall x{wall:6.1f}  CPU x{cpu:6.1f}{flag}")


if __name__ == "__main__":
    main()
