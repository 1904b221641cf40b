"""Coders, annotations and assignments (and the row writers an import shares)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import Connection, insert, select, update

from coding.errors import NotFound
from coding.model import Annotation
from coding.store import schema as t
from coding.store.base import StoreBase, crash_point, serialise, timestamp


class CodingMixin(StoreBase):
    """Coders and their work: annotations, assignments, submissions."""

    # -- coders ----------------------------------------------------------------------------
    def add_coders(self, names: Iterable[str], actor: str, kind: str = "human") -> list[str]:
        """Add coders that are not yet in the study; return the names added.

        Who is new is decided inside the write transaction, and its ``add_coders`` audit row
        is written only when someone was added (a concurrent writer may have added them).
        """
        names = list(names)
        with self._writing("add_coders") as conn:
            serialise(conn, "coders")
            added = insert_coders(conn, names, kind)
            if added:
                self.append_event(conn, actor, "add_coders", ",".join(added), {"kind": kind})
        return added

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
        """Insert coders' annotations (and mark (segment, coder) pairs complete) atomically.

        The audit row lists the completed units' ids per coder."""
        by_coder: dict[str, list[str]] = {}
        for segment_id, coder in complete:
            by_coder.setdefault(coder, []).append(segment_id)
        detail = {
            "annotations": len(annotations),
            "completed": len(complete),
            "completed_units": by_coder,
        }
        subject = f"{len(annotations)} annotations"
        with self.transaction(actor, "add_annotations", subject, detail) as conn:
            added = insert_annotations(conn, annotations)
            self._complete(conn, complete, timestamp())
        return added

    def import_annotations(
        self,
        annotations: Sequence[Annotation],
        actor: str,
        complete: Sequence[tuple[str, str]] = (),
        new_coders: Sequence[str] = (),
    ) -> tuple[int, list[str]]:
        """Add coders, annotations and completions in one transaction; all or nothing.

        Annotations already stored (same segment, code, coder and span) are skipped, decided
        inside the write transaction: two identical imports at once add the rows once, and
        the second reports them as already present. Returns (annotations added, coders
        added); the audit trail gets an ``add_coders`` row only when a coder was added.
        """
        with self._writing("add_annotations") as conn:
            serialise(conn, "coders")
            serialise(conn, "annotations")
            coders_added = insert_coders(conn, new_coders)
            if coders_added:
                self.append_event(
                    conn, actor, "add_coders", ",".join(coders_added), {"kind": "human"}
                )
            crash_point("import-after-coders")
            have = stored_annotation_keys(conn, {a.segment_id for a in annotations})
            fresh, seen = [], set(have)
            for a in annotations:
                key = (a.segment_id, a.code_id, a.coder, a.start, a.end)
                if key not in seen:
                    seen.add(key)
                    fresh.append(a)
            added = insert_annotations(conn, fresh)
            crash_point("import-after-annotations")
            self._complete(conn, complete, timestamp())
            by_coder: dict[str, list[str]] = {}
            for segment_id, coder in complete:
                by_coder.setdefault(coder, []).append(segment_id)
            detail = {
                "annotations": added,
                "completed": len(complete),
                "completed_units": by_coder,
            }
            self.append_event(conn, actor, "add_annotations", f"{added} annotations", detail)
        return added, coders_added

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
            now = timestamp()
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
            self._complete(c, pairs, timestamp())

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
        frame = self.frame(query)
        frame["whole_segment"] = frame["whole_segment"].astype(bool)
        return frame

    def annotation_history(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Annotations a coder's save removed or changed, as they were, oldest change first:
        annotation_id, segment_id, coder, code_id, start, end, whole_segment, memo,
        codebook_version, created_at, change (removed, memo), superseded_at, superseded_by."""
        h = t.annotation_history
        query = select(
            h.c.annotation_id,
            h.c.segment_id,
            h.c.coder,
            h.c.code_id,
            h.c.span_start.label("start"),
            h.c.span_end.label("end"),
            h.c.whole_segment,
            h.c.memo,
            h.c.codebook_version,
            h.c.created_at,
            h.c.change,
            h.c.superseded_at,
            h.c.superseded_by,
        ).order_by(h.c.id)
        if coders is not None:
            query = query.where(h.c.coder.in_(list(coders)))
        return self.frame(query)

    def unit_memo_history(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Earlier texts of coders' unit memos, oldest change first: segment_id, coder, memo,
        updated_at (when it was written), superseded_at, superseded_by."""
        h = t.unit_memo_history
        query = select(
            h.c.segment_id,
            h.c.coder,
            h.c.memo,
            h.c.updated_at,
            h.c.superseded_at,
            h.c.superseded_by,
        ).order_by(h.c.id)
        if coders is not None:
            query = query.where(h.c.coder.in_(list(coders)))
        return self.frame(query)

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
        frame = self.frame(query)
        frame["completed"] = frame["completed_at"].notna()
        return frame


def stored_annotation_keys(
    conn: Connection, segment_ids: Iterable[str]
) -> set[tuple[str, str, str, int | None, int | None]]:
    """(segment, code, coder, start, end) of stored annotations on some segments, with None
    for a whole-segment span, as an Annotation of the same coding has it."""
    a = t.annotations
    ids = sorted(set(segment_ids))
    keys: set[tuple[str, str, str, int | None, int | None]] = set()
    for i in range(0, len(ids), 500):
        query = select(
            a.c.segment_id, a.c.code_id, a.c.coder, a.c.span_start, a.c.span_end, a.c.whole_segment
        ).where(a.c.segment_id.in_(ids[i : i + 500]))
        for r in conn.execute(query):
            whole = bool(r.whole_segment)
            keys.add(
                (
                    r.segment_id,
                    r.code_id,
                    r.coder,
                    None if whole else r.span_start,
                    None if whole else r.span_end,
                )
            )
    return keys


def insert_coders(conn: Connection, names: Sequence[str], kind: str = "human") -> list[str]:
    """Insert the coders not yet in the study, inside an open transaction; return them."""
    have = set(conn.execute(select(t.coders.c.name)).scalars())
    wanted = sorted(set(names) - have)
    if wanted:
        now = timestamp()
        conn.execute(
            insert(t.coders), [{"name": n, "kind": kind, "created_at": now} for n in wanted]
        )
    return wanted


def insert_annotations(conn: Connection, annotations: Sequence[Annotation]) -> int:
    """Insert annotations inside an open transaction; a whole-segment annotation gets the
    segment's span. Unknown segments raise NotFound (and so roll the transaction back)."""
    if not annotations:
        return 0
    ids = sorted({a.segment_id for a in annotations})
    spans: dict[str, tuple[int, int]] = {}
    s = t.segments
    for i in range(0, len(ids), 500):
        query = select(s.c.id, s.c.start, s.c.end).where(s.c.id.in_(ids[i : i + 500]))
        spans.update({r.id: (r.start, r.end) for r in conn.execute(query)})
    missing = sorted(set(ids) - spans.keys())
    if missing:
        raise NotFound(f"unknown segment(s): {', '.join(missing[:5])}")
    now = timestamp()
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
                "created_at": timestamp(a.created_at) if a.created_at else now,
            }
        )
    conn.execute(insert(t.annotations), rows)
    return len(rows)
