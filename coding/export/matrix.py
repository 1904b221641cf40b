"""The programme x code matrix: its cells, by programme or by attributes, and wide tables.

Cells count segments with a final code; a parent code rolls up, counting each segment where
it or any of its descendants is final once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from coding.codebook.hierarchy import ancestors_of, parents_of
from coding.export.tables import NO_PROGRAMME, location
from coding.model import Codebook

STATUS_RANK = {"agreed": 0, "resolved": 1, "single": 2}
NO_VALUE = "(no value)"
CELL = "\x1f"  # joins a segment's two values into one key while the cells are counted
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
MATRIX_COLUMNS = [
    "programme",
    "code_id",
    "code_name",
    "segments",
    "programme_segments",
    "share",
    "top_excerpts",
]


def matrix(
    coded: pd.DataFrame, segments: pd.DataFrame, codebook: Codebook, top: int = 3
) -> pd.DataFrame:
    """Programme x code cells: segments with the final code, share of the programme's
    segments, and the top excerpts (agreed first, then resolved, then single; in order).
    A parent code rolls up: its cell counts the segments where it or any of its descendants
    is final, each segment once."""
    programmes = segments["programme"].replace("", NO_PROGRAMME)
    totals = programmes.value_counts().to_dict()
    final = coded[coded["final"] == "yes"] if not coded.empty else coded
    final = rolled_up(final, codebook)
    counts: dict[tuple[str, str], int] = {}
    excerpts: dict[tuple[str, str], list[str]] = {}
    if not final.empty:
        counts = final.groupby(["programme", "code_id"])["segment_id"].nunique().to_dict()
        ranked = final.assign(_rank=final["status"].map(STATUS_RANK)).sort_values(
            ["programme", "code_id", "_rank", "document_id", "position"], kind="stable"
        )
        for row in (
            ranked.groupby(["programme", "code_id"], sort=False).head(top).to_dict("records")
        ):
            cell = excerpts.setdefault((row["programme"], row["code_id"]), [])
            cell.append(f"[{location(row)}] {_short(row['text'])}")
    rows = []
    for programme in sorted(totals, key=_row_order):
        for code in codebook.codes:
            count = int(counts.get((programme, code.id), 0))
            total = int(totals[programme])
            rows.append(
                {
                    "programme": programme,
                    "code_id": code.id,
                    "code_name": code.name,
                    "segments": count,
                    "programme_segments": total,
                    "share": round(count / total, 4) if total else None,
                    "top_excerpts": " || ".join(excerpts.get((programme, code.id), [])),
                }
            )
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def rolled_up(final: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Rows of final codes with each row repeated for every ancestor of its code: a
    segment's row for a parent is its best-ranked row under the parent (agreed, resolved,
    single), one per segment and code."""
    lineage = ancestors_of(parents_of(codebook))
    if final.empty or not any(lineage.values()):
        return final
    codes = final["code_id"].map(lambda c: [c, *lineage.get(c, [])])
    ranked = final.assign(code_id=codes, _first=final["status"].map(STATUS_RANK))
    ranked = ranked.explode("code_id").sort_values("_first", kind="stable")
    unique = ranked.drop_duplicates(["segment_id", "code_id"]).drop(columns="_first")
    return unique.sort_index(kind="stable").reset_index(drop=True)


def matrix_by(
    coded: pd.DataFrame,
    segments: pd.DataFrame,
    codebook: Codebook,
    name: str,
    values: Mapping[str, str],
) -> pd.DataFrame:
    """:func:`matrix` with rows by the attribute ``name`` (``values``: segment id -> its
    value) instead of programme; its first columns are ``name`` and ``{name}_segments``."""
    value_of = pd.Series(values, dtype=object)
    coded = coded.assign(programme=coded["segment_id"].map(value_of).fillna(NO_VALUE))
    segments = segments.assign(programme=segments["segment_id"].map(value_of).fillna(NO_VALUE))
    cells = matrix(coded, segments, codebook)
    return cells.rename(columns={"programme": name, "programme_segments": f"{name}_segments"})


def matrix_of_code(
    coded: pd.DataFrame,
    segments: pd.DataFrame,
    codebook: Codebook,
    code_id: str,
    rows: tuple[str, Mapping[str, str]],
    columns: tuple[str, Mapping[str, str]],
) -> pd.DataFrame:
    """One code's cells by the values of two attributes (each: name, segment id -> value):
    segments where the code (or a descendant) is final, out of the ``cell_segments`` with
    both values, their share and top excerpts. Its first columns are the two names."""
    (row_name, row_values), (column_name, column_values) = rows, columns
    code = codebook.code(code_id)
    one = Codebook(codebook.id, codebook.name, (replace(code, parent=None),))
    final = rolled_up(coded[coded["final"] == "yes"] if not coded.empty else coded, codebook)

    def both(frame: pd.DataFrame) -> pd.DataFrame:
        ids = frame["segment_id"]
        first = ids.map(pd.Series(row_values, dtype=object)).fillna(NO_VALUE)
        second = ids.map(pd.Series(column_values, dtype=object)).fillna(NO_VALUE)
        return frame.assign(programme=first + CELL + second)

    cells = matrix(both(final), both(segments), one)
    keys = cells.pop("programme").tolist()
    cells.insert(0, row_name, [key.split(CELL, 1)[0] for key in keys])
    cells.insert(1, column_name, [key.split(CELL, 1)[1] for key in keys])
    return cells.rename(columns={"programme_segments": "cell_segments"})


def value_order(value: str) -> tuple[int, float, str]:
    """Sort key of a row's programme or attribute value: numbers by value, then text, the
    missing value last.

    >>> sorted(["10", "9", "b", NO_VALUE, "a", "-1.5"], key=value_order)
    ['-1.5', '9', '10', 'a', 'b', '(no value)']
    """
    if value == NO_VALUE:
        return (2, 0.0, "")
    if _NUMBER.fullmatch(value):
        return (0, float(value), value)
    return (1, 0.0, value)


def _row_order(key: str) -> tuple[tuple[int, float, str], ...]:
    """Sort key of a matrix row: of its value, or of each of its two values in turn."""
    return tuple(value_order(part) for part in key.split(CELL))


def _short(text: str, width: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def matrix_wide(
    cells: pd.DataFrame, value: str, rows: str | None = None, columns: str = "code_id"
) -> pd.DataFrame:
    """Programmes (or the values of the cells' first column, or of ``rows``) as rows, codes
    (or the values of ``columns``) as columns, each in the cells' order."""
    rows = str(cells.columns[0]) if rows is None else rows
    wide = cells.pivot(index=rows, columns=columns, values=value)
    wide = wide.loc[list(dict.fromkeys(cells[rows])), list(dict.fromkeys(cells[columns]))]
    wide.columns.name = None
    return wide.reset_index()
