"""Text features for the supervised engine: word and char_wb TF-IDF n-grams, computed fast.

scikit-learn's ``char_wb`` analyzer pads each whitespace-separated word and takes its character
n-grams, so a text's counts are the sum of its words' counts. :class:`CharWbTfidf` therefore
counts words once per text and multiplies by a word-type x n-gram matrix built once per word
type: the same matrix as ``TfidfVectorizer(analyzer="char_wb")`` (a test checks it) at a fraction
of the cost, because a corpus repeats its words.

:class:`WordTfidf` learns its vocabulary with scikit-learn, but transforms new texts by turning
each token into an integer once and finding unigram and bigram columns with numpy, instead of
building and looking up a string per n-gram: the same matrix as ``TfidfVectorizer`` (a test
checks it), two to three times faster.
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
        # The kept columns of the product already made: the same sums, in the same order.
        kept = sp.csr_matrix(counts[:, keep[order]]) if types else counts
        return self._tfidf.fit_transform(kept).astype(self.dtype, copy=False)

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
        counts = sp.csr_matrix(words @ per_type)
        return self._tfidf.transform(counts, copy=False).astype(self.dtype, copy=False)


def word_tfidf(min_df: int, max_features: int | None) -> TfidfVectorizer:
    """Word uni- and bigrams, sublinear tf, L2-normalised rows: what :class:`WordTfidf` equals."""
    return TfidfVectorizer(
        ngram_range=NGRAMS_WORD,
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        dtype=np.float32,
    )


class WordTfidf:
    """``TfidfVectorizer`` word uni- and bigrams (sublinear tf, L2 rows, float32); fast transform.

    ``fit_transform`` is scikit-learn's own (``min_df``, ``max_features`` and the tokenizer
    included). ``transform`` gives the same counts: each token of a text becomes the id of its
    word type (-1 for a word in no feature); a unigram column is looked up per type and a bigram
    column per pair of consecutive ids, in a sorted array of ``id * types + id`` keys.
    """

    def __init__(self, min_df: int = 1, max_features: int | None = None) -> None:
        self.min_df = min_df
        self.max_features = max_features

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        self._counts = CountVectorizer(
            ngram_range=NGRAMS_WORD,
            min_df=self.min_df,
            max_features=self.max_features,
            dtype=np.float32,
        )
        counts = self._counts.fit_transform(texts)
        self._tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        self._index(self._counts.vocabulary_)
        return self._tfidf.transform(counts, copy=False)

    def fit(self, texts: Sequence[str]) -> Self:
        self.fit_transform(texts)
        return self

    def get_feature_names_out(self) -> np.ndarray:
        names: np.ndarray = self._counts.get_feature_names_out()
        return names

    def _index(self, vocabulary: dict[str, int]) -> None:
        """Word types, the unigram column of each type, and the sorted bigram keys."""
        types: dict[str, int] = {}
        for term in vocabulary:
            for word in term.split(" "):  # tokens never hold a space: one word or a pair
                types.setdefault(word, len(types))
        unigram = np.full(len(types), -1, dtype=np.int64)
        pairs, columns = [], []
        for term, column in vocabulary.items():
            words = term.split(" ")
            if len(words) == 1:
                unigram[types[term]] = column
            else:
                pairs.append(types[words[0]] * len(types) + types[words[1]])
                columns.append(column)
        order = np.argsort(np.asarray(pairs, dtype=np.int64), kind="stable")
        self._types = types
        self._unigram = unigram
        self._pair_keys = np.asarray(pairs, dtype=np.int64)[order]
        self._pair_columns = np.asarray(columns, dtype=np.int64)[order]

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        analyse = self._counts.build_tokenizer()
        preprocess = self._counts.build_preprocessor()
        get = self._types.get
        lengths = np.zeros(len(texts), dtype=np.int64)
        ids: list[int] = []
        for i, text in enumerate(texts):
            tokens = analyse(preprocess(text))
            lengths[i] = len(tokens)
            ids.extend([get(t, -1) for t in tokens])
        token_ids = np.asarray(ids, dtype=np.int64)
        rows = np.repeat(np.arange(len(texts)), lengths)
        known = token_ids >= 0
        columns = np.full(token_ids.size, -1, dtype=np.int64)
        columns[known] = self._unigram[token_ids[known]]
        uni_rows, uni_columns = rows[columns >= 0], columns[columns >= 0]

        pair_ok = known[:-1] & known[1:] & (rows[:-1] == rows[1:])
        keys = token_ids[:-1][pair_ok] * len(self._types) + token_ids[1:][pair_ok]
        at = np.searchsorted(self._pair_keys, keys)
        at_ok = at < self._pair_keys.size
        found = np.zeros(keys.size, dtype=bool)
        found[at_ok] = self._pair_keys[at[at_ok]] == keys[at_ok]
        bi_rows = rows[:-1][pair_ok][found]
        bi_columns = self._pair_columns[at[found]]

        counts = sp.csr_matrix(
            (
                np.ones(uni_rows.size + bi_rows.size, dtype=np.float32),
                (np.concatenate([uni_rows, bi_rows]), np.concatenate([uni_columns, bi_columns])),
            ),
            shape=(len(texts), len(self._counts.vocabulary_)),
        )
        counts.sum_duplicates()  # sorts the indices too, as CountVectorizer does
        return self._tfidf.transform(counts, copy=False)
