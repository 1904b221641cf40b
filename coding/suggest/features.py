"""Text features for the supervised engine: word and char_wb TF-IDF n-grams, computed fast.

scikit-learn's ``char_wb`` analyzer pads each whitespace-separated word and takes its character
n-grams, so a text's counts are the sum of its words' counts. :class:`CharWbTfidf` therefore
counts words once per text and multiplies by a word-type x n-gram matrix built once per word
type: the same matrix as ``TfidfVectorizer(analyzer="char_wb")`` (a test checks it) at a fraction
of the cost, because a corpus repeats its words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

NGRAMS_CHAR = (3, 5)
NGRAMS_WORD = (1, 2)


class CharWbTfidf:
    """``TfidfVectorizer(analyzer="char_wb", sublinear_tf=True)``, computed per word type.

    Features are float32 by default: half the memory, and faster logistic regressions.
    """

    def __init__(
        self, ngram_range: tuple[int, int] = NGRAMS_CHAR, min_df: int = 1, dtype: type = np.float32
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.dtype = dtype

    def _word_counts(
        self, texts: Sequence[str], types: dict[str, int], grow: bool
    ) -> sp.csr_matrix:
        indptr = [0]
        indices: list[int] = []
        for text in texts:
            for word in text.lower().split():
                index = types.get(word)
                if index is None:
                    if not grow:
                        continue
                    index = types[word] = len(types)
                indices.append(index)
            indptr.append(len(indices))
        data: np.ndarray = np.ones(len(indices), dtype=self.dtype)
        counts = sp.csr_matrix((data, indices, indptr), shape=(len(texts), len(types)))
        counts.sum_duplicates()
        return counts

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        types: dict[str, int] = {}
        words = self._word_counts(texts, types, grow=True)
        grams = CountVectorizer(
            analyzer="char_wb", ngram_range=self.ngram_range, lowercase=False, dtype=self.dtype
        )
        per_type = grams.fit_transform(list(types)) if types else sp.csr_matrix((0, 0))
        counts = sp.csr_matrix(words @ per_type) if types else sp.csr_matrix((len(texts), 0))
        keep = np.flatnonzero(np.asarray((counts > 0).sum(axis=0)).ravel() >= self.min_df)
        names = grams.get_feature_names_out()[keep] if types else np.array([], dtype=object)
        order = np.argsort(names, kind="stable")
        self.vocabulary_ = {str(n): i for i, n in enumerate(names[order])}
        self._per_type = sp.csr_matrix(per_type[:, keep[order]]) if types else per_type
        self._types = types
        self._grams = CountVectorizer(
            analyzer="char_wb",
            ngram_range=self.ngram_range,
            lowercase=False,
            vocabulary=self.vocabulary_ or None,
            dtype=self.dtype,
        )
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        return self._tfidf.fit_transform(sp.csr_matrix(words @ self._per_type)).astype(self.dtype)

    def fit(self, texts: Sequence[str]) -> Self:
        self.fit_transform(texts)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        types = dict(self._types)
        words = self._word_counts(texts, types, grow=True)
        per_type = self._per_type
        if len(types) > len(self._types) and self.vocabulary_:
            new = list(types)[len(self._types) :]
            per_type = sp.vstack([per_type, self._grams.transform(new)], format="csr")
        elif len(types) > len(self._types):
            per_type = sp.csr_matrix((len(types), 0), dtype=self.dtype)
        return self._tfidf.transform(sp.csr_matrix(words @ per_type)).astype(self.dtype)


def word_tfidf(min_df: int, max_features: int | None) -> TfidfVectorizer:
    """Word uni- and bigrams, sublinear tf, L2-normalised rows."""
    return TfidfVectorizer(
        ngram_range=NGRAMS_WORD,
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        dtype=np.float32,
    )
