"""Study data as arrays: the codes x coders x segments cube, per-code matrices, disagreements.

A coder's value for (segment, code) is 1 where the coder applied the code, 0 where the coder
completed the segment without applying it, and missing (-1 in the cube, NaN in a matrix) where
the coder did not complete it (and did not apply the code).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from coding.review import is_disagreement

Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Study:
    """A study as arrays; segments sorted by document, then start."""

    cube: Int8Array  # codes x coders x segments: 1, 0, or -1 (not completed)
    completed: BoolArray  # coders x segments
    code_ids: tuple[str, ...]
    coders: tuple[str, ...]
    segment_ids: npt.NDArray[np.object_]
    document_ids: npt.NDArray[np.object_]


def _factorize(parts: Sequence[pd.Series]) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Integer codes for the values of several columns at once, and the distinct values."""
    codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True))
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _positions(values: pd.Series, wanted: Sequence[str]) -> npt.NDArray[np.int64]:
    """Position of each value in ``wanted`` (-1 when absent); fast for few distinct values."""
    codes, uniques = _factorize([values])
    lookup = {v: i for i, v in enumerate(wanted)}
    table = np.array([lookup.get(str(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return table[codes]


def build_study(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None,
    segments: pd.DataFrame | None = None,
) -> Study:
    codes = tuple(code_ids)
    code_pos = _positions(annotations["code_id"], codes)
    annotations = annotations[code_pos >= 0]
    code_pos = code_pos[code_pos >= 0]
    if coders is None:
        found = set(pd.unique(assignments["coder"])).union(pd.unique(annotations["coder"]))
        coders = sorted((str(c) for c in found), key=str)
    coder_list = tuple(str(c) for c in coders)
    ann_coder = _positions(annotations["coder"], coder_list)
    asg_coder = _positions(assignments["coder"], coder_list)
    keep_ann, keep_asg = ann_coder >= 0, asg_coder >= 0
    n_asg, n_ann = int(keep_asg.sum()), int(keep_ann.sum())
    assignments, asg_coder = assignments[keep_asg], asg_coder[keep_asg]
    annotations, ann_coder, code_pos = (
        annotations[keep_ann],
        ann_coder[keep_ann],
        code_pos[keep_ann],
    )
    parts = [assignments["segment_id"], annotations["segment_id"]]
    if segments is not None:
        parts.append(segments["segment_id"])
    seg_codes, seg_uniques = _factorize(parts)
    n_used = int(seg_codes[: n_asg + n_ann].max()) + 1 if n_asg + n_ann else 0
    doc_codes, doc_uniques = _factorize([assignments["document_id"], annotations["document_id"]])
    document = np.zeros(n_used, dtype=np.int64)
    document[seg_codes[: n_asg + n_ann]] = doc_codes
    doc_rank = np.argsort(np.argsort(np.array([str(d) for d in doc_uniques], dtype=object)))
    start = np.full(n_used, np.inf)
    if segments is not None and len(segments):
        known = seg_codes[n_asg + n_ann :]
        inside = known < n_used
        start[known[inside]] = segments["start"].to_numpy(dtype=np.float64)[inside]
    elif n_ann:
        np.minimum.at(start, seg_codes[n_asg:], annotations["start"].to_numpy(dtype=np.float64))
    names = np.array([str(u) for u in seg_uniques[:n_used]], dtype=object)
    order = np.lexsort((names, start, doc_rank[document])) if n_used else np.zeros(0, np.int64)
    position = np.empty(n_used, dtype=np.int64)
    position[order] = np.arange(n_used)
    base = np.full((len(coder_list), n_used), -1, dtype=np.int8)
    done = assignments["completed"].to_numpy(dtype=bool)
    base[asg_coder[done], position[seg_codes[:n_asg][done]]] = 0
    cube = np.broadcast_to(base, (len(codes), len(coder_list), n_used)).copy()
    cube[code_pos, ann_coder, position[seg_codes[n_asg : n_asg + n_ann]]] = 1
    documents = np.array([str(d) for d in doc_uniques], dtype=object)
    completed = base == 0
    return Study(cube, completed, codes, coder_list, names[order], documents[document[order]])


def code_matrices(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
    segments: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Per code, a coders x segments DataFrame of 1/0/NaN (columns sorted by document, start).

    Segments are ordered by the ``segments`` frame's ``start`` when given, else by the earliest
    annotation ``start`` (segments without annotations last in their document).
    """
    study = build_study(annotations, assignments, code_ids, coders, segments)
    matrices: dict[str, pd.DataFrame] = {}
    for k, code_id in enumerate(study.code_ids):
        values = study.cube[k].astype(np.float64)
        values[values < 0] = np.nan
        frame = pd.DataFrame(values, index=list(study.coders), columns=study.segment_ids)
        frame.index.name, frame.columns.name = "coder", "segment_id"
        matrices[code_id] = frame
    return matrices


def unit_order(
    segment_ids: Sequence[str], document_ids: Sequence[str], starts: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """The order of :func:`build_study`'s segments: by document id, then start, then id.

    >>> unit_order(["b", "a", "c"], ["d2", "d1", "d1"], [0, 5, 5]).tolist()
    [1, 2, 0]
    """
    start = np.asarray(starts, dtype=np.int64)
    if not len(start):
        return np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(np.asarray(document_ids, dtype=object), return_inverse=True)
    rank = inverse.reshape(-1)  # documents by id
    first = np.lexsort((start, rank))
    same = (np.diff(start[first]) == 0) & (np.diff(rank[first]) == 0)
    if not same.any():  # no two segments of a document start together: ids never decide
        return np.asarray(first, dtype=np.int64)
    names = np.asarray(segment_ids, dtype=object)
    return np.asarray(np.lexsort((names, start, rank)), dtype=np.int64)


def applied_from_masks(
    units: npt.NDArray[np.int64],
    masks: npt.NDArray[np.int64],
    n_codes: int,
    n_units: int,
    bits: int = 62,
) -> BoolArray:
    """Codes x coders x units flags from per-unit bit masks: ``masks`` is units x coders x
    blocks, bit j of block b standing for code ``b * bits + j``; ``units`` the positions.

    >>> applied_from_masks(np.array([1]), np.array([[[0b101], [0]]]), 3, 2)[:, 0].tolist()
    [[False, True], [False, False], [False, True]]
    """
    n_coders = masks.shape[1]
    applied = np.zeros((n_codes, n_coders, n_units), dtype=bool)
    for first in range(0, n_codes, bits):
        block = masks[:, :, first // bits]
        width = min(bits, n_codes - first)
        flags = (block[:, :, None] >> np.arange(width, dtype=np.int64)) & 1  # units x coders
        applied[first : first + width, :, units] = flags.transpose(2, 1, 0).astype(bool)
    return applied


def study_of(
    applied: BoolArray,
    completed: BoolArray,
    assigned: BoolArray,
    code_ids: Sequence[str],
    coders: Sequence[str],
    segment_ids: npt.NDArray[np.object_],
    document_ids: npt.NDArray[np.object_],
) -> Study:
    """A :class:`Study` from flags already in :func:`unit_order`: codes x coders x units
    ``applied`` (submitted codings), coders x units ``completed`` and ``assigned`` (a coder
    has the unit, submitted or not). Its segments are those some coder has or applied a code
    to, as in :func:`build_study` from the same coders' rows."""
    used = assigned.any(axis=0) | completed.any(axis=0) | applied.any(axis=(0, 1))
    done = completed[:, used]
    cube = np.where(applied[:, :, used], np.int8(1), (done.astype(np.int8) - 1)[None, :, :])
    return Study(
        cube.astype(np.int8, copy=False),
        done,
        tuple(code_ids),
        tuple(coders),
        segment_ids[used],
        document_ids[used],
    )


@dataclass(frozen=True, eq=False)
class Consensus:
    """The consensus of the coders as arrays (codes x units): the final code where it is
    settled, and where it is settled for that code alone or for every code at once."""

    final: BoolArray  # the code stands: decided to apply, or (undecided) applied by someone
    settled_by_code: BoolArray  # two or more coders submitted, and the code is not open
    settled: BoolArray  # units: two or more coders submitted, and no code is open


def consensus(applied: BoolArray, completed: BoolArray, decisions: Int8Array) -> Consensus:
    """The consensus from every coder's submitted codings (codes x coders x units), their
    submissions (coders x units) and the standing decisions (codes x units: 1 apply, -1
    reject, 0 none), unit by unit as :func:`coding.review.final_codes` says: a code is open
    where the coders disagree on it (:func:`coding.review.is_disagreement`) and no decision
    stands; a decision, where one stands, says whether the code is final.

    >>> applied = np.array([[[1, 1], [1, 0]]], dtype=bool)  # one code, two coders, two units
    >>> c = consensus(applied, np.ones((2, 2), dtype=bool), np.zeros((1, 2), dtype=np.int8))
    >>> c.final.tolist(), c.settled_by_code.tolist(), c.settled.tolist()
    ([[True, True]], [[True, False]], [True, False])
    """
    submitted = completed.sum(axis=0)
    yes = applied.sum(axis=1)
    decided = decisions != 0
    is_open = ~decided & is_disagreement(yes, submitted[None, :])
    final = np.where(decided, decisions > 0, yes > 0)
    several = submitted >= 2
    return Consensus(final, several[None, :] & ~is_open, several & ~is_open.any(axis=0))
