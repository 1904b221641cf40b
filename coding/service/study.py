"""Study actions: create a study, load codebooks, import documents and codings, report status."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from coding import codebook as codebook_io
from coding import corpus, segment
from coding.errors import CodingError, InvalidInput, Problem
from coding.model import (
    Document,
    OnProgress,
    ProgressEvent,
    Segment,
    SegmentKind,
    no_progress,
    segment_id_for,
    sha256_text,
)
from coding.service.attributes import AttributePlan, Column
from coding.service.manifest import MANIFEST_COLUMNS, ManifestEntry, read_manifest, slug
from coding.store import Store
from coding.store.attributes import add_documents_with_attributes

UNIT_KINDS = (SegmentKind.PARAGRAPH, SegmentKind.SENTENCE, SegmentKind.SECTION)
SETTING_UNIT = "unit"
SETTING_SUGGESTIONS_VISIBLE = "suggestions_visible"  # "after_submit" (default) | "always" | "never"


# -- study and codebook ---------------------------------------------------------------------
def init_study(
    target: str | Path,
    actor: str,
    codebook_path: str | Path | None = None,
    unit: str = SegmentKind.PARAGRAPH,
) -> Store:
    """Create a new study (an empty database) and load its first codebook if given.

    A SQLite study appears complete (settings and codebook) or not at all, even if the
    process is killed midway (:meth:`coding.store.Store.create`).
    """
    if unit not in UNIT_KINDS:
        raise CodingError(f"unknown unit {unit!r}; choose one of {', '.join(UNIT_KINDS)}")
    parsed = codebook_io.read_codebook(codebook_path) if codebook_path else None

    def fill(store: Store) -> None:
        store.set_setting(SETTING_UNIT, str(unit), actor)
        store.set_setting(SETTING_SUGGESTIONS_VISIBLE, "after_submit", actor)
        if parsed is not None and codebook_path is not None:
            codebook, sha = parsed
            store.add_codebook_version(codebook, sha, str(codebook_path), actor, ["first version"])

    return Store.create(target, fill)


@dataclass(frozen=True)
class CodebookLoad:
    version: int
    changes: tuple[str, ...]
    unchanged: bool


def load_codebook(store: Store, path: str | Path, actor: str) -> CodebookLoad:
    """Load a codebook file as a new version, unless it equals the current one."""
    codebook, sha = codebook_io.read_codebook(path)
    versions = store.codebook_versions()
    if not versions:
        version = store.add_codebook_version(codebook, sha, str(path), actor, ["first version"])
        return CodebookLoad(version, ("first version",), unchanged=False)
    current = store.codebook()
    changes = codebook_io.diff_codebooks(current.codebook, codebook)
    if not changes:
        return CodebookLoad(current.version, (), unchanged=True)
    removed = set(current.codebook.code_ids) - set(codebook.code_ids)
    if removed:
        annotations = store.annotations_frame()
        decisions = store.current_resolutions_frame()
        for code_id in sorted(removed):
            n_ann = int((annotations["code_id"] == code_id).sum())
            n_dec = 0 if decisions.empty else int((decisions["code_id"] == code_id).sum())
            changes.append(
                f"note: {n_ann} annotation(s) and {n_dec} decision(s) on removed code "
                f"{code_id!r} are kept under their codebook version but leave agreement and "
                "disagreement reports"
            )
    version = store.add_codebook_version(codebook, sha, str(path), actor, changes)
    return CodebookLoad(version, tuple(changes), unchanged=False)


def unit_kind(store: Store) -> str:
    return store.settings().get(SETTING_UNIT, SegmentKind.PARAGRAPH)


# -- documents ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportedDocument:
    document_id: str
    source: str
    status: str  # "new", "new version", "unchanged"
    segments: int


DOCUMENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def pick_document(ref: str, documents: Sequence[Document]) -> Document | str:
    """The document a reference names, or why it names none.

    ``name@vN`` is version N (``name@v1`` is the first version, stored as ``name``); a bare
    name is its only version, and is ambiguous once the document has several.

    >>> from coding.model import sha256_text
    >>> docs = [Document(id=i, name="m", version=v, title="", text=i, sha256=sha256_text(i))
    ...         for i, v in (("m", 1), ("m@v2", 2))]
    >>> pick_document("m@v2", docs).id, pick_document("m@v1", docs).id
    ('m@v2', 'm')
    >>> pick_document("m", docs)
    "document 'm' has 2 versions: give m@v1 ... m@v2"
    """
    name, _, version = ref.partition("@v")
    versions = [d for d in documents if (d.name or d.id) == name]
    if version:
        found = [d for d in versions if str(d.version) == version]
        return found[0] if found else f"unknown document version {ref!r}"
    if not versions:
        return f"unknown document {ref!r}"
    if len(versions) > 1:
        last = f"{name}@v{len(versions)}"
        return f"document {ref!r} has {len(versions)} versions: give {name}@v1 ... {last}"
    return versions[0]


@dataclass
class _ImportPlan:
    """Documents to store, what to report, and every problem found, before any write."""

    store: Store
    actor: str
    kind: str
    planned: list[tuple[Document, list[Segment]]] = field(default_factory=list)
    results: list[ImportedDocument] = field(default_factory=list)
    problems: list[InvalidInput] = field(default_factory=list)
    taken: dict[str, str] = field(default_factory=dict)
    attributes: AttributePlan | None = None  # read from the store on first use
    manifest_columns: list[Column] = field(default_factory=list)

    def attribute_plan(self) -> AttributePlan:
        if self.attributes is None:
            self.attributes = AttributePlan.read(self.store)
        return self.attributes

    def read_manifest_attributes(self, manifest: Path, entries: dict[str, ManifestEntry]) -> None:
        """Check the manifest's extra columns (document attributes) before any file."""
        rows = [(e.where, e.attributes) for e in entries.values() if e.attributes]
        if rows:
            plan = self.attribute_plan()
            found = plan.columns(str(manifest), "document", rows, MANIFEST_COLUMNS)
            self.manifest_columns = found or []

    def refuse(self, path: Path, message: str) -> None:
        self.problems.append(InvalidInput(str(path), [Problem("file", message)]))

    def add_presegmented(self, path: Path) -> None:
        try:
            planned_csv, units = _plan_presegmented(self.store, path, self.actor)
        except InvalidInput as err:
            self.problems.append(err)
            return
        clash = [d.name for d, _ in planned_csv if d.name in self.taken]
        if clash:
            self.refuse(
                path, f"document id(s) {', '.join(clash)} also used by another file in this import"
            )
            return
        self.taken.update({d.name: str(path) for d, _ in planned_csv})
        self._unit_attributes(path, units)
        self.planned += [p for p in planned_csv if p[1]]
        self.results += [
            ImportedDocument(d.id, str(path), _status(d), len(segs)) for d, segs in planned_csv
        ]

    def add_source(self, path: Path, entry: ManifestEntry) -> None:
        try:
            source = corpus.read_source(path)
        except InvalidInput as err:
            self.problems.append(err)
            return
        name = entry.document_id
        if not DOCUMENT_ID_RE.match(name):
            self.refuse(path, f"document id {name!r}: use letters, digits, '_', '-', '.' (no '@')")
            return
        if name in self.taken:
            self.refuse(
                path, f"document id {name!r} is also used by {self.taken[name]} in this import"
            )
            return
        self.taken[name] = str(path)
        titled = ManifestEntry(name, entry.programme, entry.title or source.title)
        document = _versioned(self.store, titled, source.text, str(path))
        if entry.attributes and self.manifest_columns:
            subject = _stored_id(self.store, name, source.text) if document is None else document.id
            cells = dict(entry.attributes)
            self.attribute_plan().add("document", subject, self.manifest_columns, cells)
        if document is None:
            self.results.append(ImportedDocument(name, str(path), "unchanged", 0))
            return
        segments = segment.segment(document, self.kind)
        if not segments:
            self.refuse(path, f"no {self.kind} units found")
            return
        self.planned.append((document, segments))
        self.results.append(
            ImportedDocument(document.id, str(path), _status(document), len(segments))
        )

    def _unit_attributes(self, path: Path, units: list[tuple[str, corpus.PresegmentedRow]]) -> None:
        """Check and keep the unit attributes of a pre-segmented file's rows."""
        if not units or not units[0][1].attributes:
            return
        plan = self.attribute_plan()
        rows = [(r.where, r.attributes) for _, r in units]
        columns = plan.columns(str(path), "unit", rows, corpus.PRESEGMENTED_COLUMNS)
        for segment_id, row in units if columns else ():
            plan.add("unit", segment_id, columns or [], dict(row.attributes))


def import_documents(
    store: Store,
    paths: Sequence[str | Path],
    actor: str,
    *,
    programme: str = "",
    title: str = "",
    manifest: str | Path | None = None,
    on_progress: OnProgress = no_progress,
) -> list[ImportedDocument]:
    """Import source files into the study: all of them, or (on any problem) none.

    A file whose text is already stored under its name is skipped; changed text becomes
    a new version of the document (``name@vN``); nothing is overwritten. ``on_progress``
    hears "reading" before each file (``done`` files of ``total`` read) and once all are,
    notes on files the manifest does not name and on its rows for no file given, and
    "storing" before the one write.
    """
    entries = read_manifest(manifest) if manifest else {}
    plan = _ImportPlan(store, actor, unit_kind(store))
    if manifest:
        plan.read_manifest_attributes(Path(manifest), entries)
    total = len(paths)
    for done, path in enumerate(map(Path, paths)):
        reading = ProgressEvent("reading", done, total, str(path))
        on_progress(reading)
        if path.suffix.lower() == ".csv":
            plan.add_presegmented(path)
            continue
        if entries and path.name not in entries:
            given = f"programme {programme!r}" if programme else "no programme"
            unlisted = f"{path.name} is not in the manifest; using id {slug(path.name)!r}"
            on_progress(replace(reading, note=f"{unlisted} and {given}"))
        default = ManifestEntry(slug(path.name), programme, title)
        entry = entries.get(path.name, default)
        plan.add_source(
            path,
            replace(entry, programme=entry.programme or programme, title=entry.title or title),
        )
    on_progress(ProgressEvent("reading", total, total))
    problems = plan.problems + (plan.attributes.problems if plan.attributes else [])
    if problems:
        files = total + any(err.source == str(manifest) for err in problems)
        raise InvalidInput(
            f"{len(problems)} of {files} file(s) could not be imported; nothing was imported",
            [Problem(err.source, str(p)) for err in problems for p in err.problems],
        )
    unused = sorted(set(entries) - {Path(p).name for p in paths})
    if unused:
        note = f"manifest rows for files not imported here: {', '.join(unused)}"
        on_progress(ProgressEvent("reading", total, total, str(manifest), note))
    write = plan.attributes.write(store) if plan.attributes else None
    if write is not None and not write.empty:
        stored = f"{len(plan.planned)} document(s) and " if plan.planned else ""
        on_progress(ProgressEvent("storing", item=f"{stored}attributes"))
        add_documents_with_attributes(store, plan.planned, write, actor)
    elif plan.planned:
        on_progress(ProgressEvent("storing", item=f"{len(plan.planned)} document(s)"))
        store.add_documents(plan.planned, actor)
    return plan.results


def _stored_id(store: Store, name: str, text: str) -> str:
    """The id of the stored version of document ``name`` that holds this text."""
    sha = sha256_text(text)
    return next(v.id for v in store.document_versions(name) if v.sha256 == sha)


def _status(document: Document) -> str:
    return "new" if document.version == 1 else "new version"


def _versioned(store: Store, entry: ManifestEntry, text: str, source: str) -> Document | None:
    """The next version of the document ``entry`` names, with this text, title and
    programme; None if this text is already stored."""
    name, sha = entry.document_id, sha256_text(text)
    versions = store.document_versions(name)
    if any(v.sha256 == sha for v in versions):
        return None
    version = len(versions) + 1
    return Document(
        id=name if version == 1 else f"{name}@v{version}",
        name=name,
        version=version,
        title=entry.title,
        text=text,
        sha256=sha,
        programme=entry.programme,
        source=source,
    )


def _plan_presegmented(
    store: Store, path: Path, actor: str
) -> tuple[list[tuple[Document, list[Segment]]], list[tuple[str, corpus.PresegmentedRow]]]:
    """The documents of a pre-segmented file to store (with their units), and every row
    with the id of its unit (stored already, or to be)."""
    rows = corpus.read_presegmented(path)
    bad = sorted({r.document_id for r in rows if not DOCUMENT_ID_RE.match(r.document_id)})
    if bad:
        raise InvalidInput(
            str(path),
            [
                Problem(f"document {name!r}", "use letters, digits, '_', '-', '.' (no '@')")
                for name in bad
            ],
        )
    by_document: dict[str, list[corpus.PresegmentedRow]] = {}
    for row in rows:
        by_document.setdefault(row.document_id, []).append(row)
    planned: list[tuple[Document, list[Segment]]] = []
    units: list[tuple[str, corpus.PresegmentedRow]] = []
    for name, doc_rows in by_document.items():
        text = "\n\n".join(r.text for r in doc_rows)
        first = doc_rows[0]
        entry = ManifestEntry(name, first.programme, first.title or name)
        document = _versioned(store, entry, text, str(path))
        if document is None:
            if first.attributes:
                stored, pos = _stored_id(store, name, text), 0
                for row in doc_rows:
                    units.append((segment_id_for(stored, pos, pos + len(row.text)), row))
                    pos += len(row.text) + 2
            continue
        segments, pos = [], 0
        for i, row in enumerate(doc_rows):
            start, end = pos, pos + len(row.text)
            segments.append(
                Segment(
                    id=segment_id_for(document.id, start, end),
                    document_id=document.id,
                    start=start,
                    end=end,
                    text=row.text,
                    kind=SegmentKind.IMPORTED,
                    position=i,
                    label=row.segment_id,
                )
            )
            units.append((segments[-1].id, row))
            pos = end + 2
        planned.append((document, segments))
    return planned, units
