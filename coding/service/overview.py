"""What is in the study and what to do next: the one overview (`coding status` and the Study
page), a coder's own overview, and the next-step prose."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from coding.model import Role
from coding.service import queue
from coding.service.access import Operator, require_role
from coding.service.attributes import Attribute, study_attributes
from coding.service.coder import UnitCounts, units_in
from coding.service.queue import QueueCounts
from coding.store import Store
from coding.store import attributes as attribute_store
from coding.store import coder as coder_store
from coding.store import overview as overview_store


@dataclass(frozen=True)
class Overview:
    """The study at a glance, from SQL counts: what `coding status` prints and the Study page
    shows to reviewers and admins."""

    study: str
    schema_version: int
    unit: str
    codebook_version: int | None
    codes: int
    documents: pd.DataFrame  # id, name, version, title, programme, units
    coders: list[str]  # registered human coders
    progress: pd.DataFrame  # coder, document_id, title, assigned, completed
    annotations: dict[str, int]  # per coder
    disagreements: QueueCounts
    resolutions: int
    suggestions: int
    events: int
    next_steps: list[str]
    # the study's attributes when it declares any (programme alone lists none)
    attributes: list[Attribute] = field(default_factory=list)

    def coder_progress(self) -> dict[str, dict[str, int]]:
        """Per registered coder: assigned and completed units, annotations, documents with
        submitted work."""
        rows = {}
        for coder in self.coders:
            mine = self.progress[self.progress["coder"] == coder]
            rows[coder] = {
                "assigned": int(mine["assigned"].sum()),
                "completed": int(mine["completed"].sum()),
                "annotations": self.annotations.get(coder, 0),
                "documents_completed": int((mine["completed"] > 0).sum()),
            }
        return rows

    def as_dict(self) -> dict[str, Any]:
        """The counts as one dict with snake_case keys (the JSON of `coding status`)."""
        progress = self.coder_progress()
        counts = self.disagreements
        return {
            "study": self.study,
            "schema_version": self.schema_version,
            "unit": self.unit,
            "codebook_version": self.codebook_version,
            "codes": self.codes,
            "documents": int(self.documents["name"].nunique()),
            "document_versions": len(self.documents),
            "segments": int(self.documents["units"].sum()),
            "coders": sum(p["completed"] > 0 for p in progress.values()),  # who submitted
            "coders_registered": len(self.coders),
            "annotations": sum(self.annotations.values()),
            "progress": progress,
            "disagreements": counts.pairs,
            "disagreements_resolved": counts.resolved,
            "disagreements_open": counts.pairs - counts.resolved,
            "resolutions": self.resolutions,
            "suggestions": self.suggestions,
            "events": self.events,
        } | (
            {"attributes": [_attribute_dict(a) for a in self.attributes]} if self.attributes else {}
        )


def study_overview(store: Store, user: str | Operator) -> Overview:
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
    counts = queue.disagreement_counts(store, user)
    steps = _next_steps(bool(versions), documents, coders, progress, counts)
    return Overview(
        study=store.target,
        schema_version=store.schema_version(),
        unit=store.settings().get("unit", ""),
        codebook_version=versions[-1] if versions else None,
        codes=len(code_ids),
        documents=documents,
        coders=coders,
        progress=progress,
        annotations=overview_store.annotations_per_coder(store),
        disagreements=counts,
        resolutions=store.count("resolutions"),
        suggestions=store.count("suggestions"),
        events=store.revision(),
        next_steps=steps,
        attributes=_declared_attributes(store),
    )


def _declared_attributes(store: Store) -> list[Attribute]:
    """The study's attributes (programme too) when it declares any; else none."""
    return study_attributes(store) if attribute_store.declared(store) else []


def _attribute_dict(attribute: Attribute) -> dict[str, Any]:
    """An attribute for JSON: name, scope, type, the number of values and the values."""
    fields = asdict(attribute)
    return fields | {"values": len(attribute.values), "distinct": list(attribute.values)}


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
