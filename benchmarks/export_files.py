"""What each file of a full export costs: wall and CPU time and peak RSS, step by step.

    python benchmarks/export_files.py STUDY.db        # e.g. a study kept by scale.py --keep

Runs ``coding.service.export.export_study`` (everything, into a temporary folder) in this
process and prints, for each reading step, the agreement tables and each file written, the
seconds it took (wall and CPU) and the peak resident memory during that step (Linux: the
kernel's high-water mark, reset between steps), then the totals. Files are timed from the
progress events the export reports, so a file's figures include any table it was the first
to need (``coded_segments.csv`` builds the coded segments table all the later files share).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coding.model import ProgressEvent  # noqa: E402
from coding.service import export as export_service  # noqa: E402
from coding.store import Store  # noqa: E402


def _memory() -> tuple[int, int]:
    """Resident and peak resident memory now, in MB (0, 0 where /proc is missing)."""
    found = {"VmRSS": 0, "VmHWM": 0}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in found:
                    found[key] = int(value.split()[0]) // 1024
    except OSError:
        pass
    return found["VmRSS"], found["VmHWM"]


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


class Steps:
    """The export's progress events turned into timed steps."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, int, int]] = []
        self.name = "(start)"
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def close(self, next_name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        resident, peak = _memory()
        self.rows.append((self.name, now - self.wall, cpu - self.cpu, resident, peak))
        _reset_peak()
        self.name, self.wall, self.cpu = next_name, now, cpu

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage == "agreement":
            if event.done == 0:
                self.close("agreement tables")
            return
        self.close(f"{event.stage}: {event.item or '(the rest)'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("study", help="a study file or database URL")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="concord-export-files-"))
    steps = Steps()
    began, cpu = time.perf_counter(), time.process_time()
    try:
        with Store.open(args.study) as store:
            export_service.export_study(store, folder / "out", on_progress=steps)
        steps.close("(end)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'step':40}{'wall s':>9}{'CPU s':>9}{'RSS MB':>9}{'peak MB':>9}")
    for name, wall, used, resident, peak in steps.rows:
        print(f"{name[:40]:40}{wall:9.2f}{used:9.2f}{resident:9d}{peak:9d}")
    peak = max((row[4] for row in steps.rows), default=0)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{'total':40}{time.perf_counter() - began:9.2f}{time.process_time() - cpu:9.2f}"
        f"{'':9}{max(peak, maxrss):9d}"
    )


if __name__ == "__main__":
    main()
