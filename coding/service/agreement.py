"""Agreement reports for a study: coders, NLP suggestions and the consensus as coders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from coding import review
from coding.agreement import agreement_table
from coding.errors import CodingError
from coding.model import Role
from coding.service.access import Operator, require_role
from coding.store import Store
from coding.store import agreement as agreement_store

NLP = "nlp"
CONSENSUS = "consensus"


@dataclass
class AgreementData:
    """What every agreement table of a study is computed from, read once: the submitted
    codings, the units' states and places, the codebook's codes; the NLP and consensus
    coders are derived on first use and kept."""

    store: Store
    annotations: pd.DataFrame  # submitted codings: segment_id, document_id, coder, code_id, ...
    assignments: pd.DataFrame  # segment_id, document_id, coder, completed
    segments: pd.DataFrame  # segment_id, document_id, start, end
    code_ids: list[str]
    registered: set[str]
    _nlp: tuple[pd.DataFrame, pd.DataFrame] | None = field(default=None, repr=False)
    _finals: pd.DataFrame | None = field(default=None, repr=False)
    _consensus: dict[tuple[str, ...] | None, tuple[pd.DataFrame, pd.DataFrame]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def read(cls, store: Store) -> AgreementData:
        return cls(
            store,
            agreement_store.submitted_codings(store),
            agreement_store.unit_states(store),
            agreement_store.segment_places(store),
            list(store.codebook().codebook.code_ids),
            set(store.coders()),
        )

    def nlp(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if self._nlp is None:
            self._nlp = nlp_as_coder(self.store, self.segments)
        return self._nlp

    def finals(self) -> pd.DataFrame:
        if self._finals is None:
            decided = agreement_store.standing_decisions(self.store)
            self._finals = review.final_codes(
                self.annotations, self.assignments, decided, self.code_ids
            )
        return self._finals

    def consensus(
        self, settled_on: Sequence[str] | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The consensus as a coder (:func:`_consensus`), kept for every table that asks."""
        key = None if settled_on is None else tuple(settled_on)
        if key not in self._consensus:
            self._consensus[key] = _consensus(
                self.finals(), self.assignments, self.segments, settled_on
            )
        return self._consensus[key]

    def default_coders(self) -> list[str]:
        return default_coders(self.assignments)


def default_coders(assignments: pd.DataFrame) -> list[str]:
    """Coders who have completed at least one unit, in name order."""
    done = assignments[assignments["completed"]]
    return sorted(set(done["coder"]))


def nlp_as_coder(
    store: Store, segments: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The newest suggestion run as a coder named 'nlp': a stored suggestion is a code.

    An engine stores a suggestion when its score reaches the code's threshold. Every unit of
    the documents the run scored counts as completed by 'nlp' (no suggestion there is a 0).
    """
    runs = store.suggestion_runs()
    if runs.empty:
        raise CodingError("no suggestions in this study yet (run 'coding suggest')")
    suggestions = store.suggestions_frame()[["segment_id", "code_id"]]
    scored = set(json.loads(runs.iloc[-1]["params"]).get("scored_documents", []))
    if segments is None:
        segments = agreement_store.segment_places(store)
    units = segments[segments["document_id"].isin(scored)]
    applied = suggestions.merge(units, on="segment_id")
    annotations = applied[["segment_id", "document_id", "code_id", "start", "end"]].assign(
        coder=NLP
    )
    assignments = units[["segment_id", "document_id"]].assign(coder=NLP, completed=True)
    return annotations, assignments


def _consensus(
    finals: pd.DataFrame,
    assignments: pd.DataFrame,
    segments: pd.DataFrame,
    settled_on: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The consensus coding as a coder: resolved decisions plus codes every coder agreed on.

    A unit counts as completed by 'consensus' once it has no open disagreement left on the
    codes ``settled_on`` (default: every code), among the units two or more coders submitted.
    """
    if settled_on is not None:
        finals = finals[finals["code_id"].isin(list(settled_on))]
    done = assignments[assignments["completed"]]
    multi = done.groupby("segment_id")["coder"].nunique()
    open_units = finals.loc[finals["status"] == "open", "segment_id"].unique()
    settled = multi.index[multi >= 2].difference(pd.Index(open_units)).sort_values()
    keep = finals[(finals["final"] == True) & finals["segment_id"].isin(settled)]  # noqa: E712
    places = segments[["segment_id", "document_id", "start", "end"]]
    cons_annotations = keep[["segment_id", "code_id"]].merge(places, on="segment_id")
    cons_annotations = cons_annotations.assign(coder=CONSENSUS)[
        ["segment_id", "document_id", "coder", "code_id", "start", "end"]
    ]
    cons_assignments = (
        pd.DataFrame({"segment_id": settled})
        .merge(places[["segment_id", "document_id"]], on="segment_id")
        .assign(coder=CONSENSUS, completed=True)
    )
    return cons_annotations, cons_assignments


def agreement_report(
    store: Store | AgreementData,
    coders: Sequence[str] | None = None,
    by: str = "code",
    bootstrap: int = 0,
    seed: int = 0,
    include_nlp: bool = False,
    include_consensus: bool = False,
) -> pd.DataFrame:
    """Per-code (or per-document) agreement among coders, with optional NLP and consensus.

    Coders default to everyone who has completed a unit. 'nlp' and 'consensus' join as
    extra coders when asked for; name them in ``coders`` to compare, say, one coder with NLP.
    ``store`` may be the study's :class:`AgreementData`, read once for many tables.
    """
    data = store if isinstance(store, AgreementData) else AgreementData.read(store)
    extra_ann = [data.annotations]
    extra_asg = [data.assignments[["segment_id", "document_id", "coder", "completed"]]]
    wanted = list(coders) if coders else data.default_coders()
    if include_nlp or NLP in wanted:
        ann, asg = data.nlp()
        extra_ann.append(ann)
        extra_asg.append(asg)
        wanted = wanted if NLP in wanted else [*wanted, NLP]
    finals = None
    if include_consensus or CONSENSUS in wanted:
        finals = data.finals()
        ann, asg = data.consensus()
        extra_ann.append(ann)
        extra_asg.append(asg)
        wanted = wanted if CONSENSUS in wanted else [*wanted, CONSENSUS]
    _check_coders(wanted, extra_asg, data.registered)
    table = _table(extra_ann, extra_asg, data, wanted, by, bootstrap, seed)
    if finals is None or by != "code":
        return table
    # Per code, the consensus is known on every unit settled *for that code*, not only on
    # units with nothing open at all: recompute each code's row on its own settled units.
    rows = []
    for code_id in data.code_ids:
        ann, asg = data.consensus([code_id])
        ann_k, asg_k = [*extra_ann[:-1], ann], [*extra_asg[:-1], asg]
        part = _table(ann_k, asg_k, data, wanted, "code", bootstrap, seed, [code_id])
        rows.append(part[part["scope"] == "code"])
    return pd.concat([*rows, table[table["scope"] != "code"]], ignore_index=True)


def _check_coders(wanted: list[str], assignments: list[pd.DataFrame], registered: set[str]) -> None:
    known = registered.union(*(set(a["coder"]) for a in assignments))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise CodingError(f"unknown coder(s): {', '.join(unknown)}")
    if len(wanted) < 2:
        raise CodingError(
            f"agreement needs two coders with completed units; have: {', '.join(wanted) or 'none'}"
        )


def _table(
    annotations: list[pd.DataFrame],
    assignments: list[pd.DataFrame],
    data: AgreementData,
    coders: list[str],
    by: str,
    bootstrap: int,
    seed: int,
    code_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The core's agreement table over the rows of the wanted coders only."""
    codes = data.code_ids if code_ids is None else list(code_ids)
    ann = pd.concat(
        [a[a["coder"].isin(coders) & a["code_id"].isin(codes)] for a in annotations],
        ignore_index=True,
    )
    asg = pd.concat([a[a["coder"].isin(coders)] for a in assignments], ignore_index=True)
    return agreement_table(
        ann, asg, data.segments, codes, coders=coders, by=by, bootstrap=bootstrap, seed=seed
    )


def pairwise_report(
    store: Store | AgreementData,
    coders: Sequence[str] | None = None,
    include_nlp: bool = False,
    include_consensus: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """One agreement table per pair of coders, stacked, with a 'pair' column; the study is
    read once for all pairs."""
    data = store if isinstance(store, AgreementData) else AgreementData.read(store)
    names = list(coders) if coders else data.default_coders()
    if include_nlp and NLP not in names:
        names.append(NLP)
    if include_consensus and CONSENSUS not in names:
        names.append(CONSENSUS)
    tables = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            table = agreement_report(data, [first, second], bootstrap=bootstrap, seed=seed)
            table.insert(0, "pair", f"{first} vs {second}")
            tables.append(table)
    if not tables:
        raise CodingError("pairwise agreement needs at least two coders")
    return pd.concat(tables, ignore_index=True)


class AgreementView(StrEnum):
    """The tables of the Agreement page."""

    CODERS = "coders"  # per code, among the coders
    PAIRWISE = "pairwise"  # coder x coder
    NLP = "nlp"  # every pair, NLP as a coder
    CONSENSUS = "consensus"  # every pair, the consensus as a coder


def agreement_view(
    store: Store | AgreementData,
    user: str | Operator,
    view: AgreementView,
    bootstrap: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """One table of the Agreement page, for reviewers and admins (agreement figures tell a
    coder how the other coders coded). ``store`` may be the study's :class:`AgreementData`,
    read once for all the page's tables."""
    data = store if isinstance(store, AgreementData) else AgreementData.read(store)
    require_role(data.store, user, Role.REVIEWER)
    view = AgreementView(view)
    if view is AgreementView.CODERS:
        return agreement_report(data, bootstrap=bootstrap, seed=seed)
    return pairwise_report(
        data,
        include_nlp=view is AgreementView.NLP,
        include_consensus=view is AgreementView.CONSENSUS,
        bootstrap=bootstrap,
        seed=seed,
    )


def agreement_views(
    store: Store,
    user: str | Operator,
    views: Sequence[AgreementView],
    bootstrap: int = 0,
    seed: int = 0,
) -> dict[AgreementView, pd.DataFrame | str]:
    """The Agreement page's tables from one read of the study: each view's table, or why it
    cannot be computed (say, no suggestions yet). For reviewers and admins."""
    require_role(store, user, Role.REVIEWER)
    data = AgreementData.read(store)
    tables: dict[AgreementView, pd.DataFrame | str] = {}
    for view in views:
        try:
            tables[view] = agreement_view(data, user, view, bootstrap=bootstrap, seed=seed)
        except CodingError as err:
            tables[view] = str(err)
    return tables


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
