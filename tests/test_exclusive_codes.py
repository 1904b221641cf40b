"""A codebook's exclusive group holds on the Code page's submit: one of its codes per unit."""

from __future__ import annotations

from pathlib import Path

import pytest

from coding import service
from coding.errors import CodingError
from coding.service import coder as coder_service
from coding.service.access import Operator
from coding.store import Store

GROUPED = """codebook: {id: talk}
codes:
  - {id: talk, name: Talk, definition: d, exclusive: true}
  - {id: talk.change, name: Change, definition: d, parent: talk}
  - {id: talk.sustain, name: Sustain, definition: d, parent: talk}
  - {id: question, name: Question, definition: d}
"""


@pytest.fixture
def study(tmp_path: Path) -> tuple[Path, str]:
    book = tmp_path / "talk.yaml"
    book.write_text(GROUPED, encoding="utf-8")
    units = tmp_path / "units.csv"
    units.write_text("document_id,segment_id,text\nd1,0,I want to stop.\n", encoding="utf-8")
    with service.init_study(tmp_path / "s.db", "t", book) as store:
        service.import_documents(store, [units], "t")
        service.add_coders(store, ["t"], "t")
        service.assign(store, "t", "t")
        (segment,) = store.segments()
    return tmp_path / "s.db", segment.id


def test_a_submit_with_two_codes_of_an_exclusive_group_is_refused(study: tuple[Path, str]) -> None:
    db, unit = study
    with Store.open(db) as store:
        with pytest.raises(CodingError, match="Change and Sustain are alternatives under Talk"):
            coder_service.save_unit(
                store, Operator("t"), unit, ["talk.change", "talk.sustain"], submit=True
            )
        assert store.annotations_frame().empty  # nothing was written


def test_a_draft_may_hold_both_and_a_submit_one_of_them(study: tuple[Path, str]) -> None:
    db, unit = study
    with Store.open(db) as store:
        coder_service.save_unit(store, Operator("t"), unit, ["talk.change", "talk.sustain"])
        coder_service.save_unit(
            store, Operator("t"), unit, ["talk", "talk.change", "question"], submit=True
        )
        saved = set(store.annotations_frame()["code_id"])
    assert saved == {"talk", "talk.change", "question"}
