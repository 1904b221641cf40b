"""Resolve page (reviewer view): the queue of disagreements, one segment at a time.

For each segment: the unit highlighted in its context, each coder's codes side by side, the
NLP suggestion with its evidence, the codebook entry, and a decision with a rationale.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import streamlit as st

from coding.errors import CodingError
from coding.model import Code, Decision
from coding.service import assignment as assignment_service
from coding.service import queue as queue_service
from coding.service import review as review_service
from coding.service.queue import Choice, ChoiceKind, QueueCounts, QueueState, choices
from coding.store import Store
from coding.ui import render as html
from coding.ui import state, widgets
from coding.ui.coder import evidence_spans

PAGE_SIZE = 25
STATES = {"Open": QueueState.OPEN, "Resolved": QueueState.RESOLVED, "All": QueueState.ALL}


def render() -> None:
    st.title("Resolve")
    try:
        with state.study() as store:
            codes = store.codebook().codebook.codes
            coders = store.coders(kind="human")
            document_ids = assignment_service.document_ids(store, state.user_name() or "")
    except CodingError as err:
        state.show_error(err)
        return
    cols = st.columns([2, 2, 2, 3])
    filters: tuple[tuple[str, list[str], str, str], ...] = (
        ("Code", [c.id for c in codes], state.QUEUE_CODE, "All codes"),
        ("Document", document_ids, state.QUEUE_DOC, "All documents"),
        ("Coder", coders, state.QUEUE_CODER, "All coders"),
    )
    for col, (label, options, key, everything) in zip(cols, filters, strict=False):
        col.selectbox(
            label,
            ["", *options],
            key=key,
            format_func=_or(everything),
            on_change=_reset,
        )
    cols[3].radio("Show", list(STATES), horizontal=True, key=state.QUEUE_STATE, on_change=_reset)
    panel(codes)


def _or(everything: str) -> Callable[[str], str]:
    """A filter's label: the value, or what an empty filter means."""
    return lambda value: value or everything


def _reset() -> None:
    st.session_state[state.QUEUE_POS] = 0


def _queue(store: Store, user: str, offset: int) -> tuple[pd.DataFrame, QueueCounts]:
    """The page of the queue at ``offset`` under the current filters."""
    return queue_service.review_queue(
        store,
        user,
        code_id=st.session_state.get(state.QUEUE_CODE) or None,
        document_id=st.session_state.get(state.QUEUE_DOC) or None,
        coder=st.session_state.get(state.QUEUE_CODER) or None,
        state=STATES[st.session_state.get(state.QUEUE_STATE, "Open")],
        limit=PAGE_SIZE,
        offset=offset,
    )


@st.fragment
def panel(codes: tuple[Code, ...]) -> None:
    state.show_flash()
    user = state.user_name() or ""
    pos = int(st.session_state.get(state.QUEUE_POS, 0))
    offset = pos - pos % PAGE_SIZE
    with state.study() as store:
        page, counts = _queue(store, user, offset)
        if counts.items and pos >= counts.items:
            st.session_state[state.QUEUE_POS] = pos = counts.items - 1
            offset = pos - pos % PAGE_SIZE
            page, counts = _queue(store, user, offset)
        share = counts.resolved / counts.pairs if counts.pairs else 1.0
        st.progress(
            share,
            text=f"{counts.resolved} of {counts.pairs} disagreements resolved; "
            f"{counts.items} units in this queue",
        )
        if page.empty:
            st.success("The queue is empty: nothing to resolve with these filters.")
            return
        item = queue_service.review_item(store, user, str(page["segment_id"].iloc[pos - offset]))
    colours = {c.id: html.code_colour(c, i) for i, c in enumerate(codes)}
    by_id = {c.id: c for c in codes}
    widgets.pager(
        pos, counts.items, position_key=state.QUEUE_POS, key="queue", where="in the queue"
    )
    _unit(item, colours)
    _coders(item, by_id, colours)
    left, right = st.columns([3, 2], gap="large")
    with left:
        if not item.standing.empty:
            _standing(item)
        _decision_form(item, by_id)
    with right:
        _suggestions(item, by_id)
        st.markdown("**Codebook**")
        for code_id in item.disputed:
            with st.expander(html.md(by_id[code_id].name if code_id in by_id else code_id)):
                if code_id in by_id:
                    st.html(html.codebook_entry(by_id[code_id]))
        _notes(item, by_id)
    _queue_table(page, offset)


def _unit(item: queue_service.QueueItem, colours: dict[str, str]) -> None:
    segment = item.context.segment
    spans = [
        html.Span(
            int(r.start), int(r.end), colours.get(r.code_id, "#eee"), f"{r.coder}: {r.code_id}"
        )
        for r in item.spans.itertuples()
    ]
    for row in item.suggestions.itertuples():
        spans += evidence_spans(str(row.evidence), row.code_id, colours.get(row.code_id, "#eee"))
    caption = (
        f"{item.context.title} · unit {segment.position + 1} · disputed: {', '.join(item.disputed)}"
    )
    st.html(
        html.unit_in_context(
            item.context.before,
            html.highlight(segment.text, spans, segment.start),
            item.context.after,
            caption,
        )
    )


def _coders(item: queue_service.QueueItem, codes: dict[str, Code], colours: dict[str, str]) -> None:
    cols = st.columns(max(len(item.coders), 1))
    for col, coder in zip(cols, item.coders, strict=False):
        with col:
            st.markdown(f"**{html.md(coder)}**")
            labels = [
                (
                    ("⚠ " if c in item.disputed else "") + (codes[c].name if c in codes else c),
                    colours.get(c, "#eee"),
                )
                for c in item.codes_of(coder)
            ]
            st.html(html.chips(labels))
            if item.memos_by_coder.get(coder):
                st.text(f"Memo: {item.memos_by_coder[coder]}")


def _standing(item: queue_service.QueueItem) -> None:
    st.markdown("**Standing decisions**")
    st.dataframe(
        item.standing[["code_id", "decision", "reviewer", "rationale", "at"]],
        hide_index=True,
        width="stretch",
    )
    with st.form(f"undo-{item.segment_id}"):
        st.text_input("Why undo?", key=f"undo-why-{item.segment_id}")
        st.form_submit_button("Undo decision", on_click=_undo, args=(item.segment_id,))


def _undo(segment_id: str) -> None:
    why = str(st.session_state.get(f"undo-why-{segment_id}", ""))
    try:
        with state.study() as store:
            seen = dict(st.session_state.get(f"seen-{segment_id}", {}))
            ids = review_service.undo(store, state.user_name() or "", segment_id, why, seen=seen)
    except CodingError as err:
        state.flash_error(err)
        return
    state.flash("success", f"Undone: {len(ids)} decision(s) withdrawn (kept in the history).")


def _choice_label(item: queue_service.QueueItem, codes: dict[str, Code]) -> dict[Choice, str]:
    labels = {}
    for choice in choices(item.unit):
        if choice.kind is ChoiceKind.OTHER:
            labels[choice] = "Other: choose the codes below"
            continue
        decided = item.decisions(choice)
        applied = [
            codes[c].name if c in codes else c for c, d in decided.items() if d is Decision.APPLY
        ]
        name = (
            f"Accept {choice.coder}"
            if choice.kind is ChoiceKind.ACCEPT
            else choice.kind.value.capitalize()
        )
        labels[choice] = html.md(f"{name}: {', '.join(applied) or 'none of the codes'}")
    return labels


def _decision_form(item: queue_service.QueueItem, codes: dict[str, Code]) -> None:
    labels = _choice_label(item, codes)
    sid = item.segment_id
    # The decisions this reviewer is looking at: a decision made by someone else meanwhile
    # makes theirs fail instead of silently overriding it.
    st.session_state[f"seen-{sid}"] = {
        str(r.code_id): int(r.id) for r in item.standing.itertuples(index=False)
    }
    with st.form(f"decide-{sid}"):
        st.markdown("**Decision**")
        st.radio("Final codes", list(labels), format_func=labels.__getitem__, key=f"choice-{sid}")
        agreed = item.unit.agreed()
        st.multiselect(
            "Codes for 'Other'",
            list(codes),
            default=sorted(agreed),
            format_func=lambda c: codes[c].name,
            key=f"other-{sid}",
        )
        st.text_area(
            "Rationale (required)",
            key=f"why-{sid}",
            height=80,
            placeholder="Why this is the consensus coding, for the record",
        )
        st.form_submit_button("Record decision", type="primary", on_click=_decide, args=(sid,))
    st.caption("Ctrl+Enter in the rationale records the decision.")


def _decide(segment_id: str) -> None:
    choice = st.session_state.get(f"choice-{segment_id}")
    why = str(st.session_state.get(f"why-{segment_id}", ""))
    if not isinstance(choice, Choice):
        state.flash_error(CodingError("choose a decision first"))
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
        state.flash_error(err)
        return
    state.flash("success", f"Recorded {len(ids)} decision(s).")
    if STATES[st.session_state.get(state.QUEUE_STATE, "Open")] is not QueueState.OPEN:
        st.session_state[state.QUEUE_POS] = int(st.session_state.get(state.QUEUE_POS, 0)) + 1


def _suggestions(item: queue_service.QueueItem, codes: dict[str, Code]) -> None:
    st.markdown("**NLP suggestion**")
    if item.suggestions.empty:
        st.caption("No suggestion for the disputed codes.")
        return
    for row in item.suggestions.itertuples():
        name = codes[row.code_id].name if row.code_id in codes else row.code_id
        st.markdown(f"{html.md(name)}: score **{row.score:.2f}** ({html.md(row.engine)})")
        st.caption(html.md(describe_evidence(str(row.evidence))))


def describe_evidence(evidence: str) -> str:
    """One line of plain text from a suggestion's evidence JSON."""
    try:
        data = json.loads(evidence) if evidence else None
    except json.JSONDecodeError:
        return evidence[:200]
    if isinstance(data, list):
        return (
            "Matched: " + "; ".join(str(s.get("text", "")) for s in data if isinstance(s, dict))
            if data
            else "No evidence."
        )
    if isinstance(data, dict):
        terms = ", ".join(
            str(t.get("term", "")) for t in data.get("terms", []) if isinstance(t, dict)
        )
        return f"Top terms: {terms}" if terms else json.dumps(data)[:200]
    return "No evidence."


def _notes(item: queue_service.QueueItem, codes: dict[str, Code]) -> None:
    st.markdown("**Codebook notes**")
    if not item.notes.empty:
        for row in item.notes.head(5).itertuples():
            st.text(f"{row.code_id} · {row.author}: {row.note}")
    sid = item.segment_id
    with st.form(f"note-{sid}"):
        st.selectbox(
            "Code",
            item.disputed or list(codes),
            key=f"note-code-{sid}",
            format_func=lambda c: codes[c].name if c in codes else c,
        )
        st.text_input(
            "Issue (for example: the definition is ambiguous here)", key=f"note-text-{sid}"
        )
        st.form_submit_button("Add note", on_click=_add_note, args=(sid,))


def _add_note(segment_id: str) -> None:
    code_id = str(st.session_state.get(f"note-code-{segment_id}", ""))
    text = str(st.session_state.get(f"note-text-{segment_id}", ""))
    try:
        with state.study() as store:
            review_service.add_code_note(store, state.user_name() or "", code_id, text, segment_id)
    except CodingError as err:
        state.flash_error(err)
        return
    st.session_state[f"note-text-{segment_id}"] = ""
    state.flash("success", f"Note added on {code_id}.")


def _queue_table(page: pd.DataFrame, offset: int) -> None:
    st.caption(f"Queue units {offset + 1}-{offset + len(page)} (click a row to open it)")
    shown = page.assign(**{"#": range(offset + 1, offset + len(page) + 1)})
    shown = shown[["#", "document_id", "position", "pairs", "open"]].rename(
        columns={"position": "unit", "pairs": "disputed codes"}
    )
    shown["unit"] = shown["unit"] + 1
    widgets.unit_table(shown, offset=offset, position_key=state.QUEUE_POS, key="queue", height=240)


if __name__ == "__main__":
    render()
