"""Disagreements, reviewer choices and final codes: the rules of consensus review (no I/O).

One rule says what a disagreement is (:func:`is_disagreement`): on a unit that two or more
coders submitted, a code some of them applied and some did not. Every reader uses it: the
study's counts (:func:`disputed`, over counts a store computes in SQL or :func:`code_counts`
computes here), one unit in the reviewer's queue (:meth:`UnitCodings.disputed`), and the list
of disagreements (:func:`find_disagreements`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

import numpy as np
import pandas as pd

from coding.errors import CodingError
from coding.model import Decision, Resolution

DISAGREEMENT_COLUMNS = ("segment_id", "document_id", "code_id", "applied_by", "not_applied_by")
COUNT_COLUMNS = ["segment_id", "code_id", "applied", "submitted"]

Count = TypeVar("Count", int, "np.ndarray[tuple[int], np.dtype[np.int64]]")


def is_disagreement(applied: Count, submitted: Count) -> Count:
    """The one definition: ``submitted`` coders (two or more) submitted the unit and
    ``applied`` of them applied the code, some but not all. Works on ints and on arrays.

    >>> bool(is_disagreement(1, 2)), bool(is_disagreement(2, 2)), bool(is_disagreement(1, 1))
    (True, False, False)
    >>> is_disagreement(np.array([0, 1, 3]), np.array([2, 3, 3])).tolist()
    [False, True, False]
    """
    return (submitted >= 2) & (applied > 0) & (applied < submitted)  # type: ignore[return-value]


def code_counts(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per (segment, code) that a submitted coder applied: how many submitted coders applied
    it (``applied``) and how many submitted the segment (``submitted``).

    Only submitted work counts: a coder who has not submitted a segment has no opinion on it
    yet. For large studies the store computes the rows of this frame that can be
    disagreements (those not every submitter applied) in SQL.
    """
    applied, submitted = _submitted_work(annotations, assignments, code_ids, coders)
    counts = applied.groupby(["segment_id", "code_id"]).size().rename("applied").reset_index()
    counts = counts.join(submitted, on="segment_id")
    return counts[COUNT_COLUMNS].reset_index(drop=True)


def _submitted_work(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """(segment_id, code_id, coder) applied by a coder who submitted the segment, once each;
    and per segment, how many coders submitted it."""
    done = assignments.loc[assignments["completed"].astype(bool), ["segment_id", "coder"]]
    if coders is not None:
        done = done[done["coder"].isin(list(coders))]
    done = done.drop_duplicates()
    submitted = done.groupby("segment_id").size().rename("submitted")
    applied = annotations.loc[
        annotations["code_id"].isin(list(code_ids)), ["segment_id", "code_id", "coder"]
    ].drop_duplicates()
    return applied.merge(done, on=["segment_id", "coder"]), submitted


def disputed(counts: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`code_counts` frame that are disagreements."""
    mask = is_disagreement(counts["applied"].to_numpy(), counts["submitted"].to_numpy())
    return counts[mask].reset_index(drop=True)


def find_disagreements(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    code_ids: Sequence[str],
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """(segment, code) pairs where the coders who submitted the segment differ, with who
    applied the code and who did not; segments in the order of the assignments, codes in the
    order of ``code_ids``.

    >>> ann = pd.DataFrame({"segment_id": ["s1", "s1"], "coder": ["a", "b"],
    ...                     "code_id": ["x", "y"]})
    >>> asg = pd.DataFrame({"segment_id": ["s1", "s1"], "document_id": ["d", "d"],
    ...                     "coder": ["a", "b"], "completed": [True, True]})
    >>> find_disagreements(ann, asg, ["x", "y"])[["code_id", "applied_by"]].values.tolist()
    [['x', ['a']], ['y', ['b']]]
    """
    pairs = disputed(code_counts(annotations, assignments, code_ids, coders))
    done = assignments[assignments["completed"].astype(bool)]
    if coders is not None:
        done = done[done["coder"].isin(list(coders))]
    done = done[done["segment_id"].isin(set(pairs["segment_id"]))]
    submitted = done.groupby("segment_id")["coder"].agg(lambda s: sorted(set(s)))
    documents = dict(zip(done["segment_id"], done["document_id"], strict=False))
    yes = annotations[annotations["segment_id"].isin(set(pairs["segment_id"]))]
    applied = yes.groupby(["segment_id", "code_id"])["coder"].agg(set).to_dict()
    order = {s: i for i, s in enumerate(pd.unique(done["segment_id"]))}
    position = {c: i for i, c in enumerate(code_ids)}
    pairs = pairs.assign(
        order=pairs["segment_id"].map(order), position=pairs["code_id"].map(position)
    ).sort_values(["order", "position"], kind="stable")
    rows = []
    for segment_id, code_id in zip(pairs["segment_id"], pairs["code_id"], strict=True):
        who = submitted[segment_id]
        applied_by = [c for c in who if c in applied.get((segment_id, code_id), set())]
        rest = [c for c in who if c not in applied_by]
        rows.append((segment_id, documents[segment_id], code_id, applied_by, rest))
    return pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS))


@dataclass(frozen=True)
class UnitCodings:
    """One unit as its coders submitted it: who submitted, and each one's codes."""

    coders: tuple[str, ...]
    codes_by_coder: Mapping[str, frozenset[str]]

    def agreed(self) -> frozenset[str]:
        """Codes every coder who submitted the unit applied."""
        sets = [self.codes_by_coder.get(c, frozenset()) for c in self.coders]
        return frozenset.intersection(*sets) if sets else frozenset()

    def applied_by_any(self) -> frozenset[str]:
        return frozenset().union(*(self.codes_by_coder.get(c, frozenset()) for c in self.coders))

    def disputed(self) -> list[str]:
        """The codes on which the coders disagree (:func:`is_disagreement`), sorted."""
        n = len(self.coders)
        return sorted(
            code
            for code in self.applied_by_any()
            if is_disagreement(sum(code in self.codes_by_coder.get(c, ()) for c in self.coders), n)
        )


class ChoiceKind(StrEnum):
    """What a reviewer chose for a unit's disputed codes."""

    ACCEPT = "accept"  # one coder's codes
    MERGE = "merge"  # every code any coder applied
    NEITHER = "neither"  # none of the disputed codes
    OTHER = "other"  # the reviewer's own set


@dataclass(frozen=True)
class Choice:
    """A reviewer's choice on a unit: build one with :meth:`accept`, :meth:`merge`,
    :meth:`neither` or :meth:`other`."""

    kind: ChoiceKind
    coder: str = ""  # for ACCEPT
    codes: frozenset[str] = field(default_factory=frozenset)  # for OTHER

    @classmethod
    def accept(cls, coder: str) -> Choice:
        return cls(ChoiceKind.ACCEPT, coder=coder)

    @classmethod
    def merge(cls) -> Choice:
        return cls(ChoiceKind.MERGE)

    @classmethod
    def neither(cls) -> Choice:
        return cls(ChoiceKind.NEITHER)

    @classmethod
    def other(cls, codes: Sequence[str]) -> Choice:
        return cls(ChoiceKind.OTHER, codes=frozenset(codes))


def choices(unit: UnitCodings) -> list[Choice]:
    """The choices offered for a unit: accept each coder's codes, merge, neither, other."""
    return [Choice.accept(c) for c in unit.coders] + [
        Choice.merge(),
        Choice.neither(),
        Choice.other(()),
    ]


def chosen_codes(unit: UnitCodings, choice: Choice) -> frozenset[str]:
    """The codes a choice keeps from the disputed ones (for OTHER: the reviewer's set)."""
    if choice.kind is ChoiceKind.ACCEPT:
        if choice.coder not in unit.coders:
            raise CodingError(f"{choice.coder} did not submit this segment")
        return unit.codes_by_coder.get(choice.coder, frozenset())
    if choice.kind is ChoiceKind.MERGE:
        return unit.applied_by_any()
    if choice.kind is ChoiceKind.NEITHER:
        return frozenset()
    return choice.codes


def decisions_for(
    unit: UnitCodings, choice: Choice, standing: Sequence[str] = ()
) -> dict[str, Decision]:
    """Decision per code for a reviewer's choice on a unit.

    Accept, merge and neither decide the disputed codes: apply those in the chosen set,
    reject the rest. ``other`` takes the reviewer's own set: every disputed code is decided,
    plus codes no coder applied that the reviewer adds, and codes all coders agreed on that
    the reviewer leaves out. Every code with a ``standing`` decision is decided again too, so
    no earlier choice outlives this one: applied when it is in the chosen set (or, except for
    ``other``, when all coders agreed on it), rejected otherwise.
    """
    chosen = chosen_codes(unit, choice)
    decided = {c: Decision.APPLY if c in chosen else Decision.REJECT for c in unit.disputed()}
    if choice.kind is ChoiceKind.OTHER:
        decided.update({c: Decision.APPLY for c in chosen - unit.applied_by_any()})
        decided.update({c: Decision.REJECT for c in unit.agreed() - chosen})
    kept = chosen if choice.kind is ChoiceKind.OTHER else chosen | unit.agreed()
    for code_id in standing:
        decided.setdefault(code_id, Decision.APPLY if code_id in kept else Decision.REJECT)
    return dict(sorted(decided.items()))


def resolution(
    segment_id: str,
    code_id: str,
    decision: Decision,
    reviewer: str,
    rationale: str,
    at: datetime,
    codebook_version: int,
) -> Resolution:
    """A Resolution from a reviewer's decision, refusing an empty rationale or reviewer."""
    if not rationale.strip():
        raise CodingError("a decision needs a rationale: say why, for the record")
    if not reviewer.strip():
        raise CodingError("a decision needs the reviewer's name")
    return Resolution(
        segment_id=segment_id,
        code_id=code_id,
        decision=Decision(decision),
        reviewer=reviewer.strip(),
        rationale=rationale.strip(),
        at=at,
        codebook_version=codebook_version,
    )


def final_codes(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    resolutions: pd.DataFrame,
    code_ids: Sequence[str],
) -> pd.DataFrame:
    """Final code per (segment, code) that anyone applied: its status and whether it stands.

    status is ``resolved`` (a standing reviewer decision), ``agreed`` (every completed coder
    applied it), ``single`` (only one coder completed the segment) or ``open`` (coders differ,
    no decision yet). ``final`` is True when the code is part of the segment's final coding;
    None while the status is open. Only submitted work counts: a code a coder has saved on a
    unit they have not submitted is invisible here, as it is to everyone but that coder.

    >>> ann = pd.DataFrame({"segment_id": ["s", "s"], "coder": ["a", "c"], "code_id": ["x", "y"]})
    >>> asg = pd.DataFrame({"segment_id": ["s", "s", "s"], "coder": ["a", "b", "c"],
    ...                     "completed": [True, True, False]})
    >>> none = pd.DataFrame(columns=["segment_id", "code_id", "decision", "rationale", "reviewer"])
    >>> final_codes(ann, asg, none, ["x", "y"])[["code_id", "applied_by", "status"]].values.tolist()
    [['x', ['a'], 'open']]
    """
    applied, submitted = _submitted_work(annotations, assignments, code_ids)
    applied = applied.sort_values(["segment_id", "code_id", "coder"], ignore_index=True)
    first = ~applied.duplicated(["segment_id", "code_id"]).to_numpy()
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(applied))[: len(starts)]  # none when nothing applied
    coders = applied["coder"].tolist()
    yes = applied.loc[first, ["segment_id", "code_id"]].assign(
        applied_by=[coders[a:b] for a, b in zip(starts, ends, strict=True)]
    )
    decided = resolutions.loc[
        resolutions["code_id"].isin(list(code_ids)),
        ["segment_id", "code_id", "decision", "rationale", "reviewer"],
    ].drop_duplicates(["segment_id", "code_id"], keep="last")
    keys = {"segment_id": "str", "code_id": "str"}  # an empty frame's keys may be typeless
    rows = yes.astype(keys).merge(decided.astype(keys), on=list(keys), how="outer")
    rows["submitted"] = rows["segment_id"].map(submitted).astype("float64")
    rows = rows.sort_values(["segment_id", "code_id"])
    rows["applied_by"] = [a if isinstance(a, list) else [] for a in rows["applied_by"]]
    n_yes = rows["applied_by"].map(len).to_numpy()
    n_done = rows["submitted"].fillna(0).to_numpy(dtype=np.int64)
    resolved = rows["decision"].notna().to_numpy()
    is_open = ~resolved & is_disagreement(n_yes, n_done)
    agreed = ~resolved & ~is_open & (n_done >= 2)
    rows["status"] = np.select(
        [resolved, is_open, agreed], ["resolved", "open", "agreed"], default="single"
    )
    final = np.where(resolved, rows["decision"].to_numpy() == str(Decision.APPLY), n_yes > 0)
    rows["final"] = pd.array(
        [None if o else bool(f) for o, f in zip(is_open, final, strict=True)], dtype=object
    )
    for text in ("rationale", "reviewer"):  # "" where no decision stands
        rows[text] = pd.Series(
            [v if isinstance(v, str) else "" for v in rows[text]], index=rows.index, dtype=str
        )
    columns = ["segment_id", "code_id", "applied_by", "status", "final", "rationale", "reviewer"]
    return rows[columns].reset_index(drop=True)
