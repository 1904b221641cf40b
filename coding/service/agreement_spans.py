"""Span-level agreement for a study: Krippendorff's u-alpha and character-level kappa."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from coding.errors import CodingError
from coding.service.agreement_data import default_coders
from coding.store import Store


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of intervals: a coder's overlapping or touching spans of one code become one."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _covered(spans: Sequence[Any]) -> int:
    """Characters that at least one coder coded (each counted once, however many coded it).

    >>> from coding.agreement import Span
    >>> _covered([Span("amira", 0, 10, "calm"), Span("ben", 5, 12, "calm")])
    12
    """
    return sum(end - start for start, end in _merged([(s.start, s.end) for s in spans]))


def span_report(store: Store, coders: Sequence[str] | None = None) -> pd.DataFrame:
    """Span-level agreement: Krippendorff's u-alpha and character-level kappa.

    The continuum is each document's whole text; text no coder coded counts as "not coded" by
    every coder (as in NVivo's coding comparison), so documents with little coded text give
    high character agreement. A document takes part only for coders who submitted every one
    of its units; its rows are computed on that document alone, and the ``*`` rows on all
    such documents placed end to end. A coder's overlapping spans of one code are merged.
    ``coded_characters`` counts the characters any of the coders coded (with that code, or
    on ``overall`` rows with any code), each once, so it never exceeds ``characters``.
    """
    from coding.agreement import Span, character_kappa, u_alpha

    annotations = store.annotations_frame()
    assignments = store.assignments_frame()
    wanted = list(coders) if coders else default_coders(assignments)
    documents = {d.id: d for d in store.documents()}
    units = store.segments_frame()[["segment_id", "document_id"]]
    per_doc_units = units.groupby("document_id")["segment_id"].apply(set).to_dict()
    done = assignments[assignments["completed"]].groupby(["document_id", "coder"])["segment_id"]
    finished = {key: set(ids) for key, ids in done}
    rows: list[dict[str, object]] = []
    pooled: list[Span] = []
    offset = 0
    code_ids = store.codebook().codebook.code_ids
    for doc_id in sorted(per_doc_units):
        complete = [c for c in wanted if finished.get((doc_id, c), set()) >= per_doc_units[doc_id]]
        if len(complete) < 2:
            continue
        mine = annotations[
            (annotations["document_id"] == doc_id)
            & annotations["coder"].isin(complete)
            & annotations["code_id"].isin(code_ids)
        ]
        spans = [
            Span(coder, start, end, code)
            for (coder, code), group in mine.groupby(["coder", "code_id"])
            for start, end in _merged(list(zip(group["start"], group["end"], strict=True)))
        ]
        length = len(documents[doc_id].text)
        rows += _span_rows(doc_id, spans, 0, length, complete, code_ids, u_alpha, character_kappa)
        if complete == wanted:
            pooled += [Span(s.coder, s.start + offset, s.end + offset, s.code) for s in spans]
            offset += length
    if offset:
        rows += _span_rows("*", pooled, 0, offset, wanted, code_ids, u_alpha, character_kappa)
    if not rows:
        raise CodingError(
            "span agreement needs a document that two of the coders have submitted in full"
        )
    return pd.DataFrame(rows)


def _span_rows(
    document_id: str,
    spans: list[Any],
    begin: int,
    end: int,
    coders: Sequence[str],
    code_ids: Sequence[str],
    u_alpha: Any,
    character_kappa: Any,
) -> list[dict[str, object]]:
    unitized = u_alpha(spans, begin, end, list(coders))
    by_char, pooled_char = character_kappa(spans, begin, end, list(coders))
    rows: list[dict[str, object]] = []
    for code_id in code_ids:
        result = unitized.by_code.get(code_id)
        rows.append(
            {
                "document_id": document_id,
                "code_id": code_id,
                "coders": "|".join(coders),
                "characters": end - begin,
                "coded_characters": _covered([s for s in spans if s.code == code_id]),
                "u_alpha": None if result is None else result.alpha,
                "character_kappa": by_char.get(code_id),
                "note": "" if result is None else (result.reason or ""),
            }
        )
    rows.append(
        {
            "document_id": document_id,
            "code_id": "overall",
            "coders": "|".join(coders),
            "characters": end - begin,
            "coded_characters": _covered(spans),
            "u_alpha": unitized.overall.alpha,
            "character_kappa": pooled_char,
            "note": unitized.overall.reason or "",
        }
    )
    return rows
