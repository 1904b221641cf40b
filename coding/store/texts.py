"""Codebook versions, documents and segments."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select

from coding.errors import NotFound
from coding.model import (
    Code,
    Codebook,
    CodebookVersion,
    Document,
    Examples,
    Segment,
)
from coding.store import schema as t
from coding.store.base import StoreBase, from_timestamp, timestamp

if TYPE_CHECKING:
    import pandas as pd


class TextsMixin(StoreBase):
    """Codebook versions, documents and their segments."""

    # -- codebooks -------------------------------------------------------------------------
    def add_codebook_version(
        self, codebook: Codebook, sha256: str, source: str, actor: str, changes: Sequence[str]
    ) -> int:
        """Store a codebook as the next version; return its number."""
        with self.transaction(actor, "load_codebook", codebook.id, {"sha256": sha256}) as conn:
            version = insert_codebook_version(conn, codebook, sha256, source, actor, changes)
            self.append_event(
                conn, actor, "codebook_version", str(version), {"changes": list(changes)}
            )
        return version

    def codebook_versions(self) -> list[int]:
        with self.engine.connect() as conn:
            col = t.codebook_versions.c.version
            return [int(v) for v in conn.execute(select(col).order_by(col)).scalars()]

    def codebook(self, version: int | None = None) -> CodebookVersion:
        """A stored codebook version (the newest by default)."""
        with self.engine.connect() as conn:
            cv = t.codebook_versions
            query = select(cv).order_by(cv.c.version.desc()).limit(1)
            if version is not None:
                query = select(cv).where(cv.c.version == version)
            head = conn.execute(query).first()
            if head is None:
                if version is None:
                    raise NotFound(
                        f"{self.target}: the study has no codebook yet; load one with "
                        "'coding codebook load STUDY FILE'"
                    )
                raise NotFound(f"{self.target}: no codebook version {version} in this study")
            rows = conn.execute(
                select(t.codes)
                .where(t.codes.c.version == head.version)
                .order_by(t.codes.c.position)
            ).fetchall()
        codebook = Codebook(
            id=head.codebook_id,
            name=head.name,
            description=head.description,
            codes=tuple(_code_from_row(r) for r in rows),
        )
        return CodebookVersion(
            version=head.version,
            codebook=codebook,
            sha256=head.sha256,
            source=head.source,
            loaded_at=datetime.fromisoformat(head.loaded_at),
            loaded_by=head.loaded_by,
            changes=tuple(json.loads(head.changes)),
        )

    # -- documents and segments -------------------------------------------------------------
    def add_documents(
        self, items: Sequence[tuple[Document, Sequence[Segment]]], actor: str
    ) -> None:
        """Store document versions with their segments, all in one transaction."""
        subject = ",".join(doc.id for doc, _ in items)
        with self.transaction(
            actor, "import_documents", subject, {"documents": len(items)}
        ) as conn:
            for document, segments in items:
                detail = insert_document(conn, document, segments)
                self.append_event(conn, actor, "import_document", document.id, detail)

    def documents(self, *, latest_only: bool = False) -> list[Document]:
        d = t.documents
        query = select(d).order_by(d.c.imported_at, d.c.name, d.c.version)
        with self.engine.connect() as conn:
            docs = [_document_from_row(r) for r in conn.execute(query)]
        if latest_only:
            newest: dict[str, Document] = {}
            for doc in docs:
                newest[doc.name] = doc
            docs = [doc for doc in docs if newest[doc.name] is doc]
        return docs

    def document(self, document_id: str) -> Document:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.documents).where(t.documents.c.id == document_id)).first()
        if row is None:
            raise NotFound(f"{self.target}: no document {document_id!r}")
        return _document_from_row(row)

    def document_versions(self, name: str) -> list[Document]:
        d = t.documents
        with self.engine.connect() as conn:
            rows = conn.execute(select(d).where(d.c.name == name).order_by(d.c.version))
            return [_document_from_row(r) for r in rows]

    def segments(
        self,
        document_id: str | None = None,
        kind: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Segment]:
        s = t.segments
        query = select(s).order_by(s.c.document_id, s.c.kind, s.c.position)
        if document_id is not None:
            query = query.where(s.c.document_id == document_id)
        if kind is not None:
            query = query.where(s.c.kind == kind)
        if ids is not None:
            query = query.where(s.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return [
                Segment(
                    id=r.id,
                    document_id=r.document_id,
                    start=r.start,
                    end=r.end,
                    text=r.text,
                    kind=r.kind,
                    position=r.position,
                    label=r.label,
                )
                for r in conn.execute(query)
            ]

    def segments_frame(self, kind: str | None = None) -> pd.DataFrame:
        s, d = t.segments, t.documents
        query = (
            select(
                s.c.id.label("segment_id"),
                s.c.document_id,
                s.c.kind,
                s.c.position,
                s.c.start,
                s.c.end,
                s.c.text,
                s.c.label,
                d.c.programme,
                d.c.title,
            )
            .join(d, d.c.id == s.c.document_id)
            .order_by(s.c.document_id, s.c.position)
        )
        if kind is not None:
            query = query.where(s.c.kind == kind)
        return self.frame(query)


def insert_codebook_version(
    conn: Connection,
    codebook: Codebook,
    sha256: str,
    source: str,
    actor: str,
    changes: Sequence[str],
) -> int:
    """Insert a codebook as the next version inside an open transaction; return its number."""
    latest = conn.execute(select(func.max(t.codebook_versions.c.version))).scalar()
    version = int(latest or 0) + 1
    conn.execute(
        insert(t.codebook_versions).values(
            version=version,
            codebook_id=codebook.id,
            name=codebook.name,
            description=codebook.description,
            sha256=sha256,
            source=source,
            loaded_at=timestamp(),
            loaded_by=actor,
            changes=json.dumps(list(changes)),
        )
    )
    rows = [_code_row(version, i, c) for i, c in enumerate(codebook.codes)]
    if rows:
        conn.execute(insert(t.codes), rows)
    return version


def insert_document(
    conn: Connection, document: Document, segments: Sequence[Segment]
) -> dict[str, object]:
    """Insert a document version and its segments inside an open transaction; return the
    detail for its audit event."""
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
            imported_at=timestamp(),
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
    return {
        "name": document.name,
        "version": document.version,
        "sha256": document.sha256,
        "source": document.source,
        "segments": len(rows),
    }


def _code_row(version: int, position: int, code: Code) -> dict[str, Any]:
    return {
        "version": version,
        "code_id": code.id,
        "position": position,
        "name": code.name,
        "parent": code.parent,
        "definition": code.definition,
        "inclusion": json.dumps(list(code.inclusion)),
        "exclusion": json.dumps(list(code.exclusion)),
        "indicators": json.dumps(list(code.indicators)),
        "examples": json.dumps(
            {"typical": list(code.examples.typical), "borderline": list(code.examples.borderline)}
            # The exclusive flag rides in this JSON (only when set) rather than in a column.
            | ({"exclusive": True} if code.exclusive else {})
        ),
        "colour": code.colour,
    }


def _code_from_row(row: Any) -> Code:
    examples = json.loads(row.examples)
    return Code(
        id=row.code_id,
        name=row.name,
        definition=row.definition,
        parent=row.parent,
        inclusion=tuple(json.loads(row.inclusion)),
        exclusion=tuple(json.loads(row.exclusion)),
        indicators=tuple(json.loads(row.indicators)),
        examples=Examples(tuple(examples["typical"]), tuple(examples["borderline"])),
        colour=row.colour,
        exclusive=bool(examples.get("exclusive", False)),
    )


def _document_from_row(row: Any) -> Document:
    return Document(
        id=row.id,
        title=row.title,
        text=row.text,
        sha256=row.sha256,
        programme=row.programme,
        source=row.source,
        version=row.version,
        name=row.name,
        imported_at=from_timestamp(row.imported_at),
    )
