"""Bootstrap confidence intervals: Krippendorff's algorithm for alpha, unit resampling for kappas.

Alpha (Hayes & Krippendorff 2007; Krippendorff 2006, rev. 2013, as in Stata's ``kalpha``):
keep ``De`` fixed and draw ``M = min(25 * nonzero o_ck, round(n.. (m - 1) / 2))`` pairs of values
from the coincidence matrix, each pair carrying ``delta2_ck / (M De)``; a replicate is
``1 - sum``. Drawing M values from the segments of [0, 1] is a multinomial draw over the
cells, which is what is done here.

Kappa family: an ordinary percentile bootstrap over units. Units of the same type are
exchangeable, so a replicate is a multinomial draw of the type frequencies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from coding.agreement.coincidence import alpha_from_coincidences
from coding.agreement.ratings import FloatArray, Ratings

ALPHA_MINS = (0.9, 0.8, 0.7, 0.667, 0.6, 0.5)
_CHUNK_CELLS = 2_000_000  # replicates x unit types held in memory at once

Statistic = Callable[[Ratings, FloatArray], FloatArray]


@dataclass(frozen=True, slots=True)
class AlphaBootstrap:
    """Krippendorff's bootstrap of alpha: CI, q (probability alpha < alpha_min), draws M."""

    ci_low: float | None
    ci_high: float | None
    q_fail: dict[float, float] = field(default_factory=dict)
    draws: int = 0
    n_pairable_values: float = 0.0
    replicates: int = 0
    reason: str | None = None


def alpha_bootstrap(
    matrix: FloatArray,
    delta: FloatArray,
    n_observers: int,
    replicates: int,
    rng: np.random.Generator,
    level: float = 0.95,
    alpha_mins: tuple[float, ...] = ALPHA_MINS,
) -> AlphaBootstrap:
    """Krippendorff's bootstrap distribution of alpha from a coincidence matrix.

    ``n_observers`` is m in ``M = min(25 * nonzero o_ck, round(n.. (m - 1) / 2))``.
    """
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    point = alpha_from_coincidences(matrix, delta)
    n = point.n_pairable_values
    if point.alpha is None or point.expected is None:
        return AlphaBootstrap(None, None, n_pairable_values=n, reason=point.reason)
    if point.alpha >= 1.0 - 1e-12:
        reason = "alpha is 1: every pairable value agrees, so the bootstrap does not apply"
        return AlphaBootstrap(None, None, n_pairable_values=n, reason=reason)
    draws = int(min(25 * int((matrix > 0).sum()), round(n * (n_observers - 1) / 2.0)))
    draws = max(draws, 1)
    low_i, high_i = np.tril_indices_from(matrix)
    share = np.where(low_i == high_i, 1.0, 2.0) * matrix[low_i, high_i] / n
    carried = delta[low_i, high_i] / (draws * point.expected)
    counts = rng.multinomial(draws, share / share.sum(), size=replicates)
    alphas = np.maximum(1.0 - counts @ carried, -1.0)
    perfect = (counts @ (carried > 0)) == 0
    _correct_perfect(alphas, perfect, np.diag(matrix) / n, draws)
    alphas.sort()
    lower = max(int((1.0 - level) / 2.0 * replicates), 1) - 1
    upper = min(int((1.0 - (1.0 - level) / 2.0) * replicates + 1), replicates) - 1
    q_fail = {a: float((alphas < a).mean()) for a in alpha_mins}
    return AlphaBootstrap(float(alphas[lower]), float(alphas[upper]), q_fail, draws, n, replicates)


def _correct_perfect(
    alphas: FloatArray, perfect: np.ndarray, diagonal_share: FloatArray, draws: int
) -> None:
    """kalpha's step "fourth: correct" for replicates that drew only agreeing pairs."""
    if not perfect.any():
        return
    nonzero_diagonal = int((diagonal_share > 0).sum())
    if nonzero_diagonal == 1:
        alphas[perfect] = 0.0
        return
    expected_perfect = round(alphas.size * float((diagonal_share**draws).sum()))
    where = np.flatnonzero(perfect)
    if expected_perfect >= where.size:
        alphas[where] = 0.0
    else:
        alphas[where[:expected_perfect]] = 0.0


def unit_bootstrap(
    ratings: Ratings,
    statistics: Mapping[str, Statistic],
    replicates: int,
    rng: np.random.Generator,
    level: float = 0.95,
) -> dict[str, tuple[float, float] | None]:
    """Percentile CIs of some statistics, resampling units (multinomial over unit types).

    A statistic's CI is None when it is undefined in every replicate.
    """
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    total = float(ratings.freq.sum())
    if total <= 0:
        return dict.fromkeys(statistics)
    n_units = round(total)
    shares = ratings.freq / total
    chunk = max(1, _CHUNK_CELLS // max(1, shares.size))
    values: dict[str, list[FloatArray]] = {name: [] for name in statistics}
    done = 0
    while done < replicates:
        size = min(chunk, replicates - done)
        freq = rng.multinomial(n_units, shares, size=size).astype(np.float64)
        for name, statistic in statistics.items():
            values[name].append(statistic(ratings, freq))
        done += size
    tail = (1.0 - level) / 2.0
    result: dict[str, tuple[float, float] | None] = {}
    for name, parts in values.items():
        sample = np.concatenate(parts)
        sample = sample[~np.isnan(sample)]
        if sample.size == 0:
            result[name] = None
            continue
        low, high = np.quantile(sample, [tail, 1.0 - tail])
        result[name] = (float(low), float(high))
    return result
