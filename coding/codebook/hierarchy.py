"""The structure of a codebook: parents, exclusive groups of sibling codes, and roll-up.

A code marked ``exclusive`` is the parent of a group of mutually exclusive children: a unit
takes at most one of them. A parent *rolls up* its children: it applies wherever any of its
descendants applies, with the highest of their scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from coding.model import Codebook


def parents_of(codebook: Codebook) -> dict[str, str | None]:
    """Each code's parent (None for a top-level code).

    >>> from coding.model import Code
    >>> parents_of(Codebook("b", "b", (Code("a", "A", "d"), Code("a.x", "X", "d", parent="a"))))
    {'a': None, 'a.x': 'a'}
    """
    return {c.id: c.parent for c in codebook.codes}


def exclusive_groups(codebook: Codebook) -> dict[str, tuple[str, ...]]:
    """Exclusive parent -> its children, in codebook order (groups of two or more codes)."""
    groups = {
        c.id: tuple(k.id for k in codebook.codes if k.parent == c.id)
        for c in codebook.codes
        if c.exclusive
    }
    return {parent: children for parent, children in groups.items() if len(children) >= 2}


def _ancestors(code_id: str, parents: Mapping[str, str | None]) -> list[str]:
    out: list[str] = []
    node = parents.get(code_id)
    while node is not None and node not in out and node != code_id:
        out.append(node)
        node = parents.get(node)
    return out


def ancestors_of(parents: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Each code's ancestors, nearest first.

    >>> ancestors_of({"a": None, "a.x": "a", "a.x.i": "a.x"})
    {'a': [], 'a.x': ['a'], 'a.x.i': ['a.x', 'a']}
    """
    return {code_id: _ancestors(code_id, parents) for code_id in parents}


def rollup(codes: Mapping[str, float], parents: Mapping[str, str | None]) -> dict[str, float]:
    """Codes (id -> score) with every ancestor added at the highest score below or at it.

    A code's own score counts too; codes not in ``parents`` are kept as they are.

    >>> rollup({"a.x": 0.4, "a.y": 0.7}, {"a": None, "a.x": "a", "a.y": "a"})
    {'a.x': 0.4, 'a.y': 0.7, 'a': 0.7}
    >>> rollup({"a": 0.9, "a.x": 0.4}, {"a": None, "a.x": "a"})
    {'a': 0.9, 'a.x': 0.4}
    """
    out = dict(codes)
    for code_id, score in codes.items():
        for ancestor in _ancestors(code_id, parents):
            if ancestor not in out or out[ancestor] < score:
                out[ancestor] = score
    return out


def rollup_columns(
    values: np.ndarray, code_ids: Sequence[str], parents: Mapping[str, str | None]
) -> np.ndarray:
    """:func:`rollup` of every row of a units x codes array (NaN where a code has no value).

    A parent's column becomes the highest of its own value and its descendants' values, NaN
    only where all of them are NaN.
    """
    out = np.array(values, dtype=float, copy=True)
    column = {c: j for j, c in enumerate(code_ids)}
    for j, code_id in enumerate(code_ids):
        for ancestor in _ancestors(code_id, parents):
            if ancestor in column:
                k = column[ancestor]
                out[:, k] = np.fmax(out[:, k], values[:, j])
    return out


def levels(parents: Mapping[str, str | None]) -> dict[str, int]:
    """Each code's level in the hierarchy: 1 for a top-level code, 2 for its children, ...

    >>> levels({"a": None, "a.x": "a", "a.x.i": "a.x", "b": None})
    {'a': 1, 'a.x': 2, 'a.x.i': 3, 'b': 1}
    """
    return {code_id: 1 + len(_ancestors(code_id, parents)) for code_id in parents}


def has_children(parents: Mapping[str, str | None]) -> set[str]:
    """The codes some other code names as its parent.

    >>> sorted(has_children({"a": None, "a.x": "a", "b": None}))
    ['a']
    """
    return {parent for code_id, parent in parents.items() if parent and parent != code_id}


def rollup_rows(
    flags: npt.NDArray[np.bool_],
    code_ids: Sequence[str],
    parents: Mapping[str, str | None],
    every: bool = False,
) -> npt.NDArray[np.bool_]:
    """Flags with codes on the first axis, each code's row combined with its descendants':
    a logical OR (the code applies where it or any descendant applies), or with ``every``
    a logical AND (it holds where it holds for the code and all its descendants).

    >>> flags = np.array([[False, False], [True, False], [False, True]])
    >>> rollup_rows(flags, ["a", "a.x", "a.y"], {"a": None, "a.x": "a", "a.y": "a"}).tolist()
    [[True, True], [True, False], [False, True]]
    """
    out = np.array(flags, dtype=bool, copy=True)
    row = {c: j for j, c in enumerate(code_ids)}
    for j, code_id in enumerate(code_ids):
        for ancestor in _ancestors(code_id, parents):
            if ancestor in row:
                k = row[ancestor]
                if every:
                    out[k] &= flags[j]
                else:
                    out[k] |= flags[j]
    return out
