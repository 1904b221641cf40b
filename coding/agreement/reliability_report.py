"""What the reliability calculator returns: a frozen report, and its JSON form.

Every statistic is a :class:`Coefficient`: a value, or None plus the reason it is undefined
(never a placeholder), and its 95% bootstrap interval when one was asked for. Statistics given
per category are a :class:`ByCategory`. ``notes`` lists every reason and caveat in the order the
outputs show them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from coding.agreement.bootstrap import AlphaBootstrap
from coding.agreement.coincidence import AlphaResult

Label = str | int | float
Setting = str | int | tuple[int, int] | None
Summary = dict[str, str | int | float | None]


@dataclass(frozen=True, slots=True)
class Coefficient:
    """One statistic; ``value`` None comes with its ``reason``.

    ``interval`` is the 95% bootstrap interval (low, high) when one was asked for and is
    defined; ``interval_reason`` says why an asked-for interval is None.
    """

    name: str
    value: float | None
    reason: str | None = None
    interval: tuple[float, float] | None = None
    interval_reason: str | None = None

    def __post_init__(self) -> None:
        if self.value is None and not self.reason:
            raise ValueError(f"{self.name} is undefined without a reason")
        if self.interval is not None and self.interval_reason is not None:
            raise ValueError(f"{self.name} has an interval and a reason it has none")

    @property
    def bootstrapped(self) -> bool:
        """Whether an interval was asked for (it may still be undefined)."""
        return self.interval is not None or self.interval_reason is not None


def alpha_coefficients(name: str, result: AlphaResult, why_not: str) -> list[Coefficient]:
    """Alpha and its observed and expected disagreement; ``why_not`` explains a missing
    disagreement when the result gives no reason of its own."""
    reason = result.reason or why_not
    return [
        Coefficient(name, result.alpha, result.reason),
        Coefficient(
            f"{name}_observed_disagreement",
            result.observed,
            None if result.observed is not None else reason,
        ),
        Coefficient(
            f"{name}_expected_disagreement",
            result.expected,
            None if result.expected is not None else reason,
        ),
    ]


@dataclass(frozen=True, slots=True)
class ByCategory:
    """One statistic for each category, None where undefined."""

    name: str
    values: tuple[tuple[Label, float | None], ...]


@dataclass(frozen=True, slots=True)
class ReliabilityReport:
    """Every statistic that applies to some reliability data, in display order.

    ``level``, ``distance``, ``weights`` and ``n_pairable_units`` are None for spans, which
    have a ``continuum`` instead. ``alpha_difference`` names alpha's difference function.
    ``alpha_bootstrap`` is set when ``bootstrap_replicates`` > 0.
    """

    layout: str
    n_units: int
    n_coders: int
    categories: tuple[Label, ...]
    statistics: tuple[Coefficient | ByCategory, ...]
    notes: tuple[tuple[str, str], ...]
    level: str | None = None
    distance: str | None = None
    weights: str | None = None
    n_pairable_units: int | None = None
    continuum: tuple[int, int] | None = None
    alpha_difference: str | None = None
    bootstrap_replicates: int = 0
    alpha_bootstrap: AlphaBootstrap | None = None

    def coefficient(self, name: str) -> Coefficient:
        """The statistic called ``name``; KeyError when it does not apply to this data."""
        for entry in self.statistics:
            if isinstance(entry, Coefficient) and entry.name == name:
                return entry
        raise KeyError(name)

    def value(self, name: str) -> float | None:
        """The value of the statistic called ``name`` (None: undefined, see its reason)."""
        return self.coefficient(name).value

    def by_category(self, name: str) -> dict[Label, float | None]:
        """The per-category statistic called ``name``; KeyError when there is none."""
        for entry in self.statistics:
            if isinstance(entry, ByCategory) and entry.name == name:
                return dict(entry.values)
        raise KeyError(name)

    def settings(self) -> Iterator[tuple[str, Setting]]:
        """What the data and options were, in display order."""
        yield "layout", self.layout
        if self.continuum is not None:
            yield "continuum", self.continuum
        else:
            yield "level", self.level
            yield "distance", self.distance
            yield "weights", self.weights
        yield "n_units", self.n_units
        if self.n_pairable_units is not None:
            yield "n_pairable_units", self.n_pairable_units
        yield "n_coders", self.n_coders

    def rows(self) -> Iterator[tuple[str, Coefficient | ByCategory | str]]:
        """The statistics in display order, alpha's difference function just before alpha."""
        for entry in self.statistics:
            if entry.name == "krippendorff_alpha" and self.alpha_difference is not None:
                yield "alpha_difference", self.alpha_difference
            yield entry.name, entry

    def bootstrap_summary(self) -> Summary | None:
        """Alpha's bootstrap (method, interval, q, draws) when its interval is defined."""
        boot = self.alpha_bootstrap
        if boot is None or boot.ci_low is None or boot.ci_high is None:
            return None
        summary: Summary = {
            "method": boot.method,
            "ci95_lower": boot.ci_low,
            "ci95_upper": boot.ci_high,
        }
        summary.update({f"q_fail_alpha_min_{a:.3f}": q for a, q in boot.q_fail.items()})
        if boot.method == "units":
            summary["units_resampled"] = boot.draws
            summary["undefined_replicates"] = boot.undefined_replicates
        else:
            summary["M_draws"] = boot.draws
        summary["n_pairable_values"] = boot.n_pairable_values
        summary["replicates"] = boot.replicates
        return summary

    def to_dict(self) -> dict[str, object]:
        """The report as plain data (the JSON output): names to values, ``<name>_ci`` intervals
        as [low, high], per-category statistics as dicts, and ``notes``."""
        out: dict[str, object] = {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in self.settings()
        }
        out["categories"] = list(self.categories)
        for name, entry in self.rows():
            if isinstance(entry, Coefficient):
                out[name] = entry.value
            elif isinstance(entry, ByCategory):
                out[name] = dict(entry.values)
            else:
                out[name] = entry
        if self.alpha_bootstrap is not None:
            alpha = self.coefficient("krippendorff_alpha")
            out["bootstrap_replicates"] = self.bootstrap_replicates
            out["krippendorff_alpha_ci_method"] = self.alpha_bootstrap.method
            out["krippendorff_alpha_ci"] = _interval(alpha)
            summary = self.bootstrap_summary()
            if summary is not None:
                out["krippendorff_alpha_bootstrap"] = summary
            for entry in self.statistics:
                if isinstance(entry, Coefficient) and entry is not alpha and entry.bootstrapped:
                    out[f"{entry.name}_ci"] = _interval(entry)
        out["notes"] = dict(self.notes)
        return out


def _interval(coefficient: Coefficient) -> list[float] | None:
    return None if coefficient.interval is None else list(coefficient.interval)
