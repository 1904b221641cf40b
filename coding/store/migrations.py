"""Ordered migrations of the schema in :mod:`coding.store.schema`: each runs in its own
transaction, and ``schema_version`` holds one row per applied number."""

from collections.abc import Callable

from sqlalchemy import Connection, Table, text

from coding.store.schema import (
    V1_TABLES,
    V2_TABLES,
    annotation_history,
    attributes,
    derived,
    disputes,
    document_attributes,
    llm_answers,
    metadata,
    unit_attributes,
    unit_memo_history,
    unit_memos,
)

Migration = Callable[[Connection], None]


def _tables(*tables: Table) -> Migration:
    """A migration that creates these tables (and their indexes)."""

    def run(conn: Connection) -> None:
        metadata.create_all(conn, tables=list(tables))

    return run


def _statements(ddl: tuple[str, ...]) -> Migration:
    """A migration that runs these DDL statements (indexes: plain DDL, see version 3)."""

    def run(conn: Connection) -> None:
        for statement in ddl:
            conn.execute(text(statement))

    return run


# Version 3: a coder's own work is read by coder on every page of the app. Plain DDL: an
# Index object would attach itself to the Table and be created by migration 1 as well.
V3_INDEXES = (
    "CREATE INDEX ix_assignments_coder ON assignments (coder)",
    "CREATE INDEX ix_annotations_coder_segment ON annotations (coder, segment_id)",
)

# Version 6: sign-in counts recent failures and lockouts by action and time on every attempt.
V6_INDEXES = ("CREATE INDEX IF NOT EXISTS ix_events_action_at ON events (action, at)",)

# Version 9: the review's counts join every annotation to its coder's submission of the unit;
# with completed_at in the index that join (and the count of a unit's submitters) reads the
# index alone.
V9_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_assignments_submitted "
    "ON assignments (segment_id, coder, completed_at)",
)

# Version 10 (with its tables in the schema): the progress counts read the segments of each
# document from an index alone.
V10_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_segments_document_unit ON segments (document_id, id)",
)


def _v10(conn: Connection) -> None:
    _tables(disputes, derived)(conn)
    _statements(V10_INDEXES)(conn)


# Version 11: the unit's own index on annotations went: the unique key (segment, code, coder,
# span) starts with the unit and serves every lookup by it, and a bulk import of codings
# maintained both (1.7 s of a million-row import on PostgreSQL).
V11_DROPPED = ("DROP INDEX IF EXISTS ix_annotations_segment_id",)


MIGRATIONS: tuple[Migration, ...] = (
    _tables(*V1_TABLES),
    _tables(*V2_TABLES),
    _statements(V3_INDEXES),
    _tables(unit_memos),
    _tables(annotation_history, unit_memo_history),
    _statements(V6_INDEXES),
    _tables(attributes, unit_attributes, document_attributes),
    _tables(llm_answers),
    _statements(V9_INDEXES),
    _v10,
    _statements(V11_DROPPED),
)
