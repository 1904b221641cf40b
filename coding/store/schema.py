"""Tables (SQLAlchemy Core); :mod:`coding.store.migrations` creates them in order. Times are
ISO-8601 UTC TEXT."""

from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


def _annotation_columns(segment_index: bool) -> list[Column[Any]]:
    """The columns of an annotation, in ``annotations`` and in ``annotation_history`` (which
    copies annotations whole). New objects on each call: a Column belongs to one table.
    ``annotations`` needs no index of its own on the unit: its unique key starts with it."""
    return [
        Column(
            "segment_id", String(64), ForeignKey("segments.id"), nullable=False, index=segment_index
        ),
        Column("code_id", String(200), nullable=False),
        Column("coder", String(100), ForeignKey("coders.name"), nullable=False),
        Column("codebook_version", Integer, nullable=False),
        Column("span_start", Integer, nullable=False),
        Column("span_end", Integer, nullable=False),
        Column("whole_segment", Integer, nullable=False),
        Column("memo", Text, nullable=False),
        Column("created_at", String(40), nullable=False),
    ]


def _code_in_its_version() -> ForeignKeyConstraint:
    """A row's (codebook_version, code_id) names a code of that codebook version."""
    return ForeignKeyConstraint(["codebook_version", "code_id"], ["codes.version", "codes.code_id"])


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", String(40), nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", Text, nullable=False),
    Column("detail", Text, nullable=False),
)

codebook_versions = Table(
    "codebook_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("codebook_id", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_at", String(40), nullable=False),
    Column("loaded_by", String(100), nullable=False),
    Column("changes", Text, nullable=False),  # JSON list of strings
)

codes = Table(
    "codes",
    metadata,
    Column("version", Integer, ForeignKey("codebook_versions.version"), primary_key=True),
    Column("code_id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("parent", String(200)),
    Column("definition", Text, nullable=False),
    Column("inclusion", Text, nullable=False),  # JSON lists
    Column("exclusion", Text, nullable=False),
    Column("indicators", Text, nullable=False),
    Column("examples", Text, nullable=False),  # JSON {"typical": [...], "borderline": [...]}
    Column("colour", String(7)),
    CheckConstraint("length(definition) > 0", name="code_definition_not_empty"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("programme", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("imported_at", String(40), nullable=False),
    UniqueConstraint("name", "version", name="document_name_version"),
    UniqueConstraint("name", "sha256", name="document_name_sha256"),
    CheckConstraint("length(text) > 0", name="document_text_not_empty"),
)

segments = Table(
    "segments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("document_id", String(200), ForeignKey("documents.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("position", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("label", Text, nullable=False),
    UniqueConstraint("document_id", "kind", "start", "end", name="segment_range"),
    CheckConstraint('0 <= start AND start < "end"', name="segment_range_valid"),
    CheckConstraint(
        "kind IN ('section', 'paragraph', 'sentence', 'window', 'imported')", name="segment_kind"
    ),
)

coders = Table(
    "coders",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("created_at", String(40), nullable=False),
    CheckConstraint("kind IN ('human', 'nlp')", name="coder_kind"),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_annotation_columns(segment_index=False),
    _code_in_its_version(),
    UniqueConstraint(
        "segment_id", "code_id", "coder", "span_start", "span_end", name="annotation_once"
    ),
    CheckConstraint("0 <= span_start AND span_start < span_end", name="annotation_span_valid"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("segment_id", String(64), ForeignKey("segments.id"), primary_key=True),
    Column("coder", String(100), ForeignKey("coders.name"), primary_key=True),
    Column("assigned_at", String(40), nullable=False),
    Column("completed_at", String(40)),
)

suggestion_runs = Table(
    "suggestion_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("engine", String(50), nullable=False),
    Column("model_version", Text, nullable=False),
    Column("codebook_version", Integer, ForeignKey("codebook_versions.version"), nullable=False),
    Column("data_revision", Integer, nullable=False),
    Column("params", Text, nullable=False),  # JSON
    Column("created_at", String(40), nullable=False),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("run_id", Integer, ForeignKey("suggestion_runs.id"), primary_key=True),
    Column("segment_id", String(64), ForeignKey("segments.id"), primary_key=True),
    Column("code_id", String(200), primary_key=True),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON
    CheckConstraint("score >= 0 AND score <= 1", name="suggestion_score_range"),
)

resolutions = Table(
    "resolutions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("segment_id", String(64), ForeignKey("segments.id"), nullable=False, index=True),
    Column("code_id", String(200), nullable=False),
    Column("codebook_version", Integer, nullable=False),
    Column("decision", String(10), nullable=False),
    Column("reviewer", String(100), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("at", String(40), nullable=False),
    Column("supersedes", Integer, ForeignKey("resolutions.id")),
    _code_in_its_version(),
    CheckConstraint("decision IN ('apply', 'reject', 'withdraw')", name="resolution_decision"),
    CheckConstraint("length(trim(rationale)) > 0", name="resolution_rationale_not_empty"),
)

# Version 2: people who sign in to the app, and notes on codes raised during review.
users = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    CheckConstraint("role IN ('coder', 'reviewer', 'admin')", name="user_role"),
)

code_notes = Table(
    "code_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code_id", String(200), nullable=False),
    Column("codebook_version", Integer, nullable=False),
    Column("segment_id", String(64), ForeignKey("segments.id")),
    Column("author", String(100), nullable=False),
    Column("note", Text, nullable=False),
    Column("at", String(40), nullable=False),
    _code_in_its_version(),
    CheckConstraint("length(trim(note)) > 0", name="code_note_not_empty"),
)

# Version 4: a coder's memo on a unit, kept even when the coder applies no code there.
unit_memos = Table(
    "unit_memos",
    metadata,
    Column("segment_id", String(64), ForeignKey("segments.id"), primary_key=True),
    Column("coder", String(100), ForeignKey("coders.name"), primary_key=True),
    Column("memo", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# Version 5: nothing a coder saves erases earlier work. An annotation the coder removes from a
# unit, or one whose memo changes, is first copied here whole (with its id while current);
# a unit memo that changes keeps its earlier text likewise. Rows here are never changed.
annotation_history = Table(
    "annotation_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("annotation_id", Integer, nullable=False),
    *_annotation_columns(segment_index=True),
    Column("change", String(10), nullable=False),
    Column("superseded_at", String(40), nullable=False),
    Column("superseded_by", String(100), nullable=False),
    _code_in_its_version(),
    CheckConstraint("change IN ('removed', 'memo')", name="annotation_history_change"),
)

unit_memo_history = Table(
    "unit_memo_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("segment_id", String(64), ForeignKey("segments.id"), nullable=False, index=True),
    Column("coder", String(100), ForeignKey("coders.name"), nullable=False),
    Column("memo", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("superseded_at", String(40), nullable=False),
    Column("superseded_by", String(100), nullable=False),
)

V1_TABLES = (
    settings,
    events,
    codebook_versions,
    codes,
    documents,
    segments,
    coders,
    annotations,
    assignments,
    suggestion_runs,
    suggestions,
    resolutions,
)
V2_TABLES = (users, code_notes)


# Version 7: attributes of units (speaker, site, wave) and of documents (setting, year), each
# name declared once with its scope and type; values are stored as text in a canonical form
# (numbers as written by ``float`` without a needless ".0", dates as YYYY-MM-DD).
attributes = Table(
    "attributes",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("scope", String(10), nullable=False),
    Column("type", String(10), nullable=False),
    Column("declared_at", String(40), nullable=False),
    CheckConstraint("scope IN ('unit', 'document')", name="attribute_scope"),
    CheckConstraint("type IN ('text', 'number', 'date')", name="attribute_type"),
)

unit_attributes = Table(
    "unit_attributes",
    metadata,
    Column("segment_id", String(64), ForeignKey("segments.id"), primary_key=True),
    Column("name", String(100), ForeignKey("attributes.name"), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_unit_attributes_name_value", "name", "value"),
)

document_attributes = Table(
    "document_attributes",
    metadata,
    Column("document_id", String(200), ForeignKey("documents.id"), primary_key=True),
    Column("name", String(100), ForeignKey("attributes.name"), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_document_attributes_name_value", "name", "value"),
)


# Version 8: answers of a language model (engine "llm"), so that a unit is asked once per
# model and prompt (the codebook); the endpoint says where the unit's text was sent.
llm_answers = Table(
    "llm_answers",
    metadata,
    Column("model", String(300), primary_key=True),
    Column("prompt_hash", String(64), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("content", Text, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)


# Version 10: what the review counts, kept as a table: the disagreements of every unit, with
# the coders who applied the code and those who submitted the unit (names joined by
# DISPUTE_SEP: coder names hold no comma), and the unit's place; ``derived`` holds the audit
# mark each derived table was read at.
DISPUTE_SEP = ","
disputes = Table(
    "disputes",
    metadata,
    Column("segment_id", String(64), primary_key=True),
    Column("code_id", String(200), primary_key=True),
    Column("applied", Integer, nullable=False),
    Column("submitted", Integer, nullable=False),
    Column("applied_by", Text, nullable=False),
    Column("submitters", Text, nullable=False),
    Column("document_id", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("position", Integer, nullable=False),
    Index("ix_disputes_place", "document_id", "kind", "position", "segment_id"),
)
derived = Table(
    "derived",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("mark", Text, nullable=False),
)
