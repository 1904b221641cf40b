"""Agreement reports for a study: coders, NLP suggestions and the consensus as coders.

Every table is computed from one :class:`~coding.service.agreement_data.AgreementData` read
of the study; :class:`LiveAgreement` keeps one across requests (the app) and brings it up to
date after edits, recomputing only the rows whose data changed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from enum import StrEnum

import pandas as pd

from coding.agreement import study_table
from coding.agreement.study import Study
from coding.codebook.hierarchy import has_children, levels
from coding.errors import CodingError
from coding.model import Role
from coding.service.access import Operator, require_role
from coding.service.agreement_data import CONSENSUS, NLP, AgreementData, default_coders
from coding.service.agreement_spans import span_report
from coding.store import Store

__all__ = [
    "CONSENSUS",
    "NLP",
    "AgreementData",
    "AgreementView",
    "LiveAgreement",
    "agreement_report",
    "agreement_view",
    "agreement_views",
    "default_coders",
    "pairwise_report",
    "span_report",
]


def agreement_report(
    store: Store | AgreementData,
    coders: Sequence[str] | None = None,
    by: str = "code",
    bootstrap: int = 0,
    seed: int = 0,
    include_nlp: bool = False,
    include_consensus: bool = False,
    level: int | None = None,
) -> pd.DataFrame:
    """Per-code (or per-document) agreement among coders, with optional NLP and consensus.

    Coders default to everyone who has completed a unit. 'nlp' and 'consensus' join as
    extra coders when asked for; name them in ``coders`` to compare, say, one coder with NLP.
    ``store`` may be the study's :class:`AgreementData`, read once for many tables.

    When the codebook has parent codes, a parent's rows are computed rolled up (a coder
    applied it on a unit where they applied it or any descendant), and the table has the
    columns ``level`` (1: top-level codes) and ``rolled_up``; the rows pooled over codes
    pool the codes as coded. With ``level``, only the codes at that level, rolled up, and
    the pooled rows pool those.
    """
    data = store if isinstance(store, AgreementData) else AgreementData.read(store)
    wanted = list(coders) if coders else data.default_coders()
    with_nlp = include_nlp or NLP in wanted
    if with_nlp:
        data.nlp()  # no suggestions: say so before anything else
        wanted = wanted if NLP in wanted else [*wanted, NLP]
    with_consensus = include_consensus or CONSENSUS in wanted
    if with_consensus:
        wanted = wanted if CONSENSUS in wanted else [*wanted, CONSENSUS]
    _check_coders(wanted, data, with_nlp, with_consensus)
    if level is None and not data.hierarchical:
        return _report(data, wanted, by, bootstrap, seed, with_consensus)
    rolled = data.rolled_up(level)
    as_coded = data.study(wanted) if level is None else None
    table = _report(rolled, wanted, by, bootstrap, seed, with_consensus, as_coded)
    return with_levels(table, rolled.parents, level)


def _report(
    data: AgreementData,
    wanted: list[str],
    by: str,
    bootstrap: int,
    seed: int,
    with_consensus: bool,
    pooled: Study | None = None,
) -> pd.DataFrame:
    table = study_table(data.study(wanted), by, bootstrap, seed, memo=data.memo, pooled=pooled)
    if not with_consensus or by != "code":
        return table
    # Per code, the consensus is known on every unit settled *for that code*, not only on
    # units with nothing open at all: recompute each code's row on its own settled units.
    rows = []
    for k in range(len(data.code_ids)):
        part = study_table(data.study(wanted, k), "code", bootstrap, seed, memo=data.memo)
        rows.append(part[part["scope"] == "code"])
    return pd.concat([*rows, table[table["scope"] != "code"]], ignore_index=True)


def with_levels(
    table: pd.DataFrame, parents: dict[str, str | None], level: int | None
) -> pd.DataFrame:
    """An agreement table with, after its code (and document) columns, each row's ``level``
    in the code hierarchy and whether it is ``rolled_up``; a pooled row has ``level`` when
    it pools one level's codes (rolled up), else none (it pools the codes as coded)."""
    depth, with_children = levels(parents), has_children(parents)
    per_code = table["scope"].isin(("code", "code-document")).to_numpy()
    codes = table["code_id"].tolist()
    pooled_rolled = level is not None and any(depth.get(c) == level for c in with_children)
    pairs = list(zip(codes, per_code, strict=True))
    shown = [depth.get(c, 1) if one else level for c, one in pairs]
    rolled = [c in with_children if one else pooled_rolled for c, one in pairs]
    at = table.columns.get_loc("document_id" if "document_id" in table else "code_id")
    table = table.copy()
    table.insert(int(at) + 1, "level", pd.array(shown, dtype="Int64"))
    table.insert(int(at) + 2, "rolled_up", rolled)
    return table


def _check_coders(
    wanted: list[str], data: AgreementData, with_nlp: bool, with_consensus: bool
) -> None:
    known = data.registered
    if with_nlp and data.nlp().completed.any():
        known.add(NLP)
    if with_consensus and data.consensus_coder().completed.any():
        known.add(CONSENSUS)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise CodingError(f"unknown coder(s): {', '.join(unknown)}")
    if len(wanted) < 2:
        raise CodingError(
            f"agreement needs two coders with completed units; have: {', '.join(wanted) or 'none'}"
        )


def pairwise_report(
    store: Store | AgreementData,
    coders: Sequence[str] | None = None,
    include_nlp: bool = False,
    include_consensus: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
    level: int | None = None,
) -> pd.DataFrame:
    """One agreement table per pair of coders, stacked, with a 'pair' column; the study is
    read once for all pairs (parents rolled up, ``level`` as :func:`agreement_report`)."""
    data = store if isinstance(store, AgreementData) else AgreementData.read(store)
    names = list(coders) if coders else data.default_coders()
    if include_nlp and NLP not in names:
        names.append(NLP)
    if include_consensus and CONSENSUS not in names:
        names.append(CONSENSUS)
    tables = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            table = agreement_report(
                data, [first, second], bootstrap=bootstrap, seed=seed, level=level
            )
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


class LiveAgreement:
    """One study's :class:`AgreementData`, kept across requests (the app keeps one per
    study) and brought up to date after edits; one request at a time uses it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: AgreementData | None = None

    def current(self, store: Store) -> AgreementData:
        """The study's data as it is now (call while holding :attr:`lock`)."""
        if self.data is None:
            self.data = AgreementData.read(store)
        else:
            self.data = self.data.refreshed(store)
        return self.data


def agreement_views(
    store: Store,
    user: str | Operator,
    views: Sequence[AgreementView],
    bootstrap: int = 0,
    seed: int = 0,
    live: LiveAgreement | None = None,
) -> dict[AgreementView, pd.DataFrame | str]:
    """The Agreement page's tables from one read of the study: each view's table, or why it
    cannot be computed (say, no suggestions yet). For reviewers and admins. With ``live``,
    the read is the one kept there, brought up to date: after a coder's save or a reviewer's
    decision, only those units are read again and only the rows they change recomputed."""
    require_role(store, user, Role.REVIEWER)
    if live is None:
        return _views(AgreementData.read(store), user, views, bootstrap, seed)
    with live.lock:
        data = live.current(store)
        tables = _views(data, user, views, bootstrap, seed)
        data.memo.sweep()
    return tables


def _views(
    data: AgreementData,
    user: str | Operator,
    views: Sequence[AgreementView],
    bootstrap: int,
    seed: int,
) -> dict[AgreementView, pd.DataFrame | str]:
    tables: dict[AgreementView, pd.DataFrame | str] = {}
    for view in views:
        try:
            tables[view] = agreement_view(data, user, view, bootstrap=bootstrap, seed=seed)
        except CodingError as err:
            tables[view] = str(err)
    return tables
