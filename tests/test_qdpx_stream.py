"""The streamed .qdpx writer: the same bytes as building the whole lxml tree, for the XML
writer on any text and for whole projects with attributes, memos, nested codes and titles."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from coding import service
from coding.export import tables
from coding.model import Code, Codebook, Document, Examples, sha256_text
from coding.refi.cases import StudyAttributes
from coding.refi.qdpx_write import ProjectContent, stream_qdpx, write_project, write_qdpx
from coding.refi.xml import serialise
from coding.refi.xml_write import XmlStream
from coding.service import export as export_service
from coding.service.attributes import export_attributes
from coding.store import Store
from coding.xmlzip import stream_archive, write_archive, xml_text
from tests import qdpx_reference
from tests.conftest import DATA

TRICKY = "A & B <c> \"d\" 'e'\tf\ng\rh \x01\x0c é \u2026 \U0001f600 ]]> &amp;"


def _content() -> ProjectContent:
    """Every kind of element a project holds, with text that needs escaping or cleaning."""
    codes = (
        Code("calm", "Calm & soothe", "Stays <calm>.", inclusion=("Soothing",), colour="#aabbcc"),
        Code("breath", "Breathing", "Deep breaths.\nTwo lines.", parent="calm"),
        Code("slow", "Slow \x01 down", "Inside breathing.", parent="breath"),
        Code("cues", "Cues", "Reads cues.", examples=Examples(("a cue",), ("maybe",))),
        Code("lost", "Orphan", "Its parent is not in the codebook.", parent="nowhere"),
    )
    one = "First unit: calm & <breath>.\n\nSecond unit \x0c with a form feed.\n\nThird."
    two = "Another document " + "word " * 30 + "\U0001f600 end."
    documents = [
        Document("d1", "", one, sha256_text(one), "Home & visit", version=2, name="doc one"),
        Document("d2", TRICKY, two, sha256_text(two)),
        Document("d3", "", "No codings.", sha256_text("No codings."), "Home & visit"),
    ]
    rows = [  # deliberately out of order: the writer sorts
        ("u2", "d1", "ben", "cues", 30, 62, "2026-01-02T10:00:00+00:00", "a memo"),
        ("u1", "d1", "ana", "calm", 0, 28, "2026-01-01T09:00:00+00:00", ""),
        ("u1", "d1", "ana", "breath", 0, 28, "2026-01-01T08:00:00+00:00", "memo & <b>"),
        ("u1", "d1", "ben", "calm", 0, 28, None, ""),
        ("u1", "d1", "ben", "slow", 0, 28, "", ""),
        ("u4", "d2", "ana", "lost", 0, len(two), "2026-01-03T00:00:00+00:00", ""),
        ("u3", "d1", "ana", "cues", 64, 70, "2026-01-01T09:30:00+00:00", ""),
    ]
    columns = ["segment_id", "document_id", "coder", "code_id", "start", "end", "created_at"]
    annotations = pd.DataFrame(rows, columns=[*columns, "memo"])
    units = pd.DataFrame(
        [("u1", "d1", 0, 28), ("u2", "d1", 30, 62), ("u3", "d1", 64, 70), ("u4", "d2", 0, 20)],
        columns=["segment_id", "document_id", "start", "end"],
    )
    attributes = StudyAttributes(
        declared=(("setting", "document", "text"), ("wave", "unit", "number")),
        documents={"d1": {"setting": "home <& away>"}, "d2": {"setting": "clinic"}},
        units=pd.DataFrame(
            [("u1", "wave", "1"), ("u2", "wave", "1.5"), ("u4", "wave", "1")],
            columns=["segment_id", "name", "value"],
        ),
    )
    codebook = Codebook("cb", "Book", codes)
    return ProjectContent(
        "study & <co>", codebook, documents, ["ana", "ben"], annotations, attributes, units
    )


def test_streamed_project_equals_the_whole_tree_byte_for_byte() -> None:
    content = _content()
    out = io.BytesIO()
    write_project(content, out)
    assert out.getvalue() == qdpx_reference.project_xml(content)


def test_streamed_archive_equals_the_whole_tree_archive() -> None:
    content = _content()
    assert write_qdpx(content) == qdpx_reference.write_qdpx(content)


def test_a_project_without_coders_codes_or_documents_is_the_same_too() -> None:
    content = ProjectContent(
        "empty",
        Codebook("cb", "Book", ()),
        [],
        [],
        pd.DataFrame(columns=_content().annotations.columns),
    )
    out = io.BytesIO()
    write_project(content, out)
    assert out.getvalue() == qdpx_reference.project_xml(content)


@pytest.fixture
def attributed_study(tmp_path: Path) -> Path:
    units = tmp_path / "units.csv"
    units.write_text(
        "document_id,segment_id,text,speaker,wave\n"
        "int1,u1,I calm down & breathe.,amira,1\n"
        "int1,u2,Then I watch <the> baby.,nurse,1.5\n"
        "int2,u1,We talk about cues.,ben,2\n",
        encoding="utf-8",
    )
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,setting,opened:date\nunits.csv,home,2019-05-01\n", encoding="utf-8")
    with service.init_study(tmp_path / "a.db", "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [units], "t", manifest=manifest)
    return tmp_path / "a.db"


def test_a_study_with_attributes_exports_what_the_whole_tree_gives(
    attributed_study: Path,
) -> None:
    with Store.open(attributed_study) as store:
        data = export_service.load(store, with_reliability=False)
        content = ProjectContent(
            name=data.name,
            codebook=data.codebook.codebook,
            documents=data.documents,
            coders=data.coders,
            annotations=tables.revealed(data.annotations, data.assignments),
            attributes=export_attributes(store),
            units=data.segments,
        )
        exported = export_service.export_bytes(store, "qdpx", "qdpx")[1]
    assert exported == qdpx_reference.write_qdpx(content)
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        assert b"<Case " in archive.read("project.qde")


# -- the XML writer on any text ---------------------------------------------------------------
texts = st.text(st.characters(codec="utf-8"), max_size=30)


@given(name=texts, value=texts, body=texts)
def test_xml_stream_writes_what_lxml_writes(name: str, value: str, body: str) -> None:
    root = etree.Element("{urn:x}R", {"name": xml_text(name)}, nsmap={None: "urn:x"})
    etree.SubElement(root, "{urn:x}E", {"a": xml_text(value), "b": "2"})
    etree.SubElement(root, "{urn:x}T").text = xml_text(body)
    etree.SubElement(etree.SubElement(root, "{urn:x}P"), "{urn:x}C", {"v": xml_text(body)})
    out = io.BytesIO()
    xml = XmlStream(out)
    xml.start("R", {"xmlns": "urn:x", "name": name})
    xml.empty("E", {"a": value, "b": "2"})
    xml.leaf("T", {}, body)
    xml.start("P", {})
    xml.empty("C", {"v": body})
    xml.end()
    xml.end()
    xml.close()
    assert out.getvalue() == serialise(root)


def test_an_unended_element_is_a_programming_error() -> None:
    xml = XmlStream(io.BytesIO())
    xml.start("A", {})
    with pytest.raises(ValueError, match="left open: A"):
        xml.close()


def test_a_streamed_member_gives_the_archive_its_bytes_give() -> None:
    big = b"line of text\n" * 200_000

    def member(out: io.BufferedIOBase) -> None:
        for start in range(0, len(big), 7777):
            out.write(big[start : start + 7777])

    streamed = io.BytesIO()
    stream_archive([("a.txt", member), ("b.txt", b"small")], streamed)
    assert streamed.getvalue() == write_archive([("a.txt", big), ("b.txt", b"small")])


def test_stream_qdpx_writes_into_a_file(tmp_path: Path) -> None:
    content = _content()
    path = tmp_path / "p.qdpx"
    with path.open("wb") as out:
        stream_qdpx(content, out)
    assert path.read_bytes() == qdpx_reference.write_qdpx(content)


def test_a_streamed_member_over_the_zip64_limit_gets_a_zip64_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 10_000)  # stands for 2 GiB
    big = bytes(range(256)) * 100

    def member(out: io.BufferedIOBase) -> None:
        out.write(big)

    streamed = io.BytesIO()
    stream_archive([("big.bin", member)], streamed)
    assert streamed.getvalue() == write_archive([("big.bin", big)])
    with zipfile.ZipFile(streamed) as archive:
        assert archive.read("big.bin") == big
