"""Decisions that follow the codebook's structure: one code per exclusive group, parents rolled up.

Plain thresholds decide each code on its own. With the structure, within an exclusive group
only the child with the highest score among those at or above their thresholds is decided;
then every parent is decided where it or any descendant is, with the highest of their scores
(:func:`coding.codebook.rollup_columns`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coding.codebook import exclusive_groups, parents_of, rollup_columns
from coding.model import Codebook


def threshold_decisions(
    values: np.ndarray, code_ids: Sequence[str], thresholds: Mapping[str, float]
) -> np.ndarray:
    """1 where a score reaches its code's threshold, 0 below, NaN without score or threshold."""
    decided = np.full(values.shape, np.nan)
    for j, code_id in enumerate(code_ids):
        if code_id in thresholds:
            column = values[:, j]
            decided[:, j] = np.where(np.isnan(column), np.nan, column >= thresholds[code_id])
    return decided


@dataclass(frozen=True, slots=True)
class Structure:
    """The exclusive groups and parents of a codebook, as column indices."""

    code_ids: tuple[str, ...]
    groups: tuple[tuple[int, ...], ...]  # columns of each exclusive group's children
    parents: dict[str, str | None]

    @classmethod
    def of(cls, codebook: Codebook) -> Structure:
        column = {c: j for j, c in enumerate(codebook.code_ids)}
        groups = tuple(
            tuple(column[c] for c in children) for children in exclusive_groups(codebook).values()
        )
        return cls(codebook.code_ids, groups, parents_of(codebook))

    @property
    def active(self) -> bool:
        """Whether the structure changes anything (a group, or a parent with children)."""
        return bool(self.groups) or any(p is not None for p in self.parents.values())

    def decide(
        self, values: np.ndarray, thresholds: Mapping[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rolled-up scores and 1/0/NaN decisions (units x codes) under the structure.

        >>> from coding.model import Code
        >>> book = Codebook("b", "b", (Code("t", "T", "d", exclusive=True),
        ...     Code("t.a", "A", "d", parent="t"), Code("t.b", "B", "d", parent="t")))
        >>> scores, decided = Structure.of(book).decide(
        ...     np.array([[np.nan, 0.6, 0.9]]), {"t.a": 0.5, "t.b": 0.5})
        >>> scores.tolist(), decided.tolist()
        ([[0.9, 0.6, 0.9]], [[1.0, 0.0, 1.0]])
        """
        decided = threshold_decisions(values, self.code_ids, thresholds)
        for columns in self.groups:
            cols = list(columns)
            eligible = np.where(decided[:, cols] == 1, values[:, cols], -np.inf)
            best = np.argmax(eligible, axis=1)
            chosen = np.isfinite(eligible.max(axis=1))
            for k, column in enumerate(cols):
                keep = chosen & (best == k)
                decided[:, column] = np.where(np.isnan(decided[:, column]), np.nan, keep)
        return (
            rollup_columns(values, self.code_ids, self.parents),
            rollup_columns(decided, self.code_ids, self.parents),
        )

    def rolled_up_from(self, decided: pd.DataFrame) -> dict[str, list[list[str]]]:
        """Per parent and row, the decided children behind the parent's rolled-up decision."""
        out: dict[str, list[list[str]]] = {}
        for code_id, parent in self.parents.items():
            if parent is None:
                continue
            rows = out.setdefault(parent, [[] for _ in range(len(decided))])
            for i in np.flatnonzero(decided[code_id].to_numpy() == 1):
                rows[i].append(code_id)
        return out
