"""The standalone reliability calculator: every coefficient that applies to one data file."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from functools import partial

import numpy as np

from coding.agreement import kappa
from coding.agreement.bootstrap import (
    ALPHA_CI_METHODS,
    AlphaBootstrap,
    Statistic,
    alpha_bootstrap,
    alpha_unit_bootstrap,
    unit_bootstrap,
)
from coding.agreement.coincidence import (
    DISTANCES,
    LEVELS,
    NO_PAIRABLE,
    ONE_CODER,
    Distance,
    Level,
    alpha_from_coincidences,
    coincidences,
    distance_matrix,
    level_distances,
)
from coding.agreement.layouts import (
    SET_SEPARATOR,
    CategoryCounts,
    CodingTable,
    Contingency,
    Parsed,
    Source,
    SpanTable,
    canonical_layout,
    parse_number,
    read_layout,
)
from coding.agreement.ratings import (
    FloatArray,
    Ratings,
    from_codes,
    from_contingency,
    from_unit_counts,
)
from coding.agreement.reliability_report import (
    ByCategory,
    Coefficient,
    Label,
    ReliabilityReport,
    alpha_coefficients,
)
from coding.agreement.unitizing import unitizing_report
from coding.errors import InvalidInput, Problem

Weights = str | Callable[[Hashable, Hashable], float]
SET_DISTANCES = ("masi", "jaccard")
NEEDS_PAIR = "needs exactly two coders"
UNDEFINED_INTERVAL = "undefined in every bootstrap replicate"
NO_IDENTITY = "needs to know which coder gave which code; the counts layout does not say"


def reliability(
    data: Source | Parsed,
    layout: str,
    level: str = "nominal",
    distance: str | Distance | None = None,
    weights: Weights | None = None,
    coders: Sequence[str] | None = None,
    continuum: tuple[int, int] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    alpha_ci: str = "krippendorff",
) -> ReliabilityReport:
    """Every agreement statistic that applies to some reliability data.

    ``data`` is a path, a text stream, a DataFrame of strings or already parsed data in
    ``layout``. ``distance`` (a name in ``DISTANCES`` or a function of two categories) sets
    alpha's difference function; ``weights`` (``linear``, ``quadratic``, ``gwet-ordinal`` or a
    function giving the agreement weight of two categories) weights the kappa family and, when
    neither ``distance`` nor a non-nominal ``level`` is given, alpha (``1 - w``). An undefined
    statistic is None with its reason (also in ``notes``). ``bootstrap`` replicates give each
    defined statistic a 95% ``interval`` and the report an ``alpha_bootstrap``; alpha's
    interval comes from ``alpha_ci``: ``"krippendorff"`` (Hayes & Krippendorff's algorithm, as
    kalpha) or ``"units"`` (resampling units; narrows as units are added).
    """
    layout = canonical_layout(layout)
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    if isinstance(distance, str) and distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}; use one of {', '.join(DISTANCES)}")
    if alpha_ci not in ALPHA_CI_METHODS:
        raise ValueError(f"unknown alpha_ci {alpha_ci!r}; use one of {', '.join(ALPHA_CI_METHODS)}")
    if isinstance(weights, str) and weights not in kappa.WEIGHTS:
        raise ValueError(f"unknown weights {weights!r}; use one of {', '.join(kappa.WEIGHTS)}")
    parsed = data if isinstance(data, Parsed) else read_layout(data, layout)
    if isinstance(parsed, SpanTable):
        if level != "nominal" or distance is not None or weights is not None:
            raise InvalidInput("options", [Problem("spans", "take no level, distance or weights")])
        return unitizing_report(parsed.spans, coders, continuum)
    as_sets = distance in SET_DISTANCES or (isinstance(parsed, CodingTable) and parsed.sets)
    ratings, values = _ratings(parsed, level, as_sets, coders)
    return _coefficients(
        ratings, values, layout, level, distance, weights, bootstrap, seed, alpha_ci
    )


def _label(category: Hashable) -> Label:
    if isinstance(category, frozenset):
        return SET_SEPARATOR.join(sorted(str(c) for c in category))
    if isinstance(category, str | int | float):
        return category
    raise TypeError(f"unexpected category {category!r}")


def _as_set(text: str) -> frozenset[str]:
    return frozenset(part for part in text.split(SET_SEPARATOR) if part)


def _ratings(
    parsed: Parsed, level: str, as_sets: bool, coders: Sequence[str] | None
) -> tuple[Ratings, list[float] | None]:
    numeric = level in ("interval", "ratio")
    if isinstance(parsed, CategoryCounts):
        cats: tuple[Hashable, ...] = parsed.categories
        if as_sets:
            cats = tuple(_as_set(str(c)) for c in cats)
        return from_unit_counts(parsed.counts, cats), _numbers(cats, numeric, "column")
    if isinstance(parsed, Contingency):
        cats = parsed.categories
        if as_sets:
            cats = tuple(_as_set(str(c)) for c in cats)
        return from_contingency(parsed.table, cats), _numbers(cats, numeric, "category")
    if not isinstance(parsed, CodingTable):
        raise TypeError(f"unexpected data {type(parsed).__name__}")
    table = _select_coders(parsed, coders)
    raw = [v for row in table.values for v in row if v is not None]
    convert: Callable[[str], Hashable]
    if as_sets and level == "nominal":
        convert = _as_set
    elif all(parse_number(v) is not None for v in raw):
        convert = parse_number
    else:
        if level != "nominal":
            bad = next(v for v in raw if parse_number(v) is None)
            raise InvalidInput(
                "data", [Problem("values", f"{level} data must be numbers: {bad!r}")]
            )
        convert = str
    lookup = {v: convert(v) for v in set(raw)}
    categories = sorted(set(lookup.values()), key=_sort_key)
    index = {c: i for i, c in enumerate(categories)}
    codes = np.array(
        [[-1 if v is None else index[lookup[v]] for v in row] for row in table.values],
        dtype=np.int64,
    ).reshape(len(table.coders), len(table.units))
    ratings = from_codes(codes, categories, table.coders)
    return ratings, _numbers(tuple(categories), numeric, "value")


def _sort_key(value: Hashable) -> tuple[int, object]:
    if isinstance(value, frozenset):
        return (1, (len(value), sorted(str(v) for v in value)))
    if isinstance(value, int | float):
        return (0, value)
    return (2, str(value))


def _numbers(categories: tuple[Hashable, ...], needed: bool, what: str) -> list[float] | None:
    if not all(isinstance(c, int | float) for c in categories):
        if needed:
            raise InvalidInput("data", [Problem(what, "interval and ratio data must be numbers")])
        return None
    return [float(c) for c in categories if isinstance(c, int | float)]


def _select_coders(table: CodingTable, coders: Sequence[str] | None) -> CodingTable:
    if coders is None:
        return table
    unknown = [c for c in coders if c not in table.coders]
    if unknown:
        problems = [
            Problem(c, f"no such coder (the coders are {', '.join(table.coders)})") for c in unknown
        ]
        raise InvalidInput("--coders", problems)
    rows = [table.values[table.coders.index(c)] for c in coders]
    return CodingTable(tuple(coders), table.units, tuple(rows), table.sets)


def _alpha_delta(
    ratings: Ratings,
    values: list[float] | None,
    level: str,
    distance: str | Distance | None,
    weight_matrix: FloatArray | None,
) -> tuple[FloatArray, str]:
    matrix = coincidences(ratings)
    if distance is not None:
        func = DISTANCES[distance] if isinstance(distance, str) else distance
        name = distance if isinstance(distance, str) else "custom distance"
        return distance_matrix(ratings.categories, func), name
    if level != "nominal" or weight_matrix is None:
        lvl: Level = level  # type: ignore[assignment]
        return level_distances(lvl, values, matrix.sum(axis=0)), level
    return 1.0 - weight_matrix, "1 - weights"


def _kappa_statistics(ratings: Ratings, w: FloatArray | None) -> dict[str, Statistic | str]:
    """Statistic functions by name, or the reason a statistic does not apply."""
    known = ratings.codes is not None
    pair = ratings.n_coders == 2
    stats: dict[str, Statistic | str] = {"percent_agreement": kappa.percent_agreement}
    if w is not None:
        stats["weighted_percent_agreement"] = partial(kappa.percent_agreement, weights=w)
    why_pair = NEEDS_PAIR if known else NO_IDENTITY
    stats["cohen_kappa"] = kappa.cohen_kappa if pair else why_pair
    if w is not None:
        stats["cohen_weighted_kappa"] = partial(kappa.cohen_kappa, weights=w) if pair else why_pair
    stats["scott_pi"] = partial(kappa.scott_pi, weights=w) if pair else why_pair
    stats["fleiss_kappa"] = partial(kappa.fleiss_kappa, weights=w)
    stats["conger_kappa"] = partial(kappa.conger_kappa, weights=w) if known else NO_IDENTITY
    stats["gwet_ac1"] = kappa.gwet_ac
    if w is not None:
        stats["gwet_ac2"] = partial(kappa.gwet_ac, weights=w)
    stats["brennan_prediger"] = partial(kappa.brennan_prediger, weights=w)
    stats["bennett_s"] = kappa.brennan_prediger
    if ratings.q == 2:
        stats["pabak"] = kappa.brennan_prediger
    return stats


def _undefined_reason(ratings: Ratings, name: str) -> str:
    if ratings.n_coders is not None and ratings.n_coders < 2:
        return ONE_CODER
    if ratings.n_pairable == 0:
        return NO_PAIRABLE
    if name == "gwet_ac1" and ratings.q < 2:
        return "needs two or more categories"
    return kappa.CHANCE_IS_ONE


def _kappa_results(
    ratings: Ratings, w: FloatArray | None
) -> tuple[list[Coefficient], dict[str, Statistic]]:
    """The kappa family, and the statistics that are defined (for the bootstrap)."""
    freq = ratings.freq[None, :]
    results: list[Coefficient] = []
    defined: dict[str, Statistic] = {}
    for name, stat in _kappa_statistics(ratings, w).items():
        if isinstance(stat, str):
            results.append(Coefficient(name, None, stat))
            continue
        value = float(stat(ratings, freq)[0])
        if np.isnan(value):
            results.append(Coefficient(name, None, _undefined_reason(ratings, name)))
        else:
            results.append(Coefficient(name, value))
            defined[name] = stat
    return results, defined


def _weight_matrix(ratings: Ratings, weights: Weights | None) -> FloatArray | None:
    """Agreement weights between categories: named, from a function, or None (identity)."""
    if isinstance(weights, str):
        return kappa.weight_matrix(weights, ratings.q)
    if weights is not None:
        return 1.0 - distance_matrix(ratings.categories, lambda a, b: 1.0 - weights(a, b))
    return None


def _fleiss_results(
    ratings: Ratings, kappas: list[Coefficient]
) -> tuple[list[Coefficient], ByCategory]:
    """Fleiss' observed and expected agreement (undefined where percent agreement is), and
    Fleiss' kappa per category."""
    pa = next(c for c in kappas if c.name == "percent_agreement")
    pe = float(kappa.fleiss_expected(ratings, ratings.freq[None, :])[0])
    fleiss = [
        Coefficient("fleiss_observed_agreement_Pbar", pa.value, pa.reason),
        Coefficient("fleiss_expected_agreement_Pe", None if pa.value is None else pe, pa.reason),
    ]
    per_category = kappa.fleiss_category_kappa(ratings)
    category_kappa = ByCategory(
        "fleiss_category_kappa",
        tuple(
            (_label(c), None if np.isnan(v) else float(v))
            for c, v in zip(ratings.categories, per_category, strict=True)
        ),
    )
    return fleiss, category_kappa


def _coefficients(
    ratings: Ratings,
    values: list[float] | None,
    layout: str,
    level: str,
    distance: str | Distance | None,
    weights: Weights | None,
    bootstrap: int,
    seed: int,
    alpha_ci: str = "krippendorff",
) -> ReliabilityReport:
    w = _weight_matrix(ratings, weights)
    n_coders = ratings.n_coders
    if n_coders is None:
        n_coders = int(ratings.coded.max()) if ratings.coded.size else 0
    kappas, defined = _kappa_results(ratings, w)
    fleiss, category_kappa = _fleiss_results(ratings, kappas)
    delta, difference = _alpha_delta(ratings, values, level, distance, w)
    alpha = alpha_from_coincidences(coincidences(ratings), delta)
    if n_coders < 2:
        alpha = type(alpha)(None, None, None, 0.0, ONE_CODER)
    alphas = alpha_coefficients("krippendorff_alpha", alpha, NO_PAIRABLE)
    alpha_boot: AlphaBootstrap | None = None
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        # the units bootstrap recomputes the ordinal metric from each replicate's marginals
        ordinal = distance is None and level == "ordinal"
        units_delta = None if ordinal else delta
        alpha_boot = (
            alpha_unit_bootstrap(ratings, units_delta, bootstrap, rng)
            if alpha_ci == "units"
            else alpha_bootstrap(coincidences(ratings), delta, n_coders, bootstrap, rng)
        )
        alphas[0] = _with_alpha_interval(alphas[0], alpha_boot)
        intervals = unit_bootstrap(ratings, defined, bootstrap, rng)
        kappas = [_with_interval(c, intervals) for c in kappas]
    # the notes in the order the outputs have always listed them
    notes = [(c.name, c.reason) for c in (*kappas, alphas[0], *fleiss, *alphas[1:]) if c.reason]
    if alphas[0].interval_reason is not None:
        notes.append(("krippendorff_alpha_ci", alphas[0].interval_reason))
    return ReliabilityReport(
        layout=layout,
        level=level,
        distance=distance if isinstance(distance, str) or distance is None else "custom",
        weights=weights if isinstance(weights, str) or weights is None else "custom",
        n_units=ratings.n_units,
        n_pairable_units=ratings.n_pairable,
        n_coders=n_coders,
        categories=tuple(_label(c) for c in ratings.categories),
        statistics=(*kappas, *fleiss, category_kappa, *alphas),
        notes=tuple(notes),
        alpha_difference=difference,
        bootstrap_replicates=bootstrap,
        alpha_bootstrap=alpha_boot,
    )


def _with_alpha_interval(alpha: Coefficient, boot: AlphaBootstrap) -> Coefficient:
    if boot.ci_low is None or boot.ci_high is None:
        if boot.reason is None:
            raise ValueError("alpha's bootstrap gave neither an interval nor a reason")
        return replace(alpha, interval_reason=boot.reason)
    return replace(alpha, interval=(boot.ci_low, boot.ci_high))


def _with_interval(
    coefficient: Coefficient, intervals: dict[str, tuple[float, float] | None]
) -> Coefficient:
    if coefficient.name not in intervals:
        return coefficient
    interval = intervals[coefficient.name]
    if interval is None:
        return replace(coefficient, interval_reason=UNDEFINED_INTERVAL)
    return replace(coefficient, interval=interval)
