"""The list of disagreements as plain rows, read without pandas: what `coding disagreements`
prints as a table, and what :func:`coding.service.review.disagreements` makes a frame of."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from coding.store import Store
from coding.store import review as review_store


class Disagreement(NamedTuple):
    """One (unit, code) the coders who submitted the unit disagree on."""

    segment_id: str
    document_id: str
    code_id: str
    applied_by: list[str]  # coders who applied the code, by name
    not_applied_by: list[str]  # coders who submitted the unit without it
    text: str
    start: int
    end: int
    decision: str  # the standing decision ("" when there is none)
    decision_id: int | None


DISAGREEMENT_COLUMNS = list(Disagreement._fields)


def disagreement_rows(
    store: Store,
    coders: Sequence[str] | None = None,
    *,
    code_id: str | None = None,
    open_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Disagreement]:
    """Disagreements (:func:`coding.review.is_disagreement`) in document order, with who
    applied the code and who did not, the segment's text and the standing decision.

    One query: the rule, the order and the page (``limit``, ``offset``) are SQL's, and
    texts are read for the page only; every coder's work is read from the kept table of
    disagreements (``store/review.kept_page``), some coders' from their codings
    (``store/review.disagreement_list``).
    """
    code_ids = store.codebook().codebook.code_ids
    codes = code_ids if code_id is None else [c for c in code_ids if c == code_id]
    if coders is None:  # every coder's work: the kept table answers
        rows = review_store.kept_page(store, codes, open_only=open_only, limit=limit, offset=offset)
    else:
        rows = review_store.disagreement_list(
            store, codes, coders, open_only=open_only, limit=limit, offset=offset
        )
    return [
        Disagreement(sid, doc, code, yes, no, text, start, end, decision or "", decision_id)
        for sid, doc, code, text, start, end, decision_id, decision, yes, no in rows
    ]
