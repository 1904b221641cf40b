"""SQL for importing a whole project (a REFI-QDA .qdpx) in one transaction: all or nothing.

Every function takes a Store, like ``coding.store.users`` and ``coding.store.coder``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from coding.errors import Conflict
from coding.model import Annotation, Codebook, Document, Segment
from coding.store import schema as t
from coding.store.attributes import AttributeWrite, write_attributes
from coding.store.base import timestamp
from coding.store.coding import (
    annotation_frame,
    insert_annotations,
    insert_coders,
    mark_complete,
)
from coding.store.store import Store
from coding.store.texts import insert_codebook_version, insert_document


@dataclass(frozen=True)
class ProjectWrite:
    """Everything one project import writes; empty parts are skipped."""

    source: str
    codebook: Codebook | None = None
    codebook_sha256: str = ""
    codebook_changes: Sequence[str] = ()
    documents: Sequence[tuple[Document, Sequence[Segment]]] = ()
    coders: Sequence[str] = ()
    annotations: Sequence[Annotation] = ()
    complete: Sequence[tuple[str, str]] = ()  # (segment_id, coder) pairs new to the study
    detail: dict[str, object] = field(default_factory=dict)
    attributes: AttributeWrite = field(default_factory=AttributeWrite)

    @property
    def empty(self) -> bool:
        return not (
            self.codebook
            or self.documents
            or self.coders
            or self.annotations
            or self.complete
            or not self.attributes.empty
        )


def import_project(store: Store, write: ProjectWrite, actor: str) -> int | None:
    """Write a planned project import in ONE transaction (one ``import_project`` event, plus
    the usual ``codebook_version`` and ``import_document`` rows); return the new codebook
    version, if any. Nothing is written when there is nothing new.

    Document ids already in the study are a Conflict, checked before the first insert.
    Completion only ever adds new (segment, coder) rows, marked complete: an assignment the
    study already has is never changed, so a coder's unsubmitted draft stays hidden.
    """
    if write.empty:
        return None
    detail = {
        "documents": len(write.documents),
        "coders": list(write.coders),
        "annotations": len(write.annotations),
        "completed": len(write.complete),
        **write.detail,
    }
    version: int | None = None
    with store.transaction(actor, "import_project", write.source, detail) as conn:
        _check_document_ids(conn, [d.id for d, _ in write.documents])
        if write.codebook is not None:
            changes = write.codebook_changes
            version = insert_codebook_version(
                conn, write.codebook, write.codebook_sha256, write.source, actor, changes
            )
            detail = {"changes": list(changes), "sha256": write.codebook_sha256}
            store.append_event(conn, actor, "codebook_version", str(version), detail)
        for document, segments in write.documents:
            detail = insert_document(conn, document, segments)
            store.append_event(conn, actor, "import_document", document.id, detail)
        insert_coders(conn, write.coders)
        insert_annotations(conn, annotation_frame(write.annotations))
        mark_complete(conn, write.complete, timestamp(), submit_open=False)
        if not write.attributes.empty:
            write_attributes(conn, write.attributes)
            store.append_event(
                conn, actor, "set_attributes", write.source, write.attributes.detail()
            )
    return version


def _check_document_ids(conn: Connection, ids: Sequence[str]) -> None:
    if not ids:
        return
    taken = sorted(
        conn.execute(select(t.documents.c.id).where(t.documents.c.id.in_(list(ids)))).scalars()
    )
    if taken:
        raise Conflict(f"document id(s) already in the study: {', '.join(taken[:5])}")
