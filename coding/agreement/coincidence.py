"""Krippendorff's alpha from the coincidence matrix, for any difference function.

Krippendorff (2011, 2019): every unit ``u`` coded by ``m_u >= 2`` coders adds
``(n_uc * n_uk - [c == k] * n_uc) / (m_u - 1)`` to the coincidence ``o_ck``. With marginals
``n_c`` and ``n.. = sum n_c`` (the pairable values),
``Do = sum o_ck d_ck / n..``, ``De = sum n_c n_k d_ck / (n.. (n.. - 1))`` and
``alpha = 1 - Do / De``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from coding.agreement.ratings import FloatArray, Ratings, encode_numbers, from_codes

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
Distance = Callable[[Hashable, Hashable], float]

NO_PAIRABLE = "no unit was coded by two or more coders"
NO_VARIATION = "no variation: every pairable value is the same, so expected disagreement is 0"
ONE_CODER = "fewer than two coders"


@dataclass(frozen=True, slots=True)
class AlphaResult:
    """Alpha with its observed and expected disagreement; ``alpha`` None plus ``reason``."""

    alpha: float | None
    observed: float | None
    expected: float | None
    n_pairable_values: float
    reason: str | None = None


def coincidences(ratings: Ratings) -> FloatArray:
    """The q x q coincidence matrix ``o_ck`` of some ratings (pairable units only).

    >>> from coding.agreement.ratings import from_codes
    >>> r = from_codes(np.array([[0, 0, 1], [0, 1, 1]]), [0, 1], ["a", "b"])
    >>> coincidences(r).tolist()
    [[2.0, 1.0], [1.0, 2.0]]
    """
    m = ratings.coded
    pairable = m >= 2
    counts = ratings.counts[pairable]
    weight = ratings.freq[pairable] / (m[pairable] - 1.0)
    weighted = counts * weight[:, None]
    matrix: FloatArray = weighted.T @ counts
    matrix[np.diag_indices_from(matrix)] -= weighted.sum(axis=0)
    return matrix


def level_distances(
    level: Level, values: Sequence[float] | None, marginals: FloatArray
) -> FloatArray:
    """Squared differences ``delta2_ck`` for a level of measurement.

    ``values`` are the numeric categories (needed for interval and ratio); ``marginals`` are
    the coincidence marginals ``n_c`` (used by Krippendorff's ordinal metric).

    >>> level_distances("interval", [1.0, 3.0], np.array([1.0, 1.0])).tolist()
    [[0.0, 4.0], [4.0, 0.0]]
    """
    q = marginals.shape[0]
    if level == "nominal":
        return 1.0 - np.eye(q)
    if level == "ordinal":
        ordinal: FloatArray = ordinal_distances(marginals[None, :])[0]
        return ordinal
    if values is None:
        raise ValueError(f"{level} level needs numeric category values")
    v = np.asarray(values, dtype=np.float64)
    diff = v[:, None] - v[None, :]
    if level == "interval":
        return np.asarray(diff**2, dtype=np.float64)
    if level == "ratio":
        total = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(total == 0, 0.0, diff / total)
        return np.asarray(ratio**2, dtype=np.float64)
    raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")


def ordinal_distances(marginals: FloatArray) -> FloatArray:
    """Krippendorff's ordinal ``delta2_ck`` for a batch of marginals (B x q -> B x q x q).

    ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`` with the categories in their given order.

    >>> ordinal_distances(np.array([[2.0, 1.0, 3.0]]))[0].tolist()
    [[0.0, 2.25, 12.25], [2.25, 0.0, 4.0], [12.25, 4.0, 0.0]]
    """
    q = marginals.shape[1]
    cum = np.cumsum(marginals, axis=1)
    low = np.minimum.outer(np.arange(q), np.arange(q))
    high = np.maximum.outer(np.arange(q), np.arange(q))
    between = cum[:, high] - cum[:, low] + marginals[:, low]
    pairs = (marginals[:, :, None] + marginals[:, None, :]) / 2.0
    ordinal: FloatArray = (between - pairs) ** 2
    ordinal[:, np.arange(q), np.arange(q)] = 0.0
    return ordinal


def alpha_from_coincidences(matrix: FloatArray, delta: FloatArray) -> AlphaResult:
    """Alpha, Do and De from a coincidence matrix and a difference matrix."""
    marginals = matrix.sum(axis=0)
    n = float(marginals.sum())
    if n < 2:
        return AlphaResult(None, None, None, n, NO_PAIRABLE)
    observed = float((matrix * delta).sum()) / n
    expected = float(marginals @ delta @ marginals) / (n * (n - 1.0))
    if expected <= 0:
        return AlphaResult(None, observed, expected, n, NO_VARIATION)
    return AlphaResult(1.0 - observed / expected, observed, expected, n)


def alpha_for_ratings(
    ratings: Ratings,
    level: Level = "nominal",
    values: Sequence[float] | None = None,
    distance: Distance | FloatArray | None = None,
) -> AlphaResult:
    """Alpha of some ratings with a level of measurement or an explicit difference function.

    ``distance`` is a function of two categories, or a q x q matrix; it overrides ``level``.
    """
    if ratings.n_coders is not None and ratings.n_coders < 2:
        return AlphaResult(None, None, None, 0.0, ONE_CODER)
    matrix = coincidences(ratings)
    if distance is None:
        delta = level_distances(level, values, matrix.sum(axis=0))
    elif callable(distance):
        delta = distance_matrix(ratings.categories, distance)
    else:
        delta = np.asarray(distance, dtype=np.float64)
    return alpha_from_coincidences(matrix, delta)


def krippendorff_alpha(reliability_data: npt.ArrayLike, level: Level = "nominal") -> float | None:
    """Krippendorff's alpha for a coders x units matrix with NaN for missing; None if undefined.

    Gives the same value as ``krippendorff.alpha(reliability_data, level_of_measurement=level)``
    (to rounding), but in linear time for integer codes, and None instead of an error or NaN.

    >>> krippendorff_alpha([[1, 1, 0, 0], [1, 1, 0, 1]])
    0.5333333333333333
    """
    return krippendorff_alpha_result(reliability_data, level).alpha


def krippendorff_alpha_result(
    reliability_data: npt.ArrayLike, level: Level = "nominal"
) -> AlphaResult:
    """Like :func:`krippendorff_alpha` but with Do, De, n.. and the reason when undefined."""
    data = np.asarray(reliability_data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("reliability data must be a coders x units matrix")
    codes, values = encode_numbers(data)
    ratings = from_codes(codes, tuple(values.tolist()), [str(g) for g in range(data.shape[0])])
    return alpha_for_ratings(ratings, level, values.tolist())


def distance_matrix(categories: Sequence[Hashable], distance: Distance) -> FloatArray:
    """The q x q matrix of a distance function over the categories."""
    q = len(categories)
    matrix = np.zeros((q, q))
    for i in range(q):
        for j in range(i + 1, q):
            matrix[i, j] = matrix[j, i] = distance(categories[i], categories[j])
    return matrix


def _as_set(value: Hashable) -> frozenset[Hashable]:
    if isinstance(value, frozenset):
        return value
    raise TypeError(f"set distances need frozenset values, got {value!r}")


def jaccard_distance(a: Hashable, b: Hashable) -> float:
    """``1 - |A & B| / |A | B|``; 0 for two empty sets.

    >>> jaccard_distance(frozenset("AB"), frozenset("BC"))
    0.6666666666666667
    """
    sa, sb = _as_set(a), _as_set(b)
    union = len(sa | sb)
    return 0.0 if union == 0 else 1.0 - len(sa & sb) / union


def masi_distance(a: Hashable, b: Hashable) -> float:
    """Passonneau (2006) MASI: ``1 - J * M`` (M = 1 equal, 2/3 subset, 1/3 overlap, 0 disjoint).

    Two empty sets are equal (distance 0).

    >>> round(masi_distance(frozenset("A"), frozenset("AB")), 6)
    0.666667
    """
    sa, sb = _as_set(a), _as_set(b)
    if sa == sb:
        return 0.0
    if sa <= sb or sb <= sa:
        monotonicity = 2.0 / 3.0
    elif sa & sb:
        monotonicity = 1.0 / 3.0
    else:
        monotonicity = 0.0
    return 1.0 - (1.0 - jaccard_distance(sa, sb)) * monotonicity


def binary_distance(a: Hashable, b: Hashable) -> float:
    """0 when two values are equal, else 1 (nominal)."""
    return 0.0 if a == b else 1.0


DISTANCES: dict[str, Distance] = {
    "binary": binary_distance,
    "jaccard": jaccard_distance,
    "masi": masi_distance,
}
