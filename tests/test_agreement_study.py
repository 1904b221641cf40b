"""Agreement on a study: coders, consensus and spans, with missing work treated as missing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coding import service
from coding.errors import CodingError
from coding.model import Annotation
from coding.service import access
from coding.service.agreement import agreement_report, span_report
from coding.store import Store
from coding.store import schema as t
from tests.conftest import write_codings

pytestmark = pytest.mark.both_engines


def test_unsubmitted_units_are_missing_not_absent(corpus_db: Path, tmp_path: Path) -> None:
    with Store.open(corpus_db) as store:
        units = [s.id for s in store.segments()]
        service.add_coders(store, ["amira", "ben"], "t")
        rows = [(units[1], "amira", "calm"), (units[1], "ben", "calm"), (units[2], "ben", "cues")]
        service.import_codings(
            store, write_codings(tmp_path / "c.csv", rows), "t", complete="segments"
        )
        table = agreement_report(store, ["amira", "ben"])
    calm = table[table["code_id"] == "calm"].iloc[0]
    # amira submitted only unit 1, ben units 1 and 2: one pairable unit, not four.
    assert calm["n_units"] == 1


def test_identical_spans_agree_perfectly_and_differences_lower_u_alpha(
    corpus_db: Path, tmp_path: Path
) -> None:
    with Store.open(corpus_db) as store:
        unit = store.segments()[1]
        service.add_coders(store, ["amira", "ben"], "t")
        same = tmp_path / "same.csv"
        same.write_text(
            "document_id,start,end,coder,code\n"
            f"manual,{unit.start},{unit.start + 40},amira,calm\n"
            f"manual,{unit.start},{unit.start + 40},ben,calm\n"
        )
        service.import_codings(store, same, "t")
        perfect = span_report(store)
    row = perfect[(perfect["document_id"] == "manual") & (perfect["code_id"] == "calm")].iloc[0]
    assert row["u_alpha"] == pytest.approx(1.0) and row["character_kappa"] == pytest.approx(1.0)


def test_span_agreement_needs_two_coders_who_finished_a_document(coded_db: Path) -> None:
    with Store.open(coded_db) as store, pytest.raises(CodingError, match="submitted in full"):
        span_report(store, ["amira"])


def test_demo_span_agreement_is_reported_per_document_and_pooled(target: str) -> None:
    from coding.service.demo import build_demo

    build_demo(target, suggest=False)
    with Store.open(target) as store:
        table = span_report(store)
    assert set(table["document_id"]) == {"dyadic", "family", "residential", "sequential", "*"}
    pooled = table[(table["document_id"] == "*") & (table["code_id"] == "overall")].iloc[0]
    assert 0.5 < pooled["u_alpha"] < 1 and 0.5 < pooled["character_kappa"] < 1


def test_coded_characters_count_each_character_once(corpus_db: Path, tmp_path: Path) -> None:
    with Store.open(corpus_db) as store:
        text = store.documents()[0].text
        at = store.segments()[1].start
        service.add_coders(store, ["amira", "ben"], "t")
        overlapping = tmp_path / "overlap.csv"
        overlapping.write_text(
            "document_id,start,end,coder,code\n"
            f"manual,{at},{at + 40},amira,calm\n"
            f"manual,{at + 20},{at + 60},ben,calm\n"
            f"manual,{at + 30},{at + 50},ben,cues\n"
        )
        service.import_codings(store, overlapping, "t")
        table = span_report(store)
    rows = table[table["document_id"] == "manual"].set_index("code_id")
    # two coders' overlapping spans cover 0-60 once, not 40 + 40 characters
    assert rows.loc["calm", "coded_characters"] == 60
    assert rows.loc["overall", "coded_characters"] == 60
    assert (rows["coded_characters"] <= rows["characters"]).all()
    assert rows.loc["overall", "characters"] == len(text)


def test_consensus_is_compared_on_units_settled_for_each_code(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        found = service.disagreements(store)
        calm = found[found["code_id"] == "calm"].iloc[0]
        access.add_user(store, "rosa", "reviewer", "pw-test-8", "t")
        service.resolve(
            store, "rosa", calm["segment_id"], "calm", "reject", "staff calm, not the parent"
        )
        table = agreement_report(store, ["amira", "consensus"])
    by_code = table.set_index("code_id")
    # 'calm' is settled on all 4 units now; 'cues' is still open on one of them.
    assert by_code.loc["calm", "n_units"] == 4 and by_code.loc["cues", "n_units"] == 3
    assert by_code.loc["calm", "percent_agreement"] == pytest.approx(0.75)  # amira applied it


def test_study_report_has_conger_and_alpha_disagreements(coded_db: Path) -> None:
    with Store.open(coded_db) as store:
        table = agreement_report(store, ["amira", "ben"])
    checked = 0
    for row in table.itertuples():
        if row.cohen_kappa is None or pd.isna(row.cohen_kappa):
            continue
        checked += 1
        # With two coders Conger's kappa is Cohen's kappa, and alpha is 1 - Do/De.
        assert row.conger_kappa == pytest.approx(row.cohen_kappa)
        do, de = (
            row.krippendorff_alpha_observed_disagreement,
            row.krippendorff_alpha_expected_disagreement,
        )
        assert row.krippendorff_alpha == pytest.approx(1 - do / de)
        assert 0 <= row.fleiss_expected_agreement <= 1
    assert checked >= 2


def test_a_saved_but_unsubmitted_code_is_not_a_value(corpus_db: Path, tmp_path: Path) -> None:
    with Store.open(corpus_db) as store:
        units = [s.id for s in store.segments()]
        service.add_coders(store, ["amira", "ben"], "t")
        rows = [(units[1], "amira", "calm"), (units[1], "ben", "calm"), (units[2], "ben", "cues")]
        service.import_codings(store, write_codings(tmp_path / "c.csv", rows), "t")
        before = agreement_report(store, ["amira", "ben"])
        # amira saves a draft 'calm' on unit 3 and does not submit it.
        unit3 = units[3]
        store.add_annotations([Annotation(unit3, "calm", "amira", codebook_version=1)], "amira")
        with store.transaction("t", "reopen", unit3) as conn:
            conn.execute(
                t.assignments.update()
                .where(t.assignments.c.segment_id == unit3, t.assignments.c.coder == "amira")
                .values(completed_at=None)
            )
        after = agreement_report(store, ["amira", "ben"])
    calm_before = before.set_index("code_id").loc["calm"]
    calm_after = after.set_index("code_id").loc["calm"]
    assert calm_after["n_units"] == calm_before["n_units"] - 1  # unit 3 is now missing
    assert calm_after["percent_agreement"] == pytest.approx(1.0)  # the draft is no value
