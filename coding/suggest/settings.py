"""The supervised engine's settings, and what it computes once per list of texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coding.suggest.context import Neighbourhood, UnitContext, pooled
from coding.suggest.features import NgramCounts
from coding.suggest.rules import Hit

DEFAULT_CONTEXT = 1  # neighbouring units on each side (chosen by measurement, docs/suggestions.md)
# Past this many reference units a model is fitted on a seeded random sample of them, so that
# fitting costs the same at any study size (the learning curve is flat well before it:
# benchmarks/suggest_sample.py, docs/suggestions.md).
MAX_TRAINING = 20_000


@dataclass(frozen=True, slots=True)
class SupervisedParams:
    """Settings of the supervised engine; all of them go into its model_version."""

    seed: int = 0
    folds: int = 3  # grouped folds for calibration and thresholds (fewer if too few documents)
    min_positives: int = 5  # fewer positive (or negative) segments: no model for the code
    c: float = 2.0  # inverse regularisation strength of the logistic regression
    min_df: int = 2  # n-grams must occur in this many training segments
    max_features: int | None = 200_000  # word n-grams kept (most frequent)
    neighbours: int = 3  # nearest reference segments in the evidence
    terms: int = 5  # top contributing terms in the evidence
    chars: bool = True  # char_wb n-grams of the unit's own text
    context: int = DEFAULT_CONTEXT  # neighbouring units on each side whose words are features
    context_weight: float = 0.5  # scale of the neighbour and heading features (own text: 1)
    heading: bool = True  # the words of the section heading path
    attributes: bool = True  # the unit's categorical attributes, one-hot
    structure: bool = True  # exclusive groups as one problem, parents rolled up
    max_training: int | None = MAX_TRAINING  # reference units a model is fitted on (None: all)

    def describe(self) -> str:
        """What the engine's models look at, in words."""
        parts = ["word" + (" and character" if self.chars else "") + " n-grams (TF-IDF)"]
        parts.append("codebook indicator rule scores")
        if self.context:
            parts.append(f"words of {self.context} neighbouring unit(s) on each side")
        if self.heading:
            parts.append("section heading")
        if self.attributes:
            parts.append("unit attributes")
        if self.structure:
            parts.append("codebook structure (exclusive groups, parent roll-up)")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class SharedTexts:
    """Rule hits and n-gram counts of a fixed list of texts, computed once for every fold.

    ``counts`` covers every distinct text among the units and their neighbours (the pool);
    ``own`` gives each unit's row of the pool.
    """

    texts: list[str]
    hits: list[list[Hit]]
    rules: np.ndarray  # rule score per text and code, as features (float32, NaN as 0)
    counts: NgramCounts
    own: np.ndarray
    near: Neighbourhood

    def __len__(self) -> int:
        return len(self.texts)


def neighbourhood(
    texts: list[str], units: Sequence[UnitContext] | None, params: SupervisedParams
) -> tuple[list[str], np.ndarray, Neighbourhood]:
    """The pool of distinct texts, each unit's row in it, and the units' surroundings."""
    if units is not None and len(units) != len(texts):
        raise ValueError(f"texts ({len(texts)}) and unit contexts ({len(units)}) differ")
    pool_texts, pool = pooled(texts, units if params.context else None)
    own = np.asarray([pool[t] for t in texts], dtype=np.int64)
    contexts = list(units) if units is not None else [UnitContext()] * len(texts)
    return pool_texts, own, Neighbourhood.of(contexts, pool, params.context)


def training_sample(n: int, cap: int | None, seed: int) -> np.ndarray | None:
    """Positions of the ``cap`` rows (of ``n``) a model is fitted on, in order; None for all.

    A uniform random sample without replacement, the same for the same ``n``, ``cap`` and
    ``seed``.

    >>> training_sample(5, 3, 0).tolist(), training_sample(5, 5, 0)
    ([2, 3, 4], None)
    """
    if not cap or n <= cap:
        return None
    picked: np.ndarray = np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))
    return picked
