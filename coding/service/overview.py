"""What is in the study and what to do next: the one overview (`coding status` and the Study
page), a coder's own overview, and the next-step prose."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from coding.model import Role
from coding.service.access import Operator, require_role
from coding.service.attributes import Attribute, study_attributes
from coding.store import Store
from coding.store import attributes as attribute_store
from coding.store import overview as overview_store
from coding.store import review as review_store

if TYPE_CHECKING:
    import pandas as pd

# pandas and the coder's service are imported where they are used, not here: `coding status`
# reads only counts, and starts without them.


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """Counts of the review queue (and of the overview, which counts the whole study)."""

    items: int  # segments in the queue (all filters, including open/resolved)
    pairs: int  # (segment, code) disagreements under the code/document/coder filters
    resolved: int  # of those pairs, how many have a standing decision


@dataclass(frozen=True)
class Overview:
    """The study at a glance, from SQL counts: what `coding status` prints and the Study page
    shows to reviewers and admins."""

    study: str
    schema_version: int
    unit: str
    codebook_version: int | None
    codes: int
    document_rows: list[overview_store.DocumentRow]
    coders: list[str]  # registered human coders
    progress_rows: list[overview_store.ProgressRow]
    annotations: dict[str, int]  # per coder
    disagreements: QueueCounts
    resolutions: int
    suggestions: int
    events: int
    next_steps: list[str]
    # the study's attributes when it declares any (programme alone lists none)
    attributes: list[Attribute] = field(default_factory=list)

    @property
    def documents(self) -> pd.DataFrame:
        """id, name, version, title, programme, units: one row per document version."""
        import pandas as pd

        return pd.DataFrame(self.document_rows, columns=list(overview_store.DOCUMENT_COLUMNS))

    @property
    def progress(self) -> pd.DataFrame:
        """coder, document_id, title, assigned, completed: one row per coder and document."""
        import pandas as pd

        return pd.DataFrame(self.progress_rows, columns=list(overview_store.PROGRESS_COLUMNS))

    def coder_progress(self) -> dict[str, dict[str, int]]:
        """Per registered coder: assigned and completed units, annotations, documents with
        submitted work."""
        rows = {}
        for coder in self.coders:
            mine = [p for p in self.progress_rows if p.coder == coder]
            rows[coder] = {
                "assigned": sum(p.assigned for p in mine),
                "completed": sum(p.completed for p in mine),
                "annotations": self.annotations.get(coder, 0),
                "documents_completed": sum(p.completed > 0 for p in mine),
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
            "documents": len({d.name for d in self.document_rows}),
            "document_versions": len(self.document_rows),
            "segments": sum(d.units for d in self.document_rows),
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
    documents = overview_store.document_rows(store)
    coders = store.coders(kind="human")
    progress = overview_store.progress_rows(store)
    counts = QueueCounts(*review_store.kept_totals(store, code_ids))
    steps = _next_steps(bool(versions), documents, coders, progress, counts)
    return Overview(
        study=store.target,
        schema_version=store.schema_version(),
        unit=store.settings().get("unit", ""),
        codebook_version=versions[-1] if versions else None,
        codes=len(code_ids),
        document_rows=documents,
        coders=coders,
        progress_rows=progress,
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
class CoderOverview:
    """A coder's own view of the study: their assignments and nothing about anyone else."""

    coder: str
    codebook_version: int | None
    codes: int
    documents: pd.DataFrame  # document_id, title, assigned, completed (this coder's units)
    next_steps: list[str]
    assigned: int  # units assigned to the coder
    completed: int  # of those, how many they submitted


def coder_overview(store: Store, user: str) -> CoderOverview:
    """The signed-in coder's progress per document; no other coder, no disagreement counts."""
    from coding.service.coder import units_in
    from coding.store import coder as coder_store

    coder = require_role(store, user, Role.CODER).name
    versions = store.codebook_versions()
    code_ids = store.codebook().codebook.code_ids if versions else ()
    documents = coder_store.coder_documents(store, coder)
    assigned = units_in(documents, "assigned")
    completed = units_in(documents, "completed")
    if not assigned:
        steps = ["No units are assigned to you yet: ask an admin to assign some."]
    elif assigned > completed:
        steps = [f"{assigned - completed} unit(s) still to code on the Code page."]
    else:
        steps = ["All your units are submitted. Thank you!"]
    version = versions[-1] if versions else None
    return CoderOverview(coder, version, len(code_ids), documents, steps, assigned, completed)


def _next_steps(
    has_codebook: bool,
    documents: list[overview_store.DocumentRow],
    coders: list[str],
    progress: list[overview_store.ProgressRow],
    counts: QueueCounts,
) -> list[str]:
    if not has_codebook:
        return ["Load a codebook: `coding codebook load STUDY codebook.yaml`."]
    if not documents:
        return ["Import documents: `coding import STUDY manuals/*.docx`."]
    if not coders:
        return ["Add coders: `coding users add STUDY NAME --role coder`."]
    steps = []
    if not progress:
        steps.append("Assign units: `coding assign STUDY --coder NAME`.")
    left: dict[str, int] = {}
    for row in progress:
        left[row.coder] = left.get(row.coder, 0) + row.assigned - row.completed
    for coder, n in sorted(left.items()):
        if n:
            steps.append(f"{coder}: {n} unit(s) still to code.")
    open_pairs = counts.pairs - counts.resolved
    if open_pairs:
        steps.append(f"Reviewer: resolve {open_pairs} open disagreement(s) on the Resolve page.")
    if not steps:
        steps.append("All coded and resolved: read the Agreement page and download exports.")
    return steps
