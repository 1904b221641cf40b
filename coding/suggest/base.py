"""The Suggester protocol, the SUGGESTERS registry and helpers shared by every engine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence, Sized
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from coding.model import Codebook, Segment, Suggestion


class Suggester(Protocol):
    """An engine that proposes codes for segments, with evidence. It never writes annotations.

    ``fit`` takes reference labels: ``labels`` has one row per text (same order, index = segment
    ids) and one column per code id, holding 1, 0 or NaN (unknown); ``groups`` gives each
    text's document id, so that no document is ever split across training and test folds.
    ``scores`` returns one row per text and one column per code of the codebook, in [0, 1], NaN
    where the engine has no model for a code (``reasons`` says why). ``thresholds`` gives the
    score from which a code is suggested; ``suggest`` returns the suggestions at or above it.
    """

    name: str

    def fit(self, texts: Sequence[str], labels: pd.DataFrame, groups: Sequence[str]) -> Self: ...

    def scores(self, texts: Sequence[str]) -> pd.DataFrame: ...

    def thresholds(self) -> dict[str, float]: ...

    def reasons(self) -> dict[str, str]: ...

    def suggest(self, segments: Sequence[Segment]) -> list[Suggestion]: ...

    @property
    def model_version(self) -> str: ...


@runtime_checkable
class SharesTexts(Protocol):
    """An engine whose folds share work on one list of texts (cross-fitting, evaluation).

    ``share(texts)`` does once what does not depend on the training rows; ``fit_rows`` and
    ``scores_rows``/``suggest_rows`` then take row numbers into those texts, and give what
    ``fit`` and ``scores``/``suggest`` give on the texts at those rows.
    """

    def share(self, texts: Sequence[str]) -> Any: ...

    def fit_rows(
        self,
        shared: Any,
        rows: Sequence[int] | np.ndarray,
        labels: pd.DataFrame,
        groups: Sequence[str],
    ) -> Self: ...

    def scores_rows(self, shared: Any, rows: Sequence[int] | np.ndarray) -> pd.DataFrame: ...

    def suggest_rows(
        self, shared: Any, rows: Sequence[int] | np.ndarray, segments: Sequence[Segment]
    ) -> list[Suggestion]: ...


class SuggesterFactory(Protocol):
    """Builds an unfitted engine for a codebook; every engine class is one."""

    def __call__(self, codebook: Codebook, *, seed: int = 0) -> Suggester: ...


#: Engine name -> factory. Each engine module adds itself when imported (``coding.suggest`` imports
#: them all): ``SUGGESTERS["rules"] = RulesSuggester``.
SUGGESTERS: dict[str, SuggesterFactory] = {}


def check_training_input(
    texts: Sized, labels: pd.DataFrame, groups: Sized, codebook: Codebook
) -> None:
    """Raise ValueError unless texts (or rows), labels and groups line up and labels are 0/1/NaN
    codes."""
    if not len(texts) == len(labels) == len(groups):
        raise ValueError(
            f"texts ({len(texts)}), labels ({len(labels)}) and groups ({len(groups)}) differ"
        )
    unknown = sorted(set(map(str, labels.columns)) - set(codebook.code_ids))
    if unknown:
        raise ValueError(f"labels have codes that are not in the codebook: {unknown}")
    values = labels.to_numpy(dtype=float)
    known = values[~np.isnan(values)]
    if not np.isin(known, (0.0, 1.0)).all():
        raise ValueError("labels must be 0, 1 or NaN")


def label_matrix(labels: pd.DataFrame, code_ids: Sequence[str]) -> np.ndarray:
    """Labels as a float array with one column per code id (NaN for codes labels lack)."""
    values: np.ndarray = labels.reindex(columns=list(code_ids)).to_numpy(dtype=float)
    return values


def version_string(engine: str, params: Mapping[str, object], *parts: str) -> str:
    """``engine:<hash>``: the hash covers params and the extra parts (library versions, data).

    >>> version_string("rules", {"a": 1}) == version_string("rules", {"a": 1})
    True
    """
    blob = json.dumps(dict(params), sort_keys=True, default=str) + "\x1f" + "\x1f".join(parts)
    return f"{engine}:{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def suggestions_from_scores(
    segments: Sequence[Segment],
    scores: pd.DataFrame,
    thresholds: Mapping[str, float],
    evidence: Callable[[int, str], str],
    engine: str,
    model_version: str,
) -> list[Suggestion]:
    """Suggestions for every (segment, code) scoring at or above the code's threshold.

    ``evidence(row, code_id)`` gives the JSON evidence; it is called only for suggested pairs.
    Output is sorted by (-score, code_id, segment_id): the same input gives the same list.
    """
    out: list[Suggestion] = []
    values = scores.to_numpy(dtype=float)
    for j, code_id in enumerate(map(str, scores.columns)):
        threshold = thresholds.get(code_id)
        if threshold is None:
            continue
        for i in map(int, np.flatnonzero(values[:, j] >= threshold)):
            score = float(np.clip(values[i, j], 0.0, 1.0))
            out.append(
                Suggestion(
                    segment_id=segments[i].id,
                    code_id=code_id,
                    score=round(score, 6),
                    engine=engine,
                    evidence=evidence(i, code_id),
                    model_version=model_version,
                )
            )
    out.sort(key=lambda s: (-s.score, s.code_id, s.segment_id))
    return out
