"""Percent agreement and the kappa family, computed from unit types.

Every function takes :class:`~coding.agreement.ratings.Ratings` and a ``freq`` array of shape
``(B, T)`` (B replicates of the type frequencies; ``ratings.freq[None, :]`` for the estimate) and
returns an array of ``B`` values, NaN where the coefficient is undefined. Weighted versions take
a q x q matrix of agreement weights ``w_kl`` (1 on the diagonal). The formulas for more than two
coders and missing values are Gwet's (2014), as in irrCAC:

* ``pa``: mean over units coded by two or more coders of
  ``sum_k r_uk (r*_uk - 1) / (r_u (r_u - 1))``, with ``r*_uk = sum_l w_kl r_ul``;
* ``pi_k``: mean over units coded by anyone of ``r_uk / r_u``;
* each coefficient is ``(pa - pe) / (1 - pe)`` with its own chance agreement ``pe``.
"""

from __future__ import annotations

import numpy as np

from coding.agreement.ratings import FloatArray, Ratings

WEIGHTS = ("linear", "quadratic", "gwet-ordinal")
CHANCE_IS_ONE = "chance agreement is 1 (no variation in the codes), so the coefficient is 0/0"


def weight_matrix(name: str, q: int) -> FloatArray:
    """Agreement weights over q ordered categories.

    ``linear``: ``1 - |k-l|/(q-1)``; ``quadratic``: ``1 - (k-l)^2/(q-1)^2``; ``gwet-ordinal``:
    Gwet's (2014) ordinal weights ``1 - M_kl / max M`` with ``M_kl = C(|k-l| + 1, 2)``.

    >>> weight_matrix("linear", 3).tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    """
    if q < 2:
        return np.eye(q)
    idx = np.arange(q, dtype=np.float64)
    gap = np.abs(idx[:, None] - idx[None, :])
    if name == "linear":
        return 1.0 - gap / (q - 1)
    if name == "quadratic":
        return 1.0 - gap**2 / (q - 1) ** 2
    if name == "gwet-ordinal":
        span = (gap + 1.0) * gap / 2.0
        return np.asarray(1.0 - span / span.max(), dtype=np.float64)
    raise ValueError(f"unknown weights {name!r}; use one of {', '.join(WEIGHTS)}")


def _weights(ratings: Ratings, weights: FloatArray | None) -> FloatArray:
    return np.eye(ratings.q) if weights is None else weights


def _chance_corrected(pa: FloatArray, pe: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pe < 1.0 - 1e-12, (pa - pe) / (1.0 - pe), np.nan)


def percent_agreement(
    ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None
) -> FloatArray:
    """Share of agreeing pairs of codings, averaged over units with two or more codings."""
    counts = ratings.counts
    m = ratings.coded
    pairable = m >= 2
    weighted = counts @ _weights(ratings, weights).T
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.where(pairable, (counts * (weighted - 1.0)).sum(axis=1) / (m * (m - 1)), 0.0)
        return np.asarray((freq @ per_unit) / (freq @ pairable.astype(np.float64)))


def category_shares(ratings: Ratings, freq: FloatArray) -> FloatArray:
    """``pi_k``: mean share of category k among a unit's codings (B x q)."""
    shares = ratings.counts / ratings.coded[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((freq @ shares) / freq.sum(axis=1, keepdims=True))


def fleiss_expected(
    ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None
) -> FloatArray:
    """Fleiss' chance agreement ``sum_kl w_kl pi_k pi_l``."""
    pi = category_shares(ratings, freq)
    return np.asarray(np.einsum("bk,kl,bl->b", pi, _weights(ratings, weights), pi))


def fleiss_kappa(
    ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None
) -> FloatArray:
    """Fleiss (1971) kappa, generalised to missing values and weights (Gwet 2014)."""
    pa = percent_agreement(ratings, freq, weights)
    return _chance_corrected(pa, fleiss_expected(ratings, freq, weights))


def gwet_ac(ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None) -> FloatArray:
    """Gwet's AC1 (no weights) or AC2: ``pe = sum(w) * sum_k pi_k (1 - pi_k) / (q (q - 1))``."""
    q = ratings.q
    if q < 2:
        return np.full(freq.shape[0], np.nan)
    pi = category_shares(ratings, freq)
    pe = _weights(ratings, weights).sum() * (pi * (1.0 - pi)).sum(axis=1) / (q * (q - 1))
    return _chance_corrected(percent_agreement(ratings, freq, weights), pe)


def brennan_prediger(
    ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None
) -> FloatArray:
    """Brennan & Prediger (1981) / Bennett's S / PABAK: ``pe = sum(w) / q^2``."""
    q = ratings.q
    pe = np.full(freq.shape[0], _weights(ratings, weights).sum() / q**2 if q else 1.0)
    return _chance_corrected(percent_agreement(ratings, freq, weights), pe)


def coder_classification(ratings: Ratings, freq: FloatArray) -> FloatArray:
    """How many units each coder put in each category (B x coders x q)."""
    if ratings.codes is None:
        raise ValueError("coder identities are unknown")
    codes = ratings.codes
    onehot = (codes[:, :, None] == np.arange(ratings.q)[None, None, :]).astype(np.float64)
    return np.asarray(np.einsum("bt,tgk->bgk", freq, onehot))


def conger_kappa(
    ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None
) -> FloatArray:
    """Conger (1980) kappa: chance agreement from each coder's own category distribution.

    ``pe = sum_kl w_kl (pbar_k pbar_l - s_kl / r)`` where ``p_gk`` is coder g's share of
    category k, ``pbar`` its mean over the r coders and ``s_kl`` their covariance (Gwet 2014).
    """
    classified = coder_classification(ratings, freq)
    n_coders = classified.shape[1]
    if n_coders < 2:
        return np.full(freq.shape[0], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = classified / classified.sum(axis=2, keepdims=True)
    mean = p.mean(axis=1)
    outer = np.einsum("bk,bl->bkl", mean, mean)
    cov = (np.einsum("bgk,bgl->bkl", p, p) - n_coders * outer) / (n_coders - 1)
    pe = np.einsum("kl,bkl->b", _weights(ratings, weights), outer - cov / n_coders)
    return _chance_corrected(percent_agreement(ratings, freq, weights), pe)


def pair_table(ratings: Ratings, freq: FloatArray) -> FloatArray:
    """Contingency tables (B x q x q) of the units both of exactly two coders coded."""
    if ratings.codes is None or ratings.codes.shape[1] != 2:
        raise ValueError("a contingency table needs exactly two coders")
    q = ratings.q
    first, second = ratings.codes[:, 0], ratings.codes[:, 1]
    both = (first >= 0) & (second >= 0)
    cells = np.zeros((ratings.codes.shape[0], q * q))
    cells[np.flatnonzero(both), first[both] * q + second[both]] = 1.0
    return np.asarray((freq @ cells).reshape(freq.shape[0], q, q))


def _table_pa(tables: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    n = tables.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("kl,bkl->b", weights, tables) / n, n


def cohen_kappa(
    ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None
) -> FloatArray:
    """Cohen (1960) kappa (weighted: Cohen 1968) on the units both coders coded."""
    tables = pair_table(ratings, freq)
    w = _weights(ratings, weights)
    pa, n = _table_pa(tables, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = tables.sum(axis=2) / n[:, None]
        cols = tables.sum(axis=1) / n[:, None]
    pe = np.einsum("bk,kl,bl->b", rows, w, cols)
    return _chance_corrected(pa, pe)


def scott_pi(ratings: Ratings, freq: FloatArray, weights: FloatArray | None = None) -> FloatArray:
    """Scott (1955) pi on the units both coders coded: ``pe`` from the pooled marginals."""
    tables = pair_table(ratings, freq)
    w = _weights(ratings, weights)
    pa, n = _table_pa(tables, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (tables.sum(axis=2) + tables.sum(axis=1)) / (2.0 * n[:, None])
    pe = np.einsum("bk,kl,bl->b", pooled, w, pooled)
    return _chance_corrected(pa, pe)


def fleiss_category_kappa(ratings: Ratings) -> FloatArray:
    """Fleiss' (1971) kappa for each category against all others (q values, NaN if undefined).

    ``kappa_k = 1 - mean_u[r_uk (r_u - r_uk) / (r_u (r_u - 1))] / (pi_k (1 - pi_k))`` over the
    units with two or more codings; with the same number of coders per unit this is Fleiss's
    formula.
    """
    counts, m, freq = ratings.counts, ratings.coded, ratings.freq
    pairable = m >= 2
    if not pairable.any():
        return np.full(ratings.q, np.nan)
    c, mm, f = counts[pairable], m[pairable], freq[pairable]
    disagree = (f @ (c * (mm[:, None] - c) / (mm * (mm - 1))[:, None])) / f.sum()
    pi = category_shares(ratings, freq[None, :])[0]
    spread = pi * (1.0 - pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, 1.0 - disagree / spread, np.nan)
