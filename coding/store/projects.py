"""SQL for importing a whole project (a REFI-QDA .qdpx) in one transaction: all or nothing.

Every function takes a Store, like ``coding.store.users`` and ``coding.store.work``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, insert, select

from coding.errors import Conflict
from coding.model import Annotation, Codebook, Document, Segment
from coding.store import schema as t
from coding.store.base import _ts
from coding.store.store import Store
from coding.store.texts import _code_row


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

    @property
    def empty(self) -> bool:
        return not (
            self.codebook or self.documents or self.coders or self.annotations or self.complete
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
        now = _ts()
        if write.codebook is not None:
            version = _add_codebook(store, conn, write.codebook, write, actor, now)
        for document, segments in write.documents:
            _add_document(store, conn, document, segments, actor, now)
        _add_coders(conn, write.coders, now)
        _add_annotations(conn, write.annotations, now)
        _add_completed(conn, write.complete, now)
    return version


def _check_document_ids(conn: Connection, ids: Sequence[str]) -> None:
    if not ids:
        return
    taken = sorted(
        conn.execute(select(t.documents.c.id).where(t.documents.c.id.in_(list(ids)))).scalars()
    )
    if taken:
        raise Conflict(f"document id(s) already in the study: {', '.join(taken[:5])}")


def _add_codebook(
    store: Store, conn: Connection, codebook: Codebook, write: ProjectWrite, actor: str, now: str
) -> int:
    latest = conn.execute(select(func.max(t.codebook_versions.c.version))).scalar()
    version = int(latest or 0) + 1
    conn.execute(
        insert(t.codebook_versions).values(
            version=version,
            codebook_id=codebook.id,
            name=codebook.name,
            description=codebook.description,
            sha256=write.codebook_sha256,
            source=write.source,
            loaded_at=now,
            loaded_by=actor,
            changes=json.dumps(list(write.codebook_changes)),
        )
    )
    rows = [_code_row(version, i, c) for i, c in enumerate(codebook.codes)]
    if rows:
        conn.execute(insert(t.codes), rows)
    store._event(
        conn,
        actor,
        "codebook_version",
        str(version),
        {"changes": list(write.codebook_changes), "sha256": write.codebook_sha256},
    )
    return version


def _add_document(
    store: Store,
    conn: Connection,
    document: Document,
    segments: Sequence[Segment],
    actor: str,
    now: str,
) -> None:
    conn.execute(
        insert(t.documents).values(
            id=document.id,
            name=document.name or document.id,
            version=document.version,
            title=document.title,
            programme=document.programme,
            source=document.source,
            sha256=document.sha256,
            text=document.text,
            imported_at=now,
        )
    )
    rows = [
        {
            "id": s.id,
            "document_id": s.document_id,
            "kind": str(s.kind),
            "position": s.position,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "label": s.label,
        }
        for s in segments
    ]
    if rows:
        conn.execute(insert(t.segments), rows)
    detail = {
        "name": document.name,
        "version": document.version,
        "sha256": document.sha256,
        "source": document.source,
        "segments": len(rows),
    }
    store._event(conn, actor, "import_document", document.id, detail)


def _add_coders(conn: Connection, names: Sequence[str], now: str) -> None:
    have = set(conn.execute(select(t.coders.c.name)).scalars())
    wanted = sorted(set(names) - have)
    if wanted:
        conn.execute(
            insert(t.coders), [{"name": n, "kind": "human", "created_at": now} for n in wanted]
        )


def _add_annotations(conn: Connection, annotations: Sequence[Annotation], now: str) -> None:
    if not annotations:
        return
    ids = sorted({a.segment_id for a in annotations})
    spans: dict[str, tuple[int, int]] = {}
    s = t.segments
    for i in range(0, len(ids), 500):
        query = select(s.c.id, s.c.start, s.c.end).where(s.c.id.in_(ids[i : i + 500]))
        spans.update({r.id: (r.start, r.end) for r in conn.execute(query)})
    missing = sorted(set(ids) - spans.keys())
    if missing:
        raise Conflict(f"unknown segment(s): {', '.join(missing[:5])}")
    rows = []
    for a in annotations:
        seg_start, seg_end = spans[a.segment_id]
        whole = a.start is None
        rows.append(
            {
                "segment_id": a.segment_id,
                "code_id": a.code_id,
                "coder": a.coder,
                "codebook_version": a.codebook_version,
                "memo": a.memo,
                "whole_segment": int(whole),
                "span_start": seg_start if whole else a.start,
                "span_end": seg_end if whole else a.end,
                "created_at": _ts(a.created_at) if a.created_at else now,
            }
        )
    conn.execute(insert(t.annotations), rows)


def _add_completed(conn: Connection, pairs: Sequence[tuple[str, str]], now: str) -> None:
    a = t.assignments
    for segment_id, coder in pairs:
        found = conn.execute(
            select(a.c.segment_id).where(a.c.segment_id == segment_id, a.c.coder == coder)
        ).first()
        if found is None:
            conn.execute(
                insert(a).values(
                    segment_id=segment_id, coder=coder, assigned_at=now, completed_at=now
                )
            )
