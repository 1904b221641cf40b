"""One review path: the list of disagreements, the queue, the overview and the decisions all
follow one rule, checked here against a plain restatement of it on random studies."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import case, literal, select

from coding import review, service
from coding.errors import PermissionDenied
from coding.model import Annotation, Decision, Document, Segment, segment_id_for, sha256_text
from coding.review import Choice
from coding.service import access
from coding.service import agreement as agreement_service
from coding.service import queue as queue_service
from coding.service import review as review_service
from coding.store import Store
from coding.store import review as review_store
from tests.conftest import DATA

CODERS = ("amira", "ben", "chloe")


def _random_study(path: Path, seed: int, units: int = 40) -> Store:
    """Three coders code the units of two documents at random; each submits most of them,
    leaves some unsubmitted (drafts) and some unassigned."""
    rng = random.Random(seed)
    store = service.init_study(path, "tests", DATA / "codebook_small.yaml")
    codes = list(store.codebook().codebook.code_ids)
    items = []
    for d in range(2):
        paragraphs = [f"Paragraph {d}-{i} about parents and babies." for i in range(units // 2)]
        text = "\n\n".join(paragraphs)
        doc_id = f"doc-{d}"
        document = Document(
            id=doc_id, name=doc_id, title=doc_id, text=text, sha256=sha256_text(text)
        )
        segments, pos = [], 0
        for i, para in enumerate(paragraphs):
            end = pos + len(para)
            segments.append(
                Segment(
                    id=segment_id_for(doc_id, pos, end),
                    document_id=doc_id,
                    start=pos,
                    end=end,
                    text=para,
                    position=i,
                )
            )
            pos = end + 2
        items.append((document, segments))
    store.add_documents(items, "tests")
    ids = [s.id for _, segs in items for s in segs]
    store.add_coders(CODERS, "tests")
    annotations, submitted = [], []
    for coder in CODERS:
        mine = [sid for sid in ids if rng.random() < 0.8]
        store.assign(mine, coder, "tests")
        for sid in mine:
            for code in codes:
                if rng.random() < 0.35:
                    annotations.append(Annotation(sid, code, coder, codebook_version=1))
            if rng.random() < 0.85:
                submitted.append((sid, coder))
    store.add_annotations(annotations, "tests")
    store.complete(submitted, "tests")
    access.add_user(store, "rosa", "reviewer", "rosa-password", "tests")
    access.add_user(store, "amira", "coder", "amira-password", "tests")
    return store


def _expected_pairs(store: Store) -> set[tuple[str, str]]:
    """The rule restated plainly: on a unit two or more coders submitted, a code some of
    them applied and some did not."""
    done = store.assignments_frame()
    done = done[done["completed"]]
    submitted: dict[str, set[str]] = {}
    for sid, coder in zip(done["segment_id"], done["coder"], strict=True):
        submitted.setdefault(sid, set()).add(coder)
    applied: dict[tuple[str, str], set[str]] = {}
    ann = store.annotations_frame()
    for sid, coder, code in zip(ann["segment_id"], ann["coder"], ann["code_id"], strict=True):
        applied.setdefault((sid, code), set()).add(coder)
    pairs = set()
    for (sid, code), who in applied.items():
        coders = submitted.get(sid, set())
        yes = who & coders
        if len(coders) >= 2 and 0 < len(yes) < len(coders):
            pairs.add((sid, code))
    return pairs


@pytest.fixture(params=[1, 2, 3])
def random_study(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    store = _random_study(tmp_path / "random.db", seed=request.param)
    yield store
    store.close()


def test_every_reader_finds_the_disagreements_the_rule_names(random_study: Store) -> None:
    store = random_study
    expected = _expected_pairs(store)
    assert expected, "the random study should hold disagreements"
    listed = service.disagreements(store)
    assert set(zip(listed["segment_id"], listed["code_id"], strict=True)) == expected
    core = review.find_disagreements(
        store.annotations_frame(), store.assignments_frame(), store.codebook().codebook.code_ids
    )
    assert set(zip(core["segment_id"], core["code_id"], strict=True)) == expected
    overview = service.study_overview(store, "rosa")
    assert overview.disagreements.pairs == len(expected)
    page, counts = queue_service.review_queue(store, "rosa", state="all", limit=1000)
    assert counts.pairs == len(expected)
    for sid in page["segment_id"]:
        item = queue_service.review_item(store, "rosa", sid)
        assert {(sid, c) for c in item.disputed} == {p for p in expected if p[0] == sid}


def test_the_sql_form_of_the_rule_is_the_rule(random_study: Store) -> None:
    """The store applies the rule in SQL; on every pair of counts it says what
    :func:`coding.review.is_disagreement` says."""
    grid = [(applied, submitted) for submitted in range(6) for applied in range(submitted + 1)]
    query = select(
        *(
            case((review_store.is_disagreement_sql(literal(a), literal(s)), 1), else_=0)
            for a, s in grid
        )
    )
    with random_study.engine.connect() as conn:
        in_sql = [bool(v) for v in conn.execute(query).one()]
    assert in_sql == [bool(review.is_disagreement(a, s)) for a, s in grid]


def test_the_counts_and_the_queue_count_what_the_list_lists(random_study: Store) -> None:
    store = random_study
    listed = service.disagreements(store)
    first = listed.iloc[0]
    review_service.decide(
        store, "rosa", first["segment_id"], Choice.neither(), "None of these apply here"
    )
    listed = service.disagreements(store)
    resolved = int((listed["decision"] != "").sum())
    counts = queue_service.disagreement_counts(store, "rosa")
    assert (counts.items, counts.pairs, counts.resolved) == (
        listed["segment_id"].nunique(),
        len(listed),
        resolved,
    )
    _, queued = queue_service.review_queue(store, "rosa", state="all", limit=1)
    assert queued == counts
    pairs = queue_service.disagreement_pairs(store, store.codebook().codebook.code_ids)
    assert set(zip(pairs["segment_id"], pairs["code_id"], strict=True)) == _expected_pairs(store)


def test_a_coder_filter_and_a_code_filter_keep_to_the_rule(random_study: Store) -> None:
    store = random_study
    both = ["amira", "ben"]
    listed = service.disagreements(store, both, code_id="calm")
    core = review.find_disagreements(
        store.annotations_frame(), store.assignments_frame(), ["calm"], both
    )

    def rows(found: pd.DataFrame) -> set[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
        columns = ["segment_id", "code_id", "applied_by", "not_applied_by"]
        return {(s, c, tuple(y), tuple(n)) for s, c, y, n in found[columns].itertuples(False)}

    assert rows(listed) == rows(core) and len(listed) == len(core) > 0


def test_the_list_names_who_applied_the_code_and_who_did_not(random_study: Store) -> None:
    listed = service.disagreements(random_study)
    done = random_study.assignments_frame()
    done = done[done["completed"]]
    ann = random_study.annotations_frame()
    for row in listed.itertuples(index=False):
        submitted = set(done.loc[done["segment_id"] == row.segment_id, "coder"])
        applied = set(
            ann.loc[
                (ann["segment_id"] == row.segment_id) & (ann["code_id"] == row.code_id), "coder"
            ]
        )
        assert row.applied_by == sorted(applied & submitted)
        assert row.not_applied_by == sorted(submitted - applied)


def test_pages_of_the_list_are_slices_of_the_whole(random_study: Store) -> None:
    whole = service.disagreements(random_study)
    for offset, limit in ((0, 5), (3, 7), (len(whole) - 2, 10)):
        page = service.disagreements(random_study, limit=limit, offset=offset)
        expected = whole.iloc[offset : offset + limit].reset_index(drop=True)
        pd.testing.assert_frame_equal(page, expected)


def test_decisions_move_pairs_from_open_to_resolved_everywhere(random_study: Store) -> None:
    store = random_study
    listed = service.disagreements(store)
    first = listed.iloc[0]
    item = queue_service.review_item(store, "rosa", first["segment_id"])
    review_service.decide(store, "rosa", item.segment_id, Choice.neither(), "None of these apply")
    decided = set(item.disputed)
    still_open = service.disagreements(store, open_only=True)
    assert not decided & set(still_open.loc[still_open["segment_id"] == item.segment_id, "code_id"])
    overview = service.study_overview(store, "rosa")
    assert overview.disagreements.resolved == len(decided)
    assert len(still_open) == len(listed) - len(decided)


def test_each_choice_decides_the_disputed_codes() -> None:
    unit = review.UnitCodings(("a", "b"), {"a": frozenset({"x", "y"}), "b": frozenset({"y", "z"})})
    assert unit.disputed() == ["x", "z"] and unit.agreed() == {"y"}
    assert review.decisions_for(unit, Choice.accept("a")) == {
        "x": Decision.APPLY,
        "z": Decision.REJECT,
    }
    assert review.decisions_for(unit, Choice.merge()) == {"x": Decision.APPLY, "z": Decision.APPLY}
    assert review.decisions_for(unit, Choice.other(["w"])) == {
        "w": Decision.APPLY,
        "x": Decision.REJECT,
        "y": Decision.REJECT,
        "z": Decision.REJECT,
    }
    assert [c.kind for c in review.choices(unit)] == [
        review.ChoiceKind.ACCEPT,
        review.ChoiceKind.ACCEPT,
        review.ChoiceKind.MERGE,
        review.ChoiceKind.NEITHER,
        review.ChoiceKind.OTHER,
    ]


def test_agreement_tables_are_for_reviewers(random_study: Store) -> None:
    view = agreement_service.AgreementView.CODERS
    with pytest.raises(PermissionDenied, match="reviewer"):
        agreement_service.agreement_view(random_study, "amira", view)
    table = agreement_service.agreement_view(random_study, "rosa", view)
    operator = agreement_service.agreement_view(random_study, access.Operator("cli"), view)
    pd.testing.assert_frame_equal(table, operator)
    assert set(table["code_id"]) >= set(random_study.codebook().codebook.code_ids)


def test_a_coder_sees_no_overview_of_other_coders(random_study: Store) -> None:
    with pytest.raises(PermissionDenied):
        service.study_overview(random_study, "amira")


def test_final_codes_of_a_study_with_nothing_coded_is_empty() -> None:
    nothing = pd.DataFrame(columns=["segment_id", "coder", "code_id"])
    assignments = pd.DataFrame({"segment_id": ["s"], "coder": ["a"], "completed": [True]})
    none = pd.DataFrame(columns=["segment_id", "code_id", "decision", "rationale", "reviewer"])
    finals = review.final_codes(nothing, assignments, none, ["x"])
    assert finals.empty and list(finals.columns)[:3] == ["segment_id", "code_id", "applied_by"]


def test_the_agreement_page_reads_once_and_says_why_a_table_is_missing(
    random_study: Store,
) -> None:
    views = list(agreement_service.AgreementView)
    with pytest.raises(PermissionDenied):
        agreement_service.agreement_views(random_study, "amira", views)
    tables = agreement_service.agreement_views(random_study, "rosa", views)
    assert "no suggestions" in str(tables[agreement_service.AgreementView.NLP])
    coders = tables[agreement_service.AgreementView.CODERS]
    assert isinstance(coders, pd.DataFrame)
    alone = agreement_service.agreement_view(
        random_study, "rosa", agreement_service.AgreementView.CODERS
    )
    pd.testing.assert_frame_equal(coders, alone)
