"""Spreadsheet cells that never run: the one formula rule shared by every CSV and XLSX writer.

A spreadsheet program reads a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (the OWASP CSV-injection rule). Coded text, rationales, titles and
code names come from the study, so any of them may start that way: ``=HYPERLINK(...)`` in a
document must stay text when a reviewer opens the export.
"""

from __future__ import annotations

import csv
import io
import re
from typing import IO

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A string that is only a number ("-0.5", "+3", "-1e-3") runs nothing: a spreadsheet reads it
# as that number, with or without the rule. It is left as it is, so numbers stay numbers.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def formula_like(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula.

    >>> [formula_like(s) for s in ("=1+1", "@SUM(A1)", "\\tx", "-2+3", "-0.5", "a=b")]
    [True, True, True, True, False, False]
    """
    return text.startswith(FORMULA_START) and _NUMBER.fullmatch(text) is None


def neutralise(value: object) -> object:
    """A formula-like string with a leading apostrophe (shown as text, never run); any other
    value unchanged, so numbers stay numbers.

    >>> neutralise('=HYPERLINK("http://x.example")'), neutralise(-0.5), neutralise("-0.5")
    ('\\'=HYPERLINK("http://x.example")', -0.5, '-0.5')
    """
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`neutralise` applied to every cell; only the few formula-like
    strings are touched, so a large table costs one vectorised test per text column.

    >>> neutralised(pd.DataFrame({"t": ["=1", "ok", "-2"], "n": [1, 2, 3]}))["t"].tolist()
    ["'=1", 'ok', '-2']
    """
    out = frame.copy()
    for number in range(frame.shape[1]):
        values = frame.iloc[:, number]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_string_dtype(values) and (
            not pd.api.types.is_object_dtype(values) or by_value(values)
        ):  # text only: one vectorised test, then the rule on the few that start that way
            risky = values.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
        else:
            risky = values.map(lambda v: isinstance(v, str) and formula_like(v)).to_numpy(bool)
        if risky.any():
            column_values = values.astype(object).copy()
            column_values[risky] = [neutralise(v) for v in values[risky]]
            out.isetitem(number, column_values)
    return out


def by_value(column: pd.Series) -> bool:
    """Whether a column's cells may be rendered once per distinct value: numbers, or text
    only (an object column mixing, say, 1 and True must not have them taken for one value).

    >>> by_value(pd.Series(["a", "b", None])), by_value(pd.Series([1, True, "1"]))
    (True, False)
    """
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return True
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
    return False


CHUNK_ROWS = 20_000  # rows turned into text at a time by the streamed writers


def write_csv(frame: pd.DataFrame, stream: IO[bytes], chunk_rows: int = CHUNK_ROWS) -> None:
    """Write ``frame`` as UTF-8 CSV to ``stream`` a chunk of rows at a time: the text of the
    whole file is never held at once. Same bytes as :func:`csv_text`."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([neutralise(c) for c in frame.columns])
    stream.write(header.getvalue().encode("utf-8"))
    for begin in range(0, len(frame), chunk_rows):
        chunk = neutralised(frame.iloc[begin : begin + chunk_rows])
        rows = _rows_by_value(chunk)
        if rows is None:
            rows = chunk.to_csv(
                index=False, header=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC
            )
        stream.write(str(rows).encode("utf-8"))


def _rows_by_value(chunk: pd.DataFrame) -> str | None:
    """The rows as ``to_csv(quoting=QUOTE_NONNUMERIC)`` writes them (text quoted, quotes
    doubled, a missing text as ``""``; whole numbers and booleans bare), each column's cells
    made once per distinct value; None when a column holds anything else (floats, say)."""
    cells = []
    for number in range(chunk.shape[1]):
        column = chunk.iloc[:, number]
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        if column.dtype == np.int64 or column.dtype == np.bool_:
            texts = [str(value) for value in uniques.tolist()]
        elif not pd.api.types.is_numeric_dtype(column.dtype) and by_value(column):
            texts = ['"' + str(value).replace('"', '""') + '"' for value in uniques.tolist()]
        else:
            return None
        cells.append(np.asarray([*texts, '""'], dtype=object)[codes])  # -1 (missing): ""
    if not cells:
        return None
    return "".join(",".join(row) + "\n" for row in zip(*cells, strict=True))


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV (no index, ``\\n`` line ends) with every cell and header neutralised.

    Every string in the rows is quoted (numbers are not), as OWASP advises: a carriage return
    inside a text, which minimal quoting would leave bare, cannot split a row. The header
    line keeps minimal quoting, so it reads as before.

    >>> print(csv_text(pd.DataFrame({"text": ["=1+1", "ok"], "n": [-1, 2]})), end="")
    text,n
    "'=1+1",-1
    "ok",2
    """
    buffer = io.BytesIO()
    write_csv(frame, buffer)
    return buffer.getvalue().decode("utf-8")
