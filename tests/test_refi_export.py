"""REFI-QDA export: files validate against the XSDs, GUIDs are stable, and a round trip
through .qdpx gives back the same codes, coders, spans and texts."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from coding import service
from coding.model import Code, Codebook, Examples
from coding.refi.qdc import description_for, parse_description, read_qdc, write_qdc
from coding.service.demo import build_demo
from coding.service.export import export_bytes
from coding.service.refi import import_qdc, import_qdpx
from coding.store import Store

REFI = Path(__file__).parent / "data" / "refi"


def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(REFI / name)))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, "tester")
    return path


@pytest.fixture(scope="module")
def demo_qdpx(demo_db: Path) -> bytes:
    with Store.open(demo_db) as store:
        return export_bytes(store, "qdpx", "qdpx")[1]


def test_qdc_validates_against_codebook_xsd(demo_db: Path) -> None:
    with Store.open(demo_db) as store:
        name, content = export_bytes(store, "qdc", "qdc")
    assert name == "codebook.qdc"
    assert schema("Codebook.xsd").validate(etree.fromstring(content))


def test_qdpx_project_validates_against_project_xsd(demo_db: Path, demo_qdpx: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(demo_qdpx)) as archive:
        project = etree.fromstring(archive.read("project.qde"))
        names = archive.namelist()
    xsd = schema("Project.xsd")
    assert xsd.validate(project), xsd.error_log
    assert names[0] == "project.qde" and all(n.startswith("sources/") for n in names[1:])
    ns = {"q": "urn:QDA-XML:project:1.0"}
    with Store.open(demo_db) as store:
        coders = set(store.coders(kind="human"))
    assert {u.get("name") for u in project.iterfind("q:Users/q:User", ns)} == coders
    for selection in project.iterfind(".//q:PlainTextSelection", ns):
        users = {selection.get("creatingUser")} | {
            c.get("creatingUser") for c in selection.iterfind("q:Coding", ns)
        }
        assert len(users) == 1


def test_qdpx_export_is_byte_identical_twice(demo_db: Path, demo_qdpx: bytes) -> None:
    with Store.open(demo_db) as store:
        assert export_bytes(store, "qdpx", "qdpx")[1] == demo_qdpx


def test_small_study_qdpx_validates(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        content = export_bytes(store, "qdpx", "qdpx")[1]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert schema("Project.xsd").validate(etree.fromstring(archive.read("project.qde")))


def test_round_trip_gives_same_codes_coders_spans_and_texts(
    demo_db: Path, demo_qdpx: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "demo.qdpx"
    path.write_bytes(demo_qdpx)
    copy = tmp_path / "copy.db"
    service.init_study(copy, "tester").close()
    with Store.open(copy) as store:
        import_qdpx(store, path, "tester")
    with Store.open(demo_db) as a, Store.open(copy) as b:
        assert a.codebook().codebook.codes == b.codebook().codebook.codes
        assert a.coders(kind="human") == b.coders(kind="human")
        assert {(d.id, d.text, d.programme) for d in a.documents()} == {
            (d.id, d.text, d.programme) for d in b.documents()
        }
        keys = ["document_id", "coder", "code_id", "start", "end", "whole_segment"]
        left = a.annotations_frame()[keys].sort_values(keys).reset_index(drop=True)
        right = b.annotations_frame()[keys].sort_values(keys).reset_index(drop=True)
        assert left.equals(right)


def test_importing_the_same_project_twice_adds_nothing(demo_qdpx: bytes, tmp_path: Path) -> None:
    path = tmp_path / "demo.qdpx"
    path.write_bytes(demo_qdpx)
    copy = tmp_path / "copy.db"
    service.init_study(copy, "tester").close()
    with Store.open(copy) as store:
        import_qdpx(store, path, "tester")
        again = import_qdpx(store, path, "tester")
    assert again.annotations == 0 and not again.documents_added


def test_qdc_round_trip_keeps_structured_fields(demo_db: Path, tmp_path: Path) -> None:
    with Store.open(demo_db) as store:
        original = store.codebook().codebook
    book, warnings = read_qdc(write_qdc(original), "x.qdc")
    assert book.codes == original.codes and not warnings


def test_import_qdc_loads_a_new_version(study: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.qdc"
    path.write_bytes((REFI / "codebook_1_0.qdc").read_bytes())
    with Store.open(study) as store:
        version, changes, _ = import_qdc(store, path, "tester")
        assert version == 2 and changes
        assert store.codebook().codebook.code_ids == ("calm", "trust_in_staff")


lines = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
items = st.lists(lines, max_size=3).map(tuple)


@given(
    definition=st.lists(
        st.one_of(lines, st.sampled_from(["Inclusion:", "- x", "\\y", ""])), min_size=1, max_size=4
    )
    .map("\n".join)
    .filter(str.strip),
    inclusion=items,
    exclusion=items,
    indicators=items,
    typical=items,
    borderline=items,
)
def test_description_convention_round_trips(
    definition: str,
    inclusion: tuple[str, ...],
    exclusion: tuple[str, ...],
    indicators: tuple[str, ...],
    typical: tuple[str, ...],
    borderline: tuple[str, ...],
) -> None:
    code = Code(
        "c",
        "C",
        definition.strip(),
        inclusion=inclusion,
        exclusion=exclusion,
        indicators=indicators,
        examples=Examples(typical, borderline),
    )
    fields, parsed, code_id = parse_description(description_for(code))
    assert (parsed, code_id) == (code.definition, "c")
    assert (
        tuple(fields["inclusion"]),
        tuple(fields["exclusion"]),
        tuple(fields["indicators"]),
        tuple(fields["typical"]),
        tuple(fields["borderline"]),
    ) == (inclusion, exclusion, indicators, typical, borderline)
    book = Codebook("b", "B", (code,))
    assert read_qdc(write_qdc(book), "b.qdc")[0].codes == (code,)
