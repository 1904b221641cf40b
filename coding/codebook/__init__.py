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

CSV columns: id,name,parent,colour,definition,inclusion,exclusion,indicators,typical_examples,
borderline_examples; list cells join items with " | ".

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
from coding.codebook.read import parse_codebook, read_codebook
from coding.codebook.write import codebook_to_data, diff_codebooks, write_codebook

__all__ = [
    "CODE_FIELDS",
    "CSV_COLUMNS",
    "LIST_FIELDS",
    "LIST_SEPARATOR",
    "MAX_DEPTH",
    "MULTILINE_CSV_COLUMNS",
    "codebook_to_data",
    "diff_codebooks",
    "parse_codebook",
    "read_codebook",
    "write_codebook",
]
