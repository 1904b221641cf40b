"""The audit trail for export: which events show, with which of their detail."""

from __future__ import annotations

import json

import pandas as pd

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
    ordered = events.sort_values("id")
    columns = [ordered[c].tolist() for c in ("id", "at", "actor", "action", "subject", "detail")]
    rows = [
        _audit_event(number, at, actor, action, subject, detail, completed)
        for number, at, actor, action, subject, detail in zip(*columns, strict=True)
    ]
    return pd.DataFrame(rows, columns=AUDIT_EVENT_COLUMNS)


def _audit_event(
    number: object,
    at: object,
    actor: object,
    action: object,
    subject: object,
    detail: object,
    completed: set[tuple[str, str]],
) -> tuple[int, str, str, str, str, str, str]:
    """One row of the exported event trail (see :func:`audit_events`)."""
    action, subject, actor = str(action), str(subject), str(actor)
    withheld = ""
    shown: dict[str, object] = {}
    if action not in AUDIT_DETAIL:
        subject, withheld = "", "not on the export allow-list"
    elif action in CODER_WORK and (subject, actor) not in completed:
        withheld = "draft: the coder has not submitted this unit"
    else:
        try:
            found = json.loads(str(detail or "{}"))
        except json.JSONDecodeError:
            found, withheld = {}, "unreadable detail in the audit trail"
        if isinstance(found, dict):
            shown = {k: found[k] for k in AUDIT_DETAIL[action] if k in found}
    text = json.dumps(shown, sort_keys=True, ensure_ascii=False)
    return int(str(number)), str(at), actor, action, subject, text, withheld
