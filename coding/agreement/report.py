"""Agreement on study data: per-code matrices, the agreement report and the disagreement list.

The unit is the segment, with one coders x segments matrix of 1/0/NaN per code: 1 where the
coder applied the code, 0 where the coder completed the segment without applying it, NaN where
the coder did not complete it (and did not apply the code).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from coding.agreement import kappa
from coding.agreement.bootstrap import alpha_bootstrap, unit_bootstrap
from coding.agreement.coincidence import (
    NO_PAIRABLE,
    ONE_CODER,
    alpha_from_coincidences,
    coincidences,
)
from coding.agreement.ratings import Ratings, from_codes

BY = ("code", "document", "code-document")
ALL_CODES = "*"
OVERALL = "overall"
BINARY = (0, 1)
PARADOX_AGREEMENT = 0.85
PARADOX_KAPPA = 0.6
EXTREME_PREVALENCE = 0.2

Int8Array = npt.NDArray[np.int8]


def alpha_band(alpha: float | None) -> str | None:
    """Krippendorff's (2004, 2019) reading: >= .800 reliable, >= .667 tentative, else unreliable.

    >>> alpha_band(0.81), alpha_band(0.7), alpha_band(0.5), alpha_band(None)
    ('reliable', 'tentative', 'unreliable', None)
    """
    if alpha is None or np.isnan(alpha):
        return None
    if alpha >= 0.800:
        return "reliable"
    return "tentative" if alpha >= 0.667 else "unreliable"


def kappa_band(value: float | None) -> str | None:
    """Landis & Koch (1977): poor < 0 <= slight <= .20 < fair <= .40 < moderate <= .60 <
    substantial <= .80 < almost perfect.

    >>> kappa_band(0.85), kappa_band(0.5), kappa_band(-0.1)
    ('almost perfect', 'moderate', 'poor')
    """
    if value is None or np.isnan(value):
        return None
    for bound, name in (
        (0.80, "almost perfect"),
        (0.60, "substantial"),
        (0.40, "moderate"),
        (0.20, "fair"),
    ):
        if value > bound:
            return name
    return "slight" if value >= 0 else "poor"


@dataclass(frozen=True, eq=False)
class _Study:
    cube: Int8Array  # codes x coders x segments: 1, 0, or -1 (not completed)
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


def _study(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None,
    segments: pd.DataFrame | None = None,
) -> _Study:
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
    return _Study(cube, codes, coder_list, names[order], documents[document[order]])


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
    study = _study(annotations, assignments, code_ids, coders, segments)
    matrices: dict[str, pd.DataFrame] = {}
    for k, code_id in enumerate(study.code_ids):
        values = study.cube[k].astype(np.float64)
        values[values < 0] = np.nan
        frame = pd.DataFrame(values, index=list(study.coders), columns=study.segment_ids)
        frame.index.name, frame.columns.name = "coder", "segment_id"
        matrices[code_id] = frame
    return matrices


def _ratings(codes: Int8Array, coders: tuple[str, ...]) -> Ratings:
    """Ratings of the coders with at least one coding in a coders x units matrix of -1/0/1."""
    active: npt.NDArray[np.bool_] = np.asarray((codes >= 0).any(axis=1), dtype=bool)
    kept = tuple(c for c, a in zip(coders, active.tolist(), strict=True) if a)
    return from_codes(codes[active].astype(np.int64), BINARY, kept)


def _value(array: npt.NDArray[np.float64]) -> float | None:
    value = float(array[0])
    return None if np.isnan(value) else value


def _row(ratings: Ratings, bootstrap: int, rng: np.random.Generator) -> dict[str, Any]:
    freq = ratings.freq[None, :]
    n_coders = ratings.n_coders or 0
    pair = n_coders == 2
    coded = float(freq[0] @ ratings.coded)
    row: dict[str, Any] = {
        "n_units": ratings.n_pairable,
        "n_coders": n_coders,
        "prevalence": float(freq[0] @ ratings.counts[:, 1]) / coded if coded else None,
    }
    enough = n_coders >= 2 and ratings.n_pairable > 0
    stats = {
        "percent_agreement": kappa.percent_agreement,
        "cohen_kappa": kappa.cohen_kappa if pair else None,
        "scott_pi": kappa.scott_pi if pair else None,
        "fleiss_kappa": kappa.fleiss_kappa,
        "gwet_ac1": kappa.gwet_ac,
        "brennan_prediger": kappa.brennan_prediger,
    }
    for name, stat in stats.items():
        row[name] = _value(stat(ratings, freq)) if stat is not None and enough else None
    matrix = coincidences(ratings) if enough else np.zeros((2, 2))
    alpha = alpha_from_coincidences(matrix, 1.0 - np.eye(2))
    row["krippendorff_alpha"] = alpha.alpha
    for name in ("krippendorff_alpha", "cohen_kappa"):
        row[f"{name}_ci_low"] = row[f"{name}_ci_high"] = None
    if bootstrap > 0 and enough:
        boot = alpha_bootstrap(matrix, 1.0 - np.eye(2), n_coders, bootstrap, rng)
        row["krippendorff_alpha_ci_low"], row["krippendorff_alpha_ci_high"] = (
            boot.ci_low,
            boot.ci_high,
        )
        if pair and row["cohen_kappa"] is not None:
            ci = unit_bootstrap(ratings, {"cohen_kappa": kappa.cohen_kappa}, bootstrap, rng)
            interval = ci["cohen_kappa"]
            if interval is not None:
                row["cohen_kappa_ci_low"], row["cohen_kappa_ci_high"] = interval
    kappa_value = row["cohen_kappa"] if pair else row["fleiss_kappa"]
    row["alpha_band"] = alpha_band(row["krippendorff_alpha"])
    row["kappa_band"] = kappa_band(kappa_value)
    row["note"] = _note(row, n_coders, ratings.n_pairable, alpha.reason, kappa_value)
    return row


def _note(
    row: dict[str, Any],
    n_coders: int,
    n_pairable: int,
    alpha_reason: str | None,
    kappa_value: float | None,
) -> str:
    if n_coders < 2:
        return ONE_CODER
    if n_pairable == 0:
        return NO_PAIRABLE
    notes = []
    if alpha_reason:
        notes.append(f"alpha and kappa undefined: {alpha_reason}")
    pa, prevalence = row["percent_agreement"], row["prevalence"]
    if (
        pa is not None
        and kappa_value is not None
        and prevalence is not None
        and pa >= PARADOX_AGREEMENT
        and kappa_value < PARADOX_KAPPA
        and min(prevalence, 1.0 - prevalence) < EXTREME_PREVALENCE
    ):
        rare = "rare" if prevalence < 0.5 else "very common"
        notes.append(
            f"kappa paradox: {pa:.0%} agreement but kappa {kappa_value:.2f} because the code is "
            f"{rare} (prevalence {prevalence:.1%}); see gwet_ac1 and brennan_prediger"
        )
    return "; ".join(notes)


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def _document_slices(document_ids: npt.NDArray[np.object_]) -> list[tuple[str, slice]]:
    if document_ids.size == 0:
        return []
    starts = np.flatnonzero(np.r_[True, document_ids[1:] != document_ids[:-1]])
    ends = np.r_[starts[1:], document_ids.size]
    return [
        (str(document_ids[a]), slice(int(a), int(b))) for a, b in zip(starts, ends, strict=True)
    ]


def agreement_table(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    segments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
    by: str = "code",
    bootstrap: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """The agreement report: one row per code, document or (code, document), plus ``overall``.

    Rows pooled over codes (``by="document"`` and the overall row) treat every (segment, code)
    pair as one 0/1 unit. ``scope`` says what a row covers; ``code_id`` is ``"*"`` on rows
    pooled over codes. CIs are NaN unless ``bootstrap`` > 0: alpha's by Krippendorff's
    algorithm, Cohen's kappa's by resampling segments.
    """
    if by not in BY:
        raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(BY)}")
    study = _study(annotations, assignments, code_ids, coders, segments)
    cube = study.cube
    with_document = by != "code"
    rows: list[dict[str, Any]] = []

    def add(scope: str, code_id: str, document_id: str | None, codes: Int8Array) -> None:
        key = f"{scope}\x1f{code_id}\x1f{document_id}"
        row: dict[str, Any] = {"scope": scope, "code_id": code_id}
        if with_document:
            row["document_id"] = document_id
        row.update(_row(_ratings(codes, study.coders), bootstrap, _rng(seed, key)))
        rows.append(row)

    if by == "code":
        for k, code_id in enumerate(study.code_ids):
            add("code", code_id, None, cube[k])
    elif by == "document":
        for document_id, part in _document_slices(study.document_ids):
            add("document", ALL_CODES, document_id, _pool(cube[:, :, part]))
    else:
        for document_id, part in _document_slices(study.document_ids):
            for k, code_id in enumerate(study.code_ids):
                add("code-document", code_id, document_id, cube[k, :, part])
    add(OVERALL, OVERALL, OVERALL if with_document else None, _pool(cube))
    return pd.DataFrame(rows)


def _pool(cube: Int8Array) -> Int8Array:
    """Codes x coders x segments to coders x (code, segment) units."""
    return np.ascontiguousarray(cube.transpose(1, 0, 2)).reshape(cube.shape[1], -1)


def disagreements(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    segments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per (segment, code) where the coders who completed it differ.

    Columns: segment_id, document_id, code_id, start, end, text, coders_applied,
    coders_not_applied (sorted lists). Sorted by document, start and codebook order.
    """
    study = _study(annotations, assignments, code_ids, coders, segments)
    cube = study.cube
    split = ((cube == 1).any(axis=1)) & ((cube == 0).any(axis=1))
    seg_idx, code_idx = np.nonzero(split.T)
    names = np.array(study.coders, dtype=object)
    applied = [
        sorted(names[cube[k, :, s] == 1].tolist()) for s, k in zip(seg_idx, code_idx, strict=True)
    ]
    not_applied = [
        sorted(names[cube[k, :, s] == 0].tolist()) for s, k in zip(seg_idx, code_idx, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "segment_id": study.segment_ids[seg_idx],
            "document_id": study.document_ids[seg_idx],
            "code_id": np.array(study.code_ids, dtype=object)[code_idx],
            "coders_applied": applied,
            "coders_not_applied": not_applied,
        }
    )
    info = segments.drop_duplicates("segment_id")[["segment_id", "start", "end", "text"]]
    info = info.assign(segment_id=info["segment_id"].astype(str))
    frame = frame.merge(info, on="segment_id", how="left", sort=False)
    columns = [
        "segment_id",
        "document_id",
        "code_id",
        "start",
        "end",
        "text",
        "coders_applied",
        "coders_not_applied",
    ]
    return frame[columns]
