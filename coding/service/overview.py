"""What is in the study and what to do next: the overview, a coder's own overview, the
next-step prose and the status counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from coding import review
from coding.model import Role
from coding.service.access import require_role
from coding.service.coder import UnitCounts, units_in
from coding.store import Store
from coding.store import coder as coder_store
from coding.store import overview as overview_store
from coding.store import review as review_store
from coding.store.review import QueueCounts


@dataclass(frozen=True)
class Overview:
    codebook_version: int | None
    codes: int
    documents: pd.DataFrame  # id, name, version, title, programme, units
    coders: list[str]
    progress: pd.DataFrame  # coder, document_id, title, assigned, completed
    disagreements: QueueCounts
    suggestions: int
    next_steps: list[str]


def study_overview(store: Store, user: str) -> Overview:
    """What is in the study and what to do next (SQL counts; fast on large studies).

    For reviewers and admins only: it holds every coder's progress and the study's
    disagreement counts, from which a coder could work out other coders' codes.
    """
    require_role(store, user, Role.REVIEWER)
    versions = store.codebook_versions()
    code_ids = store.codebook().codebook.code_ids if versions else ()
    documents = overview_store.documents_overview(store)
    coders = store.coders(kind="human")
    progress = overview_store.progress_frame(store)
    _, counts = review_store.queue_page(store, code_ids, state="all", limit=0)
    suggestions = store.count("suggestions")
    steps = _next_steps(bool(versions), documents, coders, progress, counts)
    return Overview(
        versions[-1] if versions else None,
        len(code_ids),
        documents,
        coders,
        progress,
        counts,
        suggestions,
        steps,
    )


@dataclass(frozen=True)
class CoderOverview(UnitCounts):
    """A coder's own view of the study: their assignments and nothing about anyone else."""

    coder: str
    codebook_version: int | None
    codes: int
    documents: pd.DataFrame  # document_id, title, assigned, completed (this coder's units)
    next_steps: list[str]


def coder_overview(store: Store, user: str) -> CoderOverview:
    """The signed-in coder's progress per document; no other coder, no disagreement counts."""
    coder = require_role(store, user, Role.CODER).name
    versions = store.codebook_versions()
    code_ids = store.codebook().codebook.code_ids if versions else ()
    documents = coder_store.coder_documents(store, coder)
    assigned = units_in(documents, "assigned")
    left = assigned - units_in(documents, "completed")
    if not assigned:
        steps = ["No units are assigned to you yet: ask an admin to assign some."]
    elif left:
        steps = [f"{left} unit(s) still to code on the Code page."]
    else:
        steps = ["All your units are submitted. Thank you!"]
    return CoderOverview(coder, versions[-1] if versions else None, len(code_ids), documents, steps)


def _next_steps(
    has_codebook: bool,
    documents: pd.DataFrame,
    coders: list[str],
    progress: pd.DataFrame,
    counts: QueueCounts,
) -> list[str]:
    if not has_codebook:
        return ["Load a codebook: `coding codebook load STUDY codebook.yaml`."]
    if documents.empty:
        return ["Import documents: `coding import STUDY manuals/*.docx`."]
    if not coders:
        return ["Add coders: `coding users add STUDY NAME --role coder`."]
    steps = []
    if progress.empty:
        steps.append("Assign units: `coding assign STUDY --coder NAME`.")
    left = progress.assign(left=progress["assigned"] - progress["completed"])
    for coder, n in left.groupby("coder")["left"].sum().items():
        if n:
            steps.append(f"{coder}: {n} unit(s) still to code.")
    open_pairs = counts.pairs - counts.resolved
    if open_pairs:
        steps.append(f"Reviewer: resolve {open_pairs} open disagreement(s) on the Resolve page.")
    if not steps:
        steps.append("All coded and resolved: read the Agreement page and download exports.")
    return steps


def status(store: Store) -> dict[str, Any]:
    """Counts that describe the study, as one dict with snake_case keys."""
    codebook = store.codebook() if store.codebook_versions() else None
    documents = store.documents()
    segments = store.segments_frame()
    assignments = store.assignments_frame()
    annotations = store.annotations_frame()
    human = store.coders(kind="human")
    progress = {}
    for coder in human:
        mine = assignments[assignments["coder"] == coder]
        progress[coder] = {
            "assigned": len(mine),
            "completed": int(mine["completed"].sum()),
            "annotations": int((annotations["coder"] == coder).sum()),
            "documents_completed": int(mine[mine["completed"]]["document_id"].nunique()),
        }
    code_ids = codebook.codebook.code_ids if codebook else ()
    found = review.find_disagreements(annotations, assignments, code_ids)
    decided = store.current_resolutions_frame()
    standing = (
        set() if decided.empty else set(zip(decided["segment_id"], decided["code_id"], strict=True))
    )
    resolved = sum(
        (s, c) in standing for s, c in zip(found["segment_id"], found["code_id"], strict=True)
    )
    return {
        "study": store.target,
        "schema_version": store.schema_version(),
        "unit": store.settings().get("unit", ""),
        "codebook_version": codebook.version if codebook else None,
        "codes": len(code_ids),
        "documents": len({d.name for d in documents}),
        "document_versions": len(documents),
        "segments": len(segments),
        "coders": sum(p["completed"] > 0 for p in progress.values()),  # who submitted work
        "coders_registered": len(human),
        "annotations": len(annotations),
        "progress": progress,
        "disagreements": len(found),
        "disagreements_resolved": resolved,
        "disagreements_open": len(found) - resolved,
        "resolutions": store.count("resolutions"),
        "suggestions": store.count("suggestions"),
        "events": store.revision(),
    }
