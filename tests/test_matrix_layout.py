"""The matrix export: parent codes roll up, and attributes go on its rows or columns.

A hand-built study with one coder (every code stands as a single coding): codes ``a``
(children ``a.x`` and ``a.y``) and ``b``; units in two programmes, each with a ``site``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.errors import CodingError
from coding.service import export as export_service
from coding.store import Store
from tests.conftest import write_codings

BOOK = """codebook: {id: tree}
codes:
  - {id: a, name: A, definition: d}
  - {id: a.x, name: X, definition: d, parent: a}
  - {id: a.y, name: Y, definition: d, parent: a}
  - {id: b, name: B, definition: d}
"""
UNITS = {  # unit -> (programme, site, codes)
    "u1": ("P1", "north", ["a.x", "a.y"]),
    "u2": ("P1", "north", ["a.x"]),
    "u3": ("P1", "south", ["a"]),
    "u4": ("P2", "south", ["b"]),
    "u5": ("P2", "north", []),
    "u6": ("P2", "south", ["a.y", "b"]),
}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    book = tmp_path / "tree.yaml"
    book.write_text(BOOK, encoding="utf-8")
    units = tmp_path / "units.csv"
    lines = ["document_id,segment_id,text,programme,site"]
    lines += [f"d{p[1]},{u},Unit {u} text.,{p},{s}" for u, (p, s, _c) in UNITS.items()]
    units.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with service.init_study(tmp_path / "s.db", "t", book) as store:
        service.import_documents(store, [units], "t")
        ids = {s.text.split()[1]: s.id for s in store.segments()}
        service.add_coders(store, ["ann"], "t")
        rows = [(ids[u], "ann", code) for u, (_p, _s, codes) in UNITS.items() for code in codes]
        service.import_codings(store, write_codings(tmp_path / "c.csv", rows), "t")
    return tmp_path / "s.db"


def _export(db: Path, out: Path, **layout: str) -> Path:
    with Store.open(db) as store:
        export_service.export_study(store, out, ["matrix"], **layout)
    return out


def _counts(cells: pd.DataFrame, rows: str, columns: str) -> dict[tuple[str, str], int]:
    return {(r[rows], r[columns]): int(r["segments"]) for r in cells.to_dict("records")}


def test_a_parent_counts_each_unit_where_it_or_a_descendant_applies_once(
    db: Path, tmp_path: Path
) -> None:
    cells = pd.read_csv(_export(db, tmp_path / "out") / "matrix.csv")
    counts = _counts(cells, "programme", "code_id")
    # P1: a on u1 (a.x and a.y: once), u2 (a.x) and u3 (a itself); not 4, the sum of them
    assert counts[("P1", "a")] == 3
    assert (counts[("P1", "a.x")], counts[("P1", "a.y")]) == (2, 1)
    assert (counts[("P2", "a")], counts[("P2", "b")]) == (1, 2)
    top = cells[(cells["programme"] == "P1") & (cells["code_id"] == "a")].iloc[0]
    assert top["top_excerpts"].count("[") == 3  # each unit quoted once


def test_the_theme_report_figure_counts_rolled_up_too(db: Path) -> None:
    with Store.open(db) as store:
        cells = export_service.load(store, with_reliability=False).cells
    assert _counts(cells, "programme", "code_id")[("P1", "a")] == 3


def test_an_attribute_on_the_columns_puts_the_codes_on_the_rows(db: Path, tmp_path: Path) -> None:
    out = _export(db, tmp_path / "out", matrix_columns="site")
    counts = pd.read_excel(out / "matrix.xlsx", sheet_name="counts")
    assert list(counts.columns) == ["code_id", "north", "south"]
    assert list(counts["code_id"]) == ["a", "a.x", "a.y", "b"]
    assert counts.set_index("code_id").loc["a"].tolist() == [2, 2]  # u1, u2 | u3, u6
    cells = pd.read_csv(out / "matrix.csv")
    assert _counts(cells, "code_id", "site")[("b", "south")] == 2
    assert (out / "matrix.png").read_bytes().startswith(b"\x89PNG")


def test_one_code_counts_by_rows_times_columns_of_attributes(db: Path, tmp_path: Path) -> None:
    out = _export(db, tmp_path / "out", matrix_columns="site", matrix_code="a")
    cells = pd.read_csv(out / "matrix.csv")
    assert list(cells.columns[:6]) == [
        "programme",
        "site",
        "code_id",
        "code_name",
        "segments",
        "cell_segments",
    ]
    assert _counts(cells, "programme", "site") == {
        ("P1", "north"): 2,
        ("P1", "south"): 1,
        ("P2", "north"): 0,
        ("P2", "south"): 1,
    }
    shares = pd.read_excel(out / "matrix.xlsx", sheet_name="share").set_index("programme")
    assert shares.loc["P2", "south"] == pytest.approx(0.5)  # u6 of u4 and u6
    assert set(cells["code_id"]) == {"a"}


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"matrix_columns": "sight"}, r"'sight' on the matrix's columns: .*has: .*site"),
        ({"matrix_rows": "wave"}, r"unknown attribute 'wave'; the study has: .*site"),
        ({"matrix_code": "a"}, "needs an attribute for its columns"),
        ({"matrix_rows": "site", "matrix_columns": "programme"}, "name the code to count"),
        ({"matrix_columns": "site", "matrix_code": "c"}, "unknown code 'c'; .*a, a.x, a.y, b"),
        (
            {"matrix_rows": "site", "matrix_columns": "site", "matrix_code": "a"},
            "rows and columns are both 'site'",
        ),
    ],
)
def test_a_bad_matrix_layout_is_refused_before_anything_is_written(
    db: Path, tmp_path: Path, layout: dict[str, str], message: str
) -> None:
    with pytest.raises(CodingError, match=message):
        _export(db, tmp_path / "out", **layout)
    assert not (tmp_path / "out").exists()


def test_the_command_takes_the_matrix_columns_and_code(db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    args = ["export", str(db), "--to", str(out), "--only", "matrix", "--format", "csv"]
    result = runner.invoke(cli, [*args, "--matrix-columns", "site", "--matrix-code", "a.x"])
    assert result.exit_code == 0, result.output
    cells = pd.read_csv(io.StringIO((out / "matrix.csv").read_text(encoding="utf-8")))
    assert _counts(cells, "programme", "site")[("P1", "north")] == 2
    refused = runner.invoke(cli, [*args, "--matrix-columns", "nowhere"])
    assert refused.exit_code != 0
    assert "the study has:" in refused.output


def test_rows_of_a_number_attribute_go_by_value_and_no_value_last(tmp_path: Path) -> None:
    book = tmp_path / "tree.yaml"
    book.write_text(BOOK, encoding="utf-8")
    units = tmp_path / "units.csv"
    waves = {"u1": "10", "u2": "9", "u3": "2", "u4": "10", "u5": "", "u6": "1.5"}
    lines = ["document_id,segment_id,text,programme,wave"]
    lines += [f"d1,{u},Unit {u} text.,P1,{w}" for u, w in waves.items()]
    units.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with service.init_study(tmp_path / "s.db", "t", book) as store:
        service.import_documents(store, [units], "t")
        ids = {s.text.split()[1]: s.id for s in store.segments()}
        service.add_coders(store, ["ann"], "t")
        rows = [(ids[u], "ann", "b") for u in waves]
        service.import_codings(store, write_codings(tmp_path / "c.csv", rows), "t")
    cells = pd.read_csv(
        _export(tmp_path / "s.db", tmp_path / "out", matrix_rows="wave") / "matrix.csv", dtype=str
    )
    assert list(dict.fromkeys(cells["wave"])) == ["1.5", "2", "9", "10", "(no value)"]
    b = cells[cells["code_id"] == "b"].set_index("wave")["segments"].to_dict()
    assert b == {"1.5": "1", "2": "1", "9": "1", "10": "2", "(no value)": "1"}
