"""Import REFI-QDA projects (.qdpx) and codebooks (.qdc) into a study, all or nothing.

Everything is read, converted and checked before the first write; a broken file leaves the
study as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from coding import segment as segmenter
from coding.errors import CodingError, InvalidInput, Problem
from coding.model import Annotation, Code, Codebook, Document, Segment, sha256_text
from coding.refi import qdc
from coding.refi.locate import Located, locate
from coding.refi.qdpx_read import Project, Source, read_qdpx
from coding.refi.qdpx_write import source_guid
from coding.service.attributes_refi import refi_attributes
from coding.service.codings import annotation_keys
from coding.service.manifest import slug
from coding.service.study import unit_kind
from coding.store import Store
from coding.store.projects import ProjectWrite, import_project
from coding.xmlzip import MAX_TOTAL_BYTES

_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


@dataclass(frozen=True)
class QdpxImport:
    documents_added: tuple[str, ...]
    documents_reused: tuple[str, ...]
    coders_added: tuple[str, ...]
    codes_added: tuple[str, ...]
    codebook_version: int
    codings: int
    annotations: int
    unmatched: int
    completed_units: int
    notes: tuple[str, ...]
    held_units: tuple[tuple[str, str], ...] = ()  # (segment, coder) left unsubmitted


def _read(path: str | Path, max_bytes: int = MAX_TOTAL_BYTES) -> bytes:
    """The bytes of a file, refused unread when it is larger than ``max_bytes``."""
    try:
        size = Path(path).stat().st_size
        if size > max_bytes:
            raise InvalidInput(
                str(path),
                [Problem("file", f"{size} bytes; the limit is {max_bytes} bytes; refused")],
            )
        return Path(path).read_bytes()
    except OSError as err:
        raise InvalidInput(str(path), [Problem("file", err.strerror or str(err))]) from err


def _merged_codebook(
    store: Store, codes: Sequence[Code], fallback_name: str
) -> tuple[Codebook | None, int, list[str]]:
    """The codebook to add (None if the study's current one has every code), its version."""
    versions = store.codebook_versions()
    if not versions:
        book = Codebook(
            id=slug(fallback_name) or "imported",
            name=fallback_name,
            codes=tuple(codes),
            description=f"imported from {fallback_name}",
        )
        return book, 1, [c.id for c in codes]
    current = store.codebook()
    new = [c for c in codes if c.id not in current.codebook.code_ids]
    if not new:
        return None, current.version, []
    book = Codebook(
        id=current.codebook.id,
        name=current.codebook.name,
        description=current.codebook.description,
        codes=current.codebook.codes + tuple(new),
    )
    return book, current.version + 1, [c.id for c in new]


def _source_name(name: str) -> str:
    """A document name for a source: kept when it is a valid name, else a slug of the whole
    name (dots included, so ``Interview 1.2`` and ``Interview 1.3`` stay apart).

    >>> _source_name("Interview 1.2 (final)")
    'interview-1-2-final'
    """
    if _NAME_OK.match(name):
        return name
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "document"


@dataclass(frozen=True)
class _DocumentPlan:
    """Per source GUID: the study's document for it (stored or new) and its segments."""

    documents: dict[str, Document]
    segments: dict[str, list[Segment]]
    new: list[Document]  # the documents the import adds, in order

    def reused(self) -> tuple[str, ...]:
        return tuple(sorted({d.id for d in self.documents.values()} - {d.id for d in self.new}))


def _plan_documents(
    store: Store,
    project: Project,
    texts: dict[str, str],
    source: str,
    problems: list[Problem],
) -> _DocumentPlan:
    """Per source guid: its Document and segments; and the documents that are new.

    A source is the study's document when its GUID is that document's (our own export) or
    its name and text match; otherwise it is a new document, or a new version of one with
    its name. Concord's ``document_version`` variable orders versions of one name.
    """
    kind = unit_kind(store)
    stored = store.documents()
    ours = {source_guid(d.id): d for d in stored}
    documents: dict[str, Document] = {}
    fresh: dict[str, list[tuple[Source, str]]] = {}  # name -> sources and their sha256
    for src in project.sources:
        text = texts[src.guid]
        if not text.strip():
            problems.append(Problem(src.name, "the source text is empty"))
            continue
        name, sha = _source_name(src.name), sha256_text(text)
        same = ours.get(src.guid)
        if same is None or same.sha256 != sha:
            same = next((d for d in stored if (d.name or d.id) == name and d.sha256 == sha), None)
        if same is None:
            fresh.setdefault(name, []).append((src, sha))
        else:
            documents[src.guid] = same
    segments = {g: store.segments(document_id=d.id, kind=kind) for g, d in documents.items()}
    new = _new_documents(fresh, stored, texts, source, problems)
    documents.update(new)
    segments.update({g: segmenter.segment(d, kind) for g, d in new.items()})
    return _DocumentPlan(documents, segments, list(new.values()))


def _new_documents(
    fresh: dict[str, list[tuple[Source, str]]],
    stored: Sequence[Document],
    texts: dict[str, str],
    source: str,
    problems: list[Problem],
) -> dict[str, Document]:
    """Source GUID -> the new document (or new version of a stored one) for each source with
    no document in the study yet; ``fresh`` groups those sources by document name."""
    taken_ids = {d.id: d for d in stored}
    new: dict[str, Document] = {}
    for name, group in fresh.items():
        if len(group) > 1 and (
            any(src.version is None for src, _ in group)
            or len({src.version for src, _ in group}) < len(group)
            or len({sha for _, sha in group}) < len(group)
        ):
            problems.append(Problem(group[1][0].name, f"two sources are both named {name!r}"))
            continue
        versions = sum(1 for d in stored if (d.name or d.id) == name)
        for k, (src, sha) in enumerate(sorted(group, key=lambda g: g[0].version or 0)):
            version = versions + k + 1
            document = Document(
                id=name if version == 1 else f"{name}@v{version}",
                name=name,
                version=version,
                title=src.title or src.name,
                text=texts[src.guid],
                sha256=sha,
                programme=src.programme,
                source=f"{source}#{src.name}",
            )
            other = taken_ids.get(document.id)
            if other is not None:
                problems.append(
                    Problem(
                        src.name,
                        f"would be document {document.id!r}, an id the study already gives "
                        f"to {other.name or other.id!r} version {other.version}; rename the "
                        "source",
                    )
                )
                continue
            taken_ids[document.id] = new[src.guid] = document
    return new


def _units_of(plan: _DocumentPlan) -> dict[str, tuple[Document, list[Segment]]]:
    """Per source GUID: the study's document for it and its units."""
    return {g: (d, plan.segments[g]) for g, d in plan.documents.items()}


def _annotations(
    located: Sequence[Located], plan: _DocumentPlan, version: int, min_overlap: float
) -> tuple[list[Annotation], int]:
    """Annotations for codings on every segment they overlap by at least ``min_overlap`` of the
    shorter of span and segment; and the number of codings that reached no segment."""
    found: dict[tuple[str, str, str, int | None, int | None], Annotation] = {}
    unmatched = 0
    for c in located:
        if c.source not in plan.documents:
            continue
        hits = 0
        for seg in plan.segments[c.source]:
            overlap = min(c.end, seg.end) - max(c.start, seg.start)
            if overlap <= 0 or overlap < min_overlap * min(c.end - c.start, seg.end - seg.start):
                continue
            hits += 1
            start, end = max(c.start, seg.start), min(c.end, seg.end)
            span: tuple[int | None, int | None] = (
                (None, None) if (start, end) == (seg.start, seg.end) else (start, end)
            )
            key = (seg.id, c.code_id, c.coder, *span)
            found.setdefault(
                key,
                Annotation(
                    segment_id=seg.id,
                    code_id=c.code_id,
                    coder=c.coder,
                    start=span[0],
                    end=span[1],
                    codebook_version=version,
                ),
            )
        unmatched += hits == 0
    return list(found.values()), unmatched


def _new_annotations(
    annotations: list[Annotation], held: set[tuple[str, str]], have: set[Any]
) -> tuple[list[Annotation], list[Annotation]]:
    """The annotations on units no coder holds submitted, and of those the ones not stored."""
    kept = [a for a in annotations if (a.segment_id, a.coder) not in held]
    fresh = [a for a in kept if (a.segment_id, a.code_id, a.coder, a.start, a.end) not in have]
    return kept, fresh


def import_qdpx(
    store: Store,
    path: str | Path,
    actor: str,
    *,
    positions: str = "auto",
    min_overlap: float = 0.5,
    max_bytes: int | None = None,
) -> QdpxImport:
    """Import a .qdpx project: sources as documents, codebook, users as coders, codings as
    annotations on the segments they overlap. All or nothing."""
    if not 0.0 < min_overlap <= 1.0:
        raise CodingError("--min-overlap must be in (0, 1]")
    source = str(path)
    data = _read(path) if max_bytes is None else _read(path, max_bytes)
    project = read_qdpx(data, source, max_total=max_bytes)
    texts, located, notes, problems = locate(project, positions)
    book, version, codes_added = _merged_codebook(
        store, project.codes, project.name or Path(path).stem
    )
    problems += _unknown_code(book or store.codebook().codebook, located)
    plan = _plan_documents(store, project, texts, source, problems)
    attributes = refi_attributes(store, project, _units_of(plan), positions, min_overlap)
    problems += [p for err in attributes.problems for p in err.problems]
    if problems:
        raise InvalidInput(source, problems)
    annotations, unmatched = _annotations(located, plan, version, min_overlap)
    existing = store.annotations_frame()
    held, complete = _completion(store, existing, plan, located, annotations)
    kept, fresh = _new_annotations(annotations, set(held), annotation_keys(existing))
    coders_added = sorted(set(project.coders) - set(store.coders()))
    write = ProjectWrite(
        source=source,
        codebook=book,
        codebook_sha256=sha256_text(qdc.write_qdc(book).decode()) if book else "",
        codebook_changes=[f"imported from {Path(path).name}: {', '.join(codes_added)}"],
        documents=[(d, plan.segments[g]) for g, d in plan.documents.items() if d in plan.new],
        coders=coders_added,
        annotations=fresh,
        complete=complete,
        detail={"codes_added": len(codes_added), "held_units": len(held)},
        attributes=attributes.write(store),
    )
    import_project(store, write, actor)
    notes += _import_notes(unmatched, min_overlap, held, len(annotations) - len(kept))
    return QdpxImport(
        documents_added=tuple(d.id for d in plan.new),
        documents_reused=plan.reused(),
        coders_added=tuple(coders_added),
        codes_added=tuple(codes_added),
        codebook_version=version,
        codings=len(project.codings),
        annotations=len(fresh),
        unmatched=unmatched,
        completed_units=len(complete),
        notes=tuple([*project.warnings, *notes]),
        held_units=tuple(held),
    )


def _unknown_code(codebook: Codebook, located: Sequence[Located]) -> list[Problem]:
    """A problem for the first coding whose code the codebook lacks (none when all are in it)."""
    known = set(codebook.code_ids)
    unknown = next((c.code_id for c in located if c.code_id not in known), None)
    return [] if unknown is None else [Problem("codes", f"code {unknown!r} is not in the codebook")]


def _import_notes(
    unmatched: int, min_overlap: float, held: Sequence[tuple[str, str]], dropped: int
) -> list[str]:
    """Notes on codings that reached no unit, and on units left as their coder holds them."""
    notes = []
    if unmatched:
        notes.append(
            f"{unmatched} coding(s) overlap no unit by {min_overlap:.0%} or more; "
            "lower --min-overlap to keep them"
        )
    if held:
        by_coder: dict[str, int] = {}
        for _segment, coder in held:
            by_coder[coder] = by_coder.get(coder, 0) + 1
        notes.append(
            f"{len(held)} unit(s) are already assigned to their coder and not yet submitted "
            f"({', '.join(f'{c}: {n}' for c, n in sorted(by_coder.items()))}): left as they "
            f"are, unsubmitted; {dropped} imported coding(s) on them were not added"
        )
    return notes


def _completion(
    store: Store,
    existing: pd.DataFrame,
    plan: _DocumentPlan,
    located: Sequence[Located],
    annotations: Sequence[Annotation],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(held, complete): the (segment, coder) pairs the import touches that the coder already
    holds unsubmitted (an assignment not yet completed, or annotations without a completed
    assignment), which are left alone; and the pairs to mark complete, which are new.

    Only units the import creates or codes are completed: every unit of a new document for
    each coder who coded in it (a missing code there is a 0), and each unit an imported
    annotation lands on.
    """
    assignments = store.assignments_frame()
    completed = {
        (r.segment_id, r.coder) for r in assignments.itertuples(index=False) if r.completed
    }
    pending = {
        (r.segment_id, r.coder) for r in assignments.itertuples(index=False) if not r.completed
    }
    pending |= {(r.segment_id, r.coder) for r in existing.itertuples(index=False)} - completed
    new_guids = {g for g, d in plan.documents.items() if d in plan.new}
    coded = {(c.coder, c.source) for c in located if c.source in plan.documents}
    wanted = {
        (seg.id, coder) for coder, guid in coded if guid in new_guids for seg in plan.segments[guid]
    }
    wanted |= {(a.segment_id, a.coder) for a in annotations}
    held = sorted(wanted & pending)
    complete = sorted(wanted - pending - completed)
    return held, complete


def import_qdc(store: Store, path: str | Path, actor: str) -> tuple[int, list[str], list[str]]:
    """Load a .qdc codebook as the study's next codebook version; (version, changes, warnings)."""
    from coding import codebook as codebook_io

    book, warnings = qdc.read_qdc(_read(path), str(path), name=Path(path).stem)
    versions = store.codebook_versions()
    if versions:
        current = store.codebook()
        changes = codebook_io.diff_codebooks(current.codebook, book)
        if not changes:
            return current.version, [], warnings
    else:
        changes = ["first version"]
    sha = sha256_text(qdc.write_qdc(book).decode())
    return store.add_codebook_version(book, sha, str(path), actor, changes), changes, warnings
