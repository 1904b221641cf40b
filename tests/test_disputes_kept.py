"""The kept table of disagreements (``coding/store/disputes.py``) against the disagreements
read from the coders' work, after every kind of write, on each engine: coders' saves and
reviewers' decisions bring it up to date unit by unit, anything else reads it again whole."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coding import service
from coding.model import Annotation, Document, Segment, segment_id_for, sha256_text
from coding.review import Choice
from coding.service import access
from coding.service import coder as coder_service
from coding.service import review as review_service
from coding.store import Store
from coding.store import disputes as disputes_store
from coding.store import review as review_store
from tests.conftest import DATA, write_codings

CODERS = ("amira", "ben", "chloe")


def _study(target: str, seed: int, units: int = 30) -> Store:
    """Three coders code most units of two documents at random and submit most of them."""
    rng = random.Random(seed)
    store = service.init_study(target, "tests", DATA / "codebook_small.yaml")
    codes = list(store.codebook().codebook.code_ids)
    items = []
    for d in range(2):
        texts = [f"Paragraph {d}-{i} on caregivers." for i in range(units // 2)]
        text, segments, pos = "\n\n".join(texts), [], 0
        for i, para in enumerate(texts):
            sid = segment_id_for(f"doc-{d}", pos, pos + len(para))
            segments.append(Segment(sid, f"doc-{d}", pos, pos + len(para), para, position=i))
            pos += len(para) + 2
        doc_id = f"doc-{d}"
        doc = Document(id=doc_id, name=doc_id, title=doc_id, text=text, sha256=sha256_text(text))
        items.append((doc, segments))
    store.add_documents(items, "tests")
    ids = [s.id for _, segs in items for s in segs]
    store.add_coders(CODERS, "tests")
    annotations, submitted = [], []
    for coder in CODERS:
        access.add_user(store, coder, "coder", f"{coder}-password", "tests")
        mine = [sid for sid in ids if rng.random() < 0.8]
        store.assign(mine, coder, "tests")
        for sid in mine:
            annotations += [
                Annotation(sid, c, coder, codebook_version=1) for c in codes if rng.random() < 0.35
            ]
            if rng.random() < 0.7:
                submitted.append((sid, coder))
    store.add_annotations(annotations, "tests")
    store.complete(submitted, "tests")
    access.add_user(store, "rosa", "reviewer", "rosa-password", "tests")
    return store


@pytest.fixture
def study(target: str) -> Iterator[Store]:
    with _study(target, seed=7) as store:
        yield store


@pytest.fixture
def rereads(monkeypatch: pytest.MonkeyPatch) -> list[list[str] | None]:
    """The units each refresh of the kept table read again (None: all of them)."""
    seen: list[list[str] | None] = []
    reread = disputes_store._reread

    def spy(conn: Any, units: list[str] | None) -> None:
        seen.append(None if units is None else sorted(units))
        reread(conn, units)

    monkeypatch.setattr(disputes_store, "_reread", spy)
    return seen


def _same_as_the_codings(store: Store) -> None:
    codes = store.codebook().codebook.code_ids
    for open_only in (False, True):
        kept = review_store.kept_page(store, codes, open_only=open_only)
        read = review_store.disagreement_list(store, codes, None, open_only=open_only)
        assert kept == read
    assert review_store.kept_totals(store, codes) == review_store.disagreement_totals(store, codes)
    assert review_store.kept_page(store, codes[1:2], limit=3, offset=1) == (
        review_store.disagreement_list(store, codes[1:2], None, limit=3, offset=1)
    )


def _open_unit(store: Store, coder: str) -> str:
    """A unit assigned to ``coder`` and not yet submitted by them."""
    frame = store.assignments_frame()
    mine = frame[(frame["coder"] == coder) & ~frame["completed"]]
    return str(mine["segment_id"].iloc[0])


def test_the_kept_table_is_read_whole_first_then_kept_unit_by_unit(
    study: Store, rereads: list[list[str] | None]
) -> None:
    codes = study.codebook().codebook.code_ids
    _same_as_the_codings(study)
    assert rereads == [None]
    assert review_store.kept_totals(study, codes)[1] > 0, "the study should hold disagreements"
    assert not study.refresh_disputes(), "nothing written since: nothing to read"

    unit = _open_unit(study, "chloe")
    coder_service.save_unit(study, "chloe", unit, [codes[0]], submit=True)
    other = _open_unit(study, "ben")
    coder_service.save_unit(study, "ben", other, [], submit=True)
    _same_as_the_codings(study)
    assert rereads[-1] == sorted({unit, other})

    first = review_store.kept_page(study, codes, limit=1)[0]
    review_service.decide(study, "rosa", first[0], Choice.neither(), "None of these apply")
    _same_as_the_codings(study)
    assert rereads[-1] == [first[0]]
    assert review_store.kept_totals(study, codes)[2] > 0


def test_writes_beyond_units_read_the_table_again_whole(
    study: Store, rereads: list[list[str] | None], tmp_path: Path
) -> None:
    _same_as_the_codings(study)
    units = [s.id for s in study.segments()]
    path = write_codings(tmp_path / "more.csv", [(units[0], "amira", "calm")])
    service.import_codings(study, path, "tests")
    _same_as_the_codings(study)
    study.assign(units, "chloe", "tests")  # no codings change, but an assignment may
    study.complete([(u, "chloe") for u in units[:5]], "tests")
    _same_as_the_codings(study)
    assert rereads[1:] == [None, None]


def test_a_table_kept_for_another_study_at_the_same_place_is_read_again(
    study: Store, rereads: list[list[str] | None]
) -> None:
    _same_as_the_codings(study)
    count, top, _ = study.disputes_mark() or (0, 0, "")
    with study.engine.begin() as conn:  # as if the table were kept for another study
        conn.execute(
            disputes_store.t.derived.update().values(mark=f'[{count}, {top}, "elsewhere"]')
        )
    _same_as_the_codings(study)
    assert rereads == [None, None]
