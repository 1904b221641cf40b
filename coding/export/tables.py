"""The export tables: coded segments with final codes and the audit log (the matrix: matrix.py).

Only revealed work is used: an annotation counts once its coder has completed the segment.
Final codes come from ``coding.review.final_codes``; every row says on what basis it stands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from coding import review
from coding.export.audit import audit_events as audit_events  # the event trail, here too
from coding.export.lookup import factorized, joined_by_group, tuple_keys
from coding.model import Codebook

BASIS = {
    "resolved": "consensus resolution by the reviewer",
    "agreed": "all coders applied it",
    "single": "one coder only (no second coding)",
    "open": "open disagreement: no final decision yet",
}
FINAL_LABEL = {True: "yes", False: "no", None: "open"}
SEGMENT_COLUMNS = [
    "segment_id",
    "document_id",
    "title",
    "programme",
    "section",
    "position",
    "start",
    "end",
    "text",
    "code_id",
    "code_name",
    "final",
    "basis",
    "status",
]
DECISION_COLUMNS = ["decision", "reviewer", "rationale", "decided_at", "codebook_version"]
NO_PROGRAMME = "(no programme)"


def _done(assignments: pd.DataFrame) -> pd.DataFrame:
    """The assignments their coder has completed."""
    return assignments[assignments["completed"].to_numpy(dtype=bool)]


def revealed(annotations: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Annotations on segments their coder has completed; the rest is not the study's yet.

    >>> ann = pd.DataFrame({"segment_id": ["s", "s"], "coder": ["a", "b"], "code_id": ["x", "x"]})
    >>> asg = pd.DataFrame({"segment_id": ["s", "s"], "coder": ["a", "b"],
    ...                     "completed": [True, False]})
    >>> revealed(ann, asg)["coder"].tolist()
    ['a']
    """
    done = _done(assignments)
    mine, completed = tuple_keys(
        [annotations["segment_id"], annotations["coder"]], [done["segment_id"], done["coder"]]
    )
    return annotations.loc[np.isin(mine, completed)].reset_index(drop=True)


def final_table(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    resolutions: pd.DataFrame,
    code_ids: Sequence[str],
) -> pd.DataFrame:
    """``review.final_codes`` on revealed work, with the resolution time added."""
    shown = revealed(annotations, assignments)
    if resolutions.empty:
        resolutions = pd.DataFrame(
            columns=["segment_id", "code_id", "decision", "reviewer", "rationale", "at"]
        )
    finals = review.final_codes(shown, assignments, resolutions, code_ids)
    standing = resolutions.drop_duplicates(["segment_id", "code_id"], keep="last")
    decided, wanted = tuple_keys(
        [standing["segment_id"], standing["code_id"]], [finals["segment_id"], finals["code_id"]]
    )
    at = pd.Index(decided).get_indexer(wanted)
    for column, source in (("decided_at", "at"), ("decision", "decision")):
        texts = np.asarray([*map(str, standing[source].tolist()), ""], dtype=object)
        finals[column] = texts[at].tolist()  # -1 (no decision) takes the last: ""
    return finals


def _coder_columns(
    finals: pd.DataFrame, shown: pd.DataFrame, assignments: pd.DataFrame, coders: Sequence[str]
) -> dict[str, list[str]]:
    """Per coder, on each final row: whether they applied the code, and all their codes (in
    code id order)."""
    done = _done(assignments)
    everyone = pd.Series(list(coders), dtype=object)
    (final_seg, shown_seg, done_seg), _ = factorized(
        finals["segment_id"], shown["segment_id"], done["segment_id"]
    )
    (shown_coder, done_coder, coder_codes), coder_values = factorized(
        shown["coder"], done["coder"], everyone
    )
    (final_code, shown_code), code_values = factorized(finals["code_id"], shown["code_id"])
    width_code, width_coder = len(code_values) + 1, len(coder_values) + 1
    code_rank = np.argsort(np.argsort(np.asarray(code_values, dtype=object), kind="stable"))
    groups, texts = joined_by_group(
        shown_seg * width_coder + shown_coder,
        shown["code_id"],
        np.argsort(code_rank[shown_code], kind="stable"),
    )
    columns: dict[str, list[str]] = {}
    for coder, me in zip(coders, coder_codes.tolist(), strict=True):
        completed = np.isin(final_seg, done_seg[done_coder == me])
        mine = (shown_seg * width_code + shown_code)[shown_coder == me]
        applied = np.isin(final_seg * width_code + final_code, mine)
        found = pd.Index(groups).get_indexer(final_seg * width_coder + me)
        codes = np.asarray([*texts, ""], dtype=object)[found]  # -1 (none): ""
        columns[f"coder_{coder}"] = np.where(
            completed, np.where(applied, "applied", "not applied"), "not completed"
        ).tolist()
        columns[f"codes_{coder}"] = np.where(completed, codes, "").tolist()
    return columns


def coded_segments(
    segments: pd.DataFrame,
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    resolutions: pd.DataFrame,
    codebook: Codebook,
    codebook_version: int,
    coders: Sequence[str],
) -> pd.DataFrame:
    """One row per segment x code in play, with each coder's codes and the final decision."""
    finals = final_table(annotations, assignments, resolutions, codebook.code_ids)
    shown = revealed(annotations, assignments)
    at = pd.Index(segments["segment_id"]).get_indexer(finals["segment_id"])
    if (at < 0).any():
        raise KeyError(finals["segment_id"].iloc[int(np.argmax(at < 0))])  # not in the study

    def place(column: str) -> npt.NDArray[Any]:
        return np.asarray(segments[column].to_numpy()[at])

    # Rows by document, position and codebook order, taken once for every column.
    rank = finals["code_id"].map({c: i for i, c in enumerate(codebook.code_ids)})
    documents, _ = pd.factorize(place("document_id"), sort=True)
    positions = place("position").astype(np.int64)
    take = np.lexsort((rank.fillna(len(codebook.code_ids)).to_numpy(), positions, documents))
    names = {c.id: c.name for c in codebook.codes}
    columns: dict[str, object] = {
        "segment_id": finals["segment_id"],
        "document_id": place("document_id"),
        "title": place("title"),
        "programme": [p or NO_PROGRAMME for p in place("programme").tolist()],
        "section": place("label"),
        "position": positions,
        "start": place("start").astype(np.int64),
        "end": place("end").astype(np.int64),
        "text": place("text"),
        "code_id": finals["code_id"],
        "code_name": finals["code_id"].map(names),
        "final": [FINAL_LABEL[f] for f in finals["final"].tolist()],
        "basis": finals["status"].map(BASIS),
        "status": finals["status"],
        **_coder_columns(finals, shown, assignments, coders),
        **{column: finals[column] for column in ("decision", "reviewer", "rationale")},
        "decided_at": finals["decided_at"],
        "codebook_version": np.full(len(finals), codebook_version, dtype=np.int64),
    }
    order = [
        *SEGMENT_COLUMNS,
        *(f"{kind}_{coder}" for coder in coders for kind in ("coder", "codes")),
        *DECISION_COLUMNS,
    ]
    return pd.DataFrame({name: _taken(columns[name], take) for name in order}, columns=order)


def _taken(values: object, take: npt.NDArray[np.intp]) -> pd.Series:
    """A column's values in the rows ``take`` picks: numbers as they are, anything else as
    Python objects. A column of text holds one object per distinct text (a code id or a
    status repeats on many rows), not one per row; any other column's objects are copied by
    reference.

    >>> column = _taken(pd.Series(["a", "b", "a"], dtype="str"), np.array([2, 0, 1]))
    >>> column.tolist(), column.iloc[0] is column.iloc[1]
    (['a', 'a', 'b'], True)
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iufb":
        return pd.Series(values[take])
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if pd.api.types.is_object_dtype(series.dtype) and (
        pd.api.types.infer_dtype(series, skipna=False) != "string"
    ):  # mixed values (1 and True are one value to a hash table): by reference
        return pd.Series(series.to_numpy(dtype=object)[take], dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    return pd.Series(np.asarray(uniques, dtype=object)[codes[take]], dtype=object)


def location(row: Mapping[str, Any]) -> str:
    """Where an excerpt is: document, section, paragraph number and character offsets."""
    section = f", {row['section']}" if row["section"] else ""
    return (
        f"{row['document_id']}{section}, unit {int(row['position']) + 1}, "
        f"chars {int(row['start'])}\u2013{int(row['end'])}"
    )


AUDIT_COLUMNS = [
    "id",
    "at",
    "reviewer",
    "segment_id",
    "document_id",
    "code_id",
    "decision",
    "rationale",
    "before",
    "after",
    "codebook_version",
]


def audit_log(
    history: pd.DataFrame,
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    segments: pd.DataFrame,
) -> pd.DataFrame:
    """Every reviewer decision in order, with the state before and after it."""
    if history.empty:
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    applied, completed = _decided_states(history, annotations, assignments)
    documents = dict(zip(segments["segment_id"], segments["document_id"], strict=True))
    standing: dict[tuple[str, str], str] = {}
    rows = []
    for r in history.sort_values("id").itertuples(index=False):
        key = (r.segment_id, r.code_id)
        yes = sorted(applied.get(key, set()))
        no = [c for c in completed.get(r.segment_id, []) if c not in yes]
        coders_state = (
            f"open: applied by {', '.join(yes) or 'nobody'}; not by {', '.join(no) or 'nobody'}"
        )
        before = standing.get(key, coders_state)
        after = {"apply": "code applied (consensus)", "reject": "code not applied (consensus)"}.get(
            str(r.decision), coders_state + " (decision withdrawn)"
        )
        standing[key] = after
        rows.append(
            {
                "id": int(r.id),
                "at": str(r.at),
                "reviewer": r.reviewer,
                "segment_id": r.segment_id,
                "document_id": documents.get(r.segment_id, ""),
                "code_id": r.code_id,
                "decision": str(r.decision),
                "rationale": r.rationale,
                "before": before,
                "after": after,
                "codebook_version": r.codebook_version,
            }
        )
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def _decided_states(
    history: pd.DataFrame, annotations: pd.DataFrame, assignments: pd.DataFrame
) -> tuple[dict[tuple[str, str], set[str]], dict[str, list[str]]]:
    """For the segments with a decision only: who applied each code (revealed work), and
    who submitted each segment (in name order)."""
    decided = set(history["segment_id"].tolist())
    shown = revealed(
        annotations[annotations["segment_id"].isin(decided)],
        assignments[assignments["segment_id"].isin(decided)],
    )
    applied: dict[tuple[str, str], set[str]] = {}
    for row in shown.itertuples(index=False):
        applied.setdefault((row.segment_id, row.code_id), set()).add(row.coder)
    done = assignments[assignments["completed"] & assignments["segment_id"].isin(decided)]
    completed: dict[str, list[str]] = {}
    for segment_id, coder in zip(done["segment_id"].tolist(), done["coder"].tolist(), strict=True):
        completed.setdefault(segment_id, []).append(coder)
    return applied, {segment_id: sorted(set(names)) for segment_id, names in completed.items()}
