"""Random studies for the agreement tests: coders, drafts, decisions and suggestions."""

from __future__ import annotations

import random
from pathlib import Path

from coding import service
from coding.model import (
    Annotation,
    Decision,
    Document,
    Resolution,
    Segment,
    Suggestion,
    segment_id_for,
    sha256_text,
    utcnow,
)
from coding.service import access
from coding.store import Store


def codebook_file(path: Path, n_codes: int) -> Path:
    """A codebook of ``n_codes`` codes named c00, c01, ..."""
    lines = ["codebook:", "  id: generated", "  name: Generated codebook", "codes:"]
    for k in range(n_codes):
        lines += [f"  - id: c{k:02d}", f"    name: Code {k}", f"    definition: Code number {k}."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def random_study(
    folder: Path, seed: int, units: int = 30, n_codes: int = 4, target: str | None = None
) -> Store:
    """Three coders code the units of two documents at random: most units submitted, some
    left as drafts, some unassigned, some codes applied twice with different spans; a fourth
    coder has no work. Standing, superseded and withdrawn decisions on random (unit, code)
    pairs; two suggestion runs, the newer one scoring one document (and a code the codebook
    does not have). The study is ``target`` (default: a SQLite file in ``folder``)."""
    rng = random.Random(seed)
    codebook = codebook_file(folder / "cb.yaml", n_codes)
    store = service.init_study(target or folder / "study.db", "tests", codebook)
    codes = list(store.codebook().codebook.code_ids)
    documents = []
    for d in range(2):
        paragraphs = [f"Paragraph {d}-{i} about parents and babies." for i in range(units // 2)]
        text = "\n\n".join(paragraphs)
        doc_id = f"doc-{d}"
        document = Document(
            id=doc_id, name=doc_id, title=doc_id, text=text, sha256=sha256_text(text)
        )
        segments, pos = [], 0
        for i, para in enumerate(paragraphs):
            end = pos + len(para)
            segments.append(
                Segment(segment_id_for(doc_id, pos, end), doc_id, pos, end, para, position=i)
            )
            pos = end + 2
        documents.append((document, segments))
    store.add_documents(documents, "tests")
    ids = [s.id for _, segs in documents for s in segs]
    starts = {s.id: s.start for _, segs in documents for s in segs}
    store.add_coders([*CODERS, "dana"], "tests")
    truth = {(sid, code): rng.random() < 0.35 for sid in ids for code in codes}
    annotations, submitted = [], []
    for coder in CODERS:
        mine = [sid for sid in ids if rng.random() < 0.8]
        store.assign(mine, coder, "tests")
        for sid in mine:
            for code in codes:
                if truth[sid, code] != (rng.random() < 0.1):
                    annotations.append(Annotation(sid, code, coder, codebook_version=1))
                    if rng.random() < 0.2:
                        at = starts[sid]
                        annotations.append(
                            Annotation(sid, code, coder, at, at + 5, codebook_version=1)
                        )
            if rng.random() < 0.85:
                submitted.append((sid, coder))
    store.add_annotations(annotations, "tests")
    store.complete(submitted, "tests")
    access.add_user(store, "rosa", "reviewer", "rosa-password", "tests")
    decisions = []
    for _ in range(units // 3):
        sid, code = rng.choice(ids), rng.choice(codes)
        for decision in rng.choice(DECISION_RUNS):
            decisions.append(Resolution(sid, code, decision, "rosa", "because", utcnow(), None, 1))
    store.add_resolutions(decisions, "tests")
    for run, scored in enumerate((["doc-0", "doc-1"], ["doc-1"])):
        found = [
            Suggestion(sid, code, 0.9, "keywords")
            for sid in ids
            for code in [*codes, "ghost"]
            if rng.random() < 0.3
        ]
        store.add_suggestion_run("keywords", f"v{run}", 1, {"scored_documents": scored}, found, "t")
    return store


CODERS = ("amira", "ben", "chloe")
DECISION_RUNS = (
    [Decision.APPLY],
    [Decision.REJECT],
    [Decision.APPLY, Decision.REJECT],
    [Decision.REJECT, Decision.WITHDRAW],
)
