"""Run the README's tour and check, or rewrite, every output it shows.

    python scripts/readme_tour.py            # check: exit 1 with a diff where the README drifted
    python scripts/readme_tour.py --write    # rewrite the tour's outputs in README.md from a run

The tour is the README section "A tour with real output". Every ``` block in it whose first
line starts with "$ " is a run of commands: each "$ " line is a command (a trailing "\\"
continues it on the next line) and the lines after it, up to the next "$ " line, are what it
prints (stdout and stderr together, as a terminal shows them). The commands run in order in a
fresh, empty directory, with the repository's data folders (DATA_DIRS) linked in so that
repository-relative paths work, just as from the root of a clone after `make demo`.
`coding ...` runs in this process (the same click command as .venv/bin/coding, without its
start-up time); any other command runs in a shell with .venv/bin on the PATH.

What may differ between runs is masked before comparing, and nothing else:
- a line "..." in the README stands for output lines left out; the lines before and after it
  are compared exactly, and --write keeps as many lines on either side;
- the patterns in MASKS below, each with its reason: today only the sizes `coding export`
  lists (the files hold the time of each event and decision, the name of the user who ran the
  commands, and zip archives compress those differently), not the names of the files.
  The tour prints no timings, dates, absolute paths or random ids; should that change, a row
  of MASKS with its reason is the place for it.
Trailing blanks are not compared (Markdown does not show them).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SECTION = "## A tour with real output"
DATA_DIRS = ("codebooks", "corpus", "docs", "tests")  # linked into the tour's directory
ELISION = "..."
PROMPT = "$ "
SHELL_SYNTAX = frozenset({"|", ">", ">>", "<", "&&", "||", ";", "&"})
# (pattern, replacement, why it varies): applied to the README's lines and the run's alike.
MASKS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"^ *[0-9,]+  (exports/\S+)$"),
        r"<size>  \1",
        "export sizes depend on times, the user's name and zip compression",
    ),
)


@dataclass(frozen=True)
class Step:
    """One command of the tour and the output the README shows for it."""

    command: str  # as typed, continuation lines joined
    output: tuple[str, ...]  # the README's lines after the command
    start: int  # index in the README's lines of the first output line
    end: int  # index just past the last output line


def tour_steps(text: str) -> list[Step]:
    """The tour's commands in order, each with the output the README shows for it."""
    lines = text.split("\n")
    try:
        begin = lines.index(SECTION)
    except ValueError:
        raise SystemExit(f"README has no section {SECTION!r}") from None
    finish = next(
        (i for i in range(begin + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
    )
    steps: list[Step] = []
    i = begin + 1
    while i < finish:
        if lines[i].startswith("```") and i + 1 < finish and lines[i + 1].startswith(PROMPT):
            close = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            steps += _block_steps(lines, i + 1, close)
            i = close
        i += 1
    if not steps:
        raise SystemExit(f"no '$ ' blocks in the README section {SECTION!r}")
    return steps


def _block_steps(lines: list[str], first: int, close: int) -> list[Step]:
    steps = []
    i = first
    while i < close:
        command = lines[i][len(PROMPT) :]
        while command.endswith("\\"):
            i += 1
            command = command[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        start = i
        while i < close and not lines[i].startswith(PROMPT):
            i += 1
        output = tuple(lines[start:i])
        if output.count(ELISION) > 1:
            raise SystemExit(f"{command!r}: only one {ELISION!r} line per command's output")
        steps.append(Step(command, output, start, i))
    return steps


def run_tour(steps: Sequence[Step], directory: Path) -> list[list[str]]:
    """Run every step in order in ``directory``; each step's output lines."""
    for name in DATA_DIRS:
        link = directory / name
        if not link.exists():
            link.symlink_to(ROOT / name, target_is_directory=True)
    with contextlib.chdir(directory):
        return [_run(step.command, directory) for step in steps]


def _run(command: str, directory: Path) -> list[str]:
    args = shlex.split(command)
    if args and args[0] == "coding" and not SHELL_SYNTAX & set(args):
        from click.testing import CliRunner

        from coding.cli import cli

        result = CliRunner().invoke(cli, args[1:], prog_name="coding")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise RuntimeError(f"{command!r} crashed:\n{result.output}") from result.exception
        output = result.output
    else:
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        output = subprocess.run(
            command,
            shell=True,
            cwd=directory,
            env={**os.environ, "PATH": path},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        ).stdout
    return [line.rstrip() for line in output.rstrip("\n").split("\n")] if output else []


def _masked(lines: Sequence[str]) -> list[str]:
    out = []
    for line in lines:
        line = line.rstrip()
        for pattern, replacement, _why in MASKS:
            line = pattern.sub(replacement, line)
        out.append(line)
    return out


def _shown(step: Step, actual: Sequence[str]) -> list[str]:
    """What the README should show for ``actual``: all of it, or the same head and tail
    around the README's "..." line."""
    if ELISION not in step.output:
        return list(actual)
    cut = step.output.index(ELISION)
    tail = len(step.output) - cut - 1
    if len(actual) <= cut + tail:
        return list(actual)  # nothing left to leave out
    return [*actual[:cut], ELISION, *actual[len(actual) - tail :]]


def differences(steps: Sequence[Step], outputs: Sequence[Sequence[str]]) -> list[str]:
    """A unified diff per step whose README output is not what the run printed."""
    problems = []
    for step, actual in zip(steps, outputs, strict=True):
        expected = _masked(step.output)
        got = _masked(_shown(step, actual))
        if expected != got:
            diff = difflib.unified_diff(expected, got, "README.md", "this run", lineterm="", n=1)
            problems.append(f"$ {step.command}\n" + "\n".join(diff))
    return problems


def rewrite(text: str, steps: Sequence[Step], outputs: Sequence[Sequence[str]]) -> str:
    """The README with every step's output replaced by what the run printed."""
    lines = text.split("\n")
    for step, actual in sorted(
        zip(steps, outputs, strict=True), key=lambda pair: pair[0].start, reverse=True
    ):
        lines[step.start : step.end] = _shown(step, actual)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md's outputs")
    parser.add_argument("--readme", type=Path, default=README)
    options = parser.parse_args(argv)
    text = options.readme.read_text(encoding="utf-8")
    steps = tour_steps(text)
    with tempfile.TemporaryDirectory(prefix="readme-tour-") as directory:
        outputs = run_tour(steps, Path(directory))
    if options.write:
        options.readme.write_text(rewrite(text, steps, outputs), encoding="utf-8")
        print(f"rewrote the output of {len(steps)} commands in {options.readme}")
        return 0
    problems = differences(steps, outputs)
    for problem in problems:
        print(problem, end="\n\n")
    print(
        f"{len(steps) - len(problems)}/{len(steps)} commands print what the README shows"
        + ("" if not problems else "; to take this run's output: scripts/readme_tour.py --write")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    raise SystemExit(main())
