"""Agreement at each level of the code hierarchy: parents rolled up on the study's arrays.

A hand-built study: codes ``a`` (children ``a.x`` and ``a.y``) and ``b``; coders ann and bo
submit six units. On u1 ann applies a.x and bo a.y: they agree on ``a`` and disagree on both
children. Expected figures come from the ``krippendorff`` package on the rolled-up data.
"""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.errors import CodingError
from coding.model import Decision, Resolution, utcnow
from coding.service import agreement as agreement_service
from coding.service.access import Operator
from coding.service.agreement_by import agreement_by_attribute
from coding.store import Store
from tests.conftest import write_codings

BOOK = """codebook: {id: tree}
codes:
  - {id: a, name: A, definition: d}
  - {id: a.x, name: X, definition: d, parent: a}
  - {id: a.y, name: Y, definition: d, parent: a}
  - {id: b, name: B, definition: d}
"""
UNITS = ("u1", "u2", "u3", "u4", "u5", "u6")
CODED = {  # unit -> (ann's codes, bo's codes)
    "u1": (["a.x"], ["a.y"]),
    "u2": (["a.x"], ["a.x"]),
    "u3": ([], []),
    "u4": (["b"], ["b"]),
    "u5": (["a.y"], []),
    "u6": (["b"], []),
}
CODES = ("a", "a.x", "a.y", "b")
FAMILY = {"a": ("a", "a.x", "a.y"), "a.x": ("a.x",), "a.y": ("a.y",), "b": ("b",)}


def _flags(code: str, rolled: bool) -> np.ndarray:
    """Coders x units 0/1 of ``code``, as coded or rolled up."""
    wanted = FAMILY[code] if rolled else (code,)
    return np.array([[float(any(c in CODED[u][g] for c in wanted)) for u in UNITS] for g in (0, 1)])


def _alpha(data: np.ndarray) -> float:
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    book = tmp_path / "tree.yaml"
    book.write_text(BOOK, encoding="utf-8")
    units = tmp_path / "units.csv"
    lines = ["document_id,segment_id,text,site"]
    lines += [f"d1,{u},Unit {u} text.,{'north' if i < 3 else 'south'}" for i, u in enumerate(UNITS)]
    units.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with service.init_study(tmp_path / "s.db", "t", book) as store:
        service.import_documents(store, [units], "t")
        ids = [s.id for s in sorted(store.segments(), key=lambda s: s.start)]
        service.add_coders(store, ["ann", "bo"], "t")
        rows = [
            (ids[UNITS.index(u)], coder, code)
            for u, both in CODED.items()
            for coder, codes in zip(("ann", "bo"), both, strict=True)
            for code in codes
        ]
        service.import_codings(store, write_codings(tmp_path / "c.csv", rows), "t")
    return tmp_path / "s.db"


def _rows(table: pd.DataFrame) -> dict[str, dict[str, object]]:
    return {r["code_id"]: r for r in table.to_dict("records")}


def test_a_parent_agrees_where_its_children_disagree(db: Path) -> None:
    with Store.open(db) as store:
        rows = _rows(agreement_service.agreement_report(store))
    assert rows["a"]["krippendorff_alpha"] == pytest.approx(_alpha(_flags("a", rolled=True)))
    assert rows["a"]["percent_agreement"] == pytest.approx(5 / 6)  # only u5 differs
    for child in ("a.x", "a.y"):  # u1 is a disagreement on each child
        assert rows[child]["krippendorff_alpha"] == pytest.approx(
            _alpha(_flags(child, rolled=False))
        )
    assert rows["a.y"]["percent_agreement"] == pytest.approx(4 / 6)
    assert rows["a"]["krippendorff_alpha"] > rows["a.x"]["krippendorff_alpha"]


def test_rows_say_their_level_and_whether_they_are_rolled_up(db: Path) -> None:
    with Store.open(db) as store:
        table = agreement_service.agreement_report(store)
    assert list(table.columns[:4]) == ["scope", "code_id", "level", "rolled_up"]
    rows = _rows(table)
    assert {c: (rows[c]["level"], rows[c]["rolled_up"]) for c in CODES} == {
        "a": (1, True),
        "a.x": (2, False),
        "a.y": (2, False),
        "b": (1, False),
    }
    assert pd.isna(rows["overall"]["level"]) and not rows["overall"]["rolled_up"]


def test_the_overall_row_pools_the_codes_as_coded(db: Path) -> None:
    with Store.open(db) as store:
        overall = _rows(agreement_service.agreement_report(store))["overall"]
    pooled = np.concatenate([_flags(c, rolled=False) for c in CODES], axis=1)
    assert overall["krippendorff_alpha"] == pytest.approx(_alpha(pooled))
    assert overall["n_units"] == len(UNITS) * len(CODES)


def test_one_level_keeps_its_codes_rolled_up_and_pools_them(db: Path) -> None:
    with Store.open(db) as store:
        top = agreement_service.agreement_report(store, level=1)
        second = agreement_service.agreement_report(store, level=2)
    assert list(top["code_id"]) == ["a", "b", "overall"]
    assert list(second["code_id"]) == ["a.x", "a.y", "overall"]
    pooled = np.concatenate([_flags(c, rolled=True) for c in ("a", "b")], axis=1)
    assert _rows(top)["overall"]["krippendorff_alpha"] == pytest.approx(_alpha(pooled))
    assert _rows(top)["overall"]["level"] == 1 and _rows(top)["overall"]["rolled_up"]
    assert _rows(top)["a"]["krippendorff_alpha"] == pytest.approx(_alpha(_flags("a", True)))


def test_a_level_the_codebook_lacks_is_refused(db: Path) -> None:
    with Store.open(db) as store, pytest.raises(CodingError, match="no codes at level 3"):
        agreement_service.agreement_report(store, level=3)


def test_the_disagreements_stay_per_code_as_coded(db: Path) -> None:
    with Store.open(db) as store:
        found = service.disagreements(store)
    assert sorted(found["code_id"]) == ["a.x", "a.y", "a.y", "b"]  # u1 twice, u5, u6


def test_pairwise_and_by_attribute_roll_up_too(db: Path) -> None:
    with Store.open(db) as store:
        pairs = agreement_service.pairwise_report(store, level=1)
        by_site = agreement_by_attribute(store, Operator("t"), "site", level=1)
    assert _rows(pairs)["a"]["krippendorff_alpha"] == pytest.approx(_alpha(_flags("a", True)))
    south = by_site[(by_site["site"] == "south") & (by_site["code_id"] == "a")].iloc[0]
    assert south["krippendorff_alpha"] == pytest.approx(_alpha(_flags("a", True)[:, 3:]))
    assert set(by_site["code_id"]) == {"a", "b", "overall"}


def test_the_consensus_of_a_parent_rolls_up(db: Path) -> None:
    with Store.open(db) as store:
        table = agreement_service.agreement_report(store, ["ann", "consensus"], level=1)
    # The consensus is settled for 'a' where neither child is open: u2, u3, u4, u6 (u1 and
    # u5 hold open disagreements on a child); there ann and the consensus agree on 'a'.
    row = _rows(table)["a"]
    assert row["n_units"] == 4
    assert row["percent_agreement"] == pytest.approx(1.0)


def test_kept_data_rolls_up_the_units_edited_since(db: Path) -> None:
    coders = ["ann", "consensus"]
    with Store.open(db) as store:
        data = agreement_service.AgreementData.read(store)
        before = agreement_service.agreement_report(data, coders, level=1)
        unit = str(data.segment_ids[UNITS.index("u5")])
        store.add_resolutions(
            [Resolution(unit, "a.y", Decision.APPLY, "rosa", "why", utcnow(), None, 1)], "rosa"
        )
        kept = data.refreshed(store)
        assert kept is data  # a decision updates the kept arrays
        after = agreement_service.agreement_report(kept, coders, level=1)
        fresh = agreement_service.agreement_report(store, coders, level=1)
    pd.testing.assert_frame_equal(after, fresh)
    assert (_rows(before)["a"]["n_units"], _rows(after)["a"]["n_units"]) == (4, 5)


def test_the_command_marks_rolled_up_rows_in_every_format(db: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(cli, ["agreement", str(db)])
    assert text.exit_code == 0, text.output
    header = text.output.splitlines()[0].split()
    assert header[:3] == ["code_id", "level", "rolled_up"]
    line_a = next(line for line in text.output.splitlines() if line.split()[0] == "a")
    assert line_a.split()[1:3] == ["1", "yes"]
    csv = runner.invoke(cli, ["agreement", str(db), "--format", "csv", "--level", "1"])
    assert csv.output.splitlines()[0].startswith("scope,code_id,level,rolled_up,")
    assert csv.output.splitlines()[1].startswith('"code","a",1,True,')
    rows = json.loads(runner.invoke(cli, ["agreement", str(db), "--format", "json"]).output)
    assert {r["code_id"]: (r["level"], r["rolled_up"]) for r in rows}["a.x"] == (2, False)


def test_the_agreement_page_names_a_rolled_up_row(db: Path) -> None:
    from coding.ui import agreement as page

    with Store.open(db) as store:
        table = agreement_service.agreement_report(store)
    shown = page.per_code(table, {"a": "A", "a.x": "X"}, 0, multi=False)
    assert list(shown["Code"])[:2] == ["A (rolled up)", "X"]
