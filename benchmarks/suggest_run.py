"""Time ``suggest run --engine supervised`` on generated studies of growing size (prints
figures; not a test).

    python benchmarks/suggest_run.py --run-sizes 10000,30000 [--repeats 1] [--keep DIR]

Each size is a study of ``benchmarks/studygen.py`` (2 coders, 10 codes, documents of 1,000
units) built through the Store in a temporary folder (or ``--keep DIR``); the run itself is
``service.run_suggestions`` in this process, as the CLI calls it. For each size it prints the
wall and CPU seconds of the whole run and of its stages (preparing the shared n-gram counts,
training and scoring the cross-fitted folds with their evidence, storing), the number of
suggestions, and then the growth of wall and CPU time between consecutive sizes, also scaled
to a tenfold size (``t2 / t1`` raised to ``log 10 / log(n2 / n1)``): 10 is linear. Figures are
medians of ``--repeats`` runs (each on a fresh copy of the study). Other jobs may share the
cores, so CPU time is the steadier figure and the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import studygen

from coding.model import ProgressEvent
from coding.service.suggest import run_suggestions
from coding.store import Store

Figures = dict[str, tuple[float, float]]  # stage -> (wall, cpu) seconds


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def timed_run(db: Path) -> tuple[Figures, int]:
    """Wall and CPU seconds of one supervised run on ``db``, by stage; the suggestions made."""
    marks: list[tuple[str, float, float]] = []

    def on_progress(event: ProgressEvent) -> None:
        if event.done == 0 and (not marks or marks[-1][0] != event.stage):
            marks.append((event.stage, *_clocks()))

    start = _clocks()
    with Store.open(db) as store:
        result = run_suggestions(store, "bench", "supervised", on_progress=on_progress)
    end = _clocks()
    figures: Figures = {"total": (end[0] - start[0], end[1] - start[1])}
    bounds = [*marks, ("end", *end)]
    for (stage, wall, cpu), (_, wall2, cpu2) in itertools.pairwise(bounds):
        figures[stage] = (wall2 - wall, cpu2 - cpu)
    return figures, result.suggestions


def measure(units: int, folder: Path, repeats: int) -> tuple[Figures, int]:
    """Median figures over ``repeats`` runs on fresh copies of a study of ``units`` units."""
    study = studygen.generate(units)
    files = studygen.write_files(study, folder / f"files{units}")
    built = folder / f"study{units}.db"
    if not built.exists():
        studygen.build_store(study, built, files.codebook)
    runs = []
    for k in range(repeats):
        copy = folder / f"run{units}-{k}.db"
        shutil.copyfile(built, copy)
        runs.append(timed_run(copy))
        copy.unlink()
    stages = runs[0][0].keys()
    median = {
        s: (
            statistics.median(r[0][s][0] for r in runs),
            statistics.median(r[0][s][1] for r in runs),
        )
        for s in stages
    }
    return median, runs[0][1]


def report(sizes: list[int], results: list[tuple[Figures, int]]) -> None:
    stages = list(results[0][0])
    header = " ".join(f"{s + ' wall/cpu':>22}" for s in stages)
    print(f"{'units':>10} {'suggestions':>12} {header}")
    for n, (figures, count) in zip(sizes, results, strict=True):
        cells = " ".join(f"{figures[s][0]:10.1f} {figures[s][1]:11.1f}" for s in stages)
        print(f"{n:>10,} {count:>12,} {cells}")
    for (n1, (f1, _)), (n2, (f2, _)) in itertools.pairwise(zip(sizes, results, strict=True)):
        power = math.log(10) / math.log(n2 / n1)
        wall, cpu = f2["total"][0] / f1["total"][0], f2["total"][1] / f1["total"][1]
        print(
            f"{n1:,} -> {n2:,} units: wall x{wall:.2f}, cpu x{cpu:.2f}; per tenfold size: "
            f"wall x{wall**power:.1f}, cpu x{cpu**power:.1f} (linear: x10)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-sizes", default="10000,30000", help="units, comma-separated")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--keep", help="folder to keep the built studies in (reused if there)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.run_sizes.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results = [measure(n, folder, args.repeats) for n in sizes]
    report(sizes, results)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
