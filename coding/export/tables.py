"""The export tables: coded segments with final codes, the programme x code matrix, audit log.

Only revealed work is used: an annotation counts once its coder has completed the segment.
Final codes come from ``coding.review.final_codes``; every row says on what basis it stands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from coding import review
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


def revealed(annotations: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Annotations on segments their coder has completed; the rest is not the study's yet.

    >>> ann = pd.DataFrame({"segment_id": ["s", "s"], "coder": ["a", "b"], "code_id": ["x", "x"]})
    >>> asg = pd.DataFrame({"segment_id": ["s", "s"], "coder": ["a", "b"],
    ...                     "completed": [True, False]})
    >>> revealed(ann, asg)["coder"].tolist()
    ['a']
    """
    done = assignments[assignments["completed"]]
    pairs = set(zip(done["segment_id"], done["coder"], strict=True))
    keep = pd.Series(
        [
            (s, c) in pairs
            for s, c in zip(annotations["segment_id"], annotations["coder"], strict=True)
        ],
        index=annotations.index,
        dtype=bool,
    )  # a Series, not a list: an empty list would select no columns
    return annotations[keep].reset_index(drop=True)


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
    when = {
        (r.segment_id, r.code_id): (str(r.at), str(r.decision))
        for r in resolutions.itertuples(index=False)
    }
    finals["decided_at"] = [
        when.get((s, c), ("", ""))[0]
        for s, c in zip(finals["segment_id"], finals["code_id"], strict=True)
    ]
    finals["decision"] = [
        when.get((s, c), ("", ""))[1]
        for s, c in zip(finals["segment_id"], finals["code_id"], strict=True)
    ]
    return finals


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
    done = assignments[assignments["completed"]]
    completed = set(zip(done["segment_id"], done["coder"], strict=True))
    codes_of: dict[tuple[str, str], list[str]] = {}
    for ann in shown.sort_values("code_id").itertuples(index=False):
        codes_of.setdefault((ann.segment_id, ann.coder), []).append(ann.code_id)
    names = {c.id: c.name for c in codebook.codes}
    order = {c: i for i, c in enumerate(codebook.code_ids)}
    where = segments.set_index("segment_id")
    rows = []
    for f in finals.itertuples(index=False):
        seg = where.loc[f.segment_id]
        row: dict[str, object] = {
            "segment_id": f.segment_id,
            "document_id": seg["document_id"],
            "title": seg["title"],
            "programme": seg["programme"] or NO_PROGRAMME,
            "section": seg["label"],
            "position": int(seg["position"]),
            "start": int(seg["start"]),
            "end": int(seg["end"]),
            "text": seg["text"],
            "code_id": f.code_id,
            "code_name": names[f.code_id],
            "final": FINAL_LABEL[f.final],
            "basis": BASIS[f.status],
            "status": f.status,
        }
        for coder in coders:
            key = (f.segment_id, coder)
            if key not in completed:
                row[f"coder_{coder}"] = "not completed"
                row[f"codes_{coder}"] = ""
            else:
                mine = codes_of.get(key, [])
                row[f"coder_{coder}"] = "applied" if f.code_id in mine else "not applied"
                row[f"codes_{coder}"] = "; ".join(mine)
        row.update(
            {
                "decision": f.decision,
                "reviewer": f.reviewer,
                "rationale": f.rationale,
                "decided_at": f.decided_at,
                "codebook_version": codebook_version,
            }
        )
        rows.append(row)
    columns = [
        *SEGMENT_COLUMNS,
        *(f"{kind}_{coder}" for coder in coders for kind in ("coder", "codes")),
        *DECISION_COLUMNS,
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
    frame["_order"] = frame["code_id"].map(order)
    frame = frame.sort_values(["document_id", "position", "_order"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def location(row: pd.Series) -> str:
    """Where an excerpt is: document, section, paragraph number and character offsets."""
    section = f", {row['section']}" if row["section"] else ""
    return (
        f"{row['document_id']}{section}, unit {int(row['position']) + 1}, "
        f"chars {int(row['start'])}\u2013{int(row['end'])}"
    )


STATUS_RANK = {"agreed": 0, "resolved": 1, "single": 2}
MATRIX_COLUMNS = [
    "programme",
    "code_id",
    "code_name",
    "segments",
    "programme_segments",
    "share",
    "top_excerpts",
]


def matrix(
    coded: pd.DataFrame, segments: pd.DataFrame, codebook: Codebook, top: int = 3
) -> pd.DataFrame:
    """Programme x code cells: segments with the final code, share of the programme's
    segments, and the top excerpts (agreed first, then resolved, then single; in order)."""
    programmes = segments["programme"].replace("", NO_PROGRAMME)
    totals = programmes.value_counts().to_dict()
    final = coded[coded["final"] == "yes"] if not coded.empty else coded
    rows = []
    for programme in sorted(totals):
        for code in codebook.codes:
            cell = (
                final[(final["programme"] == programme) & (final["code_id"] == code.id)]
                if not final.empty
                else final
            )
            if not cell.empty:
                ranked = (
                    cell.assign(_rank=cell["status"].map(STATUS_RANK))
                    .sort_values(["_rank", "document_id", "position"], kind="stable")
                    .head(top)
                )
                excerpts = " || ".join(
                    f"[{location(r)}] {_short(r['text'])}" for _, r in ranked.iterrows()
                )
            else:
                excerpts = ""
            count = int(cell["segment_id"].nunique()) if not cell.empty else 0
            total = int(totals[programme])
            rows.append(
                {
                    "programme": programme,
                    "code_id": code.id,
                    "code_name": code.name,
                    "segments": count,
                    "programme_segments": total,
                    "share": round(count / total, 4) if total else None,
                    "top_excerpts": excerpts,
                }
            )
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def _short(text: str, width: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def matrix_wide(cells: pd.DataFrame, value: str) -> pd.DataFrame:
    """Programmes as rows, codes as columns, in codebook order."""
    wide = cells.pivot(index="programme", columns="code_id", values=value)
    wide = wide[list(dict.fromkeys(cells["code_id"]))]
    wide.columns.name = None
    return wide.reset_index()


def audit_log(
    history: pd.DataFrame,
    annotations: pd.DataFrame,
    assignments: pd.DataFrame,
    segments: pd.DataFrame,
) -> pd.DataFrame:
    """Every reviewer decision in order, with the state before and after it."""
    columns = [
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
    if history.empty:
        return pd.DataFrame(columns=columns)
    shown = revealed(annotations, assignments)
    applied: dict[tuple[str, str], set[str]] = {}
    for row in shown.itertuples(index=False):
        applied.setdefault((row.segment_id, row.code_id), set()).add(row.coder)
    done = assignments[assignments["completed"]]
    completed = done.groupby("segment_id")["coder"].apply(lambda s: sorted(set(s))).to_dict()
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
    return pd.DataFrame(rows, columns=columns)


# Events the audit export shows, each with the detail keys it may show. Anything else keeps
# its row (when, who, what) with subject and detail withheld: a new kind of event shows no
# content until it is listed here.
AUDIT_DETAIL: dict[str, tuple[str, ...]] = {
    "set_setting": ("value",),
    "load_codebook": ("sha256",),
    "codebook_version": ("changes", "sha256"),
    "import_documents": ("documents",),
    "import_document": ("name", "version", "sha256", "source", "segments"),
    "import_project": (
        "documents",
        "coders",
        "annotations",
        "completed",
        "codes_added",
        "held_units",
    ),
    "add_coders": ("kind",),
    "add_annotations": ("annotations", "completed"),
    "assign": ("segments",),
    "complete": ("units",),
    "suggest": ("engine", "model_version", "n"),
    "resolve": ("decisions", "reviewers"),
    "add_user": ("role",),
    "set_password": (),
    "code_note": ("codebook_version", "segment_id"),
    "code_unit": ("codes", "memo", "complete"),
}
# Events that carry a coder's own codes or memo on a unit (subject = segment id, actor = the
# coder): shown only once that coder has completed that unit.
CODER_WORK = frozenset({"code_unit"})
AUDIT_EVENT_COLUMNS = ["id", "at", "actor", "action", "subject", "detail", "withheld"]


def audit_events(events: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The event trail for export: allow-listed actions with allow-listed detail keys; a
    coder's draft (a ``code_unit`` save on a unit they have not completed) keeps its row but
    not its codes or memo.

    >>> ev = pd.DataFrame({"id": [1], "at": ["t"], "actor": ["ann"], "action": ["code_unit"],
    ...                    "subject": ["s1"], "detail": ['{"codes": ["x"], "memo": "m"}']})
    >>> asg = pd.DataFrame({"segment_id": ["s1"], "coder": ["ann"], "completed": [False]})
    >>> audit_events(ev, asg)[["detail", "withheld"]].values.tolist()
    [['{}', 'draft: the coder has not submitted this unit']]
    """
    if events.empty:
        return pd.DataFrame(columns=AUDIT_EVENT_COLUMNS)
    done = assignments[assignments["completed"]] if not assignments.empty else assignments
    completed = (
        set(zip(done["segment_id"], done["coder"], strict=True)) if not done.empty else set()
    )
    rows = []
    for e in events.sort_values("id").itertuples(index=False):
        action = str(e.action)
        subject = str(e.subject)
        withheld = ""
        shown: dict[str, object] = {}
        if action not in AUDIT_DETAIL:
            subject, withheld = "", "not on the export allow-list"
        elif action in CODER_WORK and (subject, str(e.actor)) not in completed:
            withheld = "draft: the coder has not submitted this unit"
        else:
            try:
                detail = json.loads(str(e.detail or "{}"))
            except json.JSONDecodeError:
                detail, withheld = {}, "unreadable detail in the audit trail"
            if isinstance(detail, dict):
                shown = {k: detail[k] for k in AUDIT_DETAIL[action] if k in detail}
        rows.append(
            {
                "id": int(e.id),
                "at": str(e.at),
                "actor": str(e.actor),
                "action": action,
                "subject": subject,
                "detail": json.dumps(shown, sort_keys=True, ensure_ascii=False),
                "withheld": withheld,
            }
        )
    return pd.DataFrame(rows, columns=AUDIT_EVENT_COLUMNS)
