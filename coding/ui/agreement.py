"""Agreement page: per-code coefficients with intervals and readings, a chart with the .667
and .800 cut-offs, and pairwise comparisons (coder x NLP and coder x consensus first).

Tables are shown with code names, short column labels and every undefined value as a dash
(with a caption saying why), so the page fits 1280 px without sideways scrolling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from coding.errors import CodingError
from coding.service import agreement as agreement_service
from coding.store import Store
from coding.ui import render as html
from coding.ui import state

DASH, ALPHA, KAPPA, TIMES = "\u2013", "\u03b1", "\u03ba", "\u00d7"  # en dash, alpha, kappa, times
A_CI, K_CI, A_READING = f"{ALPHA} (95% CI)", f"{KAPPA} (95% CI)", f"{ALPHA} reading"
FLEISS, CONGER = f"Fleiss' {KAPPA}", f"Conger's {KAPPA}"
RESAMPLES = [0, 200, 500, 1000]
# 1000 resamples add about 0.4 s to the whole page on the demo study (1.3 s against 0.98 s
# without intervals, medians of 5 cold runs), so intervals are on by default.
DEFAULT_RESAMPLES = 1000
CUT_OFFS = ((0.667, "tentative ≥ .667"), (0.800, "reliable ≥ .800"))
ALL_CODES = "All codes (pooled)"
LEADS = {"nlp": "NLP", "consensus": "consensus"}
HELP = {
    "Code": "The code; the last row pools every (unit, code) pair.",
    "Pair": "The two coders compared.",
    "Units": "Units coded by at least two of the coders compared.",
    "Prevalence": "Share of codings that apply the code.",
    "Agreement": "Share of coder pairs that agree (not chance-corrected).",
    A_CI: "Krippendorff's alpha (nominal), with its bootstrap interval.",
    K_CI: "Cohen's kappa (two coders), with its bootstrap interval.",
    FLEISS: "Fleiss' kappa: the kappa for three or more coders.",
    CONGER: "Conger's kappa: Cohen's kappa generalised to three or more coders.",
    "AC1": "Gwet's AC1: robust when a code is rare or very common.",
    A_READING: "Krippendorff: at least .800 reliable, .667 tentative, else unreliable.",
}


@st.cache_resource(max_entries=8, show_spinner=False)
def _live(target: str) -> agreement_service.LiveAgreement:
    """The study's agreement data, kept across reruns and sessions and brought up to date by
    the service after each edit (only the edited units are read again)."""
    return agreement_service.LiveAgreement()


@st.cache_data(max_entries=32, show_spinner="Computing agreement…")
def _tables(target: str, revision: int, bootstrap: int, user: str) -> dict[str, pd.DataFrame | str]:
    """Every table of the page, cached per study revision (any write changes it) and per
    user; the service checks the user's role when it computes, from the study's data kept in
    :func:`_live`: after a coder's save or a reviewer's decision only the rows those units
    change are recomputed."""
    views = list(agreement_service.AgreementView)
    with Store.open(target) as store:
        found = agreement_service.agreement_views(
            store, user, views, bootstrap=bootstrap, live=_live(target)
        )
    return {str(view): table for view, table in found.items()}


def _report(target: str, revision: int, kind: str, bootstrap: int, user: str) -> pd.DataFrame:
    """One table of the page; CodingError with the reason when it cannot be computed."""
    table = _tables(target, revision, bootstrap, user)[kind]
    if isinstance(table, str):
        raise CodingError(table)
    return table


def render() -> None:
    st.title("Agreement")
    target, user = state.study_target() or "", state.user_name() or ""
    try:
        with state.study() as store:
            revision = store.revision()
            has_suggestions = store.count("suggestions") > 0
            names = {c.id: c.name for c in store.codebook().codebook.codes}
    except CodingError as err:
        state.show_error(err)
        return
    bootstrap = int(
        st.select_slider(
            "Bootstrap resamples for the 95% intervals (0: no intervals)",
            options=RESAMPLES,
            value=DEFAULT_RESAMPLES,
            key="agr-bootstrap",
        )
    )
    try:
        table = _report(target, revision, "coders", bootstrap, user)
    except CodingError as err:
        st.info(html.md(state.error_text(err)))
        return
    multi = coders_in(table) >= 3
    st.subheader("Per code")
    _show(per_code(table, names, bootstrap, multi=multi), table, names, bootstrap)
    st.altair_chart(coefficient_chart(table, names, multi=multi), width="stretch")
    st.subheader("Coder x coder")
    _pairwise(target, revision, "pairwise", bootstrap, user, names)
    st.subheader("Coder x NLP")
    if has_suggestions:
        _pairwise(target, revision, "nlp", bootstrap, user, names)
    else:
        st.caption("No NLP suggestions in this study yet: an admin runs them for the study.")
    st.subheader("Before and after consensus")
    st.caption(
        "Each coder compared with the consensus coding (resolved decisions plus codes "
        "all coders agreed on), beside the coders' agreement with each other."
    )
    _pairwise(target, revision, "consensus", bootstrap, user, names)


def _pairwise(
    target: str, revision: int, kind: str, bootstrap: int, user: str, names: dict[str, str]
) -> None:
    try:
        table = _report(target, revision, kind, bootstrap, user)
    except CodingError as err:
        st.info(html.md(state.error_text(err)))
        return
    _show(pairwise(table, names, bootstrap, lead=kind), table, names, bootstrap)


def _show(shown: pd.DataFrame, table: pd.DataFrame, names: dict[str, str], bootstrap: int) -> None:
    """A display table with short labels and help, then what its dashes and notes mean."""
    config: dict[str, Any] = {
        c: st.column_config.TextColumn(c, help=HELP.get(c)) for c in shown.columns
    }
    config["Units"] = st.column_config.NumberColumn("Units", help=HELP["Units"], format="%d")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)
    dashes = shown.astype(str).apply(lambda column: column.str.contains(DASH)).to_numpy().any()
    if not bootstrap:
        st.caption("Intervals are off (0 resamples): choose resamples above to see them.")
    if dashes:
        st.caption(
            html.md(
                f"{DASH}: undefined (fewer than two coders on a unit, or no variation to "
                f"measure); ({DASH}): the bootstrap gave no interval (no variation in the "
                "resampled units)."
            )
        )
    found = notes(table, names)
    if found:
        with st.expander(f"Notes ({len(found)})"):
            for line in found:
                st.caption(html.md(line))


def coders_in(table: pd.DataFrame) -> int:
    """How many coders a per-code table compares."""
    counts = pd.to_numeric(table.get("n_coders", pd.Series(dtype=float)), errors="coerce")
    return int(counts.max()) if counts.notna().any() else 0


def number(value: Any, digits: int = 3) -> str:
    """A coefficient for the table: "0.819", or a dash when undefined.

    >>> number(0.81873), number(None) == number(float("nan")) == DASH
    ('0.819', True)
    """
    return DASH if _missing(value) else f"{float(value):.{digits}f}"


def with_interval(value: Any, low: Any, high: Any, bootstrap: int) -> str:
    """A coefficient with its interval, "0.819 (0.637-0.934)" with an en dash; a dash in
    brackets where the bootstrap gave none; the value alone when intervals are off.

    >>> with_interval(0.8, 0.6, 0.9, 1000) == f"0.800 (0.600{DASH}0.900)"
    True
    >>> with_interval(0.8, None, None, 1000) == f"0.800 ({DASH})"
    True
    >>> with_interval(None, None, None, 1000) == DASH, with_interval(0.8, 0.6, 0.9, 0)
    (True, '0.800')
    """
    if _missing(value):
        return DASH
    if not bootstrap:
        return number(value)
    if _missing(low) or _missing(high):
        return f"{number(value)} ({DASH})"
    return f"{number(value)} ({number(low)}{DASH}{number(high)})"


def percent(value: Any) -> str:
    """A share as "95.8%", or a dash when undefined."""
    return DASH if _missing(value) else f"{100 * float(value):.1f}%"


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _code_name(rec: Mapping[str, Any], names: dict[str, str]) -> str:
    if rec.get("scope") == "overall":
        return ALL_CODES
    code_id = str(rec.get("code_id"))
    name = names.get(code_id, code_id)
    return f"{name} (rolled up)" if str(rec.get("rolled_up")) == "True" else name


def _figures(rec: Mapping[str, Any], bootstrap: int, multi: bool) -> dict[str, Any]:
    """The coefficient columns of one row: the kappa family for two coders or for more."""
    row: dict[str, Any] = {
        "Units": int(rec.get("n_units") or 0),
        "Agreement": percent(rec.get("percent_agreement")),
        A_CI: with_interval(
            rec.get("krippendorff_alpha"),
            rec.get("krippendorff_alpha_ci_low"),
            rec.get("krippendorff_alpha_ci_high"),
            bootstrap,
        ),
    }
    if multi:
        row[FLEISS] = number(rec.get("fleiss_kappa"))
        row[CONGER] = number(rec.get("conger_kappa"))
    else:
        row[K_CI] = with_interval(
            rec.get("cohen_kappa"),
            rec.get("cohen_kappa_ci_low"),
            rec.get("cohen_kappa_ci_high"),
            bootstrap,
        )
    row["AC1"] = number(rec.get("gwet_ac1"))
    band = rec.get("alpha_band")
    row[A_READING] = DASH if _missing(rec.get("krippendorff_alpha")) or not band else band
    return row


def per_code(
    table: pd.DataFrame, names: dict[str, str], bootstrap: int, *, multi: bool
) -> pd.DataFrame:
    """The per-code table as shown: names, short labels, numbers formatted."""
    rows = []
    for rec in table.to_dict("records"):
        figures = _figures(rec, bootstrap, multi)
        units = figures.pop("Units")
        rows.append(
            {
                "Code": _code_name(rec, names),
                "Units": units,
                "Prevalence": percent(rec.get("prevalence")),
                **figures,
            }
        )
    return pd.DataFrame(rows)


def pairwise(
    table: pd.DataFrame, names: dict[str, str], bootstrap: int, lead: str = ""
) -> pd.DataFrame:
    """A pairwise table as shown; pairs with NLP or the consensus (``lead``) come first."""
    rows = []
    for rec in table.to_dict("records"):
        pair, second = _pair(rec)
        rows.append(
            {
                "Pair": pair,
                "Code": _code_name(rec, names),
                **_figures(rec, bootstrap, multi=False),
                "_lead": second == lead and lead in LEADS,
            }
        )
    shown = pd.DataFrame(rows)
    if shown.empty:
        return shown
    shown = shown.sort_values("_lead", ascending=False, kind="stable")
    return shown.drop(columns="_lead").reset_index(drop=True)


def _pair(rec: Mapping[str, Any]) -> tuple[str, str]:
    """A row's pair as shown ("amira x NLP" with a times sign), and its second member."""
    first, _, second = str(rec.get("pair", "")).partition(" vs ")
    return f"{first} {TIMES} {LEADS.get(second, second)}", second


def notes(table: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """Each row's note (kappa paradox, undefined values), with its pair and code."""
    lines = []
    for rec in table.to_dict("records"):
        note = str(rec.get("note") or "")
        if note:
            pair = f"{_pair(rec)[0]}, " if rec.get("pair") else ""
            lines.append(f"{pair}{_code_name(rec, names)}: {note}")
    return lines


def coefficient_chart(
    table: pd.DataFrame, names: dict[str, str], *, multi: bool = False
) -> alt.LayerChart | alt.FacetChart:
    """One row per code (by name): each coefficient as a point with its interval, and the
    .667 and .800 cut-offs as labelled lines."""
    kappa = ("fleiss_kappa", FLEISS) if multi else ("cohen_kappa", f"Cohen's {KAPPA}")
    shown = dict([("krippendorff_alpha", f"Krippendorff's {ALPHA}"), kappa, ("gwet_ac1", "AC1")])
    rows = []
    for rec in table.to_dict("records"):
        for column, label in shown.items():
            value = rec.get(column)
            if _missing(value):
                continue
            low, high = rec.get(f"{column}_ci_low"), rec.get(f"{column}_ci_high")
            rows.append(
                {
                    "code": _code_name(rec, names),
                    "coefficient": label,
                    "value": float(value),
                    "low": None if _missing(low) else float(low),
                    "high": None if _missing(high) else float(high),
                }
            )
    data = pd.DataFrame(rows, columns=["code", "coefficient", "value", "low", "high"])
    order = list(dict.fromkeys(_code_name(r, names) for r in table.to_dict("records")))
    lowest = min([0.0, *data["value"].tolist(), *data["low"].dropna().tolist()])
    x = alt.X(
        "value:Q",
        scale=alt.Scale(domain=[lowest, 1]),
        title="Coefficient (1 = perfect agreement, 0 = chance)",
    )
    y = alt.Y("code:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    offset = alt.YOffset("coefficient:N", sort=list(shown.values()))
    colour = alt.Color(
        "coefficient:N", sort=list(shown.values()), legend=alt.Legend(orient="bottom", title=None)
    )
    base = alt.Chart(data).encode(y=y, yOffset=offset, color=colour)
    points = base.mark_point(filled=True, size=70).encode(
        x=x,
        tooltip=["code", "coefficient", alt.Tooltip("value:Q", format=".3f")],
    )
    bars = base.mark_rule().encode(x="low:Q", x2="high:Q")
    cuts = pd.DataFrame(CUT_OFFS, columns=["at", "label"])
    lines = alt.Chart(cuts).mark_rule(strokeDash=[4, 4], color="#888").encode(x="at:Q")
    style: dict[str, Any] = {"baseline": "top", "dy": 2, "color": "#555", "fontSize": 11}
    # .667 to the left of its line, .800 to the right: the two labels never overlap
    left = alt.Chart(cuts.iloc[[0]]).mark_text(align="right", dx=-3, **style)
    right = alt.Chart(cuts.iloc[[1]]).mark_text(align="left", dx=3, **style)
    labels = [c.encode(x="at:Q", y=alt.value(0), text="label:N") for c in (left, right)]
    chart = alt.layer(lines, *labels, bars, points)
    # A fixed step per coefficient (not a fixed height): every code's name fits beside it.
    return chart.properties(height=alt.Step(step=12, **{"for": "offset"}))


if __name__ == "__main__":
    render()
