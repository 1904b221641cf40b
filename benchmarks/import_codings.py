"""Speed and peak memory of `coding import-codings` at 10k, 100k and 1,000,000 rows.

Each size gets a generated study of rows / 10 paragraph units (documents of 200 units, a
codebook of 10 codes) and a codings CSV in which one coder applies all 10 codes to every
unit. The command runs in a subprocess (`python -m coding import-codings`) on a fresh copy of
the study each time; the table shows the median wall time, the peak RSS of that process, and
the growth of both per 10x rows (a time ratio over 12 is flagged: worse than linear).

    python benchmarks/import_codings.py                       # 10k, 100k, 1M rows on SQLite
    python benchmarks/import_codings.py --sizes 10000 100000  # smaller sizes only
    python benchmarks/import_codings.py --postgres            # also 1M rows on PostgreSQL
    python benchmarks/import_codings.py --code /tmp/other     # the `coding` of another checkout
    python benchmarks/import_codings.py --sizes --postgres --baseline /tmp/main  # PG, vs main

--postgres starts a throwaway server as the tests do (tests/pg.py), or uses the server of
$CONCORD_TEST_POSTGRES_URL. Its table adds the server's CPU seconds during each import (when
the server runs on this machine): the client's CPU, the server's CPU and the wait for a busy
machine make up the wall time. ``--baseline`` runs another checkout on a copy of the same
study in the same run, for a ratio that the machine's load does not skew.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coding import service  # noqa: E402
from coding.model import Document, Segment, segment_id_for, sha256_text  # noqa: E402

CODES = tuple(f"code_{i:02d}" for i in range(10))
PER_DOCUMENT = 200
CODER = "amira"
SENTENCE = "The parent notices the infant's cue and responds in a calm, steady way"


def write_codebook(path: Path) -> Path:
    lines = ["codebook:", "  id: bench", "  name: Benchmark codebook", "codes:"]
    for code in CODES:
        lines += [f"  - id: {code}", f"    name: {code}", f"    definition: What {code} means."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def generate(target: str, units: int, codebook: Path) -> list[str]:
    """A study of ``units`` paragraph units with coder amira; return the unit ids in order."""
    ids: list[str] = []
    items = []
    for d in range((units + PER_DOCUMENT - 1) // PER_DOCUMENT):
        doc_id = f"manual-{d:04d}"
        count = min(PER_DOCUMENT, units - d * PER_DOCUMENT)
        paragraphs = [f"{SENTENCE} ({d}.{i})." for i in range(count)]
        text = "\n\n".join(paragraphs)
        segments, pos = [], 0
        for i, para in enumerate(paragraphs):
            sid = segment_id_for(doc_id, pos, pos + len(para))
            segments.append(Segment(sid, doc_id, pos, pos + len(para), para, position=i))
            ids.append(sid)
            pos += len(para) + 2
        document = Document(doc_id, f"Manual {d}", text, sha256_text(text), name=doc_id)
        items.append((document, segments))
    with service.init_study(target, "bench", codebook) as store:
        for i in range(0, len(items), 100):  # the segments go in with executemany
            store.add_documents(items[i : i + 100], "bench")
        service.add_coders(store, [CODER], "bench")
    return ids


def write_codings(path: Path, unit_ids: list[str]) -> int:
    """All 10 codes on every unit by one coder; every 7th row has a memo (some quoted)."""
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["segment_id", "coder", "code", "memo"])
        for unit in unit_ids:
            for code in CODES:
                memo = "" if rows % 7 else ('seen twice, "clearly"' if rows % 3 else "ok")
                out.writerow([unit, CODER, code, memo])
                rows += 1
    return rows


def run_import(target: str, codings: Path, code_root: Path) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one `coding
    import-codings`, and its last line of output. CPU time shows the work done even on a
    machine other processes keep busy, where wall time grows with the load."""
    env = {**os.environ, "PYTHONPATH": str(code_root), "CONCORD_USER": "bench"}
    command = [sys.executable, "-m", "coding", "import-codings", target, str(codings)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=code_root, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        printed, messages = out.read().decode(), err.read().decode()
    if process.returncode:
        raise SystemExit(f"import-codings failed ({process.returncode}):\n{messages[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, printed.strip().splitlines()[-1]


def time_sqlite(rows: int, repeat: int, folder: Path, codebook: Path, code_root: Path) -> tuple:
    units = rows // len(CODES)
    study = folder / f"study-{rows}.db"
    codings = folder / f"codings-{rows}.csv"
    started = time.perf_counter()
    ids = generate(str(study), units, codebook)
    written = write_codings(codings, ids)
    print(
        f"  generated {units:,} units, {written:,} rows "
        f"({codings.stat().st_size / 1e6:.0f} MB CSV) in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    runs = []
    for _ in range(repeat):
        copy = folder / "run.db"
        shutil.copy(study, copy)
        *figures, last = run_import(str(copy), codings, code_root)
        runs.append(figures)
        copy.unlink()
    print(f"  {last}", file=sys.stderr)
    study.unlink()
    codings.unlink()
    walls, cpus, peaks = zip(*runs, strict=True)
    return rows, statistics.median(walls), statistics.median(cpus), max(peaks)


def time_postgres(
    rows: int, folder: Path, codebook: Path, codes: list[Path]
) -> list[tuple[Path, tuple, float | None]]:
    """One import of ``rows`` rows per checkout in ``codes``, each into its own copy of the
    same generated study on one server: (checkout, figures, server CPU seconds or None)."""
    from tests import pg

    reason = pg.why_unavailable()
    if reason:
        raise SystemExit(f"PostgreSQL: {reason}")
    codings = folder / f"codings-pg-{rows}.csv"
    found = []
    with pg.server() as base:
        url = pg.fresh_database(base)
        ids = generate(url, rows // len(CODES), codebook)
        write_codings(codings, ids)
        copies = [url] + [_copy_database(base, url) for _ in codes[1:]]
        postmaster = _postmaster(base)
        for code, target in zip(codes, copies, strict=True):
            before = _server_cpu(postmaster)
            wall, cpu, peak, last = run_import(target, codings, code)
            after = _server_cpu(postmaster)
            print(f"  {code}: {last}", file=sys.stderr)
            server = None if before is None or after is None else after - before
            found.append((code, (rows, wall, cpu, peak), server))
    return found


def _admin(base: str) -> psycopg.Connection[Any]:
    import psycopg

    dsn = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True)


def _copy_database(base: str, url: str) -> str:
    """A new database on the server holding a copy of the study at ``url``."""
    source = url.rsplit("/", 1)[1]
    name = f"{source}_copy_{os.urandom(3).hex()}"
    with _admin(base) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return f"{base}/{name}"


def _postmaster(base: str) -> int | None:
    """The process id of the server's postmaster, when it runs on this machine."""
    with _admin(base) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    try:
        return int((Path(str(row[0])) / "postmaster.pid").read_text().split()[0]) if row else None
    except OSError:
        return None


def _server_cpu(postmaster: int | None) -> float | None:
    """CPU seconds the server has used so far: its postmaster, the backends it has reaped
    and the ones still running."""
    if postmaster is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")

    def fields(pid: str) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    try:
        own = fields(str(postmaster))
    except OSError:
        return None
    total = sum(int(v) for v in own[11:15])  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = fields(entry.name)
        except OSError:
            continue
        if stat[1] == str(postmaster):  # ppid
            total += int(stat[11]) + int(stat[12])
    return total / tick


def report(title: str, results: list[tuple]) -> None:
    load = os.getloadavg()[0]
    print(f"\n{title}; load average {load:.1f} on {len(os.sched_getaffinity(0))} CPUs", flush=True)
    print(f"{'rows':>10} {'wall s':>8} {'cpu s':>7} {'peak MB':>8} {'time x':>7} {'RSS x':>6}")
    previous = None
    for rows, wall, cpu, peak in results:
        ratios = ""
        if previous is not None:
            factor = rows / previous[0]
            time_ratio, rss_ratio = wall / previous[1], peak / previous[3]
            flag = "  <- over 12x per 10x" if time_ratio > 1.2 * factor else ""
            ratios = f"{time_ratio:>7.1f} {rss_ratio:>6.1f}{flag}"
        print(f"{rows:>10,} {wall:>8.2f} {cpu:>7.2f} {peak:>8.0f} {ratios}", flush=True)
        previous = (rows, wall, cpu, peak)


def report_postgres(found: list[tuple[Path, tuple, float | None]]) -> None:
    load = os.getloadavg()[0]
    print(f"\nPostgreSQL; load average {load:.1f} on {len(os.sched_getaffinity(0))} CPUs")
    print(f"{'code':>28} {'rows':>10} {'wall s':>8} {'cpu s':>7} {'server s':>9} {'peak MB':>8}")
    for code, (rows, wall, cpu, peak), server in found:
        shown = f"{server:>9.2f}" if server is not None else f"{'-':>9}"
        print(f"{str(code)[-28:]:>28} {rows:>10,} {wall:>8.2f} {cpu:>7.2f}{shown} {peak:>8.0f}")
    if len(found) > 1:
        first = found[0][1][1]
        for code, figures, _ in found[1:]:
            print(f"  {code}: {figures[1] / first:.2f}x the wall time of {found[0][0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size under 1M rows")
    parser.add_argument("--postgres", action="store_true", help="also 1M rows on PostgreSQL")
    parser.add_argument("--postgres-rows", type=int, default=1_000_000)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose coding runs")
    parser.add_argument(
        "--baseline", type=Path, help="PostgreSQL: another checkout, run on a copy of the study"
    )
    args = parser.parse_args()
    codebook_dir = Path(tempfile.mkdtemp(prefix="bench-codings-"))
    try:
        codebook = write_codebook(codebook_dir / "codebook.yaml")
        results = []
        for rows in sorted(args.sizes):
            print(f"SQLite, {rows:,} rows", file=sys.stderr)
            repeat = args.repeat if rows < 1_000_000 else 1
            results.append(time_sqlite(rows, repeat, codebook_dir, codebook, args.code))
        if results:
            report(f"SQLite (median of {args.repeat} under 1M rows; code: {args.code})", results)
        if args.postgres:
            print(f"PostgreSQL, {args.postgres_rows:,} rows", file=sys.stderr)
            codes = [args.code, *([args.baseline] if args.baseline else [])]
            report_postgres(time_postgres(args.postgres_rows, codebook_dir, codebook, codes))
    finally:
        shutil.rmtree(codebook_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
