"""Evidence for supervised suggestions: the terms that raised a score, the nearest references.

Terms are the word n-grams, rule scores and context features whose weight times value added
most to a code's decision value (char n-grams have no readable name and are left out).
Neighbours are the reference segments with the highest cosine of word TF-IDF, without the
n-grams too common to tell segments apart (see :data:`NEAR_MAX_DF`). A reference larger than
:data:`NEAR_MAX_REFERENCES` segments is searched in that many of them, spread evenly over it:
every segment compared with every reference segment would grow with the square of the study.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from coding.suggest.rules import Hit

if TYPE_CHECKING:
    from coding.suggest.supervised import CodeModel, SupervisedSuggester

NEAR_MAX_DF = 0.05  # n-grams in more segments than this share are left out of neighbour search
NEAR_MAX_REFERENCES = 10_000  # reference segments searched for neighbours, at most
BLOCK = 256  # rows whose neighbours are found with one product


@dataclass(frozen=True, slots=True)
class Prediction:
    """Scores plus what they came from, kept for evidence (and reused by the "auto" engine)."""

    scores: pd.DataFrame
    hits: list[list[Hit]]
    words: sp.csr_matrix  # word TF-IDF of each text
    rules: np.ndarray  # rule score of each text and code, as features (float32, NaN as 0)
    extra: sp.csr_matrix | None = None  # context, heading and attribute features (the last)


@dataclass(frozen=True, slots=True)
class Neighbours:
    """The reference side of the neighbour search, made once per fit."""

    columns: np.ndarray  # word n-grams used (document frequency at most NEAR_MAX_DF)
    train_t: sp.csr_matrix  # normalised reference rows over those columns, transposed
    ids: list[str]  # reference segment ids
    index: dict[str, int]  # segment id -> reference row
    codes: list[list[str]]  # codes that apply to each reference segment

    @classmethod
    def of(cls, words: sp.csr_matrix, ids: list[str], codes: list[list[str]]) -> Neighbours:
        """N-grams in more than NEAR_MAX_DF of the segments add little to a cosine but make
        the segment x segment product dense; leaving them out keeps evidence fast. When every
        n-gram is that common there is no neighbour search (and no neighbour in the evidence).
        Past NEAR_MAX_REFERENCES segments, the search covers that many, evenly spaced.
        """
        n = words.shape[0]
        df = np.bincount(words.indices, minlength=words.shape[1])
        columns = np.flatnonzero(df <= max(2.0, NEAR_MAX_DF * n))
        if n > NEAR_MAX_REFERENCES:
            rows = np.arange(NEAR_MAX_REFERENCES) * n // NEAR_MAX_REFERENCES
            words, ids, codes = words[rows], [ids[i] for i in rows], [codes[i] for i in rows]
        kept = words[:, columns]
        train_t = (normalize(kept) if columns.size else kept).T.tocsr()
        return cls(columns, train_t, ids, {s: i for i, s in enumerate(ids)}, codes)


class Explainer:
    """Evidence for one prediction: top terms and nearest reference segments."""

    def __init__(
        self, engine: SupervisedSuggester, prediction: Prediction, segment_ids: Sequence[str]
    ) -> None:
        self.engine = engine
        self.prediction = prediction
        self.segment_ids = list(segment_ids)
        self._names: np.ndarray | None = None
        self._near: dict[int, list[dict[str, object]]] = {}
        self._terms: dict[tuple[int, str], list[dict[str, object]]] = {}
        self._ranks: np.ndarray | None = None

    def __call__(self, row: int, code_id: str) -> dict[str, object]:
        model = self.engine.code_models[code_id]
        terms = self._terms.get((row, code_id))
        evidence: dict[str, object] = {
            "calibrated": model.calibrated,
            "threshold": None if model.threshold is None else round(model.threshold, 4),
            "terms": self.terms(row, model) if terms is None else terms,
            "neighbours": self.neighbours(row),
        }
        if model.reason:
            evidence["reason"] = model.reason
        return evidence

    def terms(self, row: int, model: CodeModel) -> list[dict[str, object]]:
        """The word n-grams and rule scores that raised this segment's score most."""
        if model.coef is None:
            return []
        names = self._feature_names()
        words = self.prediction.words[row]
        rules = self.prediction.rules[row]
        extra = self.prediction.extra
        n_extra = 0 if extra is None else extra.shape[1]
        rules_at = model.coef.size - rules.size - n_extra  # then rules, then the context blocks
        at = np.flatnonzero(rules) + rules_at
        indices = [words.indices, at]
        values = [words.data, rules[rules != 0]]
        if extra is not None:
            indices.append(extra[row].indices + rules_at + rules.size)
            values.append(extra[row].data)
        index = np.concatenate(indices)
        weights = np.concatenate(values) * model.coef[index]
        named = [(float(w), str(names[i])) for w, i in zip(weights, index, strict=True) if w > 0]
        named.sort(key=lambda t: (-t[0], t[1]))
        limit = self.engine.params.terms
        return [{"term": n, "weight": round(w, 4)} for w, n in named[:limit]]

    def prepare(self, wanted: pd.DataFrame) -> None:
        """Compute at once the evidence of every pair that ``wanted`` (rows x codes, True where
        evidence will be asked for) marks: the same as asking :meth:`__call__` pair by pair,
        with one sparse product per code and one neighbour search per block of wanted rows."""
        mask = wanted.to_numpy(dtype=bool)
        if not mask.any():
            return
        readable, n_words = self._readable()
        for j, code_id in enumerate(map(str, wanted.columns)):
            rows = np.flatnonzero(mask[:, j])
            model = self.engine.code_models.get(code_id)
            if rows.size and model is not None:
                for row, terms in zip(
                    rows.tolist(), self._terms_of(readable, n_words, rows, model), strict=True
                ):
                    self._terms[row, code_id] = terms
        todo = [r for r in np.flatnonzero(mask.any(axis=1)).tolist() if r not in self._near]
        for start in range(0, len(todo), BLOCK):
            self._near.update(self._block(todo[start : start + BLOCK]))

    def _readable(self) -> tuple[sp.csr_matrix, int]:
        """The word, rule and context features of every row side by side (char n-grams, which
        have no readable name, are left out), and the number of word columns."""
        words, extra = self.prediction.words, self.prediction.extra
        blocks = [words, sp.csr_matrix(self.prediction.rules)]
        if extra is not None:
            blocks.append(extra)
        return sp.hstack(blocks, format="csr"), words.shape[1]

    def _terms_of(
        self, readable: sp.csr_matrix, n_words: int, rows: np.ndarray, model: CodeModel
    ) -> list[list[dict[str, object]]]:
        """:meth:`terms` of each of ``rows``: every weight of every row in one product, then
        each row's best ``terms`` by (-weight, name)."""
        if model.coef is None:
            return [[] for _ in rows]
        rules_at = model.coef.size - readable.shape[1] + n_words  # then rules, then context
        names = self._feature_names()
        part = readable[rows]
        index = np.where(part.indices < n_words, part.indices, part.indices - n_words + rules_at)
        weights = part.data * model.coef[index]  # in the precision :meth:`terms` uses
        owner = np.repeat(np.arange(len(rows)), np.diff(part.indptr))
        keep = weights > 0
        index, weights, owner = index[keep], weights[keep], owner[keep]
        order = np.lexsort((self._name_rank()[index], -weights, owner))
        index, weights, owner = index[order], weights[order], owner[order]
        starts = np.searchsorted(owner, np.arange(len(rows)))
        rank = np.arange(owner.size) - starts[owner]
        top = rank < self.engine.params.terms
        out: list[list[dict[str, object]]] = [[] for _ in rows]
        picked = zip(owner[top].tolist(), index[top].tolist(), weights[top].tolist(), strict=True)
        for k, i, w in picked:
            out[k].append({"term": str(names[i]), "weight": round(w, 4)})
        return out

    def _feature_names(self) -> np.ndarray:
        if self._names is None:
            self._names = self.engine.feature_names()
        return self._names

    def _name_rank(self) -> np.ndarray:
        """Each feature's place in the order of the names (ties in weight go by name)."""
        if self._ranks is None:
            order = np.argsort(self._feature_names(), kind="stable")
            self._ranks = np.empty(order.size, dtype=np.int64)
            self._ranks[order] = np.arange(order.size)
        return self._ranks

    def neighbours(self, row: int) -> list[dict[str, object]]:
        """The most similar reference segments (cosine of word TF-IDF) with their codes.

        The segment itself is never its own neighbour. Computed for a block of rows at once.
        """
        if row not in self._near:
            stop = min(row + BLOCK, len(self.segment_ids))
            self._near.update(self._block(list(range(row, stop))))
        return self._near[row]

    def _block(self, rows: list[int]) -> dict[int, list[dict[str, object]]]:
        near = self.engine.neighbours
        limit = min(self.engine.params.neighbours, near.train_t.shape[1])
        if limit == 0 or near.columns.size == 0:
            return {row: [] for row in rows}
        block = self.prediction.words[rows][:, near.columns]
        dense = (normalize(block) @ near.train_t).toarray()
        for k, row in enumerate(rows):
            itself = near.index.get(self.segment_ids[row])
            if itself is not None:
                dense[k, itself] = -1.0
        tops = np.argpartition(-dense, limit - 1, axis=1)[:, :limit]
        out = {}
        for k, row in enumerate(rows):
            values, top = dense[k], tops[k]
            top = top[np.lexsort((top, -values[top]))]
            out[row] = [
                {
                    "segment_id": str(near.ids[i]),
                    "similarity": round(float(values[i]), 4),
                    "codes": near.codes[i],
                }
                for i in top
                if values[i] > 0
            ]
        return out
