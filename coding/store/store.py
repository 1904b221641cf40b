"""Store: the only code that speaks SQL. One code path for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from coding.errors import CodingError, Conflict, NotFound
from coding.model import (
    Annotation,
    Code,
    Codebook,
    CodebookVersion,
    Decision,
    Document,
    Examples,
    Resolution,
    Segment,
    Suggestion,
    utcnow,
)
from coding.store import schema as t
from coding.store.engine import is_url, make_engine


def _ts(value: datetime | None = None) -> str:
    return (value or utcnow()).astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Store:
    """A study database. ``with Store.open("study.db") as store: ...``"""

    def __init__(self, engine: Engine, target: str) -> None:
        self.engine = engine
        self.target = target

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, target: str | Path, *, create: bool = False) -> Self:
        """Open a study (file path or database URL); ``create=True`` makes a new one."""
        target = str(target)
        if not is_url(target):
            path = Path(target)
            if create and path.exists():
                raise Conflict(f"{target}: a file already exists there")
            if not create and not path.is_file():
                raise NotFound(f"{target}: no such study (create one with 'coding init')")
        store = cls(make_engine(target), target)
        try:
            applied = store.schema_version()
            if create:
                if applied:
                    raise Conflict(f"{target}: the database already holds a study")
                store.migrate()
            elif applied == 0:
                raise NotFound(f"{target}: not a Concord study (no schema_version table)")
            elif applied < len(t.MIGRATIONS):
                store.migrate()
            elif applied > len(t.MIGRATIONS):
                raise CodingError(
                    f"{target}: study schema v{applied} is newer than this Concord (v"
                    f"{len(t.MIGRATIONS)}); upgrade Concord"
                )
        except OperationalError as err:
            store.close()
            raise CodingError(f"{target}: cannot open the database ({err.orig})") from err
        except CodingError:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("schema_version"):
                return 0
            return int(
                conn.execute(select(func.count()).select_from(t.schema_version)).scalar_one()
            )

    def migrate(self, upto: int | None = None) -> int:
        """Apply pending migrations in order, each in one transaction; return the version."""
        with self._write() as conn:
            t.metadata.create_all(conn, tables=[t.schema_version])
        target = len(t.MIGRATIONS) if upto is None else upto
        for number in range(self.schema_version() + 1, target + 1):
            with self._write() as conn:
                t.MIGRATIONS[number - 1](conn)
                conn.execute(insert(t.schema_version).values(version=number, applied_at=_ts()))
        return self.schema_version()

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                yield conn

    @contextmanager
    def transaction(
        self, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None
    ) -> Iterator[Connection]:
        """One write transaction that also appends its row to the audit trail."""
        try:
            with self._write() as conn:
                yield conn
                self._event(conn, actor, action, subject, detail or {})
        except IntegrityError as err:
            raise Conflict(f"{action} {subject}: conflicts with stored data ({err.orig})") from err

    @staticmethod
    def _event(
        conn: Connection, actor: str, action: str, subject: str, detail: dict[str, Any]
    ) -> None:
        conn.execute(
            insert(t.events).values(
                at=_ts(),
                actor=actor,
                action=action,
                subject=subject,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )

    def revision(self) -> int:
        """The id of the newest audit event: a cache key that changes on every write."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(t.events.c.id), 0))).scalar_one())

    def events(self) -> pd.DataFrame:
        return self._frame(select(t.events).order_by(t.events.c.id))

    def _frame(self, query: Any) -> pd.DataFrame:
        with self.engine.connect() as conn:
            result = conn.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    # -- settings --------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.key: r.value for r in conn.execute(select(t.settings))}

    def set_setting(self, key: str, value: str, actor: str) -> None:
        with self.transaction(actor, "set_setting", key, {"value": value}) as conn:
            exists = conn.execute(select(t.settings.c.key).where(t.settings.c.key == key)).first()
            if exists:
                conn.execute(update(t.settings).where(t.settings.c.key == key).values(value=value))
            else:
                conn.execute(insert(t.settings).values(key=key, value=value))

    # -- codebooks -------------------------------------------------------------------------
    def add_codebook_version(
        self, codebook: Codebook, sha256: str, source: str, actor: str, changes: Sequence[str]
    ) -> int:
        """Store a codebook as the next version; return its number."""
        with self.transaction(actor, "load_codebook", codebook.id, {"sha256": sha256}) as conn:
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
                    loaded_at=_ts(),
                    loaded_by=actor,
                    changes=json.dumps(list(changes)),
                )
            )
            rows = [_code_row(version, i, c) for i, c in enumerate(codebook.codes)]
            if rows:
                conn.execute(insert(t.codes), rows)
            self._event(conn, actor, "codebook_version", str(version), {"changes": list(changes)})
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
                raise NotFound(f"{self.target}: no codebook version {version or ''} in this study")
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
                        imported_at=_ts(),
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
                self._event(conn, actor, "import_document", document.id, detail)

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
        return self._frame(query)

    # -- coders ----------------------------------------------------------------------------
    def add_coders(self, names: Iterable[str], actor: str, kind: str = "human") -> list[str]:
        """Add coders that are not yet in the study; return the names added."""
        wanted = sorted(set(names) - set(self.coders()))
        if wanted:
            with self.transaction(actor, "add_coders", ",".join(wanted), {"kind": kind}) as conn:
                conn.execute(
                    insert(t.coders),
                    [{"name": n, "kind": kind, "created_at": _ts()} for n in wanted],
                )
        return wanted

    def coders(self, kind: str | None = None) -> list[str]:
        query = select(t.coders.c.name).order_by(t.coders.c.name)
        if kind is not None:
            query = query.where(t.coders.c.kind == kind)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    # -- annotations and assignments -------------------------------------------------------
    def add_annotations(
        self,
        annotations: Sequence[Annotation],
        actor: str,
        complete: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Insert coders' annotations (and mark (segment, coder) pairs complete) atomically."""
        spans = self._segment_spans({a.segment_id for a in annotations})
        now = _ts()
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
        detail = {"annotations": len(rows), "completed": len(complete)}
        with self.transaction(actor, "add_annotations", f"{len(rows)} annotations", detail) as conn:
            if rows:
                conn.execute(insert(t.annotations), rows)
            self._complete(conn, complete, now)
        return len(rows)

    def _segment_spans(self, segment_ids: set[str]) -> dict[str, tuple[int, int]]:
        spans: dict[str, tuple[int, int]] = {}
        ids = sorted(segment_ids)
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                query = select(t.segments.c.id, t.segments.c.start, t.segments.c.end).where(
                    t.segments.c.id.in_(ids[i : i + 500])
                )
                spans.update({r.id: (r.start, r.end) for r in conn.execute(query)})
        missing = segment_ids - spans.keys()
        if missing:
            raise NotFound(f"unknown segment(s): {', '.join(sorted(missing)[:5])}")
        return spans

    def _complete(self, conn: Connection, pairs: Sequence[tuple[str, str]], now: str) -> None:
        a = t.assignments
        for segment_id, coder in pairs:
            found = conn.execute(
                select(a.c.completed_at).where(a.c.segment_id == segment_id, a.c.coder == coder)
            ).first()
            if found is None:
                conn.execute(
                    insert(a).values(
                        segment_id=segment_id, coder=coder, assigned_at=now, completed_at=now
                    )
                )
            elif found.completed_at is None:
                conn.execute(
                    update(a)
                    .where(a.c.segment_id == segment_id, a.c.coder == coder)
                    .values(completed_at=now)
                )

    def assign(self, segment_ids: Sequence[str], coder: str, actor: str) -> int:
        """Give segments to a coder (existing assignments are kept as they are)."""
        a = t.assignments
        with self.engine.connect() as conn:
            have = set(conn.execute(select(a.c.segment_id).where(a.c.coder == coder)).scalars())
        new = [s for s in dict.fromkeys(segment_ids) if s not in have]
        if new:
            now = _ts()
            with self.transaction(actor, "assign", coder, {"segments": len(new)}) as conn:
                conn.execute(
                    insert(a),
                    [
                        {"segment_id": s, "coder": coder, "assigned_at": now, "completed_at": None}
                        for s in new
                    ],
                )
        return len(new)

    def complete(self, pairs: Sequence[tuple[str, str]], actor: str) -> None:
        """Mark (segment_id, coder) pairs as submitted."""
        with self.transaction(actor, "complete", f"{len(pairs)} units", {"units": len(pairs)}) as c:
            self._complete(c, pairs, _ts())

    def annotations_frame(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Annotations with document offsets: segment_id, document_id, coder, code_id, start, end,
        whole_segment, memo, codebook_version, created_at. ``coders`` limits whose work is read."""
        a, s = t.annotations, t.segments
        query = (
            select(
                a.c.segment_id,
                s.c.document_id,
                a.c.coder,
                a.c.code_id,
                a.c.span_start.label("start"),
                a.c.span_end.label("end"),
                a.c.whole_segment,
                a.c.memo,
                a.c.codebook_version,
                a.c.created_at,
            )
            .join(s, s.c.id == a.c.segment_id)
            .order_by(s.c.document_id, a.c.span_start, a.c.coder, a.c.code_id)
        )
        if coders is not None:
            query = query.where(a.c.coder.in_(list(coders)))
        frame = self._frame(query)
        frame["whole_segment"] = frame["whole_segment"].astype(bool)
        return frame

    def assignments_frame(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """segment_id, document_id, coder, assigned_at, completed_at, completed (bool)."""
        a, s = t.assignments, t.segments
        query = (
            select(a.c.segment_id, s.c.document_id, a.c.coder, a.c.assigned_at, a.c.completed_at)
            .join(s, s.c.id == a.c.segment_id)
            .order_by(s.c.document_id, s.c.position, a.c.coder)
        )
        if coders is not None:
            query = query.where(a.c.coder.in_(list(coders)))
        frame = self._frame(query)
        frame["completed"] = frame["completed_at"].notna()
        return frame

    # -- suggestions -----------------------------------------------------------------------
    def add_suggestion_run(
        self,
        engine: str,
        model_version: str,
        codebook_version: int,
        params: dict[str, Any],
        suggestions: Sequence[Suggestion],
        actor: str,
    ) -> int:
        """Store one run of a suggestion engine with its provenance; return the run id."""
        revision = self.revision()
        detail = {"engine": engine, "model_version": model_version, "n": len(suggestions)}
        with self.transaction(actor, "suggest", engine, detail) as conn:
            run_id = conn.execute(
                insert(t.suggestion_runs)
                .values(
                    engine=engine,
                    model_version=model_version,
                    codebook_version=codebook_version,
                    data_revision=revision,
                    params=json.dumps(params, sort_keys=True),
                    created_at=_ts(),
                )
                .returning(t.suggestion_runs.c.id)
            ).scalar_one()
            if suggestions:
                conn.execute(
                    insert(t.suggestions),
                    [
                        {
                            "run_id": run_id,
                            "segment_id": s.segment_id,
                            "code_id": s.code_id,
                            "score": s.score,
                            "evidence": s.evidence,
                        }
                        for s in suggestions
                    ],
                )
        return int(run_id)

    def suggestions_frame(self, engine: str | None = None) -> pd.DataFrame:
        """Suggestions of the newest run (of ``engine``, or of any engine), with provenance."""
        r, sg = t.suggestion_runs, t.suggestions
        newest = select(func.max(r.c.id))
        if engine is not None:
            newest = newest.where(r.c.engine == engine)
        query = (
            select(
                sg.c.segment_id,
                sg.c.code_id,
                sg.c.score,
                sg.c.evidence,
                r.c.id.label("run_id"),
                r.c.engine,
                r.c.model_version,
                r.c.codebook_version,
                r.c.data_revision,
            )
            .join(r, r.c.id == sg.c.run_id)
            .where(r.c.id == newest.scalar_subquery())
            .order_by(sg.c.segment_id, sg.c.score.desc(), sg.c.code_id)
        )
        return self._frame(query)

    # -- resolutions -----------------------------------------------------------------------
    def add_resolutions(self, resolutions: Sequence[Resolution], actor: str) -> list[int]:
        """Record reviewer decisions; each supersedes the current one for its (segment, code)."""
        ids: list[int] = []
        detail = {"decisions": [[r.segment_id, r.code_id, str(r.decision)] for r in resolutions]}
        with self.transaction(actor, "resolve", f"{len(resolutions)} decisions", detail) as conn:
            for res in resolutions:
                current = self._current_resolution(conn, res.segment_id, res.code_id)
                if res.decision is Decision.WITHDRAW and current is None:
                    raise Conflict(f"segment {res.segment_id} code {res.code_id}: nothing to undo")
                new_id = conn.execute(
                    insert(t.resolutions)
                    .values(
                        segment_id=res.segment_id,
                        code_id=res.code_id,
                        codebook_version=res.codebook_version,
                        decision=str(res.decision),
                        reviewer=res.reviewer,
                        rationale=res.rationale,
                        at=_ts(res.at),
                        supersedes=current,
                    )
                    .returning(t.resolutions.c.id)
                ).scalar_one()
                ids.append(int(new_id))
        return ids

    @staticmethod
    def _current_resolution(conn: Connection, segment_id: str, code_id: str) -> int | None:
        r = t.resolutions
        query = (
            select(r.c.id, r.c.decision)
            .where(r.c.segment_id == segment_id, r.c.code_id == code_id)
            .order_by(r.c.id.desc())
            .limit(1)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        return None if row is None or row.decision == Decision.WITHDRAW else int(row.id)

    def resolutions(self) -> list[Resolution]:
        """Every decision ever recorded, oldest first (the full history)."""
        frame = self._frame(select(t.resolutions).order_by(t.resolutions.c.id))
        return [
            Resolution(
                segment_id=r.segment_id,
                code_id=r.code_id,
                decision=Decision(r.decision),
                reviewer=r.reviewer,
                rationale=r.rationale,
                at=datetime.fromisoformat(r.at),
                id=int(r.id),
                codebook_version=int(r.codebook_version),
            )
            for r in frame.itertuples()
        ]

    def current_resolutions_frame(self) -> pd.DataFrame:
        """The standing decision per (segment, code): newest row unless it is a withdrawal."""
        frame = self._frame(select(t.resolutions).order_by(t.resolutions.c.id))
        if frame.empty:
            return frame
        newest = frame.groupby(["segment_id", "code_id"], sort=False).tail(1)
        return newest[newest["decision"] != Decision.WITHDRAW].reset_index(drop=True)

    # -- counts ----------------------------------------------------------------------------
    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            tbl = t.metadata.tables[table]
            return int(conn.execute(select(func.count()).select_from(tbl)).scalar_one())


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
        imported_at=_dt(row.imported_at),
    )
