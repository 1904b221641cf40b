"""Attributes in use: `coding status`, `coding agreement --by ATTRIBUTE`, the matrix export
by attribute, and REFI-QDA Cases and Variables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.errors import CodingError
from coding.service import access
from coding.service.access import Operator
from coding.service.agreement import agreement_report
from coding.service.agreement_by import agreement_by_attribute
from coding.store import Store
from tests.conftest import DATA, write_codings

TEXTS = {
    "d1": ["The parent calms down.", "Staff notice cues.", "A quiet room helps.", "Calm again."],
    "d2": ["We read the cues.", "The mother calms.", "Feeding starts.", "Cues are missed."],
}
SITE = {"d1": "north", "d2": "south"}
SPEAKER = ["amira", "nurse", "amira", "nurse"]
CODES = {  # (document, unit) -> (amira's codes, ben's codes)
    ("d1", 0): ("calm", "calm"),
    ("d1", 1): ("cues", ""),
    ("d1", 3): ("calm", "calm cues"),
    ("d2", 0): ("cues", "cues"),
    ("d2", 1): ("", "calm"),
    ("d2", 3): ("cues", "cues"),
}


def build(path: Path, documents: list[str], tmp_path: Path) -> Path:
    """A study of the documents given, coded by amira and ben, with unit attributes."""
    rows = ["document_id,segment_id,text,site,speaker"]
    for doc in documents:
        for i, text in enumerate(TEXTS[doc]):
            rows.append(f"{doc},{i},{text},{SITE[doc]},{SPEAKER[i]}")
    units = tmp_path / f"{path.stem}-units.csv"
    units.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with service.init_study(path, "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [units], "t")
        ids = {(s.document_id, int(s.label)): s.id for s in store.segments()}
        service.add_coders(store, ["amira", "ben"], "t")
        coded = [
            (ids[key], coder, code)
            for key, pair in CODES.items()
            if key[0] in documents
            for coder, codes in zip(("amira", "ben"), pair, strict=True)
            for code in codes.split()
        ]
        codings = write_codings(tmp_path / f"{path.stem}-codings.csv", coded)
        service.import_codings(store, codings, "t", complete="documents")
    return path


@pytest.fixture
def sited(tmp_path: Path) -> Path:
    return build(tmp_path / "both.db", ["d1", "d2"], tmp_path)


def test_agreement_for_a_value_is_the_report_of_a_study_of_its_units_alone(
    sited: Path, tmp_path: Path
) -> None:
    alone = build(tmp_path / "south.db", ["d2"], tmp_path)
    with Store.open(sited) as store:
        by_site = agreement_by_attribute(store, Operator("t"), "site")
    with Store.open(alone) as store:
        expected = agreement_report(store)
    south = by_site[by_site["site"] == "south"].drop(columns="site").reset_index(drop=True)
    pd.testing.assert_frame_equal(south, expected)
    assert list(dict.fromkeys(by_site["site"])) == ["north", "south"]


def test_agreement_by_a_unit_attribute_takes_each_value_s_units(sited: Path) -> None:
    with Store.open(sited) as store:
        table = agreement_by_attribute(store, Operator("t"), "speaker")
    code_rows = table[table["scope"] == "code"]
    assert set(code_rows["n_units"]) == {4}  # two of each document's four units per speaker
    assert list(dict.fromkeys(table["speaker"])) == ["amira", "nurse"]


def test_agreement_by_an_unknown_name_says_what_there_is(sited: Path) -> None:
    with (
        Store.open(sited) as store,
        pytest.raises(CodingError, match="the study has: site, speaker"),
    ):
        agreement_by_attribute(store, Operator("t"), "ward")


def test_the_cli_prints_one_table_per_value_with_the_value_first(sited: Path) -> None:
    result = CliRunner().invoke(cli, ["agreement", str(sited), "--by", "site", "--format", "csv"])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.startswith("site,scope,code_id")
    assert {r.split(",")[0] for r in rows} == {'"north"', '"south"'}
    table = CliRunner().invoke(cli, ["agreement", str(sited), "--by", "site"])
    assert table.stdout.splitlines()[0].split()[:2] == ["site", "code_id"]


def test_status_lists_attributes_with_their_values(sited: Path) -> None:
    result = CliRunner().invoke(cli, ["status", str(sited)])
    lines = result.stdout.splitlines()
    start = lines.index("attributes       2")
    assert lines[start + 1].split() == ["site", "unit", "text", "2", "value(s):", "north,", "south"]
    info = json.loads(CliRunner().invoke(cli, ["status", str(sited), "--format", "json"]).stdout)
    assert info["attributes"][1] == {
        "name": "speaker",
        "scope": "unit",
        "type": "text",
        "values": 2,
        "distinct": ["amira", "nurse"],
    }


def test_status_of_a_study_without_attributes_says_nothing_of_them(coded_db: Path) -> None:
    text = CliRunner().invoke(cli, ["status", str(coded_db)]).stdout
    assert "attributes" not in text and text.splitlines()[-1].startswith("suggestions")
    info = json.loads(CliRunner().invoke(cli, ["status", str(coded_db), "--format", "json"]).stdout)
    assert "attributes" not in info


def test_the_matrix_takes_its_rows_from_an_attribute(sited: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["export", str(sited), "--to", str(out), "--only", "matrix", "--format", "csv"]
    result = CliRunner().invoke(cli, [*args, "--matrix-rows", "site"])
    assert result.exit_code == 0, result.output
    cells = pd.read_csv(out / "matrix.csv")
    assert list(cells.columns[:2]) == ["site", "code_id"]
    counts = {(r.site, r.code_id): (r.segments, r.site_segments) for r in cells.itertuples()}
    assert counts == {
        ("north", "calm"): (2, 4),  # agreed on units 0 and 3; unit 1's cues still open
        ("north", "cues"): (0, 4),
        ("south", "calm"): (0, 4),
        ("south", "cues"): (2, 4),
    }
    by_speaker = CliRunner().invoke(cli, [*args, "--matrix-rows", "speaker"])
    assert by_speaker.exit_code == 0, by_speaker.output
    assert set(pd.read_csv(out / "matrix.csv")["speaker"]) == {"amira", "nurse"}


def test_agreement_for_a_value_with_the_consensus_is_that_of_its_units_alone(
    sited: Path, tmp_path: Path
) -> None:
    alone = build(tmp_path / "south.db", ["d2"], tmp_path)
    tables = []
    for path in (sited, alone):
        with Store.open(path) as store:
            unit = {(s.document_id, int(s.label)): s.id for s in store.segments()}[("d2", 1)]
            access.add_user(store, "rosa", "reviewer", "pw-test-8", "t")
            service.resolve(store, "rosa", unit, "calm", "apply", "the mother calms herself here")
            if path == sited:
                table = agreement_by_attribute(store, Operator("t"), "site", include_consensus=True)
                table = table[table["site"] == "south"].drop(columns="site")
            else:
                table = agreement_report(store, include_consensus=True)
            tables.append(table.reset_index(drop=True))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert len(tables[0]) > 1
