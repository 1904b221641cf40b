"""Rows of several tables as integer keys, for lookups between large export tables.

Segment ids, coders and codes are text; turning each key column into integer codes (one
``factorize`` over every table at once) and each row's key tuple into one number makes
"is this (segment, coder) completed?" an integer lookup, with no Python object per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

Keys = npt.NDArray[np.int64]


def factorized(*columns: pd.Series) -> tuple[list[Keys], pd.Index]:
    """Integer codes of the values of several columns, one code per distinct value across
    them all (missing values get -1), and the distinct values.

    >>> codes, values = factorized(pd.Series(["b", "a"]), pd.Series(["a", "c"]))
    >>> [c.tolist() for c in codes], values.tolist()
    ([[0, 1], [1, 2]], ['b', 'a', 'c'])
    """
    joined = pd.concat([c.reset_index(drop=True) for c in columns], ignore_index=True)
    codes, values = pd.factorize(joined)
    ends = np.cumsum([len(c) for c in columns])[:-1]
    return [np.asarray(part, dtype=np.int64) for part in np.split(codes, ends)], pd.Index(values)


def tuple_keys(*tables: Sequence[pd.Series]) -> list[Keys]:
    """Each table's rows, given as its key columns (as many for every table), as numbers:
    two rows get the same number exactly when their key tuples are equal.

    >>> left = [pd.Series(["s1", "s1"]), pd.Series(["ann", "ben"])]
    >>> right = [pd.Series(["s1"]), pd.Series(["ben"])]
    >>> a, b = tuple_keys(left, right)
    >>> (a == b[0]).tolist()
    [False, True]
    """
    keys = [np.zeros(len(table[0]) if len(table) else 0, np.int64) for table in tables]
    for position in range(len(tables[0])):
        codes, values = factorized(*(table[position] for table in tables))
        width = len(values) + 1  # + 1: a missing value's -1 becomes a code of its own
        keys = [key * width + code + 1 for key, code in zip(keys, codes, strict=True)]
    return keys


def joined_by_group(
    groups: Keys, texts: pd.Series, order: npt.NDArray[np.int64]
) -> tuple[Keys, list[str]]:
    """``"; ".join`` of the texts of each group, taken in ``order`` (row positions): the
    groups' keys (sorted) and their joined texts.

    >>> joined_by_group(np.array([7, 3, 7]), pd.Series(["x", "y", "z"]), np.array([2, 0, 1]))
    (array([3, 7]), ['y', 'z; x'])
    """
    if not len(order):
        return np.zeros(0, np.int64), []
    order = order[np.argsort(groups[order], kind="stable")]
    ordered = np.asarray(texts.to_numpy(dtype=object)[order], dtype=object).tolist()
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    ends = [*starts[1:].tolist(), len(ordered)]
    joined = ["; ".join(ordered[a:b]) for a, b in zip(starts.tolist(), ends, strict=True)]
    return np.asarray(sorted_groups[starts], dtype=np.int64), joined
