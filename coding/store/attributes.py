"""SQL for attributes of units and documents: declarations, values, and filters by value.

``programme`` is a column of ``documents`` older than attributes; reads offer it as a document
attribute of type text (:data:`PROGRAMME`) whenever a document has one, so every feature that
groups or filters by an attribute works with it unchanged. Every function takes a Store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    delete,
    func,
    insert,
    select,
    true,
    tuple_,
)

from coding.model import Document, Segment
from coding.store import schema as t
from coding.store.base import timestamp
from coding.store.store import Store
from coding.store.texts import insert_document

if TYPE_CHECKING:
    import pandas as pd

PROGRAMME = "programme"
SCOPES = ("unit", "document")
TYPES = ("text", "number", "date")
_CHUNK = 500  # subjects per DELETE ... IN (...)


@dataclass(frozen=True)
class AttributeWrite:
    """Attribute declarations and values that one import writes (in its own transaction).

    ``declare`` holds (name, scope, type) for names the study does not declare yet; values
    are (subject, name, value) with the subject a segment id (unit) or a document id; a
    stored value of the same subject and name is replaced.
    """

    declare: Sequence[tuple[str, str, str]] = ()
    units: Sequence[tuple[str, str, str]] = ()
    documents: Sequence[tuple[str, str, str]] = ()

    @property
    def empty(self) -> bool:
        return not (self.declare or self.units or self.documents)

    def detail(self) -> dict[str, object]:
        return {
            "declared": [name for name, _, _ in self.declare],
            "unit_values": len(self.units),
            "document_values": len(self.documents),
        }


def declared(store: Store) -> dict[str, tuple[str, str]]:
    """Each declared attribute's name -> (scope, type)."""
    a = t.attributes
    with store.engine.connect() as conn:
        rows = conn.execute(select(a.c.name, a.c.scope, a.c.type).order_by(a.c.name)).all()
    return {str(n): (str(s), str(k)) for n, s, k in rows}


class AttributeSummary(NamedTuple):
    name: str
    scope: str
    type: str
    distinct: list[str]  # sorted


def summary(store: Store) -> list[AttributeSummary]:
    """Each attribute's name, scope, type and sorted distinct values, ``programme`` first when
    a document has one, then by name. Plain rows: ``coding status`` reads them without pandas."""
    return [
        AttributeSummary(name, scope, kind, sorted(set(_values_query(store, name, scope))))
        for name, (scope, kind) in attributes(store).items()
    ]


def attributes(store: Store) -> dict[str, tuple[str, str]]:
    """Every attribute a read may use: ``programme`` (when used), then the declared ones."""
    found: dict[str, tuple[str, str]] = {}
    if _has_programme(store):
        found[PROGRAMME] = ("document", "text")
    found.update(declared(store))
    return found


def _has_programme(store: Store) -> bool:
    d = t.documents
    query = select(func.count()).select_from(d).where(d.c.programme != "")
    with store.engine.connect() as conn:
        return bool(conn.execute(query).scalar_one())


def _values_query(store: Store, name: str, scope: str) -> list[str]:
    if name == PROGRAMME and scope == "document":
        d = t.documents
        query = select(d.c.programme).where(d.c.programme != "").distinct()
    else:
        table = t.unit_attributes if scope == "unit" else t.document_attributes
        query = select(table.c.value).where(table.c.name == name).distinct()
    with store.engine.connect() as conn:
        return [str(v) for v in conn.execute(query).scalars()]


def _unit_values_select(name: str, scope: str) -> Select[tuple[str, str]]:
    """segment_id, value of every unit that has a value of attribute ``name``."""
    s = t.segments
    if name == PROGRAMME and scope == "document":
        d = t.documents
        return (
            select(s.c.id.label("segment_id"), d.c.programme.label("value"))
            .join(d, d.c.id == s.c.document_id)
            .where(d.c.programme != "")
        )
    if scope == "unit":
        u = t.unit_attributes
        return select(u.c.segment_id, u.c.value).where(u.c.name == name)
    da = t.document_attributes
    return (
        select(s.c.id.label("segment_id"), da.c.value)
        .join(da, da.c.document_id == s.c.document_id)
        .where(da.c.name == name)
    )


def unit_values(store: Store, name: str, scope: str) -> pd.DataFrame:
    """segment_id, value for every unit with a value of ``name`` (a document attribute gives
    each unit of the document its document's value), ordered by segment id."""
    query = _unit_values_select(name, scope).order_by("segment_id")
    return store.plain_frame(query)


def units_where(store: Store, name: str, scope: str, values: Sequence[str]) -> list[str]:
    """Ids of the units whose value of ``name`` is one of ``values``, in id order."""
    inner = _unit_values_select(name, scope).subquery()
    query = (
        select(inner.c.segment_id)
        .where(inner.c.value.in_(list(values)))
        .order_by(inner.c.segment_id)
    )
    with store.engine.connect() as conn:
        return [str(v) for v in conn.execute(query).scalars()]


@dataclass(frozen=True, slots=True)
class ValueFilter:
    """The units whose attribute ``name`` (of ``scope``) has one of ``values`` (stored forms);
    a document attribute holds for every unit of its document. No values: no unit."""

    name: str
    scope: str
    values: tuple[str, ...]

    def holds(
        self, segment_id: ColumnElement[str], document_id: ColumnElement[str]
    ) -> ColumnElement[bool]:
        """The condition that a unit passes, on the outer query's columns of its id and its
        document. Written so that both engines run it the same way, statistics or none:

        - a unit attribute: the unit's value, read by primary key (a scalar subquery), is one
          of the values. An EXISTS or IN would let PostgreSQL look the value up by the
          (name, value) index instead, reading every unit with the value for each row;
        - a document attribute: the unit's document is among the documents with one of the
          values (few rows, read once). ``IS TRUE`` keeps PostgreSQL from turning the IN into
          a join, which without statistics (a study just imported) it ordered badly: 10 to 30
          s for the review queue of 20,000 units, against 0.4 s.

        The inner tables are aliases of their own: they never correlate with the outer query."""
        values = [v for v in self.values if v]
        if self.scope == "unit":
            u = t.unit_attributes.alias("valued_unit")
            value = select(u.c.value).where(u.c.segment_id == segment_id, u.c.name == self.name)
            return value.scalar_subquery().in_(values)
        if self.name == PROGRAMME:
            d = t.documents.alias("valued_document")
            documents = select(d.c.id).where(d.c.programme.in_(values))
        else:
            da = t.document_attributes.alias("valued_document")
            documents = select(da.c.document_id).where(
                da.c.name == self.name, da.c.value.in_(values)
            )
        return document_id.in_(documents).is_(true())


VALUE_WRITES = ("import_document", "set_attributes")  # the events that can change a value


def newest_event(store: Store) -> int:
    """The id of the newest event (0 before any): where :func:`values_written_since` starts."""
    e = t.events
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.max(e.c.id))).scalar_one() or 0)


def values_written_since(store: Store, event_id: int) -> bool:
    """Whether an event after ``event_id`` wrote attribute values or documents (programmes):
    a cache of filtered reads taken then is stale. It reads the newer events only (by key)."""
    e = t.events
    query = select(e.c.id).where(e.c.id > event_id, e.c.action.in_(VALUE_WRITES)).limit(1)
    with store.engine.connect() as conn:
        return conn.execute(query).first() is not None


def all_unit_values(store: Store) -> pd.DataFrame:
    """segment_id, name, value of every stored unit attribute value."""
    u = t.unit_attributes
    return store.plain_frame(select(u.c.segment_id, u.c.name, u.c.value).order_by(u.c.segment_id))


def document_values(
    store: Store, document_ids: Sequence[str] | None = None
) -> dict[str, dict[str, str]]:
    """Document id -> {name: value} of its declared attributes (programme not included), for
    these documents (None: every document)."""
    da = t.document_attributes
    query = select(da.c.document_id, da.c.name, da.c.value)
    if document_ids is not None:
        query = query.where(da.c.document_id.in_(list(document_ids)))
    found: dict[str, dict[str, str]] = {}
    with store.engine.connect() as conn:
        for document_id, name, value in conn.execute(query):
            found.setdefault(str(document_id), {})[str(name)] = str(value)
    return found


def stored_values(store: Store, scope: str, subjects: Sequence[str]) -> set[tuple[str, str, str]]:
    """(subject, name, value) stored for these units or documents."""
    table = t.unit_attributes if scope == "unit" else t.document_attributes
    key = table.c.segment_id if scope == "unit" else table.c.document_id
    found: set[tuple[str, str, str]] = set()
    with store.engine.connect() as conn:
        for start in range(0, len(subjects), _CHUNK):
            chunk = list(subjects[start : start + _CHUNK])
            query = select(key, table.c.name, table.c.value).where(key.in_(chunk))
            found.update((str(a), str(b), str(c)) for a, b, c in conn.execute(query))
    return found


def write_attributes(conn: Connection, write: AttributeWrite) -> None:
    """Declare new attributes and store values, inside an open transaction."""
    if write.declare:
        at = timestamp()
        conn.execute(
            insert(t.attributes),
            [{"name": n, "scope": s, "type": k, "declared_at": at} for n, s, k in write.declare],
        )
    for table, key, rows in (
        (t.unit_attributes, "segment_id", write.units),
        (t.document_attributes, "document_id", write.documents),
    ):
        if not rows:
            continue
        _delete_values(conn, table, key, [(subject, name) for subject, name, _ in rows])
        conn.execute(
            insert(table), [{key: subject, "name": n, "value": v} for subject, n, v in rows]
        )


def _delete_values(conn: Connection, table: Table, key: str, pairs: list[tuple[str, str]]) -> None:
    column = table.c[key]
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        conn.execute(delete(table).where(tuple_(column, table.c.name).in_(chunk)))


def add_documents_with_attributes(
    store: Store,
    items: Sequence[tuple[Document, Sequence[Segment]]],
    write: AttributeWrite,
    actor: str,
) -> None:
    """Store document versions with their segments and the import's attributes, all in one
    transaction (the events of :meth:`Store.add_documents`, plus one ``set_attributes``)."""
    subject = ",".join(doc.id for doc, _ in items) or "attributes"
    action = "import_documents" if items else "set_attributes"
    detail = {"documents": len(items)} if items else write.detail()
    with store.transaction(actor, action, subject, detail) as conn:
        for document, segments in items:
            detail = insert_document(conn, document, segments)
            store.append_event(conn, actor, "import_document", document.id, detail)
        if not write.empty:
            write_attributes(conn, write)
            if items:
                store.append_event(conn, actor, "set_attributes", subject, write.detail())
