"""Reliability data compressed into unit types: the sufficient statistic for every coefficient.

A *unit type* is one distinct way the coders coded a unit (coder 1 said ``a``, coder 2 said
nothing, ...). Every coefficient in this package is a function of the unit types and how many
units have each type (``freq``), so a million 0/1 units with two coders become at most eight
types. Bootstrapping units is then a multinomial draw over the type frequencies.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MISSING = -1
_BINCOUNT_LIMIT = 1 << 20  # largest key space counted with np.bincount instead of np.unique


@dataclass(frozen=True, eq=False)
class Ratings:
    """Unit types of some reliability data.

    ``counts[t, k]`` is how many coders put a unit of type ``t`` in category ``k``;
    ``freq[t]`` is how many units have type ``t``; ``codes[t, g]`` is the category index that
    coder ``g`` gave (``-1``: not coded), or ``codes`` is None when coder identities are unknown
    (the unit-category-counts layout). Units nobody coded are dropped.
    """

    categories: tuple[Hashable, ...]
    counts: FloatArray
    freq: FloatArray
    codes: IntArray | None = None
    coders: tuple[str, ...] | None = None

    @property
    def q(self) -> int:
        """The number of categories."""
        return len(self.categories)

    @property
    def n_coders(self) -> int | None:
        """The number of coders, or None when coder identities are unknown."""
        return None if self.codes is None else int(self.codes.shape[1])

    @property
    def coded(self) -> FloatArray:
        """Codings per unit type (``m_u``)."""
        return np.asarray(self.counts.sum(axis=1), dtype=np.float64)

    @property
    def n_units(self) -> int:
        """Units coded by at least one coder."""
        return round(float(self.freq.sum()))

    @property
    def n_pairable(self) -> int:
        """Units coded by at least two coders (the units agreement is computed on)."""
        return round(float(self.freq[self.coded >= 2].sum()))

    def with_freq(self, freq: FloatArray) -> Ratings:
        """The same unit types with other frequencies (a bootstrap replicate)."""
        return Ratings(self.categories, self.counts, freq, self.codes, self.coders)


def types_from_codes(codes: IntArray, q: int) -> tuple[IntArray, FloatArray]:
    """Distinct columns of a coders x units code matrix and how often each occurs.

    Columns where every coder is missing are dropped.

    >>> t, f = types_from_codes(np.array([[0, 0, 1, -1], [0, 0, -1, -1]]), 2)
    >>> t.tolist(), f.tolist()
    ([[1, -1], [0, 0]], [1.0, 2.0])
    """
    n_coders, n_units = codes.shape
    base = q + 1
    if n_units == 0 or n_coders == 0:
        return np.zeros((0, n_coders), dtype=np.int64), np.zeros(0)
    if n_coders * math.log2(base) < 62:
        powers = base ** np.arange(n_coders, dtype=np.int64)
        keys = powers @ (codes + 1)
        space = base**n_coders
        if space <= _BINCOUNT_LIMIT:
            tally = np.bincount(keys, minlength=space)
            uniq = np.flatnonzero(tally)
            counts = tally[uniq]
        else:
            uniq, counts = np.unique(keys, return_counts=True)
        digits = (uniq[:, None] // powers[None, :]) % base - 1
        types = digits.astype(np.int64)
    else:
        types, counts = np.unique(codes.T, axis=0, return_counts=True)
        types = types.astype(np.int64)
    keep = (types >= 0).any(axis=1)
    return types[keep], counts[keep].astype(np.float64)


def category_counts(types: IntArray, q: int) -> FloatArray:
    """Per type, how many coders chose each category (``types`` is T x coders)."""
    n_types = types.shape[0]
    counts = np.zeros(n_types * q, dtype=np.float64)
    rows = np.broadcast_to(np.arange(n_types)[:, None], types.shape)
    mask = types >= 0
    np.add.at(counts, rows[mask] * q + types[mask], 1.0)
    return counts.reshape(n_types, q)


def from_codes(codes: IntArray, categories: Sequence[Hashable], coders: Sequence[str]) -> Ratings:
    """Ratings from a coders x units matrix of category indices (``-1`` = not coded)."""
    q = len(categories)
    types, freq = types_from_codes(np.asarray(codes, dtype=np.int64), q)
    return Ratings(tuple(categories), category_counts(types, q), freq, types, tuple(coders))


def from_unit_counts(counts: FloatArray, categories: Sequence[Hashable]) -> Ratings:
    """Ratings from a units x categories table of counts (Fleiss layout; no coder identities)."""
    table = np.asarray(counts, dtype=np.float64)
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] == 0:
        return Ratings(tuple(categories), table.reshape(0, len(categories)), np.zeros(0))
    uniq, freq = np.unique(table, axis=0, return_counts=True)
    return Ratings(tuple(categories), uniq.astype(np.float64), freq.astype(np.float64))


def from_contingency(table: FloatArray, categories: Sequence[Hashable]) -> Ratings:
    """Ratings from a two-coder contingency table (rows: coder 1, columns: coder 2)."""
    cells = np.asarray(table, dtype=np.float64)
    q = len(categories)
    rows, cols = np.nonzero(cells)
    types = np.stack([rows, cols], axis=1).astype(np.int64)
    return Ratings(
        tuple(categories),
        category_counts(types, q),
        cells[rows, cols].astype(np.float64),
        types,
        ("coder1", "coder2"),
    )


def encode_numbers(values: FloatArray) -> tuple[IntArray, FloatArray]:
    """Category indices for a float matrix with NaN for missing, and the sorted distinct values.

    Small integer-valued data (the usual 0/1 codes) is encoded in linear time.

    >>> codes, cats = encode_numbers(np.array([[1.0, np.nan, 3.0], [3.0, 1.0, 1.0]]))
    >>> codes.tolist(), cats.tolist()
    ([[0, -1, 1], [1, 0, 0]], [1.0, 3.0])
    """
    data = np.asarray(values, dtype=np.float64)
    present = ~np.isnan(data)
    observed = data[present]
    codes = np.full(data.shape, MISSING, dtype=np.int64)
    if observed.size == 0:
        return codes, np.zeros(0)
    low, high = float(observed.min()), float(observed.max())
    whole = np.array_equal(observed, np.floor(observed))
    if whole and high - low < _BINCOUNT_LIMIT:
        shifted = (observed - low).astype(np.int64)
        used = np.bincount(shifted) > 0
        lookup = np.cumsum(used) - 1
        codes[present] = lookup[shifted]
        return codes, np.flatnonzero(used).astype(np.float64) + low
    uniq, inverse = np.unique(observed, return_inverse=True)
    codes[present] = inverse.reshape(-1)
    return codes, uniq.astype(np.float64)
