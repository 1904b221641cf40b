"""Reference labels: what the study currently holds to be the coding of each finished segment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DECISION_VALUES = {"apply": 1.0, "reject": 0.0}


def reference_labels(
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    resolutions: pd.DataFrame,
    code_ids: Sequence[str],
    *,
    include_pending: bool = False,
) -> pd.DataFrame:
    """Segments x codes of 1/0/NaN: the labels engines are trained and evaluated on.

    ``annotations`` has columns segment_id, coder, code_id; ``assignments`` segment_id, coder,
    completed (bool); ``resolutions`` segment_id, code_id, decision with the current decisions
    ("apply" or "reject"). For each (segment, code):

    1. a resolution wins: "apply" is 1, "reject" is 0;
    2. otherwise, among the coders who completed the segment: 1 if all of them applied the
       code, 0 if none did, NaN if only some did (one coder: that coder's codes).

    Only annotations of completed assignments count. A segment that some coder has been
    assigned but not completed is left out (unless ``include_pending``): its coding is not
    final, and training on it could show one coder's codes to another (see
    docs/suggestions.md, "Blinding"). Rows are sorted segment ids; rows that are NaN for every
    code are dropped, and codes outside ``code_ids`` are ignored.

    >>> ann = pd.DataFrame({"segment_id": ["s1", "s1"], "coder": ["a", "b"], "code_id": ["x", "x"]})
    >>> asg = pd.DataFrame({"segment_id": ["s1", "s1"], "coder": ["a", "b"], "completed": [1, 1]})
    >>> res = pd.DataFrame(columns=["segment_id", "code_id", "decision"])
    >>> reference_labels(ann, asg, res, ["x", "y"]).to_dict("index")
    {'s1': {'x': 1.0, 'y': 0.0}}
    """
    codes = list(code_ids)
    done = assignments.loc[assignments["completed"].astype(bool), ["segment_id", "coder"]]
    done = done.drop_duplicates()
    if not include_pending:
        pending = set(assignments.loc[~assignments["completed"].astype(bool), "segment_id"])
        done = done[~done["segment_id"].isin(pending)]
    coders = done.groupby("segment_id")["coder"].nunique()

    applied = annotations[["segment_id", "coder", "code_id"]].drop_duplicates()
    applied = applied.merge(done, on=["segment_id", "coder"])
    applied = applied[applied["code_id"].isin(codes)]
    counts = (
        applied.groupby(["segment_id", "code_id"])["coder"]
        .nunique()
        .unstack("code_id")
        .reindex(index=coders.index, columns=codes)
        .fillna(0)
        .to_numpy(dtype=float)
    )
    needed = coders.to_numpy(dtype=float)[:, None]
    values = np.where(counts == needed, 1.0, np.where(counts == 0, 0.0, np.nan))
    labels = pd.DataFrame(values, index=coders.index.astype(str), columns=codes)

    decided = _decisions(resolutions, codes)
    if not decided.empty:
        labels = labels.reindex(labels.index.union(decided.index))
        labels = decided.combine_first(labels)[codes]
    labels.index.name = "segment_id"
    labels.columns.name = None
    return labels.dropna(how="all").sort_index().astype(float)


def _decisions(resolutions: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Resolutions as segments x codes of 1/0/NaN; the last row wins for a repeated pair."""
    unknown = set(map(str, resolutions["decision"])) - set(DECISION_VALUES)
    if unknown:
        raise ValueError(f"resolutions must hold current decisions only, got {sorted(unknown)}")
    rows = resolutions[resolutions["code_id"].isin(codes)]
    if rows.empty:
        return pd.DataFrame(columns=codes, dtype=float)
    rows = rows.assign(value=[DECISION_VALUES[str(d)] for d in rows["decision"]])
    rows = rows.drop_duplicates(["segment_id", "code_id"], keep="last")
    table = rows.pivot(index="segment_id", columns="code_id", values="value")
    table.index = table.index.astype(str)
    return table.reindex(columns=codes).astype(float)
