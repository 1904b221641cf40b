"""What coders see besides a unit's own text: its neighbours, its heading and its attributes.

:class:`UnitContext` is the plain record a caller passes per unit (the service builds it from a
study; tests and benchmarks build it directly). :class:`ContextFeatures` turns a window of it
into features that sit beside the unit's own n-grams:

- ``before:``/``after:`` word n-grams of the neighbouring units of the same document, as many
  on each side as the window says, summed per side (TF-IDF, sublinear tf, L2 rows) over the
  vocabulary the unit's own text learnt, so the two sides and the unit are distinct columns;
- ``heading:`` the words of the section heading path (binary, L2 rows);
- ``attr:name=value`` one column per categorical attribute value (one-hot).

Every vocabulary, idf and attribute value comes from the training rows only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

MAX_WINDOW = 5  # the widest window the engine takes (units on each side)


@dataclass(frozen=True, slots=True)
class UnitContext:
    """A unit's surroundings: neighbouring texts (nearest first), heading path, attributes."""

    before: tuple[str, ...] = ()  # preceding units of the same document, nearest first
    after: tuple[str, ...] = ()  # following units of the same document, nearest first
    heading: str = ""  # section heading path ("" for none)
    attributes: Mapping[str, str] = field(default_factory=dict)  # name -> categorical value


def unit_contexts(
    texts: Sequence[str],
    documents: Sequence[str],
    positions: Sequence[int],
    headings: Sequence[str] | None = None,
    attributes: Sequence[Mapping[str, str]] | None = None,
    window: int = MAX_WINDOW,
) -> list[UnitContext]:
    """The context of every unit, from the units of the same document in position order.

    >>> [c.before for c in unit_contexts(["a", "b", "c"], ["d", "d", "e"], [0, 1, 0], window=1)]
    [(), ('a',), ()]
    """
    order = sorted(range(len(texts)), key=lambda i: (documents[i], positions[i], i))
    out: list[UnitContext] = [UnitContext()] * len(texts)
    for k, i in enumerate(order):
        same = [
            j for j in order[max(0, k - window) : k + window + 1] if documents[j] == documents[i]
        ]
        at = same.index(i)
        out[i] = UnitContext(
            before=tuple(texts[j] for j in reversed(same[:at])),
            after=tuple(texts[j] for j in same[at + 1 :]),
            heading=headings[i] if headings is not None else "",
            attributes=dict(attributes[i]) if attributes is not None else {},
        )
    return out


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """Which pooled texts stand before and after each unit (within the widest window)."""

    before: list[sp.csr_matrix]  # per distance d (1..window): units x pool, 1 at the neighbour
    after: list[sp.csr_matrix]
    headings: list[str]
    attributes: list[dict[str, str]]

    @classmethod
    def of(cls, units: Sequence[UnitContext], pool: dict[str, int], window: int) -> Neighbourhood:
        def side(d: int, texts: list[tuple[str, ...]]) -> sp.csr_matrix:
            rows = [i for i, t in enumerate(texts) if len(t) > d]
            cols = [pool[texts[i][d]] for i in rows]
            data = np.ones(len(rows), dtype=np.float32)
            return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), len(pool)))

        before = [u.before for u in units]
        after = [u.after for u in units]
        return cls(
            [side(d, before) for d in range(window)],
            [side(d, after) for d in range(window)],
            [u.heading for u in units],
            [dict(u.attributes) for u in units],
        )


def pooled(
    texts: Sequence[str], units: Sequence[UnitContext] | None
) -> tuple[list[str], dict[str, int]]:
    """Every distinct text among the units and their neighbours, and text -> pool row."""
    pool: dict[str, int] = {}
    for text in texts:
        pool.setdefault(text, len(pool))
    for unit in units or ():
        for text in (*unit.before, *unit.after):
            pool.setdefault(text, len(pool))
    return list(pool), pool


class ContextFeatures:
    """Fits and builds the context blocks for rows of one :class:`Neighbourhood`."""

    def __init__(
        self, window: int, heading: bool, attributes: bool, min_df: int = 2, weight: float = 1.0
    ) -> None:
        self.weight = weight  # scales the neighbour and heading rows (their L2 norm)
        self.window = window
        self.heading = heading
        self.attributes = attributes
        self.min_df = min_df

    def _sides(
        self, near: Neighbourhood, words: sp.csr_matrix, rows: np.ndarray
    ) -> list[sp.csr_matrix]:
        """Before and after n-gram counts of ``rows`` (pooled word counts, learnt columns)."""
        out = []
        for side in (near.before, near.after):
            links = side[0][rows]
            for d in range(1, self.window):
                links = links + side[d][rows]
            counts = sp.csr_matrix(links @ words)
            counts.sort_indices()
            out.append(counts)
        return out

    def fit_rows(
        self, near: Neighbourhood, words: sp.csr_matrix, rows: np.ndarray
    ) -> list[sp.csr_matrix]:
        """The blocks of the training ``rows``; ``words`` is pool x the unit's word columns."""
        blocks: list[sp.csr_matrix] = []
        self._tfidf: list[TfidfTransformer | None] = []
        self._keep: list[np.ndarray] = []
        if self.window > 0:
            for counts in self._sides(near, words, rows):
                # Only n-grams seen beside min_df training units: no empty columns to optimise.
                df = np.bincount(counts.indices, minlength=counts.shape[1])
                keep = np.flatnonzero(df >= max(self.min_df, 1))
                self._keep.append(keep)
                if keep.size == 0:  # no neighbours (or none with a known n-gram): no block
                    self._tfidf.append(None)
                    continue
                kept = sp.csr_matrix(counts[:, keep])
                tfidf = TfidfTransformer(sublinear_tf=True).fit(kept)
                self._tfidf.append(tfidf)
                blocks.append(self.weight * tfidf.transform(kept).astype(np.float32))
        self._heading = self._attrs = None
        if self.heading:
            self._heading = CountVectorizer(binary=True, min_df=self.min_df, dtype=np.float32)
            texts = [near.headings[i] for i in rows]
            try:
                blocks.append(self.weight * normalize(self._heading.fit_transform(texts)))
            except ValueError:  # no heading word in enough training units
                self._heading = None
        if self.attributes:
            self._attrs = CountVectorizer(
                analyzer=_attribute_values, binary=True, min_df=1, dtype=np.float32
            )
            try:
                blocks.append(self._attrs.fit_transform([near.attributes[i] for i in rows]))
            except ValueError:  # no attribute at all
                self._attrs = None
        return blocks

    def transform_rows(
        self, near: Neighbourhood, words: sp.csr_matrix | None, rows: np.ndarray
    ) -> list[sp.csr_matrix]:
        """The blocks of ``rows``, with what :meth:`fit_rows` learnt."""
        blocks: list[sp.csr_matrix] = []
        if self.window > 0:
            # No pooled counts: no unit has a neighbour, and the blocks are empty.
            sides = self._sides(near, words, rows) if words is not None else [None, None]
            for tfidf, keep, counts in zip(self._tfidf, self._keep, sides, strict=True):
                if tfidf is None:
                    continue
                if counts is None:
                    blocks.append(sp.csr_matrix((len(rows), keep.size), dtype=np.float32))
                    continue
                kept = sp.csr_matrix(counts[:, keep])
                blocks.append(self.weight * tfidf.transform(kept).astype(np.float32))
        if self._heading is not None:
            headings = [near.headings[i] for i in rows]
            blocks.append(self.weight * normalize(self._heading.transform(headings)))
        if self._attrs is not None:
            blocks.append(self._attrs.transform([near.attributes[i] for i in rows]))
        return blocks

    def names(self, word_names: np.ndarray) -> list[str]:
        """Column names of the blocks, in the order :meth:`fit_rows` returns them."""
        out: list[str] = []
        if self.window > 0:
            before, after = self._keep
            out += [f"before:{n}" for n in word_names[before]]
            out += [f"after:{n}" for n in word_names[after]]
        if self._heading is not None:
            out += [f"heading:{n}" for n in self._heading.get_feature_names_out()]
        if self._attrs is not None:
            out += [f"attr:{n}" for n in self._attrs.get_feature_names_out()]
        return out


def _attribute_values(attributes: Mapping[str, str]) -> list[str]:
    """One token per attribute: ``name=value`` (empty values left out)."""
    return [f"{k}={v}" for k, v in sorted(attributes.items()) if str(v) != ""]
