"""Coders, annotations and assignments (and the row writers an import shares)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, insert, select

from coding.errors import NotFound
from coding.model import Annotation, OnProgress, no_progress
from coding.store import schema as t
from coding.store.base import StoreBase, crash_point, serialise, timestamp
from coding.store.bulk import OnConflict, insert_many, no_conflict_clause, skip_stored

if TYPE_CHECKING:
    import pandas as pd


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
        detail = _completion_detail(len(annotations), complete)
        subject = f"{len(annotations)} annotations"
        with self.transaction(actor, "add_annotations", subject, detail) as conn:
            added = insert_annotations(conn, annotation_frame(annotations))
            mark_complete(conn, complete, timestamp())
        return added

    def import_annotations(
        self,
        annotations: pd.DataFrame,
        actor: str,
        complete: Sequence[tuple[str, str]] = (),
        new_coders: Sequence[str] = (),
        on_progress: OnProgress = no_progress,
    ) -> tuple[int, list[str]]:
        """Add coders, annotations (a frame as :func:`annotation_frame` makes) and completions
        in one transaction; all or nothing.

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
            added = insert_annotations(conn, annotations, skip_stored, on_progress)
            crash_point("import-after-annotations")
            mark_complete(conn, complete, timestamp())
            detail = _completion_detail(added, complete)
            self.append_event(conn, actor, "add_annotations", f"{added} annotations", detail)
        return added, coders_added

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
            mark_complete(c, pairs, timestamp())

    def annotations_frame(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Annotations with document offsets: segment_id, document_id, coder, code_id, start, end,
        whole_segment, memo, codebook_version, created_at. ``coders`` limits whose work is read."""
        a, s = t.annotations, t.segments
        query = (
            select(a.c.segment_id, s.c.document_id, *_coding_columns(a))
            .join(s, s.c.id == a.c.segment_id)
            .order_by(s.c.document_id, a.c.span_start, a.c.coder, a.c.code_id)
        )
        frame = self.frame(_of_coders(query, a, coders))
        frame["whole_segment"] = frame["whole_segment"].astype(bool)
        return frame

    def annotation_history(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Annotations a coder's save removed or changed, as they were, oldest change first:
        annotation_id, segment_id, coder, code_id, start, end, whole_segment, memo,
        codebook_version, created_at, change (removed, memo), superseded_at, superseded_by."""
        h = t.annotation_history
        columns = [h.c.annotation_id, h.c.segment_id, *_coding_columns(h), h.c.change]
        return self._history(h, columns, coders)

    def unit_memo_history(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Earlier texts of coders' unit memos, oldest change first: segment_id, coder, memo,
        updated_at (when it was written), superseded_at, superseded_by."""
        h = t.unit_memo_history
        return self._history(h, [h.c.segment_id, h.c.coder, h.c.memo, h.c.updated_at], coders)

    def _history(
        self, table: Table, columns: list[Any], coders: Sequence[str] | None
    ) -> pd.DataFrame:
        """Rows of a history table, oldest first: ``columns``, superseded_at, superseded_by."""
        c = table.c
        query = select(*columns, c.superseded_at, c.superseded_by).order_by(c.id)
        return self.frame(_of_coders(query, table, coders))

    def assignments_frame(self, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """segment_id, document_id, coder, assigned_at, completed_at, completed (bool)."""
        a, s = t.assignments, t.segments
        query = (
            select(a.c.segment_id, s.c.document_id, a.c.coder, a.c.assigned_at, a.c.completed_at)
            .join(s, s.c.id == a.c.segment_id)
            .order_by(s.c.document_id, s.c.position, a.c.coder)
        )
        frame = self.frame(_of_coders(query, a, coders))
        frame["completed"] = frame["completed_at"].notna()
        return frame

    def segment_spans(self) -> pd.DataFrame:
        """Every segment without its text, in the order of ``segments()``: segment_id,
        document_id, kind, position, start, end, label."""
        s = t.segments
        named = ("document_id", "kind", "position", "start", "end", "label")
        query = select(s.c.id.label("segment_id"), *(s.c[name] for name in named))
        query = query.order_by(s.c.document_id, s.c.kind, s.c.position)
        with self.engine.connect() as conn:
            return _columns(conn, [query])


def _columns(conn: Connection, queries: Sequence[Any]) -> pd.DataFrame:
    """The rows of some SELECTs with the same columns as one frame, built column by column
    (quicker than a frame of row objects when there are many); text stays Python strings."""
    import numpy as np
    import pandas as pd

    results = [conn.execute(query) for query in queries]
    names = list(results[0].keys()) if results else []
    rows = [tuple(row) for result in results for row in result]
    columns = list(zip(*rows, strict=True)) or [()] * len(names)
    return pd.DataFrame(
        {
            name: np.asarray(cells, dtype=object if cells and isinstance(cells[0], str) else None)
            for name, cells in zip(names, columns, strict=True)
        }
    )


def _coding_columns(table: Table) -> list[Any]:
    """What an annotation row (current or in the history) says, under the names reads use."""
    c = table.c
    return [
        c.coder,
        c.code_id,
        c.span_start.label("start"),
        c.span_end.label("end"),
        c.whole_segment,
        c.memo,
        c.codebook_version,
        c.created_at,
    ]


def _of_coders(query: Any, table: Table, coders: Sequence[str] | None) -> Any:
    """``query`` limited to some coders' rows of ``table`` (all rows for None)."""
    return query if coders is None else query.where(table.c.coder.in_(list(coders)))


def _completion_detail(annotations: int, complete: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The audit detail of a write of annotations: counts, and completed units per coder."""
    by_coder: dict[str, list[str]] = {}
    for segment_id, coder in complete:
        by_coder.setdefault(coder, []).append(segment_id)
    return {"annotations": annotations, "completed": len(complete), "completed_units": by_coder}


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


ANNOTATION_FIELDS = ("segment_id", "code_id", "coder", "start", "end", "memo", "codebook_version")


def annotation_frame(annotations: Sequence[Annotation]) -> pd.DataFrame:
    """Annotations as the rows :func:`insert_annotations` takes: ANNOTATION_FIELDS (start and
    end missing for a whole segment) and created_at (missing: the time of writing)."""
    import pandas as pd

    frame = pd.DataFrame(
        [
            (a.segment_id, a.code_id, a.coder, a.start, a.end, a.memo, a.codebook_version)
            for a in annotations
        ],
        columns=list(ANNOTATION_FIELDS),
    )
    frame["start"] = frame["start"].astype("Int64")
    frame["end"] = frame["end"].astype("Int64")
    frame["created_at"] = [timestamp(a.created_at) if a.created_at else None for a in annotations]
    return frame


def insert_annotations(
    conn: Connection,
    annotations: pd.DataFrame,
    on_conflict: OnConflict = no_conflict_clause,
    on_progress: OnProgress = no_progress,
) -> int:
    """Insert annotations (rows as :func:`annotation_frame` makes; a column may be
    categorical) inside an open transaction; return how many were added. A whole-segment
    annotation gets the segment's span. Unknown segments raise NotFound (and so roll the
    transaction back). A row whose segment, code, coder and span are stored already fails,
    or is skipped with ``on_conflict=skip_stored``. Rows go in by segment id, which keeps
    the writes to each index of the table close together."""
    import numpy as np
    import pandas as pd

    if annotations.empty:
        return 0
    annotations = annotations.reset_index(drop=True)
    segment = pd.Categorical(annotations["segment_id"])
    spans = _segment_spans(conn, segment.categories)
    at = spans.index.get_indexer(segment.categories)
    if (at < 0).any():
        missing = sorted(segment.categories[at < 0])
        raise NotFound(f"unknown segment(s): {', '.join(missing[:5])}")
    rank = np.argsort(np.argsort(segment.categories.to_numpy(dtype=object), kind="stable"))
    order = np.argsort(rank[segment.codes], kind="stable")
    at = at[segment.codes]
    whole = annotations["start"].isna().to_numpy()
    start = annotations["start"].fillna(0).to_numpy(np.int64)
    end = annotations["end"].fillna(0).to_numpy(np.int64)
    created, now = annotations.get("created_at"), timestamp()
    rows = pd.DataFrame(
        {
            "segment_id": annotations["segment_id"],
            "code_id": annotations["code_id"],
            "coder": annotations["coder"],
            "codebook_version": annotations["codebook_version"],
            "memo": annotations["memo"],
            "whole_segment": whole.astype(np.int64),
            "span_start": np.where(whole, spans["start"].to_numpy(np.int64)[at], start),
            "span_end": np.where(whole, spans["end"].to_numpy(np.int64)[at], end),
            "created_at": pd.Categorical.from_codes(np.zeros(len(annotations), np.int8), [now])
            if created is None
            else created.fillna(now),
        }
    )
    return insert_many(
        conn, t.annotations, rows, on_conflict=on_conflict, on_progress=on_progress, order=order
    )


def _segment_spans(conn: Connection, segment_ids: Iterable[str]) -> pd.DataFrame:
    """start and end of some segments (all of them when they are many), by segment id."""
    import numpy as np

    s = t.segments
    ids = sorted(segment_ids)
    query = select(s.c.id, s.c.start, s.c.end)
    if len(ids) <= 2_000:
        parts = [query.where(s.c.id.in_(ids[i : i + 500])) for i in range(0, len(ids), 500)]
    else:
        parts = [query]
    return _columns(conn, parts).astype({"start": np.int64, "end": np.int64}).set_index("id")


def mark_complete(
    conn: Connection,
    pairs: Sequence[tuple[str, str]],
    now: str,
    *,
    submit_open: bool = True,
) -> None:
    """Mark (segment_id, coder) units complete inside an open transaction: a unit not yet
    assigned is added as submitted; one assigned and open is submitted too, unless
    ``submit_open`` is False (then an assignment the study has is never changed)."""
    import pandas as pd

    if not pairs:
        return
    rows = pd.DataFrame(list(pairs), columns=["segment_id", "coder"])
    rows["assigned_at"] = now
    rows["completed_at"] = now
    insert_many(
        conn,
        t.assignments,
        rows,
        on_conflict=_submit_open if submit_open else skip_stored,
    )


def _submit_open(statement: Any) -> Any:
    """``ON CONFLICT`` of an assignment: set completed_at where it is not set."""
    a = t.assignments
    return statement.on_conflict_do_update(
        index_elements=[a.c.segment_id, a.c.coder],
        set_={"completed_at": statement.excluded.completed_at},
        where=a.c.completed_at.is_(None),
    )
