"""JSON exports written as they are made: a table's rows go out a chunk at a time.

The bytes are those of ``json.dumps(document, indent=2, ensure_ascii=False)`` plus a newline,
where every table in ``document`` stands for its records (``DataFrame.to_json`` with
``orient="records"``, read back), but the text of the whole file is never held at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import IO

import numpy as np
import numpy.typing as npt
import pandas as pd

from coding.export.cells import CHUNK_ROWS, by_value

RECORD_INDENT = "    "  # a record is an item of a list that is a value of the top object
FIELD_INDENT = RECORD_INDENT + "  "


def _scalar(value: object) -> str:
    """One JSON value as ``json.dumps`` writes it (``indent=2``, ``ensure_ascii=False``)."""
    if isinstance(value, str):
        return str(encode_basestring(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float) and value == value and value not in (float("inf"), -float("inf")):
        return float.__repr__(value)
    text = json.dumps(value, indent=2, ensure_ascii=False)  # lists, objects, NaN, infinities
    return text.replace("\n", "\n" + FIELD_INDENT)


def _record(record: dict[str, object], keys: dict[str, str]) -> str:
    if not record:
        return "{}"
    fields = ",\n".join(
        f"{keys.get(k) or FIELD_INDENT + _scalar(k) + ': '}{_scalar(v)}" for k, v in record.items()
    )
    return "{\n" + fields + "\n" + RECORD_INDENT + "}"


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows of ``frame`` as JSON-ready dicts (numbers, text, null for missing)."""
    return list(json.loads(frame.to_json(orient="records", force_ascii=False)))


def _column_texts(column: pd.Series) -> npt.NDArray[np.object_]:
    """Each value of a column as JSON text: what :func:`_scalar` writes for the value
    :func:`records` gives. Text and numbers are converted once per distinct value."""
    if by_value(column):
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        distinct = pd.Series(uniques, dtype=column.dtype)
        loaded = json.loads(distinct.to_json(orient="values", force_ascii=False))
        texts: npt.NDArray[np.object_] = np.asarray([*map(_scalar, loaded), "null"], dtype=object)
        return np.asarray(texts[codes], dtype=object)  # -1 (missing) takes the last: null
    values = json.loads(column.to_json(orient="values", force_ascii=False))
    return np.asarray([_scalar(v) for v in values], dtype=object)


def _write_rows(frame: pd.DataFrame, stream: IO[bytes], chunk_rows: int) -> None:
    if frame.empty:
        stream.write(b"[]")
        return
    keys = [f"{FIELD_INDENT}{_scalar(str(c))}: " for c in frame.columns]
    opening, closing = f"\n{RECORD_INDENT}{{\n", f"\n{RECORD_INDENT}}}"
    stream.write(b"[")
    for begin in range(0, len(frame), chunk_rows):
        chunk = frame.iloc[begin : begin + chunk_rows]
        fields = [key + _column_texts(chunk.iloc[:, n]) for n, key in enumerate(keys)]
        text = ",".join(opening + ",\n".join(row) + closing for row in zip(*fields, strict=True))
        stream.write((("," if begin else "") + text).encode("utf-8"))
    stream.write(b"\n  ]")


def write_json(
    fields: Sequence[tuple[str, object]], stream: IO[bytes], chunk_rows: int = CHUNK_ROWS
) -> None:
    """Write a JSON object of ``fields`` (in order) to ``stream``; a DataFrame value is
    written as a list of its records, a chunk of rows at a time."""
    if not fields:
        stream.write(b"{}\n")
        return
    for number, (key, value) in enumerate(fields):
        lead = "{\n  " if number == 0 else ",\n  "
        stream.write(f"{lead}{_scalar(key)}: ".encode())
        if isinstance(value, pd.DataFrame):
            _write_rows(value, stream, chunk_rows)
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            stream.write(text.encode("utf-8"))
    stream.write(b"\n}\n")
