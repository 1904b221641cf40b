"""The engine of a suggestion run fitted and applied on a study's units, and its settings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from coding.model import Segment, Suggestion
from coding.service.suggest_context import contexts
from coding.store import Store

if TYPE_CHECKING:
    from coding.suggest.base import Suggester

MAX_CONTEXT = 5  # the widest window of neighbouring units (coding.suggest.context.MAX_WINDOW)


class Models:
    """Fits and applies one engine on a study's units. Engines that share texts (supervised,
    auto) count the n-grams and rule hits of every unit once, for all their models."""

    def __init__(
        self,
        store: Store,
        engine: str,
        seed: int,
        segments: list[Segment],
        labels: pd.DataFrame,
        params: Any = None,
    ) -> None:
        from coding.suggest import SUGGESTERS, SharesTexts, SupervisedSuggester

        codebook = store.codebook().codebook
        params = engine_params(seed, None) if params is None else params
        factory = SUGGESTERS[engine]
        self.make: Callable[[], Suggester] = functools.partial(factory, codebook, seed=seed)
        if isinstance(factory, type) and issubclass(factory, SupervisedSuggester):
            self.make = functools.partial(factory, codebook, seed=seed, params=params)
        self.labels = labels
        self.by_id = {s.id: s for s in segments}
        self.row_of = {s.id: i for i, s in enumerate(segments)}
        first = self.make()
        texts = [s.text for s in segments]
        self.shared = None
        if isinstance(first, SupervisedSuggester):
            units = contexts(store, segments, MAX_CONTEXT)
            self.shared = first.share(texts, units)
        elif isinstance(first, SharesTexts):
            self.shared = first.share(texts)

    def fit(self, documents: set[str] | None = None) -> Suggester:
        """An engine fitted on the reference units (of ``documents`` only, when given)."""
        from coding.suggest import SharesTexts

        labelled = [self.by_id[s] for s in self.labels.index if s in self.by_id]
        if documents is not None:
            labelled = [s for s in labelled if s.document_id in documents]
        suggester = self.make()
        labels = self.labels.loc[[s.id for s in labelled]]
        groups = [s.document_id for s in labelled]
        if self.shared is not None and isinstance(suggester, SharesTexts):
            rows = [self.row_of[s.id] for s in labelled]
            suggester.fit_rows(self.shared, rows, labels, groups)
        else:
            suggester.fit([s.text for s in labelled], labels, groups)
        return suggester

    def scores(self, suggester: Suggester, segments: list[Segment]) -> pd.DataFrame:
        """The engine's scores of ``segments``, read with the same features as its
        suggestions (neighbours, heading and attributes for the supervised engines)."""
        from coding.suggest import SharesTexts

        if self.shared is not None and isinstance(suggester, SharesTexts):
            return suggester.scores_rows(self.shared, [self.row_of[s.id] for s in segments])
        return suggester.scores([s.text for s in segments])

    def suggest(self, suggester: Suggester, segments: list[Segment]) -> list[Suggestion]:
        from coding.suggest import SharesTexts

        if self.shared is not None and isinstance(suggester, SharesTexts):
            rows = [self.row_of[s.id] for s in segments]
            return suggester.suggest_rows(self.shared, rows, segments)
        return suggester.suggest(segments)


def engine_params(seed: int, context: int | None, max_training: int | None = None) -> Any:
    """The supervised engine's settings, with ``context`` neighbours when given and at most
    ``max_training`` reference units per model when given (0: all of them)."""
    from coding.suggest import SupervisedParams

    params = SupervisedParams(seed=seed)
    if max_training is not None:
        params = replace(params, max_training=max_training or None)
    return params if context is None else replace(params, context=context)
