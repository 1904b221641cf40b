"""Attributes of units and documents: imported from extra CSV and manifest columns, typed,
checked (all or nothing), and used to pick units. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from coding import service
from coding.errors import InvalidInput, PermissionDenied
from coding.service import attributes
from coding.service.access import Operator, add_user
from coding.store import Store
from coding.store import attributes as attribute_store
from tests.conftest import DATA

pytestmark = pytest.mark.both_engines

UNITS = """document_id,segment_id,text,programme,speaker,wave,interviewed
int1,u1,I calm down first.,Alpha,amira,1,2024-03-01
int1,u2,Then I watch the baby.,Alpha,nurse,1.50,2024-03-01
int2,u1,We talk about cues.,Beta,ben,2,2024-04-11
int2,u2,Staff notice the infant's cues.,Beta,nurse,2,
"""
OPERATOR = Operator("tests")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def units_by_label(store: Store) -> dict[tuple[str, str], str]:
    return {(s.document_id, s.label): s.id for s in store.segments()}


def values(store: Store, name: str) -> dict[str, str]:
    frame = attributes.unit_values(store, name)
    return dict(zip(frame["segment_id"], frame["value"], strict=True))


def test_extra_columns_of_a_presegmented_csv_become_typed_unit_attributes(
    store: Store, tmp_path: Path
) -> None:
    service.import_documents(store, [write(tmp_path / "units.csv", UNITS)], "t")
    assert attribute_store.declared(store) == {
        "speaker": ("unit", "text"),
        "wave": ("unit", "number"),
        "interviewed": ("unit", "date"),
    }
    ids = units_by_label(store)
    assert values(store, "wave") == {
        ids["int1", "u1"]: "1",
        ids["int1", "u2"]: "1.5",
        ids["int2", "u1"]: "2",
        ids["int2", "u2"]: "2",
    }
    assert ids["int2", "u2"] not in values(store, "interviewed")  # an empty cell is no value


def test_a_header_declares_a_type(store: Store, tmp_path: Path) -> None:
    text = "document_id,segment_id,text,Site:TEXT,year:number\nd,1,Some text.,12,2020\n"
    service.import_documents(store, [write(tmp_path / "u.csv", text)], "t")
    assert attribute_store.declared(store) == {"site": ("unit", "text"), "year": ("unit", "number")}
    assert list(values(store, "site").values()) == ["12"]


@pytest.mark.parametrize(
    ("header", "row", "where", "message"),
    [
        ("wave:number", "x,1,Text.,one", "row 2", "'wave:number' is 'one', not a number"),
        ("seen:date", "x,1,Text.,03/01/2024", "row 2", "not a date (write dates as YYYY-MM-DD)"),
        ("seen:date", "x,1,Text.,2023-02-29", "row 2", "not a date"),
        ("wave:integer", "x,1,Text.,1", "column 'wave:integer'", "unknown type 'integer'"),
        ("Title", "x,1,Text.,T", "column 'Title'", "'title' is a column of its own"),
        ("1st wave", "x,1,Text.,1", "column '1st wave'", "an attribute name"),
        ("Programme", "x,1,Text.,P", "column 'Programme'", "is a column of its own"),
    ],
)
def test_a_bad_column_or_value_is_reported_with_its_place_and_nothing_is_imported(
    store: Store, tmp_path: Path, header: str, row: str, where: str, message: str
) -> None:
    path = write(tmp_path / "bad.csv", f"document_id,segment_id,text,{header}\n{row}\n")
    before = store.revision()
    with pytest.raises(InvalidInput) as caught:
        service.import_documents(store, [DATA / "presegmented.csv", path], "t")
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{path}: {where}") and message in p for p in problems), problems
    assert store.revision() == before and store.documents() == []
    assert attribute_store.declared(store) == {}


def test_two_columns_naming_one_attribute_are_refused(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", "document_id,segment_id,text,Site,site:text\nx,1,T.,a,b\n")
    with pytest.raises(InvalidInput, match="the same attribute as column 'Site'"):
        service.import_documents(store, [path], "t")


def test_a_later_file_must_fit_the_declared_type_and_scope(store: Store, tmp_path: Path) -> None:
    service.import_documents(store, [write(tmp_path / "units.csv", UNITS)], "t")
    later = write(tmp_path / "later.csv", "document_id,segment_id,text,wave\nint3,1,T.,late\n")
    with pytest.raises(InvalidInput, match=r"row 2: 'wave' is 'late', not a number"):
        service.import_documents(store, [later], "t")
    typed = write(tmp_path / "typed.csv", "document_id,segment_id,text,wave:text\nint3,1,T.,x\n")
    with pytest.raises(InvalidInput, match="declared as a unit attribute of type number"):
        service.import_documents(store, [typed], "t")
    manifest = write(tmp_path / "m.csv", "file,speaker\nmanual.md,rosa\n")
    with pytest.raises(InvalidInput, match="would make it a document attribute"):
        service.import_documents(store, [DATA / "manual.md"], "t", manifest=manifest)
    assert [d.id for d in store.documents()] == ["int1", "int2"]


def test_a_csv_with_a_bom_keeps_its_attributes(store: Store, tmp_path: Path) -> None:
    service.import_documents(store, [write(tmp_path / "bom.csv", UNITS, "utf-8-sig")], "t")
    assert "speaker" in attribute_store.declared(store)


@pytest.mark.parametrize(
    ("text", "encoding", "message"),
    [
        (UNITS.replace("amira", "Ren\u00e9e"), "cp1252", "line 2, byte"),
        (UNITS.replace(",", ";"), "utf-8", "looks ';'-separated"),
    ],
)
def test_a_messy_excel_csv_is_refused_as_every_csv_is(
    store: Store, tmp_path: Path, text: str, encoding: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.import_documents(store, [write(tmp_path / "x.csv", text, encoding)], "t")
    assert attribute_store.declared(store) == {}


def test_manifest_columns_become_document_attributes_and_a_new_value_replaces_the_old(
    store: Store, tmp_path: Path
) -> None:
    manifest = write(
        tmp_path / "m.csv", "file,document_id,programme,setting,started\nmanual.md,m,P,home,2019\n"
    )
    service.import_documents(store, [DATA / "manual.md"], "t", manifest=manifest)
    assert attribute_store.declared(store) == {
        "setting": ("document", "text"),
        "started": ("document", "number"),
    }
    assert set(values(store, "setting").values()) == {"home"}
    assert len(values(store, "setting")) == len(store.segments())  # every unit of the document
    write(tmp_path / "m.csv", "file,document_id,programme,setting,started\nmanual.md,m,P,clinic,\n")
    before = store.revision()
    results = service.import_documents(store, [DATA / "manual.md"], "t", manifest=manifest)
    assert [r.status for r in results] == ["unchanged"]
    assert store.revision() == before + 1  # one transaction, one event
    assert attribute_store.document_values(store, ["m"]) == {
        "m": {"setting": "clinic", "started": "2019"}
    }
    service.import_documents(store, [DATA / "manual.md"], "t", manifest=manifest)
    assert store.revision() == before + 1  # nothing new: nothing written


def test_a_bad_manifest_value_is_reported_with_its_row(store: Store, tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.csv", "file,started:number\nmanual.md,soon\n")
    with pytest.raises(InvalidInput) as caught:
        service.import_documents(store, [DATA / "manual.md"], "t", manifest=manifest)
    assert f"{manifest}: row 2: 'started:number' is 'soon', not a number" in str(caught.value)
    assert store.documents() == []


def test_units_are_picked_by_unit_and_document_attributes(store: Store, tmp_path: Path) -> None:
    service.import_documents(store, [write(tmp_path / "units.csv", UNITS)], "t")
    ids = units_by_label(store)
    nurse = attributes.unit_ids_where(store, OPERATOR, "Speaker", ["nurse"])
    assert nurse == sorted([ids["int1", "u2"], ids["int2", "u2"]])
    assert attributes.unit_ids_where(store, OPERATOR, "wave", ["1.0"]) == [ids["int1", "u1"]]
    beta = attributes.unit_ids_where(store, OPERATOR, "programme", ["Beta"])
    assert beta == sorted([ids["int2", "u1"], ids["int2", "u2"]])
    listed = {a.name: a for a in attributes.list_attributes(store, OPERATOR)}
    assert list(listed) == ["programme", "interviewed", "speaker", "wave"]
    assert listed["wave"].values == ("1", "1.5", "2")
    assert listed["speaker"].values == ("amira", "ben", "nurse")


def test_any_member_may_list_attributes_and_no_one_else(store: Store) -> None:
    add_user(store, "cora", "coder", "pw-test-8", "t")
    add_user(store, "rosa", "reviewer", "pw-test-8", "t")
    for user in ("cora", "rosa"):
        assert attributes.list_attributes(store, user) == []
    with pytest.raises(PermissionDenied):
        attributes.list_attributes(store, "stranger")
