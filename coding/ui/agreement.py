"""Agreement page: per-code coefficients with CIs and bands, charts, pairwise comparisons."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from coding.errors import CodingError
from coding.service import agreement as agreement_service
from coding.store import Store
from coding.ui import render as html
from coding.ui import state

COEFFICIENTS = {
    "krippendorff_alpha": "Krippendorff's alpha",
    "cohen_kappa": "Cohen's kappa",
    "gwet_ac1": "Gwet's AC1",
    "percent_agreement": "% agreement",
}
SHOWN = (
    "code_id",
    "n_units",
    "prevalence",
    "percent_agreement",
    "cohen_kappa",
    "cohen_kappa_ci_low",
    "cohen_kappa_ci_high",
    "krippendorff_alpha",
    "krippendorff_alpha_ci_low",
    "krippendorff_alpha_ci_high",
    "gwet_ac1",
    "alpha_band",
    "kappa_band",
    "note",
)


@st.cache_data(max_entries=32, show_spinner="Computing agreement…")
def _report(target: str, revision: int, kind: str, bootstrap: int, user: str) -> pd.DataFrame:
    """Cached per study revision (any write changes it) and per user; the service checks
    the user's role on every call that computes."""
    with Store.open(target) as store:
        view = agreement_service.AgreementView(kind)
        return agreement_service.agreement_view(store, user, view, bootstrap=bootstrap, seed=0)


def render() -> None:
    st.title("Agreement")
    target, user = state.study_target(), state.user_name() or ""
    try:
        with state.study() as store:
            revision = store.revision()
            has_suggestions = store.count("suggestions") > 0
    except CodingError as err:
        state.show_error(err)
        return
    bootstrap = st.select_slider(
        "Bootstrap resamples for confidence intervals",
        options=[0, 200, 500, 1000],
        value=0,
        key="agr-bootstrap",
    )
    try:
        table = _report(target or "", revision, "coders", bootstrap, user)
    except CodingError as err:
        st.info(html.md(state.error_text(err)))
        return
    st.subheader("Per code")
    st.dataframe(_shown(table), hide_index=True, width="stretch")
    st.altair_chart(coefficient_chart(table), width="stretch")
    st.subheader("Coder x coder")
    _pairwise(target or "", revision, "pairwise", bootstrap, user)
    st.subheader("Coder x NLP")
    if has_suggestions:
        _pairwise(target or "", revision, "nlp", 0, user)
    else:
        st.caption("No NLP suggestions in this study yet (run 'coding suggest').")
    st.subheader("Before and after consensus")
    st.caption(
        "Each coder compared with the consensus coding (resolved decisions plus codes "
        "all coders agreed on), beside the coders' agreement with each other above."
    )
    _pairwise(target or "", revision, "consensus", 0, user)


def _pairwise(target: str, revision: int, kind: str, bootstrap: int, user: str) -> None:
    try:
        table = _report(target, revision, kind, bootstrap, user)
    except CodingError as err:
        st.info(html.md(state.error_text(err)))
        return
    columns = ["pair", *[c for c in SHOWN if c in table.columns]]
    st.dataframe(table[columns], hide_index=True, width="stretch")


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    return table[[c for c in SHOWN if c in table.columns]]


def coefficient_chart(table: pd.DataFrame) -> alt.FacetChart:
    """One panel per code: each coefficient as a point, with its CI where there is one."""
    rows = []
    for rec in table.to_dict("records"):
        for column, label in COEFFICIENTS.items():
            value = rec.get(column)
            if value is None or pd.isna(value):
                continue
            low, high = rec.get(f"{column}_ci_low"), rec.get(f"{column}_ci_high")
            rows.append(
                {
                    "code": str(rec.get("code_id")),
                    "coefficient": label,
                    "value": float(value),
                    "low": None if low is None or pd.isna(low) else float(low),
                    "high": None if high is None or pd.isna(high) else float(high),
                }
            )
    data = pd.DataFrame(rows, columns=["code", "coefficient", "value", "low", "high"])
    base = alt.Chart(data).encode(y=alt.Y("coefficient:N", title=None))
    points = base.mark_point(filled=True, size=80).encode(
        x=alt.X("value:Q", scale=alt.Scale(domain=[-0.2, 1]), title="value"),
        color=alt.Color("coefficient:N", legend=None),
        tooltip=["code", "coefficient", alt.Tooltip("value:Q", format=".3f")],
    )
    bars = base.mark_rule().encode(x="low:Q", x2="high:Q")
    tentative = base.mark_rule(strokeDash=[4, 4], color="#bbb").encode(x=alt.datum(0.667))
    good = base.mark_rule(strokeDash=[4, 4], color="#888").encode(x=alt.datum(0.8))
    layered = alt.layer(tentative, good, bars, points, data=data)
    return layered.properties(height=110, width=420).facet(
        facet=alt.Facet("code:N", title=None), columns=2
    )


if __name__ == "__main__":
    render()
