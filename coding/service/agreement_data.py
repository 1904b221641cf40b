"""A study as the agreement tables read it: flags per code, coder and unit, kept up to date.

:class:`AgreementData` reads the study once into arrays (units in the order of the tables;
codes x coders x units flags of submitted codings; coders x units flags of submitted and
assigned units), from which every table of a request is a slice. NLP suggestions and the
consensus join as coders on first use. :meth:`AgreementData.refreshed` brings the arrays up
to date after edits: the audit events since the read name the units a coder's save or a
reviewer's decision touched, and only those units are read again (their columns, and the
consensus there); any other write means a new read. Rows of tables are kept in a
:class:`~coding.agreement.memo.RowMemo` by what they are computed from, so a table asked
for again recomputes only the rows whose data changed. :meth:`AgreementData.rolled_up`
gives the same study with every parent code rolled up (applied wherever a descendant is),
computed on these arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coding.agreement.memo import RowMemo
from coding.agreement.study import (
    BoolArray,
    Consensus,
    Int8Array,
    Study,
    applied_from_masks,
    consensus,
    study_of,
    unit_order,
)
from coding.codebook.hierarchy import has_children, levels, parents_of, rollup_rows
from coding.errors import CodingError
from coding.store import Store
from coding.store import agreement as agreement_store
from coding.store.events import changes_since, event_mark, touched_units

NLP = "nlp"
CONSENSUS = "consensus"
NO_SUGGESTIONS = "no suggestions in this study yet (run 'coding suggest')"


def default_coders(assignments: pd.DataFrame) -> list[str]:
    """Coders who have completed at least one unit of an assignments frame, in name order."""
    done = assignments[assignments["completed"]]
    return sorted(set(done["coder"]))


@dataclass(frozen=True, eq=False)
class Work:
    """Coders' work on some units: codes x coders x units of submitted codings, coders x
    units of submitted and of assigned units."""

    applied: BoolArray
    completed: BoolArray
    assigned: BoolArray


def read_work(
    store: Store,
    index: pd.Index,
    coders: Sequence[str],
    code_ids: Sequence[str],
    segment_ids: Sequence[str] | None = None,
) -> Work | None:
    """The coders' work on ``segment_ids`` (default: every unit of ``index``), in that order;
    None when it names a coder or unit the caller does not know."""
    columns = index if segment_ids is None else pd.Index(segment_ids)
    asg_ids, asg_coder, asg_done = agreement_store.assignments(store, coders, segment_ids)
    ann_ids, masks = agreement_store.code_masks(store, coders, code_ids, segment_ids)
    asg_unit, ann_unit = columns.get_indexer(asg_ids), columns.get_indexer(ann_ids)
    if (asg_coder < 0).any() or (asg_unit < 0).any() or (ann_unit < 0).any():
        return None
    shape = (len(coders), len(columns))
    completed, assigned = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    assigned[asg_coder, asg_unit] = True
    completed[asg_coder, asg_unit] = asg_done.astype(bool)
    applied = applied_from_masks(
        ann_unit, masks, len(code_ids), len(columns), agreement_store.MASK_BITS
    )
    applied &= completed[None, :, :]  # a code saved on an unsubmitted unit is a draft
    return Work(applied, completed, assigned)


@dataclass(frozen=True, eq=False)
class Coder:
    """One coder's column of a study: codes x units applied, units completed and assigned."""

    applied: BoolArray
    completed: BoolArray
    assigned: BoolArray

    def joined(self, other: Coder) -> Coder:
        """This coder's work and a virtual coder's of the same name, as one."""
        return Coder(
            self.applied | other.applied,
            self.completed | other.completed,
            self.assigned | other.assigned,
        )


@dataclass(eq=False)
class AgreementData:
    """What every agreement table of a study is computed from, read once (see the module)."""

    store: Store
    code_ids: tuple[str, ...]
    coders: tuple[str, ...]  # every registered coder, in name order
    segment_ids: np.ndarray  # units in the order of the tables: document, start, id
    document_ids: np.ndarray
    index: pd.Index  # a unit's position from its segment id
    work: Work
    mark: tuple[int, int, str]  # the audit trail when the arrays were read
    memo: RowMemo = field(default_factory=RowMemo, repr=False)
    parents: dict[str, str | None] = field(default_factory=dict)  # each code's parent
    _rolled: dict[int | None, AgreementData] = field(default_factory=dict, repr=False)
    _base: AgreementData | None = field(default=None, repr=False)  # when rolled up: from
    _level: int | None = field(default=None, repr=False)
    _keep: list[int] = field(default_factory=list, repr=False)  # its codes among the base's
    _decisions: Int8Array | None = field(default=None, repr=False)
    _nlp: Coder | None = field(default=None, repr=False)
    _consensus: Consensus | None = field(default=None, repr=False)

    @classmethod
    def read(cls, store: Store, memo: RowMemo | None = None) -> AgreementData:
        mark = event_mark(store)  # before the data: later writes show
        codebook = store.codebook().codebook
        code_ids = tuple(codebook.code_ids)
        coders = tuple(sorted(store.coders()))
        ids, documents, starts = agreement_store.units(store)
        order = unit_order(ids, documents, starts)
        segment_ids = np.array(ids, dtype=object)[order]
        document_ids = np.array(documents, dtype=object)[order]
        index = pd.Index(segment_ids)
        work = read_work(store, index, coders, code_ids)
        if work is None:  # a coder registered while reading: read again
            return cls.read(store, memo)
        return cls(
            store,
            code_ids,
            coders,
            segment_ids,
            document_ids,
            index,
            work,
            mark,
            memo or RowMemo(),
            parents_of(codebook),
        )

    @property
    def registered(self) -> set[str]:
        return set(self.coders)

    def default_coders(self) -> list[str]:
        """Coders who have completed at least one unit, in name order."""
        done = np.flatnonzero(self.work.completed.any(axis=1))
        return [self.coders[g] for g in done.tolist()]

    @property
    def hierarchical(self) -> bool:
        """Whether some code of the codebook has children."""
        return bool(has_children(self.parents))

    def rolled_up(self, level: int | None = None) -> AgreementData:
        """The study with every parent code rolled up: a coder applied it on a unit where
        they applied it or any of its descendants (a logical OR of rows of these arrays; NLP
        likewise). The consensus's final code rolls up the same way, and is settled for a
        parent where it is settled for the parent and every descendant. With ``level``, the
        codes at that level of the hierarchy alone (1: top-level codes). Kept until the
        arrays change."""
        if self._base is not None:
            return self if level == self._level else self._base.rolled_up(level)
        if level not in self._rolled:
            depth = levels(self.parents)
            keep = [
                k
                for k, code_id in enumerate(self.code_ids)
                if level is None or depth.get(code_id, 1) == level
            ]
            if not keep:
                deepest = max(depth.values(), default=1)
                raise CodingError(
                    f"the codebook has no codes at level {level}; its levels are 1 to {deepest}"
                )
            work = self.work
            part = AgreementData(
                self.store,
                tuple(self.code_ids[k] for k in keep),
                self.coders,
                self.segment_ids,
                self.document_ids,
                self.index,
                Work(self._roll(work.applied, keep), work.completed, work.assigned),
                self.mark,
                self.memo,
                self.parents,
            )
            part._base, part._level, part._keep = self, level, keep
            self._rolled[level] = part
        return self._rolled[level]

    def _roll(self, flags: BoolArray, keep: list[int], every: bool = False) -> BoolArray:
        """Codes x ... flags of this (unrolled) study rolled up, the rows ``keep``."""
        return rollup_rows(flags, self.code_ids, self.parents, every)[keep]

    def decisions(self) -> Int8Array:
        """Codes x units: 1 where a decision to apply stands, -1 to reject, else 0."""
        if self._decisions is None:
            self._decisions = self._read_decisions(self.index)
        return self._decisions

    def _read_decisions(self, columns: pd.Index) -> Int8Array:
        ids, codes, values = agreement_store.decisions(
            self.store, self.code_ids, None if columns is self.index else list(columns)
        )
        decided = np.zeros((len(self.code_ids), len(columns)), dtype=np.int8)
        decided[codes, columns.get_indexer(ids)] = values
        return decided

    def consensus(self) -> Consensus:
        if self._consensus is None and self._base is not None:
            found, keep = self._base.consensus(), self._keep
            self._consensus = Consensus(
                self._base._roll(found.final, keep),
                self._base._roll(found.settled_by_code, keep, every=True),
                found.settled,
            )
        if self._consensus is None:
            work = self.work
            self._consensus = consensus(work.applied, work.completed, self.decisions())
        return self._consensus

    def nlp(self) -> Coder:
        """The newest suggestion run as a coder: a stored suggestion is a code, and every unit
        of the documents the run scored counts as completed (no suggestion there is a 0)."""
        if self._nlp is None and self._base is not None:
            nlp = self._base.nlp()
            applied = self._base._roll(nlp.applied, self._keep)
            self._nlp = Coder(applied, nlp.completed, nlp.assigned)
        if self._nlp is None:
            found = agreement_store.newest_suggestions(self.store, self.code_ids)
            if found is None:
                raise CodingError(NO_SUGGESTIONS)
            scored_documents, ids, codes = found
            scored = np.isin(self.document_ids, np.array(scored_documents, dtype=object))
            applied = np.zeros((len(self.code_ids), len(self.segment_ids)), dtype=bool)
            applied[codes, self.index.get_indexer(ids)] = True
            self._nlp = Coder(applied & scored[None, :], scored, scored)
        return self._nlp

    def consensus_coder(self, code: int | None = None) -> Coder:
        """The consensus as a coder: on units settled for every code, or for ``code`` alone
        (then its one row of codes)."""
        found = self.consensus()
        if code is None:
            return Coder(found.final & found.settled[None, :], found.settled, found.settled)
        settled = found.settled_by_code[code]
        return Coder(found.final[code : code + 1] & settled[None, :], settled, settled)

    def coder(self, name: str, code: int | None = None) -> Coder:
        """A coder's column (all codes, or ``code`` alone): their own work, joined with NLP's
        or the consensus's when the name is theirs."""
        codes = slice(None) if code is None else slice(code, code + 1)
        n_codes = len(self.code_ids) if code is None else 1
        if name in self.coders:
            g = self.coders.index(name)
            work = self.work
            own = Coder(work.applied[codes, g], work.completed[g], work.assigned[g])
        else:
            none = np.zeros(len(self.segment_ids), dtype=bool)
            own = Coder(np.zeros((n_codes, len(none)), dtype=bool), none, none)
        if name == NLP:
            nlp = self.nlp()
            own = own.joined(Coder(nlp.applied[codes], nlp.completed, nlp.assigned))
        elif name == CONSENSUS:
            own = own.joined(self.consensus_coder(code))
        return own

    def study(self, coders: Sequence[str], code: int | None = None) -> Study:
        """The study among ``coders`` on every code, or on ``code`` alone (where the
        consensus is the one settled for that code)."""
        columns = [self.coder(name, code) for name in coders]
        codes = self.code_ids if code is None else (self.code_ids[code],)
        return study_of(
            np.stack([c.applied for c in columns], axis=1),
            np.stack([c.completed for c in columns]),
            np.stack([c.assigned for c in columns]),
            codes,
            coders,
            self.segment_ids,
            self.document_ids,
        )

    def subset(self, segment_ids: Sequence[str]) -> AgreementData:
        """The same study restricted to some units (their columns of every array, the
        decisions and, when already read, the suggestions), with rows memoised apart."""
        if self._base is not None:
            return self._base.subset(segment_ids).rolled_up(self._level)
        keep = np.asarray(self.index.isin(list(segment_ids)), dtype=bool)
        work = self.work
        part = AgreementData(
            self.store,
            self.code_ids,
            self.coders,
            self.segment_ids[keep],
            self.document_ids[keep],
            pd.Index(self.segment_ids[keep]),
            Work(work.applied[:, :, keep], work.completed[:, keep], work.assigned[:, keep]),
            self.mark,
            parents=self.parents,
        )
        part._decisions = self.decisions()[:, keep]
        if self._nlp is not None:
            nlp = self._nlp
            part._nlp = Coder(nlp.applied[:, keep], nlp.completed[keep], nlp.assigned[keep])
        return part

    def refreshed(self, store: Store) -> AgreementData:
        """The study as it is now: these arrays with the units edited since read again, or a
        new read when the edits were more than units' codings and decisions."""
        changes = changes_since(store, self.mark)
        touched = None if changes is None else touched_units(changes.events)
        if changes is None or touched is None:
            return AgreementData.read(store, self.memo)
        self.store = store
        if touched and not self._update(touched):
            return AgreementData.read(store, self.memo)
        self.mark = changes.mark
        return self

    def _update(self, segment_ids: list[str]) -> bool:
        """Read the work on some units again, and the decisions and consensus there."""
        columns = self.index.get_indexer(segment_ids)
        fresh = read_work(self.store, self.index, self.coders, self.code_ids, segment_ids)
        if fresh is None or (columns < 0).any():
            return False
        self._rolled.clear()  # rolled up from the arrays as they were
        self.work.applied[:, :, columns] = fresh.applied
        self.work.completed[:, columns] = fresh.completed
        self.work.assigned[:, columns] = fresh.assigned
        if self._decisions is not None:
            self._decisions[:, columns] = self._read_decisions(pd.Index(segment_ids))
        if self._consensus is not None:
            work, found = self.work, self._consensus
            part = consensus(
                work.applied[:, :, columns],
                work.completed[:, columns],
                self.decisions()[:, columns],
            )
            found.final[:, columns] = part.final
            found.settled_by_code[:, columns] = part.settled_by_code
            found.settled[columns] = part.settled
        return True
