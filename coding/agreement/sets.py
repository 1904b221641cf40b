"""Krippendorff's alpha with each unit's *set* of codes as the value (MASI or Jaccard distance).

The value a coder gives a unit is the set of codes the coder applied to it; a coder who
completed a unit without applying any code gives the empty set. Alpha is computed over the
units with two or more values, with Passonneau's (2006) MASI distance or the Jaccard distance
(two empty sets: distance 0). This module works on boolean arrays and never builds a per-unit
Python object, so 100,000 segments x a codebook take milliseconds:

* the distinct sets are found by keying each value's code flags as an integer bit mask
  (packed bytes for codebooks of more than 62 codes);
* ``Do`` sums the distance of every pair of values within a unit, over the distinct pairs;
* ``De = sum_ck n_c n_k delta_ck / (n.. (n.. - 1))`` is accumulated in blocks of categories,
  so the q x q distance matrix is never held at once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from coding.agreement.coincidence import NO_PAIRABLE, NO_VARIATION, ONE_CODER, AlphaResult
from coding.agreement.ratings import FloatArray, IntArray

BoolArray = npt.NDArray[np.bool_]
SET_DISTANCES = ("masi", "jaccard")

_BLOCK_CELLS = 250_000  # category pairs held in memory at once for De (~2 MB per array)
_BINCOUNT_LIMIT = 1 << 22  # largest key space counted with np.bincount instead of np.unique
_MAX_BITS = 62  # codebooks up to this size key each set by an int64 bit mask
_TABLE_LIMIT = 1 << 20  # most (|A & B|, |A|, |B|) triples tabulated (exact in float32)


def set_distances(
    inter: FloatArray, size_a: FloatArray, size_b: FloatArray, names: Sequence[str] = SET_DISTANCES
) -> dict[str, FloatArray]:
    """MASI and Jaccard distances of sets given ``|A & B|``, ``|A|`` and ``|B|`` (broadcast).

    Jaccard is ``1 - |A & B| / |A | B|``; Passonneau's MASI is ``1 - J * M`` with M = 1 for
    equal sets, 2/3 when one is a subset of the other, 1/3 when they overlap, else 0. Two empty
    sets have distance 0.

    >>> d = set_distances(np.array([1.0, 1.0, 0.0]), np.array([1.0, 2.0, 0.0]), np.array([2.0]))
    >>> d["masi"].round(6).tolist(), d["jaccard"].round(6).tolist()
    ([0.666667, 0.888889, 1.0], [0.5, 0.666667, 1.0])
    """
    union = size_a + size_b - inter
    jaccard = np.where(union > 0, 1.0 - inter / np.maximum(union, 1.0), 0.0)
    result: dict[str, FloatArray] = {}
    for name in names:
        if name == "jaccard":
            result[name] = jaccard
        elif name == "masi":
            first_inside, second_inside = inter == size_a, inter == size_b
            monotonicity = np.where(
                first_inside | second_inside, 2.0 / 3.0, np.where(inter > 0, 1.0 / 3.0, 0.0)
            )
            masi = 1.0 - (1.0 - jaccard) * monotonicity
            result[name] = np.where(first_inside & second_inside, 0.0, masi)
        else:
            raise ValueError(f"unknown set distance {name!r}; use one of {list(SET_DISTANCES)}")
    return result


def distinct_sets(applied: BoolArray, valued: BoolArray) -> tuple[IntArray, BoolArray]:
    """Category indices of the sets and the sets' members.

    ``applied`` is codes x coders x units (True: the coder applied the code to the unit);
    ``valued`` is coders x units (True: the coder gave the unit a value). Returns a coders x
    units array of set indices (-1 where not valued) and a q x codes membership matrix.

    >>> applied = np.array([[[1, 1, 0]], [[0, 1, 0]]], dtype=bool)  # 2 codes, 1 coder, 3 units
    >>> values, members = distinct_sets(applied, np.array([[True, True, True]]))
    >>> values.tolist(), members.astype(int).tolist()
    ([[1, 2, 0]], [[0, 0], [1, 0], [1, 1]])
    """
    n_codes = applied.shape[0]
    values = np.full(valued.shape, -1, dtype=np.int64)
    if n_codes <= _MAX_BITS:
        bits = np.left_shift(1, np.arange(n_codes, dtype=np.int64))
        keys = np.tensordot(bits, applied, axes=(0, 0))[valued]
        uniq, inverse = _unique(keys, 1 << n_codes)
        members = (uniq[:, None] & bits[None, :]) > 0
    else:
        packed = np.packbits(applied.transpose(1, 2, 0)[valued], axis=1)
        uniq_packed, inverse = np.unique(packed, axis=0, return_inverse=True)
        members = np.unpackbits(uniq_packed, axis=1, count=n_codes).astype(bool)
    values[valued] = inverse.reshape(-1)
    return values, members


def set_alpha(
    applied: BoolArray,
    valued: BoolArray,
    distances: Sequence[str] = ("masi", "jaccard"),
) -> dict[str, AlphaResult]:
    """Alpha with the set of codes as each unit's value, for each named set distance.

    ``applied`` (codes x coders x units) and ``valued`` (coders x units) as in
    :func:`distinct_sets`. Units with fewer than two values are not pairable.

    >>> applied = np.array([[[1, 1, 0, 1], [1, 0, 0, 1]]], dtype=bool)  # 1 code, 2 coders
    >>> round(set_alpha(applied, np.ones((2, 4), dtype=bool))["jaccard"].alpha, 6)
    0.533333
    """
    unknown = [d for d in distances if d not in SET_DISTANCES]
    if unknown:
        raise ValueError(f"unknown set distance {unknown[0]!r}; use one of {list(SET_DISTANCES)}")
    n_coders = valued.shape[0]
    pairable = valued.sum(axis=0) >= 2
    if n_coders < 2 or not pairable.any():
        reason = ONE_CODER if n_coders < 2 else NO_PAIRABLE
        return {d: AlphaResult(None, None, None, 0.0, reason) for d in distances}
    values, members = distinct_sets(applied[:, :, pairable], valued[:, pairable])
    q = members.shape[0]
    sizes = members.sum(axis=1).astype(np.float64)
    marginals = np.bincount(values[values >= 0], minlength=q).astype(np.float64)
    n = float(marginals.sum())
    pairs, pair_weight = _value_pairs(values, q)
    first, second = pairs // q, pairs % q
    inter = (members[first] & members[second]).sum(axis=1).astype(np.float64)
    within = set_distances(inter, sizes[first], sizes[second], distances)
    expected_sums = _expected_sums(members, sizes, marginals, distances)
    results = {}
    for name in distances:
        observed = float(pair_weight @ within[name]) / n
        expected = expected_sums[name] / (n * (n - 1.0))
        if expected <= 0:
            results[name] = AlphaResult(None, observed, expected, n, NO_VARIATION)
        else:
            results[name] = AlphaResult(1.0 - observed / expected, observed, expected, n)
    return results


def _value_pairs(values: IntArray, q: int) -> tuple[IntArray, FloatArray]:
    """Distinct ordered pairs of values within units (``c * q + k``) and their coincidences."""
    weight = 1.0 / ((values >= 0).sum(axis=0) - 1.0)
    keys: list[IntArray] = []
    weights: list[FloatArray] = []
    for g in range(values.shape[0]):
        for h in range(g + 1, values.shape[0]):
            both = (values[g] >= 0) & (values[h] >= 0)
            keys.append(values[g, both] * q + values[h, both])
            weights.append(weight[both])
    pairs, inverse = _unique(np.concatenate(keys), q * q)
    # each unordered pair of coders stands for both orders; delta is symmetric
    totals = 2.0 * np.bincount(inverse.reshape(-1), weights=np.concatenate(weights)).astype(
        np.float64
    )
    return pairs.astype(np.int64), totals


def _unique(keys: IntArray, space: int) -> tuple[IntArray, IntArray]:
    """Sorted distinct keys in ``[0, space)`` and each key's index; linear for a small space."""
    if space > _BINCOUNT_LIMIT:
        uniq, inverse = np.unique(keys, return_inverse=True)
        return uniq.astype(np.int64), inverse.reshape(-1).astype(np.int64)
    seen = np.bincount(keys, minlength=space) > 0
    uniq = np.flatnonzero(seen).astype(np.int64)
    lookup = np.cumsum(seen) - 1
    return uniq, lookup[keys].astype(np.int64)


def _expected_sums(
    members: BoolArray,
    sizes: FloatArray,
    marginals: FloatArray,
    names: Sequence[str],
    tabulate: bool = True,
) -> dict[str, float]:
    """``sum_ck n_c n_k delta_ck`` over every pair of observed sets, in blocks of rows.

    A distance depends only on ``|A & B|``, ``|A|`` and ``|B|``; for codebooks up to about a
    hundred codes each is looked up in a table of every such triple (``tabulate``), which
    gives the very numbers :func:`set_distances` computes pair by pair, in a fraction of the
    time."""
    as_float = members.astype(np.float64)
    q, n_codes = members.shape
    table = _distance_table(n_codes, tuple(names)) if tabulate else None
    side = n_codes + 1
    # the table's cell of each pair, (inter * side + a) * side + b, in exact small floats:
    # the rows scaled by side^2 before the product, the sizes added after it
    scaled = (members * float(side * side)).astype(np.float32)
    codes = members.astype(np.float32)
    first, second = (sizes * side).astype(np.float32), sizes.astype(np.float32)
    block = max(1, _BLOCK_CELLS // max(1, q))
    totals = dict.fromkeys(names, 0.0)
    for start in range(0, q, block):
        rows = slice(start, min(q, start + block))
        if table is None:
            inter = as_float[rows] @ as_float.T
            deltas = set_distances(inter, sizes[rows, None], sizes[None, :], names)
        else:
            cell = scaled[rows] @ codes.T
            cell += first[rows, None]
            cell += second[None, :]
            index = cell.astype(np.int32)
            deltas = {name: table[name].take(index) for name in names}
        for name, delta in deltas.items():
            totals[name] += float(marginals[rows] @ delta @ marginals)
    return totals


@functools.lru_cache(maxsize=8)
def _distance_table(n_codes: int, names: tuple[str, ...]) -> dict[str, FloatArray] | None:
    """Each set distance for every ``(|A & B|, |A|, |B|)`` of sets of up to ``n_codes``
    codes, at ``(inter * (n + 1) + a) * (n + 1) + b``; None when the table would be large."""
    side = n_codes + 1
    if side**3 > _TABLE_LIMIT:
        return None
    inter, size_a, size_b = (
        g.ravel().astype(np.float64) for g in np.indices((side, side, side), dtype=np.int64)
    )
    return set_distances(inter, size_a, size_b, names)
