"""Attributes through REFI-QDA: Variables on sources and Cases over units, written valid
against the XSD, read back the same, and read from other tools' projects."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from coding import service
from coding.errors import InvalidInput
from coding.service import attributes
from coding.service.export import export_bytes
from coding.service.refi import import_qdpx
from coding.store import Store
from coding.store import attributes as attribute_store
from coding.xmlzip import write_archive
from tests.conftest import DATA

REFI = DATA / "refi"
UNITS = """document_id,segment_id,text,speaker,wave
int1,u1,I calm down first.,amira,1
int1,u2,Then I watch the baby.,nurse,1.5
int2,u1,We talk about cues.,ben,2
int2,u2,Staff notice the infant's cues.,nurse,
"""
MANIFEST = "file,setting,started\nint1.txt,home,2019\nint2.txt,clinic,2020-01-31\n"


@pytest.fixture
def attributed(tmp_path: Path) -> Path:
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    manual = tmp_path / "manual.md"
    manual.write_text((DATA / "manual.md").read_text(encoding="utf-8"), encoding="utf-8")
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,setting,opened:date\nmanual.md,home,2019-05-01\n", encoding="utf-8")
    with service.init_study(tmp_path / "a.db", "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [units, manual], "t", manifest=manifest)
    return tmp_path / "a.db"


def qdpx_of(path: Path) -> bytes:
    with Store.open(path) as store:
        return export_bytes(store, "qdpx", "qdpx")[1]


def values_by_text(store: Store) -> dict[tuple[str, str], str]:
    """(unit text, attribute) -> value, for every unit and every attribute."""
    texts = {s.id: s.text for s in store.segments()}
    found = {}
    for attribute in attributes.study_attributes(store):
        frame = attributes.unit_values(store, attribute.name)
        for segment_id, value in zip(frame["segment_id"], frame["value"], strict=True):
            found[texts[segment_id], attribute.name] = value
    return found


def test_a_project_with_attributes_validates_against_the_xsd(attributed: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(qdpx_of(attributed))) as archive:
        project = etree.fromstring(archive.read("project.qde"))
    xsd = etree.XMLSchema(etree.parse(str(REFI / "Project.xsd")))
    assert xsd.validate(project), xsd.error_log
    ns = {"p": "urn:QDA-XML:project:1.0"}
    types = {v.get("name"): v.get("typeOfVariable") for v in project.iterfind(".//p:Variable", ns)}
    assert types["wave"] == "Float" and types["opened"] == "Date" and types["setting"] == "Text"
    cases = [c.get("name") for c in project.iterfind(".//p:Case", ns)]
    assert cases == ["speaker=amira; wave=1", "speaker=ben; wave=2", "speaker=nurse",
                     "speaker=nurse; wave=1.5"]  # fmt: skip


def test_attributes_come_back_from_our_own_project(attributed: Path, tmp_path: Path) -> None:
    (tmp_path / "p.qdpx").write_bytes(qdpx_of(attributed))
    with Store.open(attributed) as store:
        expected, declared = values_by_text(store), attribute_store.declared(store)
    with service.init_study(tmp_path / "b.db", "t") as store:
        import_qdpx(store, tmp_path / "p.qdpx", "t")
        assert values_by_text(store) == expected
        assert attribute_store.declared(store) == declared


PROJECT = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="other" origin="Other QDA">
  <Variables>
    <Variable guid="00000000-0000-0000-0000-00000000000a" name="Age Group"
              typeOfVariable="Integer"/>
    <Variable guid="00000000-0000-0000-0000-00000000000b" name="Region" typeOfVariable="Text"/>
  </Variables>
  <Cases>
    <Case guid="00000000-0000-0000-0000-0000000000c1" name="Interviewee A">
      <VariableValue><VariableRef targetGUID="00000000-0000-0000-0000-00000000000a"/>
        <IntegerValue>AGE</IntegerValue></VariableValue>
      <SelectionRef targetGUID="00000000-0000-0000-0000-0000000000e1"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="00000000-0000-0000-0000-0000000000d1" name="talk"
                plainTextPath="internal://talk.txt">
      <PlainTextSelection guid="00000000-0000-0000-0000-0000000000e1" startPosition="0"
                          endPosition="11"/>
      <VariableValue><VariableRef targetGUID="00000000-0000-0000-0000-00000000000b"/>
        <TextValue>North</TextValue></VariableValue>
    </TextSource>
  </Sources>
</Project>
"""
TALK = "First part.\n\nSecond part, not in the case.\n"


def other_tool(tmp_path: Path, age: str) -> Path:
    project = PROJECT.replace("AGE", age).encode()
    path = tmp_path / "other.qdpx"
    path.write_bytes(write_archive([("project.qde", project), ("sources/talk.txt", TALK.encode())]))
    return path


def test_cases_and_variables_of_another_tool_become_attributes(tmp_path: Path) -> None:
    with service.init_study(tmp_path / "o.db", "t") as store:
        import_qdpx(store, other_tool(tmp_path, "3"), "t")
        assert attribute_store.declared(store) == {
            "age_group": ("unit", "number"),
            "region": ("document", "text"),
        }
        assert values_by_text(store) == {
            ("First part.", "age_group"): "3",
            ("First part.", "region"): "North",
            ("Second part, not in the case.", "region"): "North",
        }


def test_a_bad_variable_value_stops_the_whole_import(tmp_path: Path) -> None:
    with service.init_study(tmp_path / "o.db", "t") as store:
        before = store.revision()
        with pytest.raises(InvalidInput, match=r"Case Interviewee A: 'age_group:number' is 'old'"):
            import_qdpx(store, other_tool(tmp_path, "old"), "t")
        assert store.revision() == before and store.documents() == []
