"""How each study command grows with the study: wall time and peak RSS at several sizes.

Run: python benchmarks/scale.py [--sizes 10000,100000,1000000] [--engine sqlite|postgres]

For each size, ``studygen`` writes a pre-segmented double-coded study (documents of 1,000
units, 10 codes, 2 coders, ~90% agreement) and every command runs through the CLI as its own
process: init, import, import-codings (each coder), status, agreement (plain and --pairwise),
disagreements (and --limit 50 where the command has it), export (everything) and suggest run
--engine supervised. Peak RSS is the process's own (``os.wait4``); a command still running after
--timeout seconds is killed and shown as "timeout". The table ends with the growth of each
command between consecutive sizes, flagged with "!" where it exceeds 1.2x the growth of the
data (12x for 10x), and the agreement engine's own time on the same data in memory, the
floor under ``coding agreement``. ``--build store`` builds each study through the Store in bulk
instead of the CLI imports (also the fallback when an import fails or times out); the default,
``--build auto``, does so from a million units, where the CLI imports alone take many minutes.
``--profile import,export`` runs those commands under cProfile and prints their top functions.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import studygen

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = ("init", "import", "import-codings ana", "import-codings ben")
AUTO_STORE = 1_000_000  # from this size --build auto builds the study through the Store


@dataclass(frozen=True)
class Result:
    seconds: float
    rss_mb: float | None
    status: str  # "ok", "timeout", "exit N"

    def cell(self) -> str:
        if self.status != "ok":
            return f"{self.status:>17}"
        rss = f"{self.rss_mb:8.0f}" if self.rss_mb is not None else f"{'-':>8}"
        return f"{self.seconds:9.2f}{rss}"


@dataclass
class Context:
    """One run of the benchmark: where studies go and how commands are run."""

    work: Path
    timeout: float
    profile: set[str]
    new_target: Callable[[str], str]
    has_limit: bool = False
    skip: set[str] = field(default_factory=set)


def run(command: list[str], timeout: float, log: Path) -> Result:
    """Run ``command``; its wall time and peak RSS, or "timeout" after killing its group."""
    env = {**os.environ, "CONCORD_USER": "bench"}
    began = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    status = "ok"
    while True:
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - began > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, code, usage = os.wait4(proc.pid, 0)
            status = "timeout"
            break
        time.sleep(0.01)
    seconds = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(code)
    if status == "ok" and proc.returncode != 0:
        status = f"exit {proc.returncode}"
    return Result(seconds, usage.ru_maxrss / 1024, status)


def coding(ctx: Context, name: str, args: list[str]) -> Result:
    """Time ``coding ARGS`` (under cProfile when ``name`` is profiled); report failures."""
    log = ctx.work / f"{name.replace(' ', '_')}.log"
    prefix = [sys.executable, "-m", "coding"]
    stats = ctx.work / f"{name.replace(' ', '_')}.prof"
    if name.split()[0] in ctx.profile:
        prefix = [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "coding"]
    result = run([*prefix, *args], ctx.timeout, log)
    if result.status.startswith("exit"):
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        print(f"  {name}: {result.status}: " + " | ".join(tail), file=sys.stderr)
    if stats.exists():
        print_profile(name, stats)
    return result


def print_profile(name: str, path: Path) -> None:
    """The functions of ``coding`` that took longest, with what they called, and the
    functions anywhere with the most time of their own."""
    print(f"  cProfile of {name}: {path}", flush=True)
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"/coding/(?!__init__|__main__)", 15)
    stats.sort_stats("tottime").print_stats(10)
    sys.stdout.flush()


def import_cli(
    ctx: Context, study: str, files: studygen.StudyFiles, rows: dict[str, Result]
) -> bool:
    """Build the study through the CLI, timing each command; False if one of them failed."""
    steps = [
        ("init", ["init", study, "--codebook", str(files.codebook)]),
        ("import", ["import", study, *map(str, files.units)]),
        *(
            (f"import-codings {coder}", ["import-codings", study, str(path), "--add-coders"])
            for coder, path in files.codings.items()
        ),
    ]
    for name, args in steps:
        rows[name] = coding(ctx, name, args)
        print(f"  {name:28} {rows[name].cell()}", flush=True)
        if rows[name].status != "ok":
            return False
    return True


def read_commands(ctx: Context, study: str, size: int) -> list[tuple[str, list[str]]]:
    """The commands that read the built study, in order."""
    commands = [
        ("status", ["status", study]),
        ("agreement", ["agreement", study]),
        ("agreement --pairwise", ["agreement", study, "--pairwise"]),
        ("disagreements", ["disagreements", study]),
    ]
    if ctx.has_limit:
        commands.append(("disagreements --limit 50", ["disagreements", study, "--limit", "50"]))
    export_to = ctx.work / f"export-{size}"
    return [
        *commands,
        ("export", ["export", study, "--to", str(export_to)]),
        ("suggest run supervised", ["suggest", "run", study, "--engine", "supervised"]),
    ]


def bench_size(ctx: Context, size: int, build: str, seed: int) -> dict[str, Result]:
    """Every command at one size; the rows in table order."""
    rows: dict[str, Result] = {}
    began = time.perf_counter()
    study = studygen.generate(size, seed)
    if build == "auto":
        build = "store" if size >= AUTO_STORE else "cli"
    folder = ctx.work / f"files-{size}"
    if build == "store":  # the codebook only: no command reads the other files
        folder.mkdir(parents=True)
        files = studygen.StudyFiles(folder / "codebook.yaml", [], {})
        files.codebook.write_text(studygen.codebook_yaml(study), encoding="utf-8")
    else:
        files = studygen.write_files(study, folder)
    rows["(generate files)"] = Result(time.perf_counter() - began, None, "ok")
    print(f"{size:,} units: {study.annotation_count():,} annotations", flush=True)
    target = ctx.new_target(f"cli-{size}")
    if build == "store" or not import_cli(ctx, target, files, rows):
        target = ctx.new_target(f"store-{size}")
        began = time.perf_counter()
        studygen.build_store(study, target, files.codebook)
        rows["(build through the Store)"] = Result(time.perf_counter() - began, None, "ok")
        print(f"  {'(build through the Store)':28} {rows['(build through the Store)'].cell()}")
    for name, args in read_commands(ctx, target, size):
        if name.split()[0] in ctx.skip:
            continue
        rows[name] = coding(ctx, name, args)
        print(f"  {name:28} {rows[name].cell()}", flush=True)
    rows["(agreement engine floor)"] = floor(study)
    return rows


def floor(study: studygen.Study) -> Result:
    """The agreement engine alone on the same data in memory (as benchmarks/agreement.py):
    the median of three runs (one at a million units or more)."""
    from coding.agreement import agreement_table

    annotations, assignments, segments, code_ids = studygen.frames(study)
    coders = list(study.applied)
    times = []
    for _ in range(1 if study.n_units >= 1_000_000 else 3):
        began = time.perf_counter()
        agreement_table(annotations, assignments, segments, code_ids, coders=coders)
        times.append(time.perf_counter() - began)
    return Result(statistics.median(times), None, "ok")


def growth(first: Result | None, second: Result | None, data: float) -> tuple[str, bool]:
    """The time ratio between two sizes, and whether it outgrows 1.2x the data's growth; a
    lower bound (">") when the larger size timed out."""
    if first is None or second is None or first.status != "ok":
        return f"{'-':>13}", False
    if second.status == "timeout":
        return f"{'>' + format(second.seconds / first.seconds, '.1f') + 'x':>12}!", True
    if second.status != "ok":
        return f"{'-':>13}", False
    ratio = second.seconds / first.seconds
    flag = ratio > 1.2 * data
    return f"{ratio:11.1f}x" + ("!" if flag else " "), flag


def short(n: int) -> str:
    """A unit count in few characters.

    >>> short(500), short(10_000), short(2_500_000)
    ('500', '10k', '2.5M')
    """
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    return f"{n / 1000:g}k" if n >= 1000 else str(n)


def print_table(results: dict[int, dict[str, Result]]) -> None:
    sizes = sorted(results)
    names = list(dict.fromkeys(name for size in sizes for name in results[size]))
    pairs = list(itertools.pairwise(sizes))
    print(
        f"\n{'command':28}"
        + "".join(f"{f'{s:,} units':>17}" for s in sizes)
        + "".join(f"{f'{short(a)}->{short(b)}':>13}" for a, b in pairs)
    )
    print(f"{'':28}" + f"{'time s  RSS MB':>17}" * len(sizes) + f"{'time ratio':>13}" * len(pairs))
    flagged = []
    for name in names:
        line = f"{name:28}" + "".join(
            results[s][name].cell() if name in results[s] else f"{'-':>17}" for s in sizes
        )
        for a, b in pairs:
            cell, flag = growth(results[a].get(name), results[b].get(name), b / a)
            line += cell
            if flag:
                flagged.append(name)
        print(line)
    if flagged:
        print("\n! grew more than 1.2x the data: " + ", ".join(dict.fromkeys(flagged)))


@contextmanager
def targets(engine: str, work: Path) -> Iterator[Callable[[str], str]]:
    """A function giving a new, empty study target for a name: a SQLite path in ``work``, or
    a fresh database on a throwaway PostgreSQL server (tests/pg.py) for ``postgres``."""
    if engine == "sqlite":
        yield lambda name: str(work / f"{name}.db")
        return
    sys.path.insert(0, str(ROOT))
    from tests import pg

    reason = pg.why_unavailable()
    if reason:
        raise SystemExit(f"no PostgreSQL server: {reason}")
    with pg.server() as base:
        yield lambda _name: pg.fresh_database(base)


def has_limit_option() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "coding", "disagreements", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    return "--limit" in done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        help="comma-separated unit counts (default 10000,100000; 100000 with --engine postgres)",
    )
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command")
    parser.add_argument(
        "--build",
        choices=("cli", "store", "auto"),
        default="auto",
        help=f"how to build each study (auto: the CLI under {AUTO_STORE:,} units, else store)",
    )
    parser.add_argument("--profile", default="", help="commands to run under cProfile")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", default="", help="commands not to run, e.g. export,suggest")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    default = "100000" if args.engine == "postgres" else "10000,100000"
    sizes = [int(s) for s in (args.sizes or default).split(",")]
    work = Path(tempfile.mkdtemp(prefix="concord-scale-"))
    profile = {p.strip() for p in args.profile.split(",") if p.strip()}
    print(f"engine {args.engine}, timeout {args.timeout:.0f} s per command, work folder {work}")
    started = run([sys.executable, "-m", "coding", "--help"], 60, work / "startup.log")
    print(f"interpreter + CLI start-up (coding --help): {started.cell()}")
    results: dict[int, dict[str, Result]] = {}
    with targets(args.engine, work) as new_target:
        skip = {c.strip() for c in args.skip.split(",") if c.strip()}
        ctx = Context(work, args.timeout, profile, new_target, has_limit_option(), skip)
        for size in sizes:
            results[size] = bench_size(ctx, size, args.build, args.seed)
    print_table(results)
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
