"""The demo study builds from the project's own files and has what the tour promises."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.errors import NotFound
from coding.model import ProgressEvent
from coding.service.demo import build_demo, rebuild_demo
from coding.store import Store
from tests.conftest import ROOT, new_target

# The demo's content is checked on both engines; rerunning, --force and the README tour are
# about the demo command's file (demo.db), so those tests stay on SQLite.
pytestmark = pytest.mark.both_engines


@pytest.fixture(scope="module")
def demo_db(
    engine: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path | str]:
    with new_target(engine, request, tmp_path_factory.mktemp("demo")) as path:
        result = CliRunner().invoke(cli, ["demo", "--db", str(path), "--no-app"])
        assert result.exit_code == 0, result.output
        yield path


def test_demo_has_four_manuals_two_coders_and_five_codes(demo_db: Path) -> None:
    info = json.loads(CliRunner().invoke(cli, ["status", str(demo_db), "--format", "json"]).output)
    assert info["documents"] == 4 and info["codes"] == 5
    assert {"amira", "ben"} <= set(info["progress"])
    for coder in ("amira", "ben"):
        assert info["progress"][coder]["completed"] == info["segments"]


def test_demo_programmes_and_units(demo_db: Path) -> None:
    with Store.open(demo_db) as store:
        docs = store.documents()
        assert len({d.programme for d in docs}) == 4
        for doc in docs:
            words = len(doc.text.split())
            assert 1500 <= words <= 3000, (doc.id, words)
            assert all(doc.text[s.start : s.end] == s.text for s in store.segments(doc.id))


def test_every_code_has_agreements_and_disagreements(demo_db: Path) -> None:
    with Store.open(demo_db) as store:
        found = service.disagreements(store)
        ann = store.annotations_frame()
    both = ann.groupby(["segment_id", "code_id"])["coder"].nunique()
    agreed = both[both == 2].reset_index()
    for code_id in (
        "emotion_regulation",
        "caregiver_attunement",
        "reflective_functioning",
        "relational_safety",
        "parent_child_attachment",
    ):
        assert (found["code_id"] == code_id).sum() >= 3
        assert (agreed["code_id"] == code_id).sum() >= 5


def test_demo_stores_suggestions_that_agreement_scores_as_a_third_coder(demo_db: Path) -> None:
    from coding.service.agreement import agreement_report

    with Store.open(demo_db) as store:
        assert store.count("suggestions") > 0
        table = agreement_report(store, ["amira", "nlp"])
    overall = table[table["scope"] == "overall"].iloc[0]
    assert overall["n_units"] > 0 and 0 < overall["krippendorff_alpha"] < 1


def test_rerunning_the_demo_keeps_the_work_done_on_it(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    build_demo(db, suggest=False)
    with Store.open(db) as store:
        store.set_setting("marker", "kept", "tester")
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--no-app"])
    assert result.exit_code == 0 and "keeping it" in result.output
    with Store.open(db) as store:
        assert store.settings()["marker"] == "kept"


def test_the_demo_refuses_a_port_it_would_not_use(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--no-app", "--port", "8600"])
    assert result.exit_code == 2
    assert "--no-app and --port cannot be used together (--no-app ignores --port)" in result.output
    assert not db.exists()


def test_force_rebuilds_only_a_demo_study(tmp_path: Path, small_codebook: Path) -> None:
    real = tmp_path / "study.db"
    service.init_study(real, "tester", small_codebook).close()
    before = real.read_bytes()
    for args in (["--no-app"], ["--no-app", "--force"]):
        result = CliRunner().invoke(cli, ["demo", "--db", str(real), *args])
        assert result.exit_code == 1 and "not a demo study" in result.output
    assert real.read_bytes() == before


def test_force_swaps_in_a_fresh_demo_and_a_failed_build_keeps_the_old(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    build_demo(db, suggest=False)
    with Store.open(db) as store:
        store.set_setting("marker", "old", "tester")
    with pytest.raises(NotFound):
        rebuild_demo(db, root=tmp_path / "nowhere")
    with Store.open(db) as store:
        assert store.settings()["marker"] == "old"
    said: list[ProgressEvent] = []
    rebuild_demo(db, on_progress=said.append)
    # The study being rebuilt, not the file it is built in.
    assert said[0] == ProgressEvent("creating", item=f"{db} with mechanisms.yaml")
    assert [event.stage for event in said] == [
        "creating",
        "importing",
        "importing",
        "adding",
        "training",
    ]
    with Store.open(db) as store:
        assert "marker" not in store.settings()
        assert store.count("annotations") == _rows_in(ROOT / "corpus" / "codings.csv")


def test_demo_build_is_reproducible(tmp_path: Path) -> None:
    frames = []
    for name in ("a.db", "b.db"):
        build_demo(tmp_path / name, suggest=False)
        with Store.open(tmp_path / name) as store:
            frames.append(store.annotations_frame().drop(columns=["created_at"]))
    assert frames[0].equals(frames[1])


def _rows_in(path: Path) -> int:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))
