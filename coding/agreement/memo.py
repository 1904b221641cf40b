"""Rows of agreement tables kept by what they are computed from, for reuse across tables.

A row of a report is a function of its unit types and their frequencies (the sufficient
statistic, :class:`~coding.agreement.ratings.Ratings`), the bootstrap settings and the key
that seeds its random stream; a row pooled over codes also of the flags its set-valued alpha
reads. :class:`RowMemo` keys each row by exactly these, so a table computed again after an
edit recomputes the rows whose data changed and takes the others as they were: the same
numbers a computation from scratch gives, since they are the same computation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import numpy.typing as npt


def fingerprint(*arrays: npt.NDArray[Any]) -> tuple[Hashable, ...]:
    """A key for the contents of some arrays: shapes, dtypes and a digest of the bytes.

    >>> a = np.array([[1, 0], [1, 1]], dtype=np.int8)
    >>> fingerprint(a) == fingerprint(a.copy()), fingerprint(a) == fingerprint(a.T)
    (True, False)
    """
    digest = hashlib.blake2b(digest_size=16)
    shapes = []
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        shapes.append((contiguous.shape, contiguous.dtype.str))
        digest.update(contiguous.tobytes())
    return (tuple(shapes), digest.hexdigest())


class RowMemo:
    """Computed rows by key; :meth:`sweep` forgets those not asked for since the last sweep.

    >>> memo = RowMemo()
    >>> memo.row("k", lambda: {"alpha": 0.5}), memo.row("k", lambda: {"alpha": 0.0})
    ({'alpha': 0.5}, {'alpha': 0.5})
    >>> memo.computed, memo.reused
    (1, 1)
    """

    def __init__(self) -> None:
        self._rows: dict[Hashable, dict[str, Any]] = {}
        self._asked: set[Hashable] = set()
        self.computed = 0
        self.reused = 0

    def row(self, key: Hashable, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The row for ``key``, computed once; a copy, so callers may add to it."""
        self._asked.add(key)
        if key in self._rows:
            self.reused += 1
        else:
            self._rows[key] = compute()
            self.computed += 1
        return dict(self._rows[key])

    def sweep(self) -> None:
        """Keep only the rows asked for since the last sweep."""
        self._rows = {k: v for k, v in self._rows.items() if k in self._asked}
        self._asked = set()

    def __len__(self) -> int:
        return len(self._rows)
