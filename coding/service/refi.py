"""Import REFI-QDA projects (.qdpx) and codebooks (.qdc) into a study, all or nothing.

Everything is read, converted and checked before the first write; a broken file leaves the
study as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coding import segment as segmenter
from coding.errors import CodingError, InvalidInput, Problem
from coding.model import Annotation, Code, Codebook, Document, Segment, sha256_text
from coding.refi import qdc
from coding.refi.qdpx_read import Located, Project, locate, read_qdpx
from coding.service.study import slug, unit_kind
from coding.store import Store

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


def _read(path: str | Path) -> bytes:
    try:
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


def _plan_documents(
    store: Store,
    project: Project,
    texts: dict[str, str],
    source: str,
    problems: list[Problem],
) -> tuple[dict[str, Document], dict[str, list[Segment]], list[Document]]:
    """Per source guid: its Document and segments; and the documents that are new."""
    kind = unit_kind(store)
    by_guid: dict[str, Document] = {}
    segments: dict[str, list[Segment]] = {}
    new: list[Document] = []
    planned_names: set[str] = set()
    for src in project.sources:
        text = texts[src.guid]
        if not text.strip():
            problems.append(Problem(src.name, "the source text is empty"))
            continue
        name = src.name if _NAME_OK.match(src.name) else slug(src.name)
        sha = sha256_text(text)
        versions = store.document_versions(name)
        same = next((v for v in versions if v.sha256 == sha), None)
        if same is not None:
            by_guid[src.guid] = same
            segments[src.guid] = store.segments(document_id=same.id, kind=kind)
            continue
        if name in planned_names:
            problems.append(Problem(src.name, f"two sources are both named {name!r}"))
            continue
        planned_names.add(name)
        version = len(versions) + 1
        document = Document(
            id=name if version == 1 else f"{name}@v{version}",
            name=name,
            version=version,
            title=src.title or src.name,
            text=text,
            sha256=sha,
            programme=src.programme,
            source=f"{source}#{src.name}",
        )
        by_guid[src.guid] = document
        segments[src.guid] = segmenter.segment(document, kind)
        new.append(document)
    return by_guid, segments, new


def _annotations(
    located: Sequence[Located],
    documents: dict[str, Document],
    segments: dict[str, list[Segment]],
    version: int,
    min_overlap: float,
) -> tuple[list[Annotation], int]:
    """Annotations for codings on every segment they overlap by at least ``min_overlap`` of the
    shorter of span and segment; and the number of codings that reached no segment."""
    found: dict[tuple[str, str, str, int | None, int | None], Annotation] = {}
    unmatched = 0
    for c in located:
        if c.source not in documents:
            continue
        hits = 0
        for seg in segments[c.source]:
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
    project = read_qdpx(_read(path), source, max_total=max_bytes)
    texts, located, notes, problems = locate(project, positions)
    book, version, codes_added = _merged_codebook(
        store, project.codes, project.name or Path(path).stem
    )
    known_codes = set(book.code_ids if book is not None else store.codebook().codebook.code_ids)
    problems += [
        Problem("codes", f"code {c.code_id!r} is not in the codebook")
        for c in located
        if c.code_id not in known_codes
    ][:1]
    documents, segments, new_documents = _plan_documents(store, project, texts, source, problems)
    if problems:
        raise InvalidInput(source, problems)
    annotations, unmatched = _annotations(located, documents, segments, version, min_overlap)
    existing = store.annotations_frame()
    have = {
        (
            r.segment_id,
            r.code_id,
            r.coder,
            None if r.whole_segment else r.start,
            None if r.whole_segment else r.end,
        )
        for r in existing.itertuples(index=False)
    }
    fresh = [
        a for a in annotations if (a.segment_id, a.code_id, a.coder, a.start, a.end) not in have
    ]
    coded_docs = {(c.coder, c.source) for c in located if c.source in documents}
    complete = sorted({(seg.id, coder) for coder, guid in coded_docs for seg in segments[guid]})
    coders_added = sorted(set(project.coders) - set(store.coders()))
    if book is not None:
        store.add_codebook_version(
            book,
            sha256_text(qdc.write_qdc(book).decode()),
            source,
            actor,
            [f"imported from {Path(path).name}: {', '.join(codes_added)}"],
        )
    if new_documents:
        store.add_documents(
            [(d, segments[g]) for g, d in documents.items() if d in new_documents], actor
        )
    if coders_added:
        store.add_coders(coders_added, actor)
    store.add_annotations(fresh, actor, complete=complete)
    if unmatched:
        notes.append(
            f"{unmatched} coding(s) overlap no unit by {min_overlap:.0%} or more; "
            "lower --min-overlap to keep them"
        )
    return QdpxImport(
        documents_added=tuple(d.id for d in new_documents),
        documents_reused=tuple(
            sorted({d.id for d in documents.values()} - {d.id for d in new_documents})
        ),
        coders_added=tuple(coders_added),
        codes_added=tuple(codes_added),
        codebook_version=version,
        codings=len(project.codings),
        annotations=len(fresh),
        unmatched=unmatched,
        completed_units=len(complete),
        notes=tuple([*project.warnings, *notes]),
    )


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
