"""Importing coders' codings: spans and segment ids, completion, and errors with row numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from coding import service
from coding.errors import CodingError, InvalidInput
from coding.service import access
from coding.store import Store
from tests.conftest import write_codings

pytestmark = pytest.mark.both_engines


def test_codings_by_segment_id_are_stored_and_units_completed(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        ann = store.annotations_frame()
        assert len(ann) == 4 and set(ann["coder"]) == {"amira", "ben"}
        done = store.assignments_frame()
        assert len(done) == 8 and done["completed"].all()  # 4 units x 2 coders


def test_codings_by_span_map_to_the_units_they_overlap(corpus_db: Path, tmp_path: Path) -> None:
    with Store.open(corpus_db) as store:
        units = store.segments()
        service.add_coders(store, ["amira"], "t")
        whole, inner = units[1], units[2]
        csv_path = tmp_path / "spans.csv"
        csv_path.write_text(
            "document_id,start,end,coder,code,memo\n"
            f"manual,{whole.start},{whole.end},amira,calm,whole unit\n"
            f"manual,{inner.start + 4},{inner.start + 20},amira,cues,\n"
            f"manual,{whole.start + 5},{inner.end - 5},amira,cues,spans two units\n"
            f"manual,{whole.start + 5},{inner.start + 3},amira,calm,runs 3 chars over\n"
        )
        service.import_codings(store, csv_path, "t")
        ann = store.annotations_frame().sort_values(["start", "code_id"])
    rows = list(
        zip(
            ann["segment_id"],
            ann["code_id"],
            ann["start"],
            ann["end"],
            ann["whole_segment"],
            strict=True,
        )
    )
    assert (whole.id, "calm", whole.start, whole.end, True) in rows
    assert (inner.id, "cues", inner.start + 4, inner.start + 20, False) in rows
    assert (whole.id, "cues", whole.start + 5, whole.end, False) in rows  # clipped to each unit
    assert (inner.id, "cues", inner.start, inner.end - 5, False) in rows
    assert (whole.id, "calm", whole.start + 5, whole.end, False) in rows
    assert not any(r[0] == inner.id and r[1] == "calm" for r in rows)  # 3 chars: not coded


def test_every_bad_row_is_reported_and_nothing_is_imported(corpus_db: Path, tmp_path: Path) -> None:
    with Store.open(corpus_db) as store:
        unit = store.segments()[0]
        service.add_coders(store, ["amira"], "t")
        bad = tmp_path / "bad.csv"
        bad.write_text(
            "segment_id,document_id,start,end,coder,code\n"
            f"{unit.id},,,,amira,calm\n"
            f"{unit.id},,,,amira,calm\n"
            f"{unit.id},,,,zoe,calm\n"
            f"{unit.id},,,,amira,hope\n"
            "nosuchsegment,,,,amira,calm\n"
            ",manual,5,99999,amira,calm\n"
            ",ghost,0,5,amira,calm\n"
        )
        before = store.revision()
        with pytest.raises(InvalidInput) as caught:
            service.import_codings(store, bad, "t")
        assert store.revision() == before and store.count("annotations") == 0
    problems = [str(p) for p in caught.value.problems]
    assert caught.value.source == str(bad)
    assert "row 3: duplicate of row 2" in problems
    assert any(p.startswith("row 4: unknown coder 'zoe'") for p in problems)
    assert "row 5: unknown code 'hope' (not in codebook v1)" in problems
    assert "row 6: unknown segment 'nosuchsegment'" in problems
    assert any(p.startswith("row 7: span 5:99999 is outside document 'manual'") for p in problems)
    assert "row 8: unknown document 'ghost'" in problems


def test_missing_columns_are_reported(corpus_db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,who\nx,y\n")
    with Store.open(corpus_db) as store, pytest.raises(InvalidInput, match="missing column"):
        service.import_codings(store, bad, "t")


def test_add_coders_flag_creates_unknown_coders(corpus_db: Path, tmp_path: Path) -> None:
    with Store.open(corpus_db) as store:
        unit = store.segments()[0]
        path = write_codings(tmp_path / "c.csv", [(unit.id, "zoe", "calm")])
        service.import_codings(store, path, "t", add_new_coders=True)
        assert store.coders() == ["zoe"]


def test_reimporting_the_same_codings_adds_nothing(coded_db: Path, tmp_path: Path) -> None:
    with Store.open(coded_db) as store:
        units = [s.id for s in store.segments()]
        path = write_codings(tmp_path / "again.csv", [(units[1], "amira", "calm")])
        result = service.import_codings(store, path, "t")
        assert (result.added, result.already_present) == (0, 1)
        assert store.count("annotations") == 4


def test_completion_by_segments_leaves_other_units_missing(corpus_db: Path, tmp_path: Path) -> None:
    with Store.open(corpus_db) as store:
        unit = store.segments()[1].id
        service.add_coders(store, ["amira"], "t")
        path = write_codings(tmp_path / "c.csv", [(unit, "amira", "calm")])
        service.import_codings(store, path, "t", complete="segments")
        done = store.assignments_frame()
        assert list(done["segment_id"]) == [unit]


def test_reserved_and_malformed_coder_names_are_refused(store: Store) -> None:
    with pytest.raises(CodingError, match="invalid coder name"):
        service.add_coders(store, ["nlp", "has space"], "t")


def test_disagreements_and_resolution(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        found = service.disagreements(store)
        assert sorted(zip(found["code_id"], found["applied_by"], strict=True)) == [
            ("calm", ["amira"]),
            ("cues", ["ben"]),
        ]
        row = found[found["code_id"] == "calm"].iloc[0]
        access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
        service.resolve(
            store, "rosa", row["segment_id"], "calm", "apply", "The parent calms herself"
        )
        info = service.study_overview(store, service.Operator("tests")).as_dict()
        assert (info["disagreements_open"], info["disagreements_resolved"]) == (1, 1)
        assert store.events().iloc[-1]["action"] == "resolve"


def test_resolving_where_coders_agree_is_refused(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        agreed = store.segments()[2].id  # both applied 'cues'
        access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
        with pytest.raises(CodingError, match="do not disagree"):
            service.resolve(store, "rosa", agreed, "cues", "apply", "Both of them saw cues")


def test_a_decision_without_rationale_is_refused(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        seg = store.segments()[1].id
        access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
        with pytest.raises(CodingError, match="rationale"):
            service.resolve(store, "rosa", seg, "calm", "apply", "  ")


def test_assigning_a_document_gives_its_units_open(corpus_db: Path) -> None:
    with Store.open(corpus_db) as store:
        service.add_coders(store, ["chloe"], "t")
        assert service.assign(store, "chloe", "t", ["manual"]) == 4
        assert service.assign(store, "chloe", "t", ["manual"]) == 0
        work = store.assignments_frame()
        assert len(work) == 4 and not work["completed"].any()
        with pytest.raises(CodingError, match="unknown document"):
            service.assign(store, "chloe", "t", ["ghost"])


def test_codings_for_a_versioned_document_must_say_which_version(
    coded_db: Path, tmp_path: Path
) -> None:
    from tests.conftest import DATA

    changed = tmp_path / "manual.md"
    changed.write_text((DATA / "manual.md").read_text() + "\nA new closing paragraph.\n")
    with Store.open(coded_db) as store:
        service.import_documents(store, [changed], "t")
        v2 = store.segments(document_id="manual@v2")[0]
        bare = tmp_path / "bare.csv"
        bare.write_text(
            f"document_id,start,end,coder,code\nmanual,{v2.start},{v2.end},amira,calm\n"
        )
        with pytest.raises(InvalidInput, match=r"has 2 versions: give manual@v1 \.\.\. manual@v2"):
            service.import_codings(store, bare, "t")
        with pytest.raises(CodingError, match="has 2 versions"):
            service.assign(store, "amira", "t", ["manual"])
        exact = tmp_path / "exact.csv"
        exact.write_text(
            f"document_id,start,end,coder,code\nmanual@v2,{v2.start},{v2.end},amira,calm\n"
        )
        service.import_codings(store, exact, "t", complete="segments")
        assert v2.id in set(store.annotations_frame()["segment_id"])


def test_a_segment_from_another_document_is_refused(coded_db: Path, tmp_path: Path) -> None:
    from tests.conftest import DATA

    with Store.open(coded_db) as store:
        service.import_documents(store, [DATA / "presegmented.csv"], "t")
        unit = store.segments(document_id="manual")[0]
        path = tmp_path / "mixed.csv"
        path.write_text(f"segment_id,document_id,coder,code\n{unit.id},prog_a,amira,calm\n")
        with pytest.raises(InvalidInput, match="belongs to document 'manual', not 'prog_a'"):
            service.import_codings(store, path, "t")


def test_document_ids_are_validated(store: Store, tmp_path: Path) -> None:
    from tests.conftest import DATA

    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,document_id\nmanual.md,steps@v2\n")
    with pytest.raises(InvalidInput, match="no '@'"):
        service.import_documents(store, [DATA / "manual.md"], "t", manifest=manifest)
