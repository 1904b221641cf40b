"""Agreement on unitizing: Krippendorff's u-alpha and character-level kappa over coded spans.

The data are spans ``[start, end)`` on a continuum ``[begin, end)``, each by one coder with one
code. For a code c, each coder's continuum is cut into *sections*: the spans coded c, and the
gaps between them. u-alpha (Krippendorff 2004, sec. 12.4; 1995) compares the sections of every
ordered pair of coders:

* two overlapping c-spans differ by ``(b_g - b_h)^2 + (e_g - e_h)^2``;
* a c-span lying inside the other coder's gap differs by its squared length;
* every other pair (two gaps, partial overlap of a span and a gap) differs by 0.

``Do_c = sum / (m (m-1) L^2)``. The expected disagreement ``De_c`` considers every placement
of the observed spans in the observed gaps:
``De_c = 2/L * sum_g [(N_c - 1)(2l^3 - 3l^2 + l)/3 + l^2 sum_{gaps h, len_h >= l}(len_h - l + 1)]
/ (m L (m L - 1) - sum_g l (l - 1))`` over the N_c c-spans g of all coders (length l).
The overall value is ``1 - sum_c Do_c / sum_c De_c``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coding.agreement import kappa
from coding.agreement.coincidence import NO_VARIATION, ONE_CODER, AlphaResult
from coding.agreement.ratings import FloatArray, IntArray, Ratings, category_counts
from coding.agreement.reliability_report import (
    ByCategory,
    Coefficient,
    ReliabilityReport,
    alpha_coefficients,
)
from coding.errors import InvalidInput, Problem


@dataclass(frozen=True, slots=True)
class Span:
    """One coded stretch ``[start, end)`` of the continuum."""

    coder: str
    start: int
    end: int
    code: str


@dataclass(frozen=True, slots=True)
class UnitizingResult:
    """u-alpha per code and overall (``1 - sum Do / sum De``)."""

    by_code: dict[str, AlphaResult]
    overall: AlphaResult


@dataclass(frozen=True, slots=True)
class _Sections:
    starts: IntArray
    ends: IntArray
    is_unit: npt.NDArray[np.bool_]


def _sections(units: Sequence[tuple[int, int]], begin: int, end: int) -> _Sections:
    starts: list[int] = []
    ends: list[int] = []
    flags: list[bool] = []
    pos = begin
    for s, e in sorted(units):
        if s > pos:
            starts.append(pos)
            ends.append(s)
            flags.append(False)
        starts.append(s)
        ends.append(e)
        flags.append(True)
        pos = e
    if pos < end:
        starts.append(pos)
        ends.append(end)
        flags.append(False)
    return _Sections(
        np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), np.array(flags, bool)
    )


def _pair_disagreement(a: _Sections, b: _Sections) -> float:
    """Sum of the differences between the overlapping sections of two coders."""
    cuts = np.union1d(np.concatenate([a.starts, a.ends]), np.concatenate([b.starts, b.ends]))
    lefts = cuts[:-1]
    ia = np.searchsorted(a.starts, lefts, side="right") - 1
    ib = np.searchsorted(b.starts, lefts, side="right") - 1
    pairs = np.unique(ia * len(b.starts) + ib)
    ia, ib = pairs // len(b.starts), pairs % len(b.starts)
    sa, ea, ua = a.starts[ia], a.ends[ia], a.is_unit[ia]
    sb, eb, ub = b.starts[ib], b.ends[ib], b.is_unit[ib]
    both = ua & ub
    a_in_gap = ua & ~ub & (sa >= sb) & (ea <= eb)
    b_in_gap = ub & ~ua & (sb >= sa) & (eb <= ea)
    total = np.where(both, (sa - sb) ** 2 + (ea - eb) ** 2, 0)
    total += np.where(a_in_gap, (ea - sa) ** 2, 0) + np.where(b_in_gap, (eb - sb) ** 2, 0)
    return float(total.sum())


def _code_alpha(sections: list[_Sections], length: int) -> AlphaResult:
    m = len(sections)
    if m < 2:
        return AlphaResult(None, None, None, 0.0, ONE_CODER)
    disagreement = 0.0
    for i in range(m):
        for j in range(i + 1, m):
            disagreement += 2.0 * _pair_disagreement(sections[i], sections[j])
    observed = disagreement / (m * (m - 1) * float(length) ** 2)
    unit_len = np.concatenate([(s.ends - s.starts)[s.is_unit] for s in sections]).astype(float)
    gap_len = np.sort(
        np.concatenate([(s.ends - s.starts)[~s.is_unit] for s in sections]).astype(float)
    )
    n_units = unit_len.size
    # sum over gaps with len >= l of (len - l + 1), via a suffix sum over the sorted gaps
    suffix = np.concatenate([np.cumsum(gap_len[::-1])[::-1], [0.0]])
    first = np.searchsorted(gap_len, unit_len, side="left")
    fits = suffix[first] - (gap_len.size - first) * (unit_len - 1.0)
    per_unit = (n_units - 1) * (2 * unit_len**3 - 3 * unit_len**2 + unit_len) / 3.0
    per_unit += unit_len**2 * fits
    total_len = float(m * length)
    denominator = total_len * (total_len - 1.0) - float((unit_len * (unit_len - 1.0)).sum())
    expected = 2.0 / length * float(per_unit.sum()) / denominator
    if expected <= 0:
        return AlphaResult(None, observed, expected, float(m * length), NO_VARIATION)
    return AlphaResult(1.0 - observed / expected, observed, expected, float(m * length))


def _by_coder_and_code(
    spans: Iterable[Span], coders: Sequence[str] | None
) -> tuple[list[str], list[str], dict[tuple[str, str], list[tuple[int, int]]]]:
    spans = list(spans)
    coder_list = list(coders) if coders is not None else sorted({s.coder for s in spans})
    codes = sorted({s.code for s in spans if s.coder in coder_list})
    units: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for s in spans:
        if s.coder in coder_list:
            units.setdefault((s.coder, s.code), []).append((s.start, s.end))
    return coder_list, codes, units


def u_alpha(
    spans: Iterable[Span], begin: int, end: int, coders: Sequence[str] | None = None
) -> UnitizingResult:
    """Krippendorff's u-alpha for each code and overall, on the continuum ``[begin, end)``.

    ``coders`` defaults to every coder with a span (a listed coder without spans coded nothing).

    >>> s = [Span("i", 0, 5, "c"), Span("j", 0, 5, "c")]
    >>> u_alpha(s, 0, 10).by_code["c"].alpha
    1.0
    """
    if end <= begin:
        raise ValueError("the continuum must have a positive length")
    coder_list, codes, units = _by_coder_and_code(spans, coders)
    length = end - begin
    by_code = {
        code: _code_alpha(
            [_sections(units.get((coder, code), []), begin, end) for coder in coder_list], length
        )
        for code in codes
    }
    defined = [r for r in by_code.values() if r.observed is not None and r.expected is not None]
    if len(coder_list) < 2 or not defined:
        return UnitizingResult(by_code, AlphaResult(None, None, None, 0.0, ONE_CODER))
    observed = sum(r.observed for r in defined if r.observed is not None)
    expected = sum(r.expected for r in defined if r.expected is not None)
    n = float(len(coder_list) * length)
    if expected <= 0:
        overall = AlphaResult(None, observed, expected, n, NO_VARIATION)
    else:
        overall = AlphaResult(1.0 - observed / expected, observed, expected, n)
    return UnitizingResult(by_code, overall)


def _character_types(
    coder_list: Sequence[str],
    code: str,
    units: dict[tuple[str, str], list[tuple[int, int]]],
    begin: int,
    end: int,
) -> tuple[IntArray, FloatArray]:
    """Stretches of constant coverage: which coders covered each with ``code``; lengths."""
    per_coder = [sorted(units.get((c, code), [])) for c in coder_list]
    cuts = {begin, end}
    for spans in per_coder:
        for s, e in spans:
            cuts.update((max(begin, min(s, end)), max(begin, min(e, end))))
    edges = np.array(sorted(cuts), dtype=np.int64)
    lefts, lengths = edges[:-1], np.diff(edges).astype(np.float64)
    covered = np.zeros((lefts.size, len(coder_list)), dtype=np.int64)
    for g, spans in enumerate(per_coder):
        for s, e in spans:
            covered[(lefts >= s) & (lefts < e), g] = 1
    return covered, lengths


def character_kappa(
    spans: Iterable[Span], begin: int, end: int, coders: Sequence[str] | None = None
) -> tuple[dict[str, float | None], float | None]:
    """Kappa on characters (NVivo-style): per code and pooled over codes.

    Every character of ``[begin, end)`` is a unit that each coder either coded with the code (1)
    or not (0). Two coders give Cohen's kappa, more give Fleiss' kappa. Pooled: every
    (character, code) pair is a unit.
    """
    coder_list, codes, units = _by_coder_and_code(spans, coders)
    if len(coder_list) < 2:
        return dict.fromkeys(codes), None
    stat = kappa.cohen_kappa if len(coder_list) == 2 else kappa.fleiss_kappa
    results: dict[str, float | None] = {}
    all_types: list[IntArray] = []
    all_freq: list[FloatArray] = []
    for code in codes:
        types, lengths = _character_types(coder_list, code, units, begin, end)
        all_types.append(types)
        all_freq.append(lengths)
        ratings = Ratings((0, 1), category_counts(types, 2), lengths, types, tuple(coder_list))
        value = float(stat(ratings, lengths[None, :])[0])
        results[code] = None if np.isnan(value) else value
    if not codes:
        return results, None
    types, lengths = np.concatenate(all_types), np.concatenate(all_freq)
    pooled = Ratings((0, 1), category_counts(types, 2), lengths, types, tuple(coder_list))
    value = float(stat(pooled, lengths[None, :])[0])
    return results, None if np.isnan(value) else value


def unitizing_report(
    spans: Sequence[Span], coders: Sequence[str] | None, continuum: tuple[int, int] | None
) -> ReliabilityReport:
    """The calculator report for spans: u-alpha and character kappa, overall and per code.

    ``continuum`` defaults to the first start to the last end; spans outside it, or an empty
    continuum, raise :class:`~coding.errors.InvalidInput`.
    """
    if not spans:
        raise InvalidInput("data", [Problem("spans", "there are no spans")])
    begin, end = continuum or (min(s.start for s in spans), max(s.end for s in spans))
    problems = [
        Problem(f"span [{s.start},{s.end}) of {s.coder!r}", f"lies outside [{begin},{end})")
        for s in spans
        if s.start < begin or s.end > end
    ]
    if end <= begin:
        problems.append(Problem("--continuum", f"end {end} is not after begin {begin}"))
    if problems:
        raise InvalidInput("--continuum", problems)
    coder_list = list(coders) if coders is not None else sorted({s.coder for s in spans})
    unitized = u_alpha(spans, begin, end, coder_list)
    by_char, pooled_char = character_kappa(spans, begin, end, coder_list)
    overall = unitized.overall
    codes = sorted(unitized.by_code)
    u_alpha_by: dict[str, dict[str, float | None]] = {
        "krippendorff_u_alpha_by_category": {c: r.alpha for c, r in unitized.by_code.items()},
        "krippendorff_u_alpha_observed_disagreement_by_category": {
            c: r.observed for c, r in unitized.by_code.items()
        },
        "krippendorff_u_alpha_expected_disagreement_by_category": {
            c: r.expected for c, r in unitized.by_code.items()
        },
    }
    statistics: tuple[Coefficient | ByCategory, ...] = (
        *alpha_coefficients("krippendorff_u_alpha", overall, ONE_CODER),
        *(ByCategory(name, tuple(values.items())) for name, values in u_alpha_by.items()),
        Coefficient(
            "character_kappa",
            pooled_char,
            None if pooled_char is not None else _character_kappa_reason(len(coder_list)),
        ),
        ByCategory("character_kappa_by_category", tuple(by_char.items())),
    )
    notes = [
        (f"krippendorff_u_alpha[{c}]", r.reason) for c, r in unitized.by_code.items() if r.reason
    ]
    if overall.reason:
        notes.append(("krippendorff_u_alpha", overall.reason))
    return ReliabilityReport(
        layout="spans",
        continuum=(begin, end),
        n_units=sum(1 for s in spans if s.coder in coder_list),
        n_coders=len(coder_list),
        categories=tuple(codes),
        statistics=statistics,
        notes=tuple(notes),
    )


def _character_kappa_reason(n_coders: int) -> str:
    if n_coders < 2:
        return ONE_CODER
    return kappa.CHANCE_IS_ONE
