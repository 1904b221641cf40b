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

:class:`NgramCounts` counts every word and char_wb n-gram of a fixed list of texts once. The folds
of one study each learn a vocabulary from their own rows (``fit_rows``) by picking columns of
those counts, instead of tokenising the same texts again for every fold: the same vocabulary,
idf and matrix as fitting on those rows' texts (a test checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

NGRAMS_CHAR = (3, 5)
NGRAMS_WORD = (1, 2)
Rows = np.ndarray  # integer row numbers into the texts of an NgramCounts


def _word_counter(
    min_df: int = 1, max_features: int | None = None, vocabulary: dict[str, int] | None = None
) -> CountVectorizer:
    return CountVectorizer(
        ngram_range=NGRAMS_WORD,
        min_df=min_df,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def _char_counter(
    vocabulary: dict[str, int] | None = None, dtype: type = np.float32
) -> CountVectorizer:
    return CountVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS_CHAR,
        lowercase=False,
        vocabulary=vocabulary,
        dtype=dtype,
    )


def _word_type_counts(
    texts: Sequence[str], types: dict[str, int], grow: bool, dtype: type = np.float32
) -> sp.csr_matrix:
    """Texts x whitespace word types (lower case); new types are added when ``grow``."""
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
    data: np.ndarray = np.ones(len(indices), dtype=dtype)
    counts = sp.csr_matrix((data, indices, indptr), shape=(len(texts), len(types)))
    counts.sum_duplicates()
    return counts


def _document_frequency(counts: sp.csr_matrix) -> np.ndarray:
    return np.bincount(counts.indices, minlength=counts.shape[1])


@dataclass(frozen=True, slots=True)
class NgramCounts:
    """Every word (1-2) and char_wb (3-5) n-gram count of a fixed list of texts, counted once."""

    words: sp.csr_matrix  # texts x word n-grams (alphabetical), as CountVectorizer counts them
    word_names: np.ndarray
    types: dict[str, int]  # whitespace word types (lower case) -> row of per_type
    type_counts: sp.csr_matrix  # texts x word types
    per_type: sp.csr_matrix  # word types x char_wb n-grams (alphabetical)
    char_names: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[str]) -> NgramCounts:
        counter = _word_counter()
        try:
            words = counter.fit_transform(texts)
            word_names = counter.get_feature_names_out()
        except ValueError:  # no text holds a word: every fit_rows raises scikit-learn's error
            words, word_names = sp.csr_matrix((len(texts), 0), dtype=np.float32), np.array([])
        types: dict[str, int] = {}
        type_counts = _word_type_counts(texts, types, grow=True)
        grams = _char_counter()
        if types:
            per_type, char_names = grams.fit_transform(list(types)), grams.get_feature_names_out()
        else:
            per_type, char_names = sp.csr_matrix((0, 0), dtype=np.float32), np.array([])
        return cls(words, word_names, types, type_counts, sp.csr_matrix(per_type), char_names)

    def __len__(self) -> int:
        return int(self.words.shape[0])


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
        return _word_type_counts(texts, types, grow, self.dtype)

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

    def fit_rows(self, counts: NgramCounts, rows: Rows) -> sp.csr_matrix:
        """:meth:`fit_transform` of the texts at ``rows``, taken from counts made once."""
        if tuple(self.ngram_range) != NGRAMS_CHAR:
            raise ValueError(f"NgramCounts hold char n-grams {NGRAMS_CHAR}, not {self.ngram_range}")
        per_type = counts.per_type.astype(self.dtype, copy=False)
        train = sp.csr_matrix(counts.type_counts[rows].astype(self.dtype, copy=False) @ per_type)
        train.sort_indices()  # as column selection leaves them in fit_transform: the same sums
        keep = np.flatnonzero(_document_frequency(train) >= max(self.min_df, 1))
        self.vocabulary_ = {str(n): i for i, n in enumerate(counts.char_names[keep])}
        self._per_type = sp.csr_matrix(per_type[:, keep])
        self._types = counts.types
        self._grams = _char_counter(self.vocabulary_ or None, self.dtype)
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        self._source = counts
        kept = sp.csr_matrix(train[:, keep])
        return self._tfidf.fit_transform(kept).astype(self.dtype, copy=False)

    def transform_rows(self, counts: NgramCounts, rows: Rows) -> sp.csr_matrix:
        """:meth:`transform` of the texts at ``rows`` of the counts :meth:`fit_rows` learnt from."""
        if counts is not getattr(self, "_source", None):
            raise ValueError("transform_rows needs the NgramCounts that fit_rows learnt from")
        words = counts.type_counts[rows].astype(self.dtype, copy=False)
        product = sp.csr_matrix(words @ self._per_type)
        product.sort_indices()
        return self._tfidf.transform(product, copy=False).astype(self.dtype, copy=False)


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
        self._counts = _word_counter(min_df=self.min_df, max_features=self.max_features)
        counts = self._counts.fit_transform(texts)
        self._tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        self._names: np.ndarray = self._counts.get_feature_names_out()
        self._vocabulary: dict[str, int] = self._counts.vocabulary_
        self._lookup: tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray] | None = None
        self._source: NgramCounts | None = None
        return self._tfidf.transform(counts, copy=False)

    def fit(self, texts: Sequence[str]) -> Self:
        self.fit_transform(texts)
        return self

    def fit_rows(self, counts: NgramCounts, rows: Rows) -> sp.csr_matrix:
        """:meth:`fit_transform` of the texts at ``rows``, taken from counts made once.

        Keeps the columns scikit-learn keeps: document frequency at least ``min_df``, then the
        ``max_features`` most frequent, ranked by the same sort of the same array.
        """
        train = counts.words[rows]
        df = _document_frequency(train)
        mask = df >= max(self.min_df, 1)
        if self.max_features is not None and mask.sum() > self.max_features:
            totals = np.asarray(train.sum(axis=0)).ravel()
            top = (-totals[mask]).argsort()[: self.max_features]
            limited = np.zeros(len(df), dtype=bool)
            limited[np.flatnonzero(mask)[top]] = True
            mask = limited
        if not mask.any():
            raise ValueError("After pruning, no terms remain. Try a lower min_df.")
        self._columns = np.flatnonzero(mask)
        self._names = counts.word_names[self._columns]
        self._vocabulary = {str(n): i for i, n in enumerate(self._names)}
        self._counts = _word_counter(vocabulary=self._vocabulary)
        self._lookup = None
        self._source = counts
        kept = sp.csr_matrix(train[:, self._columns])
        kept.sort_indices()  # as the engine's matrices always are: the same sums in the same order
        self._tfidf = TfidfTransformer(sublinear_tf=True).fit(kept)
        return self._tfidf.transform(kept, copy=False)

    def transform_rows(self, counts: NgramCounts, rows: Rows) -> sp.csr_matrix:
        """:meth:`transform` of the texts at ``rows`` of the counts :meth:`fit_rows` learnt from."""
        if counts is not self._source:
            raise ValueError("transform_rows needs the NgramCounts that fit_rows learnt from")
        kept = sp.csr_matrix(counts.words[rows][:, self._columns])
        kept.sort_indices()
        return self._tfidf.transform(kept, copy=False)

    def get_feature_names_out(self) -> np.ndarray:
        return self._names

    @property
    def columns(self) -> np.ndarray:
        """The columns of the :class:`NgramCounts` that :meth:`fit_rows` kept."""
        return self._columns

    def raw_counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Texts x the learnt n-grams, plain counts (the rows of the neighbours of new units)."""
        counts: sp.csr_matrix = self._counts.transform(texts)
        return counts

    def _index(
        self, vocabulary: dict[str, int]
    ) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
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
        pair_keys = np.asarray(pairs, dtype=np.int64)[order]
        return types, unigram, pair_keys, np.asarray(columns, dtype=np.int64)[order]

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if self._lookup is None:
            self._lookup = self._index(self._vocabulary)
        types, unigram, pair_keys, pair_columns = self._lookup
        analyse = self._counts.build_tokenizer()
        preprocess = self._counts.build_preprocessor()
        get = types.get
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
        columns[known] = unigram[token_ids[known]]
        uni_rows, uni_columns = rows[columns >= 0], columns[columns >= 0]

        pair_ok = known[:-1] & known[1:] & (rows[:-1] == rows[1:])
        keys = token_ids[:-1][pair_ok] * len(types) + token_ids[1:][pair_ok]
        at = np.searchsorted(pair_keys, keys)
        at_ok = at < pair_keys.size
        found = np.zeros(keys.size, dtype=bool)
        found[at_ok] = pair_keys[at[at_ok]] == keys[at_ok]
        bi_rows = rows[:-1][pair_ok][found]
        bi_columns = pair_columns[at[found]]

        counts = sp.csr_matrix(
            (
                np.ones(uni_rows.size + bi_rows.size, dtype=np.float32),
                (np.concatenate([uni_rows, bi_rows]), np.concatenate([uni_columns, bi_columns])),
            ),
            shape=(len(texts), len(self._names)),
        )
        counts.sum_duplicates()  # sorts the indices too, as CountVectorizer does
        return self._tfidf.transform(counts, copy=False)
