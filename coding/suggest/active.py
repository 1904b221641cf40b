"""Active learning: which uncoded segments to code next, with a random holdout kept aside.

Uncertainty sampling alone would make later evaluation biased (the coded segments would all be
borderline ones), so a seeded random share of the pool is held out and returned separately, in
random order: code those too, and evaluate on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer


@dataclass(frozen=True, slots=True)
class ActiveOrder:
    """Segment ids to code next (most useful first), and the random holdout."""

    order: tuple[str, ...]
    holdout: tuple[str, ...]
    uncertainty: Mapping[str, float]


def holdout_draw(segment_id: str, seed: int) -> float:
    """A uniform draw in [0, 1) fixed by seed and segment id, so the holdout stays put as the
    pool changes.

    >>> holdout_draw("s1", 0) == holdout_draw("s1", 0)
    True
    """
    digest = hashlib.sha256(f"{seed}:{segment_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def uncertainty(scores: pd.DataFrame, thresholds: Mapping[str, float]) -> np.ndarray:
    """Per segment, the highest closeness of any code's score to its threshold, in [0, 1].

    1 means a score right at the threshold; 0 means as far from it as a score can be (or no
    code could be scored).

    >>> uncertainty(pd.DataFrame({"x": [0.5, 1.0, 0.0]}), {"x": 0.5}).tolist()
    [1.0, 0.0, 0.0]
    """
    closeness = np.zeros(len(scores))
    for code_id, threshold in thresholds.items():
        if code_id not in scores.columns:
            continue
        column = scores[code_id].to_numpy(dtype=float)
        span = max(threshold, 1.0 - threshold)
        near = 1.0 - np.abs(column - threshold) / span
        closeness = np.fmax(closeness, np.nan_to_num(near, nan=0.0))
    return np.clip(closeness, 0.0, 1.0)


def active_order(
    segment_ids: Sequence[str],
    texts: Sequence[str],
    scores: pd.DataFrame,
    thresholds: Mapping[str, float],
    *,
    holdout: float = 0.1,
    seed: int = 0,
    diversity: float = 0.5,
    batch: int = 100,
) -> ActiveOrder:
    """Order uncoded segments for coding: most uncertain first, near-duplicates pushed back.

    ``scores`` has one row per segment (same order) and one column per code, as returned by an
    engine's ``scores``. A segment is held out when its :func:`holdout_draw` is below
    ``holdout``. The first ``batch`` picks are greedy: uncertainty minus ``diversity`` times the
    highest TF-IDF cosine to a segment already picked; the rest follow by uncertainty. Ties go
    to the smaller segment id, so the order is deterministic.
    """
    if not len(segment_ids) == len(texts) == len(scores):
        raise ValueError("segment_ids, texts and scores must have the same length")
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout share {holdout} outside [0, 1)")
    ids = np.asarray([str(s) for s in segment_ids], dtype=object)
    draws = np.array([holdout_draw(s, seed) for s in ids])
    held = draws < holdout
    closeness = uncertainty(scores, thresholds)
    pool = np.flatnonzero(~held)
    picked = _diverse_first(
        [texts[int(i)] for i in pool], closeness[pool], ids[pool], diversity, min(batch, pool.size)
    )
    order = [*pool[picked]]
    chosen = set(order)
    rest = [i for i in pool if i not in chosen]
    rest.sort(key=lambda i: (-closeness[i], ids[i]))
    held_order = sorted(np.flatnonzero(held), key=lambda i: (draws[i], ids[i]))
    return ActiveOrder(
        order=tuple(str(ids[i]) for i in [*order, *rest]),
        holdout=tuple(str(ids[i]) for i in held_order),
        uncertainty={str(s): float(u) for s, u in zip(ids, closeness, strict=True)},
    )


def _diverse_first(
    texts: list[str], closeness: np.ndarray, ids: np.ndarray, diversity: float, batch: int
) -> list[int]:
    """Greedy picks maximising closeness - diversity x max cosine to earlier picks."""
    if batch == 0:
        return []
    try:
        vectors = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    except ValueError:  # no words at all (empty or punctuation-only texts)
        vectors = None
    most_similar = np.zeros(len(texts))
    available = np.ones(len(texts), dtype=bool)
    tie_break = np.argsort(np.argsort(ids.astype(str)))  # rank of each id
    picked: list[int] = []
    for _ in range(batch):
        gain = np.where(available, closeness - diversity * most_similar, -np.inf)
        best = int(np.lexsort((tie_break, -gain))[0])
        picked.append(best)
        available[best] = False
        if vectors is not None:
            similarity = (vectors @ vectors[best].T).toarray().ravel()
            most_similar = np.maximum(most_similar, similarity)
    return picked
