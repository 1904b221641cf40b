"""The agreement report on study data: per code, per document or both, plus an overall row.

The unit is the segment, with one coders x segments matrix of 1/0/NaN per code: 1 where the
coder applied the code, 0 where the coder completed the segment without applying it, NaN where
the coder did not complete it (and did not apply the code).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from coding.agreement import kappa
from coding.agreement.bootstrap import (
    ALPHA_CI_METHODS,
    AlphaBootstrap,
    alpha_bootstrap,
    alpha_unit_bootstrap,
    unit_bootstrap,
)
from coding.agreement.coincidence import (
    NO_PAIRABLE,
    ONE_CODER,
    alpha_from_coincidences,
    coincidences,
)
from coding.agreement.memo import RowMemo, fingerprint
from coding.agreement.ratings import Ratings, from_codes
from coding.agreement.sets import set_alpha
from coding.agreement.study import BoolArray, Int8Array, Study, build_study

BY = ("code", "document", "code-document")
ALL_CODES = "*"
OVERALL = "overall"
BINARY = (0, 1)
PARADOX_AGREEMENT = 0.85
PARADOX_KAPPA = 0.6
EXTREME_PREVALENCE = 0.2

NOMINAL = 1.0 - np.eye(2)
SET_COLUMNS = {"masi": "krippendorff_alpha_masi", "jaccard": "krippendorff_alpha_jaccard"}


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


def _ratings(codes: Int8Array, coders: tuple[str, ...]) -> Ratings:
    """Ratings of the coders with at least one coding in a coders x units matrix of -1/0/1."""
    active: npt.NDArray[np.bool_] = np.asarray((codes >= 0).any(axis=1), dtype=bool)
    kept = tuple(c for c, a in zip(coders, active.tolist(), strict=True) if a)
    return from_codes(codes[active].astype(np.int64), BINARY, kept)


def _value(array: npt.NDArray[np.float64]) -> float | None:
    value = float(array[0])
    return None if np.isnan(value) else value


def _row(
    ratings: Ratings, bootstrap: int, rng: np.random.Generator, alpha_ci: str
) -> dict[str, Any]:
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
        "fleiss_expected_agreement": kappa.fleiss_expected,
        "conger_kappa": kappa.conger_kappa,
        "gwet_ac1": kappa.gwet_ac,
        "brennan_prediger": kappa.brennan_prediger,
    }
    for name, stat in stats.items():
        row[name] = _value(stat(ratings, freq)) if stat is not None and enough else None
    matrix = coincidences(ratings) if enough else np.zeros((2, 2))
    alpha = alpha_from_coincidences(matrix, NOMINAL)
    row["krippendorff_alpha"] = alpha.alpha
    row["krippendorff_alpha_observed_disagreement"] = alpha.observed if enough else None
    row["krippendorff_alpha_expected_disagreement"] = alpha.expected if enough else None
    row.update(dict.fromkeys(SET_COLUMNS.values()))
    row["n_units_sets"] = None
    for name in ("krippendorff_alpha", "cohen_kappa"):
        row[f"{name}_ci_low"] = row[f"{name}_ci_high"] = None
    row["alpha_ci_method"] = alpha_ci if bootstrap > 0 else None
    ci_reason = None
    if bootstrap > 0 and enough:
        alpha_rng, kappa_rng = rng.spawn(2)  # each CI its own stream: independent of the other
        boot: AlphaBootstrap
        if alpha_ci == "units":
            boot = alpha_unit_bootstrap(ratings, NOMINAL, bootstrap, alpha_rng)
        else:
            boot = alpha_bootstrap(matrix, NOMINAL, n_coders, bootstrap, alpha_rng)
        row["krippendorff_alpha_ci_low"] = boot.ci_low
        row["krippendorff_alpha_ci_high"] = boot.ci_high
        ci_reason = boot.reason if alpha.alpha is not None else None
        if pair and row["cohen_kappa"] is not None:
            ci = unit_bootstrap(ratings, {"cohen_kappa": kappa.cohen_kappa}, bootstrap, kappa_rng)
            interval = ci["cohen_kappa"]
            if interval is not None:
                row["cohen_kappa_ci_low"], row["cohen_kappa_ci_high"] = interval
    kappa_value = row["cohen_kappa"] if pair else row["fleiss_kappa"]
    row["alpha_band"] = alpha_band(row["krippendorff_alpha"])
    row["kappa_band"] = kappa_band(kappa_value)
    kappa_name = "Cohen's kappa" if pair else "Fleiss' kappa"
    row["note"] = _note(row, n_coders, ratings.n_pairable, alpha.reason, kappa_value, kappa_name)
    if ci_reason:
        row["note"] = "; ".join(filter(None, [row["note"], f"no alpha CI: {ci_reason}"]))
    return row


def _add_set_alpha(row: dict[str, Any], applied: BoolArray, completed: BoolArray) -> None:
    """Fill in alpha with each segment's set of codes as the value (MASI and Jaccard)."""
    active = completed.any(axis=1)
    results = set_alpha(applied[:, active], completed[active], tuple(SET_COLUMNS))
    for name, column in SET_COLUMNS.items():
        row[column] = results[name].alpha
    row["n_units_sets"] = int((completed[active].sum(axis=0) >= 2).sum())
    reason = results["masi"].reason
    if reason and row["n_coders"] >= 2 and row["n_units"] > 0:
        row["note"] = "; ".join(
            filter(None, [row["note"], f"set-valued alpha undefined: {reason}"])
        )


def _note(
    row: dict[str, Any],
    n_coders: int,
    n_pairable: int,
    alpha_reason: str | None,
    kappa_value: float | None,
    kappa_name: str = "kappa",
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
            f"kappa paradox: {pa:.0%} agreement but {kappa_name} {kappa_value:.2f} because the "
            "code is "
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
    alpha_ci: str = "units",
) -> pd.DataFrame:
    """The agreement report: one row per code, document or (code, document), plus ``overall``.

    Rows pooled over codes (``by="document"`` and the overall row) treat every (segment, code)
    pair as one 0/1 unit for ``krippendorff_alpha`` and the kappas, and also give alpha with
    each segment's set of codes as the value (``krippendorff_alpha_masi``, ``..._jaccard``,
    over the ``n_units_sets`` segments completed by two or more coders). ``scope`` says what a
    row covers; ``code_id`` is ``"*"`` on rows pooled over codes. CIs are NaN unless
    ``bootstrap`` > 0: alpha's by resampling segments (``alpha_ci="units"``) or by
    Krippendorff's algorithm (``"krippendorff"``), named in ``alpha_ci_method``; Cohen's
    kappa's by resampling segments.
    """
    _check_options(by, alpha_ci)
    study = build_study(annotations, assignments, code_ids, coders, segments)
    return study_table(study, by, bootstrap, seed, alpha_ci)


def _check_options(by: str, alpha_ci: str) -> None:
    if by not in BY:
        raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(BY)}")
    if alpha_ci not in ALPHA_CI_METHODS:
        raise ValueError(f"unknown alpha_ci {alpha_ci!r}; use one of {', '.join(ALPHA_CI_METHODS)}")


def study_table(
    study: Study,
    by: str = "code",
    bootstrap: int = 0,
    seed: int = 0,
    alpha_ci: str = "units",
    memo: RowMemo | None = None,
    pooled: Study | None = None,
) -> pd.DataFrame:
    """:func:`agreement_table` of a :class:`~coding.agreement.study.Study`; rows already in
    ``memo`` (computed from the same unit types, or for pooled rows the same flags, with the
    same settings) are taken from it, the others computed and kept there. The rows pooled
    over codes (per document, overall) pool the codes of ``pooled`` when given (the same
    coders and units; say, the codes as coded while ``study`` rolls parents up)."""
    _check_options(by, alpha_ci)
    memo = RowMemo() if memo is None else memo
    cube = study.cube
    source = study if pooled is None else pooled
    with_document = by != "code"
    rows: list[dict[str, Any]] = []
    settings = (seed, bootstrap, alpha_ci)

    def add(scope: str, code_id: str, document_id: str | None, codes: Int8Array) -> None:
        key = f"{scope}\x1f{code_id}\x1f{document_id}"
        ratings = _ratings(codes, study.coders)
        seen = (key, settings, fingerprint(ratings.freq, _types(ratings)))
        stats = memo.row(seen, lambda: _row(ratings, bootstrap, _rng(seed, key), alpha_ci))
        rows.append(_labelled(scope, code_id, document_id, with_document, stats))

    def add_pooled(scope: str, document_id: str | None, part: slice) -> None:
        code_id = OVERALL if scope == OVERALL else ALL_CODES
        key = f"{scope}\x1f{code_id}\x1f{document_id}"
        flags = (source.cube[:, :, part], source.completed[:, part])

        def compute() -> dict[str, Any]:
            ratings = _ratings(_pool(flags[0]), source.coders)
            stats = _row(ratings, bootstrap, _rng(seed, key), alpha_ci)
            _add_set_alpha(stats, flags[0] == 1, flags[1])
            return stats

        stats = memo.row((key, settings, fingerprint(*flags)), compute)
        rows.append(_labelled(scope, code_id, document_id, with_document, stats))

    if by == "code":
        for k, code_id in enumerate(study.code_ids):
            add("code", code_id, None, cube[k])
    elif by == "document":
        for document_id, part in _document_slices(source.document_ids):
            add_pooled("document", document_id, part)
    else:
        for document_id, part in _document_slices(study.document_ids):
            for k, code_id in enumerate(study.code_ids):
                add("code-document", code_id, document_id, cube[k, :, part])
    add_pooled(OVERALL, OVERALL if with_document else None, slice(None))
    return pd.DataFrame(rows)


def _types(ratings: Ratings) -> npt.NDArray[np.int64]:
    if ratings.codes is None:
        raise ValueError("study ratings always know their coders")
    return ratings.codes


def _labelled(
    scope: str, code_id: str, document_id: str | None, with_document: bool, stats: dict[str, Any]
) -> dict[str, Any]:
    row: dict[str, Any] = {"scope": scope, "code_id": code_id}
    if with_document:
        row["document_id"] = document_id
    row.update(stats)
    return row


def _pool(cube: Int8Array) -> Int8Array:
    """Codes x coders x segments to coders x (code, segment) units."""
    return np.ascontiguousarray(cube.transpose(1, 0, 2)).reshape(cube.shape[1], -1)
