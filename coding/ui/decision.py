"""The reviewer's decision on one unit of the Resolve page: the choices, each labelled with
what it keeps, a rationale, and errors shown beside the field they are about."""

from __future__ import annotations

import streamlit as st

from coding.errors import CodingError
from coding.model import Code, Decision
from coding.service import queue as queue_service
from coding.service import review as review_service
from coding.service.queue import Choice, ChoiceKind, choices
from coding.ui import render as html
from coding.ui import state, widgets


def _name(codes: dict[str, Code], code_id: str) -> str:
    return codes[code_id].name if code_id in codes else code_id


def choice_labels(item: queue_service.QueueItem, codes: dict[str, Code]) -> dict[Choice, str]:
    """Each choice with what it takes and what the unit's codes would be once recorded:
    "Accept ben: Emotion regulation + Parent-child attachment (agreed)"."""
    agreed = item.unit.agreed()
    order = {c: i for i, c in enumerate(codes)}
    labels = {}
    for choice in choices(item.unit):
        if choice.kind is ChoiceKind.OTHER:
            labels[choice] = "Other: the codes you choose below"
            continue
        decided = item.decisions(choice)
        applied = {c for c, d in decided.items() if d is Decision.APPLY}
        kept = applied | {c for c in agreed if decided.get(c) is not Decision.REJECT}
        shown = [
            _name(codes, c) + (" (agreed)" if c in agreed else "")
            for c in sorted(kept, key=lambda c: (order.get(c, len(order)), c))
        ]
        lead = {
            ChoiceKind.ACCEPT: f"Accept {choice.coder}",
            ChoiceKind.MERGE: "Merge (every code a coder applied)",
            ChoiceKind.NEITHER: "Neither (drop the disputed codes)",
        }[choice.kind]
        labels[choice] = html.md(f"{lead}: {' + '.join(shown) or 'no codes'}")
    return labels


def form(item: queue_service.QueueItem, codes: dict[str, Code]) -> None:
    labels = choice_labels(item, codes)
    sid = item.segment_id
    # The decisions this reviewer is looking at: a decision made by someone else meanwhile
    # makes theirs fail instead of silently overriding it.
    st.session_state[f"seen-{sid}"] = {
        str(r.code_id): int(r.id) for r in item.standing.itertuples(index=False)
    }
    with st.form(f"decide-{sid}"):
        st.markdown("**Decision**")
        st.radio(
            "Final codes",
            list(labels),
            index=None,
            format_func=labels.__getitem__,
            key=f"choice-{sid}",
        )
        widgets.field_error(f"choice-error-{sid}")
        st.multiselect(
            "Codes for 'Other'",
            list(codes),
            default=sorted(item.unit.agreed()),
            format_func=lambda c: codes[c].name,
            key=f"other-{sid}",
        )
        st.text_area(
            "Rationale (required)",
            key=f"why-{sid}",
            height=80,
            placeholder="Why this is the consensus coding, for the record",
        )
        widgets.field_error(f"why-error-{sid}")
        st.form_submit_button("Record decision", type="primary", on_click=_decide, args=(sid,))
    widgets.field_error(f"decide-error-{sid}")
    st.caption("Ctrl+Enter in the rationale records the decision.")


def _decide(segment_id: str) -> None:
    choice = st.session_state.get(f"choice-{segment_id}")
    why = str(st.session_state.get(f"why-{segment_id}", ""))
    if not isinstance(choice, Choice):
        st.session_state[f"choice-error-{segment_id}"] = "Choose a decision first."
        return
    if choice.kind is ChoiceKind.OTHER:
        choice = Choice.other(list(st.session_state.get(f"other-{segment_id}", [])))
    try:
        with state.study() as store:
            seen = dict(st.session_state.get(f"seen-{segment_id}", {}))
            ids = review_service.decide(
                store, state.user_name() or "", segment_id, choice, why, seen=seen
            )
    except CodingError as err:
        # The rationale's own errors go beside the rationale; anything else under the form.
        place = "why" if "rationale" in str(err) else "decide"
        st.session_state[f"{place}-error-{segment_id}"] = state.error_text(err)
        return
    state.flash("success", f"Recorded {len(ids)} decision(s).")
    if st.session_state.get(state.QUEUE_STATE, "Open") != "Open":  # it stays in the queue
        st.session_state[state.QUEUE_POS] = int(st.session_state.get(state.QUEUE_POS, 0)) + 1
