"""The agreement tables of a study computed from whole frames, as the service computed them
before it read arrays: the reference the service's figures must equal exactly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

from coding import review
from coding.agreement import agreement_table
from coding.errors import CodingError
from coding.model import Role
from coding.service.access import Operator, require_role
from coding.store import Store

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
        """The study's whole frames, through the Store's general reads."""
        annotations = store.annotations_frame()
        assignments = store.assignments_frame()
        done = assignments.loc[assignments["completed"], ["segment_id", "coder"]]
        submitted = annotations.merge(done, on=["segment_id", "coder"])
        places = store.segment_spans()[["segment_id", "document_id", "start", "end"]]
        return cls(
            store,
            submitted[["segment_id", "document_id", "coder", "code_id", "start", "end"]],
            assignments[["segment_id", "document_id", "coder", "completed"]],
            places,
            list(store.codebook().codebook.code_ids),
            set(store.coders()),
        )

    def nlp(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if self._nlp is None:
            self._nlp = nlp_as_coder(self.store, self.segments)
        return self._nlp

    def finals(self) -> pd.DataFrame:
        if self._finals is None:
            decided = self.store.current_resolutions_frame()
            if decided.empty:
                decided = pd.DataFrame(
                    columns=["segment_id", "code_id", "decision", "rationale", "reviewer"]
                )
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
        raise ValueError("the frames reference needs the segments")
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
