"""Resolve page (reviewer view): the queue of disagreements, one segment at a time.

For each segment: the unit highlighted in its context, each coder's codes side by side, the
NLP suggestion with its evidence, the codebook entry, and a decision with a rationale.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import pandas as pd
import streamlit as st

from coding.errors import CodingError
from coding.model import Code
from coding.service import assignment as assignment_service
from coding.service import attributes as attribute_service
from coding.service import queue as queue_service
from coding.service import review as review_service
from coding.service.queue import QueueCounts, QueueState
from coding.store import Store
from coding.ui import decision, evidence, state, widgets
from coding.ui import render as html

PAGE_SIZE = 25
STATES = {"Open": QueueState.OPEN, "Resolved": QueueState.RESOLVED, "All": QueueState.ALL}
PANEL = "resolve-panel"  # the fragment's key: a decision reruns only this panel
PIN = "queue-pin"  # (segment_id, queue position): a unit kept in view after it left the queue
FILTER = "queue"  # the queue's attribute filter (``widgets.attribute_filter``)


def render() -> None:
    st.title("Resolve")
    try:
        with state.study() as store:
            codes = store.codebook().codebook.codes
            coders = store.coders(kind="human")
            document_ids = assignment_service.document_ids(store, state.user_name() or "")
            attributes = attribute_service.list_attributes(store, state.user_name() or "")
    except CodingError as err:
        state.show_error(err)
        return
    cols = st.columns([2, 2, 2, 2, 3] if attributes else [2, 2, 2, 3], vertical_alignment="bottom")
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
    if attributes:
        with cols[3]:
            widgets.attribute_filter(attributes, key=FILTER, on_change=_reset)
    cols[-1].radio("Show", list(STATES), horizontal=True, key=state.QUEUE_STATE, on_change=_reset)
    panel(codes)


def _or(everything: str) -> Callable[[str], str]:
    """A filter's label: the value, or what an empty filter means."""
    return lambda value: value or everything


def _reset() -> None:
    st.session_state[state.QUEUE_POS] = 0
    st.session_state.pop(PIN, None)


def _queue(
    store: Store, user: str, offset: int, limit: int | None = PAGE_SIZE
) -> tuple[pd.DataFrame, QueueCounts]:
    """The page of the queue at ``offset`` under the current filters (None: to the end)."""
    return queue_service.review_queue(
        store,
        user,
        code_id=st.session_state.get(state.QUEUE_CODE) or None,
        document_id=st.session_state.get(state.QUEUE_DOC) or None,
        coder=st.session_state.get(state.QUEUE_CODER) or None,
        attribute=widgets.chosen_filter(FILTER),
        state=STATES[st.session_state.get(state.QUEUE_STATE, "Open")],
        limit=limit if limit is not None else 2**62,
        offset=offset,
    )


@st.fragment(key=PANEL)
def panel(codes: tuple[Code, ...]) -> None:
    user = state.user_name()
    if not user:  # signed out while this panel's rerun was queued: the page draws sign-in
        return
    state.show_flash()
    pos = int(st.session_state.get(state.QUEUE_POS, 0))
    pin = st.session_state.get(PIN)
    if pin is not None and pin[1] != pos:  # the reviewer moved on: back to the queue
        del st.session_state[PIN]
        pin = None
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
        if page.empty and pin is None:
            st.success("The queue is empty: nothing to resolve with these filters.")
            return
        sid = pin[0] if pin is not None else str(page["segment_id"].iloc[pos - offset])
        item = queue_service.review_item(store, user, sid)
    colours = {c.id: html.code_colour(c, i) for i, c in enumerate(codes)}
    by_id = {c.id: c for c in codes}
    if counts.items:
        widgets.pager(
            pos,
            counts.items,
            position_key=state.QUEUE_POS,
            key="queue",
            where="in the queue" + widgets.filter_note(FILTER),
        )
    if pin is not None:
        st.info(
            "Your undo took this unit out of the queue shown; it stays here until you move "
            "on (Previous, Next or a row of the table)."
        )
    _unit(item, colours, by_id)
    _coders(item, by_id, colours)
    left, right = st.columns([3, 2], gap="large")
    with left:
        if not item.standing.empty:
            _standing(item, by_id)
        decision.form(item, by_id)
    with right:
        _suggestions(item, by_id)
        st.markdown("**Codebook**")
        for code_id in item.disputed:
            with st.expander(html.md(_name(by_id, code_id))):
                if code_id in by_id:
                    st.html(html.codebook_entry(by_id[code_id]))
        _notes(item, by_id)
    if not page.empty:
        _queue_table(page, offset)


def _name(codes: dict[str, Code], code_id: str) -> str:
    return codes[code_id].name if code_id in codes else code_id


def _unit(item: queue_service.QueueItem, colours: dict[str, str], codes: dict[str, Code]) -> None:
    """The unit in its context, with the coders' spans and the NLP evidence highlighted."""
    segment = item.context.segment
    spans = [
        html.Span(
            int(r.start),
            int(r.end),
            colours.get(r.code_id, "#eee"),
            f"{r.coder}: {_name(codes, r.code_id)}",
        )
        for r in item.spans.itertuples()
    ]
    names = {c: code.name for c, code in codes.items()}
    hints = []
    for row in item.suggestions.itertuples():
        found = evidence.read_evidence(str(row.evidence), segment.text, segment.start, names)
        label = f"NLP ({row.engine}) for {_name(codes, row.code_id)}"
        hints += [
            html.Span(a, b, colours.get(row.code_id, "#eee"), f"{label}: {why}", evidence=True)
            for a, b, why in found.spans
        ]
    caption = f"{item.context.title} · unit {segment.position + 1} · disputed: " + ", ".join(
        _name(codes, c) for c in item.disputed
    )
    st.html(
        html.unit_in_context(
            item.context.before,
            html.highlight(segment.text, spans + hints, segment.start),
            item.context.after,
            caption,
        )
    )
    if spans or hints:
        filled = dict.fromkeys(str(c) for c in item.spans["code_id"])
        key = [(_name(codes, c), colours.get(c, "#eee")) for c in filled]
        overlap = any(a.start < b.end and b.start < a.end for a, b in combinations(spans, 2))
        st.html(html.legend(key, overlap=overlap, evidence=bool(hints)))


def _coders(item: queue_service.QueueItem, codes: dict[str, Code], colours: dict[str, str]) -> None:
    cols = st.columns(max(len(item.coders), 1))
    for col, coder in zip(cols, item.coders, strict=False):
        with col:
            st.markdown(f"**{html.md(coder)}**")
            labels = [
                (("⚠ " if c in item.disputed else "") + _name(codes, c), colours.get(c, "#eee"))
                for c in item.codes_of(coder)
            ]
            st.html(html.chips(labels))
            if item.memos_by_coder.get(coder):
                st.text(f"Memo: {item.memos_by_coder[coder]}")


def _standing(item: queue_service.QueueItem, codes: dict[str, Code]) -> None:
    """The standing decisions, with the form that undoes them beside them."""
    sid = item.segment_id
    table, undo = st.columns([3, 2], vertical_alignment="bottom")
    with table:
        st.markdown("**Standing decisions**")
        shown = item.standing.assign(
            code=[_name(codes, c) for c in item.standing["code_id"]],
            when=[str(at)[:16].replace("T", " ") for at in item.standing["at"]],  # ISO, UTC
        )
        st.dataframe(
            shown[["code", "decision", "reviewer", "rationale", "when"]],
            hide_index=True,
            width="stretch",
        )
    with undo, st.form(f"undo-{sid}"):
        st.text_input("Why undo?", key=f"undo-why-{sid}")
        widgets.field_error(f"undo-error-{sid}")
        st.form_submit_button("Undo decision", on_click=_undo, args=(sid,))


def _undo(segment_id: str) -> None:
    why = str(st.session_state.get(f"undo-why-{segment_id}", ""))
    user = state.user_name() or ""
    try:
        with state.study() as store:
            seen = dict(st.session_state.get(f"seen-{segment_id}", {}))
            ids = review_service.undo(store, user, segment_id, why, seen=seen)
            _keep_in_view(store, user, segment_id)
    except CodingError as err:
        st.session_state[f"undo-error-{segment_id}"] = state.error_text(err)
        return
    st.session_state[f"undo-why-{segment_id}"] = ""
    state.flash("success", f"Undone: {len(ids)} decision(s) withdrawn (kept in the history).")


def _keep_in_view(store: Store, user: str, segment_id: str) -> None:
    """Stay on ``segment_id``: at its place in the queue, or pinned when it left the queue."""
    everything, _ = _queue(store, user, 0, limit=None)
    where = everything.index[everything["segment_id"] == segment_id]
    if len(where):
        st.session_state[state.QUEUE_POS] = int(where[0])
        st.session_state.pop(PIN, None)
    else:
        st.session_state[PIN] = (segment_id, int(st.session_state.get(state.QUEUE_POS, 0)))


def _suggestions(item: queue_service.QueueItem, codes: dict[str, Code]) -> None:
    st.markdown("**NLP suggestion**")
    if item.suggestions.empty:
        st.caption("No suggestion for the disputed codes.")
        return
    segment = item.context.segment
    names = {c: code.name for c, code in codes.items()}
    for row in item.suggestions.itertuples():
        st.markdown(
            f"{html.md(_name(codes, row.code_id))}: score **{row.score:.2f}** "
            f"({html.md(row.engine)})"
        )
        found = evidence.read_evidence(str(row.evidence), segment.text, segment.start, names)
        for line in found.lines:
            st.caption(html.md(line))


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
