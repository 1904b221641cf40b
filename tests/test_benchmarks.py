"""The generated study of the scale benchmark: its files import cleanly, and the Store fast
path and the in-memory frames hold the same study as the import."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from coding import service
from coding.agreement import agreement_table
from coding.service.agreement import agreement_report
from coding.store import Store

UNITS = 200


def _studygen() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "studygen.py"
    spec = importlib.util.spec_from_file_location("studygen", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["studygen"] = module
    spec.loader.exec_module(module)
    return module


studygen = _studygen()


@pytest.fixture(scope="module")
def study() -> studygen.Study:
    return studygen.generate(UNITS, seed=3, units_per_document=80)


@pytest.fixture(scope="module")
def imported(
    tmp_path_factory: pytest.TempPathFactory, study: studygen.Study
) -> tuple[Path, studygen.StudyFiles]:
    """The study imported from its files through the service layer, as the CLI does."""
    folder = tmp_path_factory.mktemp("files")
    files = studygen.write_files(study, folder, documents_per_file=2)
    db = folder / "imported.db"
    with service.init_study(db, "bench", files.codebook) as store:
        service.import_documents(store, files.units, "bench")
        for path in files.codings.values():
            service.import_codings(store, path, "bench", add_new_coders=True)
    return db, files


def _contents(db: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with Store.open(db) as store:
        segments = store.segments_frame().sort_values("segment_id", ignore_index=True)
        annotations = store.annotations_frame().drop(columns="created_at")
        assignments = store.assignments_frame().drop(columns=["assigned_at", "completed_at"])
    return segments, annotations, assignments


def test_generated_files_import_with_every_unit_and_code(
    study: studygen.Study, imported: tuple[Path, studygen.StudyFiles]
) -> None:
    db, files = imported
    assert len(files.units) == 2  # 3 documents of 80, 80 and 40 units, 2 per file
    with Store.open(db) as store:
        assert len(store.codebook().codebook.codes) == 10
        assert store.count("documents") == 3
        assert store.count("segments") == UNITS
        annotations = store.annotations_frame()
        assignments = store.assignments_frame()
    assert len(annotations) == study.annotation_count() > 0
    for coder in studygen.CODERS:
        assert (annotations["coder"] == coder).sum() == study.annotation_count(coder)
        done = assignments[(assignments["coder"] == coder) & assignments["completed"]]
        assert len(done) == UNITS


def test_coders_agree_on_about_nine_decisions_in_ten(study: studygen.Study) -> None:
    first, second = (study.applied[c] for c in studygen.CODERS)
    assert 0.85 < (first == second).mean() < 0.95


def test_store_fast_path_builds_the_study_the_import_builds(
    tmp_path: Path, study: studygen.Study, imported: tuple[Path, studygen.StudyFiles]
) -> None:
    db, files = imported
    fast = tmp_path / "fast.db"
    studygen.build_store(study, fast, files.codebook)
    for built, expected in zip(_contents(fast), _contents(db), strict=True):
        pd.testing.assert_frame_equal(built, expected)


def test_frames_give_the_agreement_of_the_imported_study(
    study: studygen.Study, imported: tuple[Path, studygen.StudyFiles]
) -> None:
    annotations, assignments, segments, code_ids = studygen.frames(study)
    in_memory = agreement_table(annotations, assignments, segments, code_ids)
    with Store.open(imported[0]) as store:
        stored = agreement_report(store)
        assert set(segments["segment_id"]) == set(store.segments_frame()["segment_id"])
    columns = ["code_id", "n_units", "percent_agreement", "krippendorff_alpha"]
    pd.testing.assert_frame_equal(in_memory[columns], stored[columns])
