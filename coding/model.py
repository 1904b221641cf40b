"""The domain model: frozen dataclasses shared by every layer. Standard library only."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

CODE_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def utcnow() -> datetime:
    """The current time, UTC-aware, to the microsecond."""
    return datetime.now(UTC)


def sha256_text(text: str) -> str:
    """Hex sha256 of a text's UTF-8 bytes.

    >>> sha256_text("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def segment_id_for(document_id: str, start: int, end: int) -> str:
    """Stable segment id: sha256 of ``"document_id:start:end"``, first 16 hex digits.

    >>> segment_id_for("dyadic", 0, 10) == segment_id_for("dyadic", 0, 10)
    True
    """
    return hashlib.sha256(f"{document_id}:{start}:{end}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Examples:
    typical: tuple[str, ...] = ()
    borderline: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Code:
    """One code of a deductive codebook."""

    id: str
    name: str
    definition: str
    parent: str | None = None
    inclusion: tuple[str, ...] = ()
    exclusion: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    examples: Examples = field(default_factory=Examples)
    colour: str | None = None
    exclusive: bool = False  # its children are mutually exclusive: at most one per unit

    def __post_init__(self) -> None:
        if not CODE_ID_RE.match(self.id):
            raise ValueError(f"bad code id {self.id!r}")
        if self.colour is not None and not COLOUR_RE.match(self.colour):
            raise ValueError(f"bad colour {self.colour!r} for code {self.id!r}")


@dataclass(frozen=True, slots=True)
class Codebook:
    """A codebook: ordered codes plus its own id, name and description."""

    id: str
    name: str
    codes: tuple[Code, ...]
    description: str = ""

    def __post_init__(self) -> None:
        ids = [c.id for c in self.codes]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate code ids in codebook")

    def code(self, code_id: str) -> Code:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    @property
    def code_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.codes)


@dataclass(frozen=True, slots=True)
class CodebookVersion:
    """A codebook as loaded into a study: version number, content hash and recorded changes."""

    version: int
    codebook: Codebook
    sha256: str
    source: str
    loaded_at: datetime
    loaded_by: str
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """An imported source text: NFC-normalised, "\\n" newlines."""

    id: str
    title: str
    text: str
    sha256: str
    programme: str = ""
    source: str = ""
    version: int = 1
    name: str = ""  # the stable name shared by all versions of a document
    imported_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("document id is empty")
        if self.sha256 != sha256_text(self.text):
            raise ValueError(f"sha256 does not match the text of document {self.id!r}")


class SegmentKind(StrEnum):
    SECTION = "section"
    PARAGRAPH = "paragraph"
    SENTENCE = "sentence"
    WINDOW = "window"
    IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class Segment:
    """A unit of coding: a half-open character range of one document."""

    id: str
    document_id: str
    start: int
    end: int
    text: str
    kind: str = SegmentKind.PARAGRAPH
    position: int = 0  # order within the document and kind
    label: str = ""  # section heading path, or an imported segment's own id

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"segment {self.id!r}: bad range {self.start}:{self.end}")
        if len(self.text) != self.end - self.start:
            raise ValueError(f"segment {self.id!r}: text length does not match its range")


@dataclass(frozen=True, slots=True)
class Annotation:
    """A coder applied a code to a segment (optionally to a character span inside it)."""

    segment_id: str
    code_id: str
    coder: str
    start: int | None = None  # document offsets of the coded span; None = the whole segment
    end: int | None = None
    memo: str = ""
    codebook_version: int | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValueError("annotation span needs both start and end")
        if self.start is not None and self.end is not None and not 0 <= self.start < self.end:
            raise ValueError(f"bad annotation span {self.start}:{self.end}")


@dataclass(frozen=True, slots=True)
class Assignment:
    """A segment given to a coder; ``completed_at`` set once the coder submitted it.

    Only for a completed segment does a missing code mean "absent"; otherwise it is missing.
    """

    segment_id: str
    coder: str
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the append-only audit trail."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str  # JSON


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of a long action (import, export, suggestion run), for a progress bar or a
    log line. Services take an ``on_progress`` callback of this type instead of printing."""

    stage: str  # what is being done: "reading", "storing", "writing", "training", ...
    done: int = 0  # steps of this stage finished
    total: int | None = None  # steps of this stage in all, when known
    item: str = ""  # the file, document, code or table at hand
    note: str = ""  # something the user should read (a warning, not an error)


OnProgress = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The default ``on_progress``: ignore the event."""


class Role(StrEnum):
    """What a user of the app may do: a coder codes their assigned units; a reviewer resolves
    disagreements, reads agreement and exports; an admin holds every role."""

    CODER = "coder"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class Decision(StrEnum):
    """A reviewer's decision on one (segment, code)."""

    APPLY = "apply"  # the code is part of the consensus coding of the segment
    REJECT = "reject"  # the code is not
    WITHDRAW = "withdraw"  # the earlier decision is undone (a new row; nothing is erased)


@dataclass(frozen=True, slots=True)
class Resolution:
    """A consensus decision, stored beside (never over) the coders' annotations."""

    segment_id: str
    code_id: str
    decision: Decision
    reviewer: str
    rationale: str
    at: datetime
    id: int | None = None
    codebook_version: int | None = None

    def __post_init__(self) -> None:
        if not self.rationale.strip():
            raise ValueError("a resolution needs a rationale")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An NLP suggestion: evidence for a code on a segment. Never an annotation by itself."""

    segment_id: str
    code_id: str
    score: float
    engine: str
    evidence: str = ""  # JSON: matched spans, top terms, nearest coded segments
    model_version: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"suggestion score {self.score} outside [0, 1]")
