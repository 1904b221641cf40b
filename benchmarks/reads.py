"""The study's read commands at scale: wall time and peak RSS of ``coding --help``, ``status``,
``disagreements`` and ``disagreements --limit 50``, and the CLI's import time.

Run: python benchmarks/reads.py [--sizes 10000,100000] [--runs 3] [--baseline DIR]

Each size's study is built once through the Store (``studygen.build_store``, by the
baseline's code when there is one, since a newer schema would refuse it); every command
runs as its own process, ``--runs`` times, and the table shows medians. ``--baseline DIR``
runs the same commands from another source tree (say ``git archive`` of an earlier commit)
on its own copy of each study, in the same run, interleaved with this tree's runs so a busy
machine slows both alike; the last columns are this tree's time as a share of the baseline's.
Each copy is opened once before timing (opening migrates an older study).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "coding --help": ["--help"],
    "status": ["status", "{study}"],
    "disagreements": ["disagreements", "{study}"],
    "disagreements --limit 50": ["disagreements", "{study}", "--limit", "50"],
}


def run(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user and system) and peak RSS (MB) of ``python -m coding
    ARGS`` run in ``cwd``. On a busy machine the CPU time is the steadier figure."""
    env = {**os.environ, "CONCORD_USER": "bench"}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "coding", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        message = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"coding {' '.join(args)} failed in {cwd}: {message}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def import_ms(args: list[str], cwd: Path) -> float:
    """Milliseconds ``python -X importtime -m coding ARGS`` spends importing modules (the sum
    of the top-level imports, the interpreter's own start-up included)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "coding", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    top = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| \S", done.stderr, re.MULTILINE)
    return sum(int(us) for us in top) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated unit counts")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another source tree to compare with")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    trees = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    work = Path(tempfile.mkdtemp(prefix="concord-reads-"))
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            bench_size(size, args.seed, args.runs, trees, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_size(size: int, seed: int, runs: int, trees: dict[str, Path], work: Path) -> None:
    built, files = work / f"study-{size}.db", work / f"files-{size}"
    oldest = trees.get("baseline", ROOT)
    generate = [sys.executable, str(oldest / "benchmarks" / "studygen.py"), str(size)]
    subprocess.run(
        [*generate, str(files), "--seed", str(seed), "--store", str(built)],
        env={**os.environ, "PYTHONPATH": str(oldest)},
        check=True,
    )
    print(f"{runs} runs each", flush=True)
    targets = {}
    for name, tree in trees.items():
        targets[name] = work / f"{name}-{size}.db"
        shutil.copy(built, targets[name])
        run(["migrate", str(targets[name])], tree)
    times: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for _ in range(runs):
        for command, template in COMMANDS.items():
            for name, tree in trees.items():
                command_args = [a.replace("{study}", str(targets[name])) for a in template]
                times.setdefault((command, name), []).append(run(command_args, tree))
    header = "".join(f"{f'{name} s  CPU s  RSS MB':>27}" for name in trees)
    print(f"{'command':28}{header}" + (f"{'this/baseline':>15}" if len(trees) > 1 else ""))
    for command in COMMANDS:
        line = f"{command:28}"
        medians = {}
        for name in trees:
            cells = times[(command, name)]
            medians[name] = statistics.median(s for s, _, _ in cells)
            cpu = statistics.median(c for _, c, _ in cells)
            rss = statistics.median(r for _, _, r in cells)
            line += f"{medians[name]:12.2f}{cpu:7.2f}{rss:8.0f}"
        if "baseline" in medians:
            line += f"{medians['this'] / medians['baseline']:14.2f}x"
        print(line, flush=True)
    for name, tree in trees.items():
        status = import_ms(["status", str(targets[name])], tree)
        helping = import_ms(["--help"], tree)
        print(f"imports ({name}): status {status:.0f} ms, --help {helping:.0f} ms")


if __name__ == "__main__":
    main()
