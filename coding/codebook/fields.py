"""The fields of a code in each codebook format, named once for reading, writing and diffing."""

from __future__ import annotations

LIST_FIELDS = ("inclusion", "exclusion", "indicators")
# Fields that describe a code (all but its id), in the order files and diffs list them.
DESCRIBED_BY = ("name", "parent", "colour", "definition", *LIST_FIELDS)
CODE_FIELDS = {"id", *DESCRIBED_BY, "color", "examples", "exclusive"}
EXAMPLE_KINDS = ("typical", "borderline")
CSV_COLUMNS = ("id", *DESCRIBED_BY, *(f"{kind}_examples" for kind in EXAMPLE_KINDS))
COMPARED_FIELDS = (*DESCRIBED_BY, "examples", "exclusive")  # what a diff of two versions looks at
# Format 2 adds "exclusive" (a parent whose children are mutually exclusive); a CSV codebook
# has the column only when some code is exclusive, and format 1 files read unchanged.
EXCLUSIVE_COLUMN = "exclusive"
TRUE_CELLS = frozenset(("true", "yes", "1"))
FALSE_CELLS = frozenset(("", "false", "no", "0"))
LIST_SEPARATOR = " | "
MAX_DEPTH = 50  # nesting levels allowed in a YAML codebook (a real one uses four)
# CSV cells that may hold line breaks (inside quotes); the others may not.
MULTILINE_CSV_COLUMNS = frozenset(
    ("definition", *LIST_FIELDS, *(f"{kind}_examples" for kind in EXAMPLE_KINDS))
)
