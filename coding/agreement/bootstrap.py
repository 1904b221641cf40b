"""Bootstrap confidence intervals for alpha (two methods) and for the kappa family.

Alpha, ``method="krippendorff"`` (Hayes & Krippendorff 2007; Krippendorff 2006, rev. 2013, as
in Stata's ``kalpha``): keep ``De`` fixed and draw ``M = min(25 * nonzero o_ck,
round(n.. (m - 1) / 2))`` pairs of values from the coincidence matrix, each pair carrying
``delta2_ck / (M De)``; a replicate is ``1 - sum``. Drawing M values from the segments of
[0, 1] is a multinomial draw over the cells, which is what is done here. M does not grow with
the number of units beyond ``25 * nonzero cells``, so neither does the precision.

Alpha, ``method="units"``: an ordinary percentile bootstrap that resamples the pairable units
with replacement and recomputes alpha (Do, De and, for the ordinal metric, the distances) on
each replicate. Its interval narrows like ``1 / sqrt(units)``.

Kappa family: an ordinary percentile bootstrap over units. Units of the same type are
exchangeable, so a replicate is a multinomial draw of the type frequencies; this is how the
units method for alpha resamples too (for 0/1 codes and two coders, at most eight types).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from coding.agreement.coincidence import alpha_from_coincidences, coincidences, ordinal_distances
from coding.agreement.ratings import FloatArray, Ratings

ALPHA_MINS = (0.9, 0.8, 0.7, 0.667, 0.6, 0.5)
ALPHA_CI_METHODS = ("units", "krippendorff")
ALPHA_IS_ONE = "alpha is 1: every pairable value agrees, so the bootstrap does not apply"
_CHUNK_CELLS = 2_000_000  # replicates x unit types held in memory at once

Statistic = Callable[[Ratings, FloatArray], FloatArray]


@dataclass(frozen=True, slots=True)
class AlphaBootstrap:
    """A bootstrap of alpha: CI, q (share of replicates with alpha < alpha_min), draws.

    ``draws`` is M (pairs of values per replicate) for ``method="krippendorff"`` and the number
    of pairable units resampled per replicate for ``method="units"``; ``undefined_replicates``
    counts replicates without variation (left out of the percentiles, units method only).
    """

    ci_low: float | None
    ci_high: float | None
    q_fail: dict[float, float] = field(default_factory=dict)
    draws: int = 0
    n_pairable_values: float = 0.0
    replicates: int = 0
    reason: str | None = None
    method: str = "krippendorff"
    undefined_replicates: int = 0


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
        return AlphaBootstrap(None, None, n_pairable_values=n, reason=ALPHA_IS_ONE)
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


def _replicates(
    ratings: Ratings,
    statistics: Mapping[str, Statistic],
    replicates: int,
    rng: np.random.Generator,
) -> dict[str, FloatArray] | None:
    """Each statistic on ``replicates`` resamples of the units (None when there are no units)."""
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    total = float(ratings.freq.sum())
    if total <= 0:
        return None
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
    return {name: np.concatenate(parts) for name, parts in values.items()}


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
    samples = _replicates(ratings, statistics, replicates, rng)
    if samples is None:
        return dict.fromkeys(statistics)
    tail = (1.0 - level) / 2.0
    result: dict[str, tuple[float, float] | None] = {}
    for name, sample in samples.items():
        sample = sample[~np.isnan(sample)]
        if sample.size == 0:
            result[name] = None
            continue
        low, high = np.quantile(sample, [tail, 1.0 - tail])
        result[name] = (float(low), float(high))
    return result


def pairable_units(ratings: Ratings) -> Ratings:
    """The unit types coded by two or more coders (the units alpha is computed on)."""
    keep = ratings.coded >= 2
    codes = None if ratings.codes is None else ratings.codes[keep]
    return Ratings(
        ratings.categories, ratings.counts[keep], ratings.freq[keep], codes, ratings.coders
    )


def alpha_statistic(ratings: Ratings, delta: FloatArray | None) -> Statistic:
    """Alpha as a function of unit-type frequencies (B x T -> B values, NaN if undefined).

    ``delta`` is the q x q difference matrix; None means Krippendorff's ordinal metric, which
    is recomputed from each replicate's marginals. The returned function must be called with
    the same ``ratings``.

    >>> from coding.agreement.ratings import from_codes
    >>> r = from_codes(np.array([[1, 1, 0, 0], [1, 1, 0, 1]]), [0, 1], ["a", "b"])
    >>> alpha_statistic(r, 1.0 - np.eye(2))(r, r.freq[None, :]).round(6).tolist()
    [0.533333]
    """
    m = ratings.coded
    pairable = m >= 2
    counts = ratings.counts * pairable[:, None]
    weight = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=pairable)
    if delta is None:
        q = ratings.q
        per_type = counts[:, :, None] * counts[:, None, :]
        per_type[:, np.arange(q), np.arange(q)] -= counts
        contributions = (per_type * weight[:, None, None]).reshape(-1, q * q)
    else:
        pair_sum = np.einsum("tk,kl,tl->t", counts, delta, counts) - counts @ np.diag(delta)
        disagreement = weight * pair_sum

    def statistic(_: Ratings, freq: FloatArray) -> FloatArray:
        marginals = freq @ counts
        n = marginals.sum(axis=1)
        if delta is None:
            matrix = (freq @ contributions).reshape(freq.shape[0], q, q)
            distances = ordinal_distances(marginals)
            observed = (matrix * distances).sum(axis=(1, 2))
            expected = np.einsum("bk,bkl,bl->b", marginals, distances, marginals)
        else:
            observed = freq @ disagreement
            expected = np.einsum("bk,kl,bl->b", marginals, delta, marginals)
        with np.errstate(divide="ignore", invalid="ignore"):
            do = observed / n
            de = expected / (n * (n - 1.0))
            return np.asarray(np.where((n >= 2) & (de > 0), 1.0 - do / de, np.nan))

    return statistic


def alpha_unit_bootstrap(
    ratings: Ratings,
    delta: FloatArray | None,
    replicates: int,
    rng: np.random.Generator,
    level: float = 0.95,
    alpha_mins: tuple[float, ...] = ALPHA_MINS,
) -> AlphaBootstrap:
    """Percentile bootstrap of alpha resampling the pairable units with replacement.

    ``delta`` as in :func:`alpha_statistic` (None: ordinal metric). Replicates without
    variation (alpha undefined) are left out of the percentiles and counted.
    """
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    matrix = coincidences(ratings)
    marginals = matrix.sum(axis=0)
    point_delta = ordinal_distances(marginals[None, :])[0] if delta is None else delta
    point = alpha_from_coincidences(matrix, point_delta)
    n = point.n_pairable_values
    empty = AlphaBootstrap(None, None, n_pairable_values=n, method="units")
    if point.alpha is None:
        return replace(empty, reason=point.reason)
    if point.alpha >= 1.0 - 1e-12:
        return replace(empty, reason=ALPHA_IS_ONE)
    units = pairable_units(ratings)
    stat = alpha_statistic(units, delta)
    samples = _replicates(units, {"alpha": stat}, replicates, rng)
    sample = np.zeros(0) if samples is None else samples["alpha"]
    defined = np.sort(sample[~np.isnan(sample)])
    if defined.size == 0:
        return replace(empty, reason="alpha is undefined in every replicate")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    q_fail = {a: float((defined < a).mean()) for a in alpha_mins}
    return AlphaBootstrap(
        float(low),
        float(high),
        q_fail,
        units.n_units,
        n,
        replicates,
        method="units",
        undefined_replicates=int(sample.size - defined.size),
    )
