"""A generated pre-segmented study of any size, as a team would hand it in, for benchmarks.

``generate(n_units)`` draws a double-coded study, deterministic by seed: documents of 1,000
paragraph units each, 10 codes (prevalence 5% to 50%), two coders who agree on about 90% of
(unit, code) decisions (the second copies the first nine times in ten, as in
``benchmarks/agreement.py``). Unit texts are filler sentences plus, most of the time, a signal
word of each code the first coder applied, so a supervised engine has something to learn.

Then either ``write_files(study, folder)`` writes the files the CLI reads (a codebook YAML,
pre-segmented CSVs ``document_id,segment_id,text``, one codings CSV per coder
``document_id,segment_id,coder,code``), or ``build_store(study, target, codebook)`` writes the
same study straight into a database through the Store in bulk (what ``coding import`` and
``coding import-codings`` would store, without their per-row checks), and ``frames(study)``
gives the agreement engine's input for it in memory.

Run ``python benchmarks/studygen.py 100000 out/`` to write the files of a 100k-unit study.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from coding import service
from coding.model import Document, Segment, SegmentKind, segment_id_for, sha256_text
from coding.store import Store
from coding.store import schema as tables
from coding.store.base import timestamp
from coding.store.bulk import insert_many
from coding.store.coding import insert_annotations
from coding.store.review import kept_disputes

CODERS = ("ana", "ben")
UNITS_PER_DOCUMENT = 1000
FILLER = [
    "parent",
    "infant",
    "caregiver",
    "session",
    "staff",
    "home",
    "visit",
    "practitioner",
    "mother",
    "father",
    "child",
    "family",
    "group",
    "plan",
    "review",
    "outcome",
    "week",
    "morning",
    "evening",
    "notes",
    "record",
    "meeting",
    "room",
    "team",
    "service",
    "programme",
    "manual",
    "worker",
    "nurse",
    "midwife",
    "clinic",
    "appointment",
    "letter",
    "phone",
    "referral",
    "case",
]
SIGNALS = (  # three signal words per code, never used as filler
    ("calm", "soothe", "breathing"),
    ("trust", "safety", "welcome"),
    ("wonder", "curious", "mind"),
    ("craving", "relapse", "urge"),
    ("bond", "attachment", "closeness"),
    ("shame", "stigma", "judged"),
    ("routine", "feeding", "sleep"),
    ("housing", "benefits", "debt"),
    ("partner", "violence", "conflict"),
    ("goals", "progress", "hope"),
)


@dataclass(frozen=True)
class Study:
    """A generated study: one entry per unit, and each coder's codes as a units x codes mask."""

    document_ids: list[str]  # per unit
    labels: list[str]  # per unit: the pre-segmented CSV's segment_id, unique in its document
    texts: list[str]  # per unit
    code_ids: list[str]
    applied: dict[str, np.ndarray]  # coder -> bool array (units, codes)

    @property
    def n_units(self) -> int:
        return len(self.texts)

    def annotation_count(self, coder: str | None = None) -> int:
        masks = [self.applied[coder]] if coder else list(self.applied.values())
        return int(sum(m.sum() for m in masks))

    def documents(self) -> Iterator[tuple[str, range]]:
        """(document id, range of its units) in order."""
        start = 0
        for i in range(1, self.n_units + 1):
            if i == self.n_units or self.document_ids[i] != self.document_ids[start]:
                yield self.document_ids[start], range(start, i)
                start = i


@dataclass(frozen=True)
class StudyFiles:
    codebook: Path
    units: list[Path]  # pre-segmented CSVs
    codings: dict[str, Path]  # coder -> codings CSV


def generate(
    n_units: int,
    seed: int = 7,
    units_per_document: int = UNITS_PER_DOCUMENT,
    agreement: float = 0.9,
) -> Study:
    """A double-coded study of ``n_units`` units (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_codes = len(SIGNALS)
    prevalence = 0.05 + 0.45 * np.arange(n_codes) / (n_codes - 1)
    first = rng.random((n_units, n_codes)) < prevalence
    second = np.where(rng.random((n_units, n_codes)) < agreement, first, ~first)
    shown = first & (rng.random((n_units, n_codes)) < 0.8)  # signal words in the text
    signal = rng.integers(0, 3, size=n_codes)
    pool = [
        " ".join(rng.choice(FILLER, size=int(rng.integers(8, 16)))).capitalize() + "."
        for _ in range(4096)
    ]
    suffixes = [
        "".join(f" {SIGNALS[k][signal[k]]}" for k in range(n_codes) if mask >> k & 1)
        for mask in range(1 << n_codes)
    ]
    masks = shown.astype(np.int64) @ (1 << np.arange(n_codes, dtype=np.int64))
    picks = rng.integers(0, len(pool), size=n_units)
    texts = [pool[p] + suffixes[m] for p, m in zip(picks.tolist(), masks.tolist(), strict=True)]
    positions = np.arange(n_units)
    return Study(
        document_ids=[f"doc{d:05d}" for d in (positions // units_per_document).tolist()],
        labels=[f"p{p:04d}" for p in (positions % units_per_document).tolist()],
        texts=texts,
        code_ids=[f"code_{k}" for k in range(n_codes)],
        applied={CODERS[0]: first, CODERS[1]: second},
    )


def codebook_yaml(study: Study) -> str:
    """A codebook with one code per column of the study, signal words as indicators."""
    lines = [
        "codebook:",
        "  id: generated",
        "  name: Generated benchmark codebook",
        "codes:",
    ]
    for code_id, words in zip(study.code_ids, SIGNALS, strict=True):
        lines += [
            f"  - id: {code_id}",
            f"    name: {words[0].capitalize()} and {words[1]}",
            f"    definition: Units about {', '.join(words)}.",
            "    indicators:",
            *(f"      - {word}" for word in words),
        ]
    return "\n".join(lines) + "\n"


def write_files(study: Study, folder: str | Path, documents_per_file: int = 100) -> StudyFiles:
    """Write the codebook, pre-segmented CSVs (``documents_per_file`` documents each) and one
    codings CSV per coder into ``folder``, as ``coding init/import/import-codings`` read them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    codebook = folder / "codebook.yaml"
    codebook.write_text(codebook_yaml(study), encoding="utf-8")
    documents = list(study.documents())
    units = []
    for i in range(0, len(documents), documents_per_file):
        path = folder / f"units-{i // documents_per_file + 1:03d}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["document_id", "segment_id", "text"])
            for _, rows in documents[i : i + documents_per_file]:
                writer.writerows(
                    (study.document_ids[u], study.labels[u], study.texts[u]) for u in rows
                )
        units.append(path)
    codings = {}
    for coder, mask in study.applied.items():
        path = folder / f"codings-{coder}.csv"
        unit_idx, code_idx = np.nonzero(mask)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write("document_id,segment_id,coder,code\n")
            handle.writelines(
                f"{study.document_ids[u]},{study.labels[u]},{coder},{study.code_ids[k]}\n"
                for u, k in zip(unit_idx.tolist(), code_idx.tolist(), strict=True)
            )
        codings[coder] = path
    return StudyFiles(codebook, units, codings)


def stored_document(study: Study, document_id: str, rows: range) -> tuple[Document, list[Segment]]:
    """The document and segments ``coding import`` stores for one pre-segmented document."""
    text = "\n\n".join(study.texts[u] for u in rows)
    document = Document(
        id=document_id,
        name=document_id,
        version=1,
        title=document_id,
        text=text,
        sha256=sha256_text(text),
        source="generated",
    )
    segments, pos = [], 0
    for position, u in enumerate(rows):
        end = pos + len(study.texts[u])
        segments.append(
            Segment(
                id=segment_id_for(document_id, pos, end),
                document_id=document_id,
                start=pos,
                end=end,
                text=study.texts[u],
                kind=SegmentKind.IMPORTED,
                position=position,
                label=study.labels[u],
            )
        )
        pos = end + 2
    return document, segments


def build_store(
    study: Study, target: str | Path, codebook: str | Path, actor: str = "bench"
) -> None:
    """Create the study at ``target`` (a new SQLite path or an empty PostgreSQL database) and
    store documents, coders, annotations and completed units in bulk: the study the CLI import
    builds, with one summary audit row per step instead of the import's per-unit detail."""
    with service.init_study(target, actor, codebook) as store:
        store.add_coders(list(study.applied), actor)
        version = store.codebook_versions()[-1]
        documents = list(study.documents())
        for i in range(0, len(documents), 50):
            chunk = documents[i : i + 50]
            planned = [stored_document(study, doc_id, rows) for doc_id, rows in chunk]
            store.add_documents(planned, actor)
            units = [
                (u, seg.id)
                for (_, rows), (_, segments) in zip(chunk, planned, strict=True)
                for u, seg in zip(rows, segments, strict=True)
            ]
            for coder in study.applied:
                _store_coder(store, study, coder, units, version, actor)
        kept_disputes(store)  # as `coding import-codings` does at its end


def _store_coder(
    store: Store,
    study: Study,
    coder: str,
    units: list[tuple[int, str]],
    version: int,
    actor: str,
) -> None:
    """One coder's annotations on ``units`` (unit index, segment id), all completed, written
    as frames in bulk (no object per annotation)."""
    unit_idx = np.asarray([u for u, _ in units], dtype=np.int64)
    segment_ids = np.asarray([s for _, s in units], dtype=object)
    rows, codes = np.nonzero(study.applied[coder][unit_idx])
    whole = pd.array(np.zeros(len(rows), np.int64), dtype="Int64")
    whole[:] = pd.NA
    annotations = pd.DataFrame(
        {
            "segment_id": segment_ids[rows],
            "code_id": np.asarray(study.code_ids, dtype=object)[codes],
            "coder": coder,
            "start": whole,
            "end": whole.copy(),
            "memo": "",
            "codebook_version": version,
        }
    )
    detail = {"annotations": len(annotations), "completed": len(units)}
    subject = f"{len(annotations)} annotations"
    with store.transaction(actor, "add_annotations", subject, detail) as conn:
        insert_annotations(conn, annotations)
        now = timestamp()
        completed = pd.DataFrame(
            {"segment_id": segment_ids, "coder": coder, "assigned_at": now, "completed_at": now}
        )
        insert_many(conn, tables.assignments, completed)


def frames(study: Study) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """annotations, assignments, segments and code ids as ``agreement_table`` takes them."""
    ends = np.cumsum([len(t) for t in study.texts])
    lengths = np.diff(np.concatenate(([0], ends)))
    documents = np.array(study.document_ids, dtype=object)
    new_doc = np.concatenate(([True], documents[1:] != documents[:-1]))
    group = np.cumsum(new_doc) - 1
    doc_first = np.flatnonzero(new_doc)
    offsets = ends - lengths + 2 * np.arange(study.n_units)
    starts = offsets - (offsets[doc_first])[group]
    segment_ids = np.array(
        [
            segment_id_for(d, s, s + n)
            for d, s, n in zip(study.document_ids, starts.tolist(), lengths.tolist(), strict=True)
        ],
        dtype=object,
    )
    segments = pd.DataFrame(
        {
            "segment_id": segment_ids,
            "document_id": documents,
            "start": starts,
            "end": starts + lengths,
            "text": study.texts,
        }
    )
    parts, completed = [], []
    for coder, mask in study.applied.items():
        unit_idx, code_idx = np.nonzero(mask)
        parts.append(
            pd.DataFrame(
                {
                    "segment_id": segment_ids[unit_idx],
                    "document_id": documents[unit_idx],
                    "coder": coder,
                    "code_id": np.array(study.code_ids, dtype=object)[code_idx],
                    "start": starts[unit_idx],
                    "end": starts[unit_idx] + lengths[unit_idx],
                }
            )
        )
        completed.append(
            pd.DataFrame(
                {
                    "segment_id": segment_ids,
                    "document_id": documents,
                    "coder": coder,
                    "completed": True,
                }
            )
        )
    annotations = pd.concat(parts, ignore_index=True)
    return annotations, pd.concat(completed, ignore_index=True), segments, list(study.code_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("units", type=int, nargs="?", default=10_000)
    parser.add_argument("folder", nargs="?", help="where to write (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", help="also build this study database through the Store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        study = generate(args.units, args.seed)
        files = write_files(study, args.folder or tmp)
        print(
            f"{study.n_units:,} units, {study.annotation_count():,} annotations, "
            f"{len(files.units)} unit file(s) in {files.codebook.parent}: "
            f"{time.perf_counter() - began:.1f} s"
        )
        if args.store:
            began = time.perf_counter()
            build_store(study, args.store, files.codebook)
            print(f"built {args.store} through the Store: {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
