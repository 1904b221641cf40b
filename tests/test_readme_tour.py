"""The README's tour runs as written: every command, in order, prints what the README shows.

The commands and their outputs are read from README.md (section "A tour with real output") by
scripts/readme_tour.py, which also says what is masked (a "..." line for lines left out, and
the file sizes `coding export` lists). When a change alters what the tour prints, regenerate
the README's outputs with `python scripts/readme_tour.py --write` and read the diff.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_tour", ROOT / "scripts/readme_tour.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_tour"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


tour = _script()


def test_the_readme_tour_prints_what_the_readme_shows(tmp_path: Path) -> None:
    steps = tour.tour_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    assert steps[0].command.startswith("coding demo --db demo.db --no-app")  # as `make demo`
    outputs = tour.run_tour(steps, tmp_path)
    problems = tour.differences(steps, outputs)
    assert not problems, (
        "\n\n".join(problems) + "\n\nIf the new output is right: python scripts/readme_tour.py "
        "--write, and read the README's diff."
    )


SAMPLE = """# Title
## A tour with real output
Reach the CLI first.
```
$ coding status study.db \\
    --format table
study            study.db
...
suggestions      0
$ coding export study.db --to exports
      360  exports/audit_log.csv
```
```
not a tour block
```
## Next section
```
$ coding status other.db
```
"""


def test_steps_are_read_with_continuations_and_only_from_the_tour() -> None:
    steps = tour.tour_steps(SAMPLE)
    assert [s.command for s in steps] == [
        "coding status study.db --format table",
        "coding export study.db --to exports",
    ]
    assert steps[0].output == ("study            study.db", "...", "suggestions      0")


def test_elisions_and_masks_are_all_that_is_not_compared() -> None:
    steps = tour.tour_steps(SAMPLE)
    run = [["study            study.db", "codebook v1", "segments 4", "suggestions      0"]]
    run.append(["    1,024  exports/audit_log.csv"])  # another size: masked
    assert tour.differences(steps, run) == []
    run[0][-1] = "suggestions      3"
    run[1] = ["      360  exports/audit_log.xlsx"]  # another file: not masked
    problems = tour.differences(steps, run)
    assert len(problems) == 2 and "+suggestions      3" in problems[0]


def test_write_keeps_the_lines_around_an_elision() -> None:
    steps = tour.tour_steps(SAMPLE)
    run = [
        ["study            s", "a", "b", "c", "suggestions      9"],
        ["        1  exports/x.csv"],
    ]
    rewritten = tour.rewrite(SAMPLE, steps, run)
    assert "study            s\n...\nsuggestions      9\n$ coding export" in rewritten
    assert "        1  exports/x.csv\n```" in rewritten
    assert tour.differences(tour.tour_steps(rewritten), run) == []
