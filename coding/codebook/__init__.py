"""Codebook files (YAML, JSON, CSV) <-> Codebook, reporting every problem with its place.

YAML/JSON shape::

    codebook: {id: imh-mechanisms, name: ..., description: ...}
    codes:
      - id: emotion_regulation
        name: Emotion regulation
        parent: null
        colour: "#1b9e77"
        definition: ...
        inclusion: [...]
        exclusion: [...]
        indicators: [...]
        examples: {typical: [...], borderline: [...]}
        exclusive: true        # format 2, optional: the code's children are mutually exclusive

CSV columns: id,name,parent,colour,definition,inclusion,exclusion,indicators,typical_examples,
borderline_examples and, from format 2, an optional ``exclusive`` column (true/false, yes/no,
1/0 or empty); list cells join items with " | ". Format 1 files (without ``exclusive``) read
unchanged, and a codebook without an exclusive code is written as format 1.

``read`` parses a file into raw entries, ``validate`` checks them and builds the Codebook,
``write`` serialises one and lists the changes between two versions.
"""

from coding.codebook.fields import (
    CODE_FIELDS,
    CSV_COLUMNS,
    LIST_FIELDS,
    LIST_SEPARATOR,
    MAX_DEPTH,
    MULTILINE_CSV_COLUMNS,
)
from coding.codebook.hierarchy import (
    ancestors_of,
    exclusive_groups,
    has_children,
    levels,
    parents_of,
    rollup,
    rollup_columns,
    rollup_rows,
)
from coding.codebook.read import parse_codebook, read_codebook
from coding.codebook.write import codebook_to_data, diff_codebooks, write_codebook

__all__ = [
    "CODE_FIELDS",
    "CSV_COLUMNS",
    "LIST_FIELDS",
    "LIST_SEPARATOR",
    "MAX_DEPTH",
    "MULTILINE_CSV_COLUMNS",
    "ancestors_of",
    "codebook_to_data",
    "diff_codebooks",
    "exclusive_groups",
    "has_children",
    "levels",
    "parents_of",
    "parse_codebook",
    "read_codebook",
    "rollup",
    "rollup_columns",
    "rollup_rows",
    "write_codebook",
]
