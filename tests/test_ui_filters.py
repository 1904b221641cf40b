"""Attributes as filters: the coder's view and the reviewer's queue keep the units with some
values of one attribute (in SQL, on both engines), and the Code and Resolve pages offer the
filter when the study has attributes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding import service
from coding.errors import CodingError, PermissionDenied
from coding.service import access
from coding.service import attributes as attribute_service
from coding.service import coder as coder_service
from coding.service import queue as queue_service
from coding.service.attributes import AttributeFilter
from coding.service.queue import QueueState
from coding.store import Store
from coding.store.attributes import AttributeWrite, add_documents_with_attributes
from tests.conftest import DATA, new_target, write_codings
from tests.ui_helpers import PASSWORD, TEAM, open_page, plain

pytestmark = pytest.mark.both_engines

TEXTS = {
    "d1": ["The mother calms down.", "Staff notice cues.", "A quiet room helps.", "Calm again."],
    "d2": ["We read the cues.", "The mother calms.", "Feeding starts.", "Cues are missed."],
}
PROGRAMME = {"d1": "Alpha", "d2": "Beta"}
SETTING = {"d1": "home", "d2": "clinic"}
SPEAKER = ("mother", "nurse", "mother", "nurse")
CODES = {  # (document, unit) -> (amira's codes, ben's codes); four units disputed
    ("d1", 0): ("calm", ""),
    ("d1", 1): ("cues", "cues"),
    ("d1", 3): ("calm", "calm cues"),
    ("d2", 0): ("cues", ""),
    ("d2", 2): ("calm", "calm"),
    ("d2", 3): ("", "cues"),
}
DISPUTED = [("d1", 0), ("d1", 3), ("d2", 0), ("d2", 3)]
CODES_ALL = [(doc, i) for doc in TEXTS for i in range(4)]


def build(target: str | Path, folder: Path) -> str | Path:
    """Two documents of four units (speaker: a unit attribute; setting and programme:
    document attributes) coded by amira and ben; chloe has every unit to code."""
    rows = ["document_id,segment_id,text,programme,speaker"]
    for doc, texts in TEXTS.items():
        rows += [f"{doc},{i},{text},{PROGRAMME[doc]},{SPEAKER[i]}" for i, text in enumerate(texts)]
    units = folder / "units.csv"
    units.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with service.init_study(target, "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [units], "t")
        set_setting(store, SETTING)
        ids = unit_ids(store)
        service.add_coders(store, ["amira", "ben"], "t")
        coded = [
            (ids[key], coder, code)
            for key, pair in CODES.items()
            for coder, codes in zip(("amira", "ben"), pair, strict=True)
            for code in codes.split()
        ]
        service.import_codings(
            store, write_codings(folder / "c.csv", coded), "t", complete="documents"
        )
        for name, role in TEAM:
            access.add_user(store, name, role, PASSWORD, "t")
        service.assign(store, "chloe", "t")
    return target


def set_setting(store: Store, values: dict[str, str]) -> None:
    known = {a.name for a in attribute_service.study_attributes(store)}
    write = AttributeWrite(
        declare=() if "setting" in known else (("setting", "document", "text"),),
        documents=[(doc, "setting", value) for doc, value in values.items()],
    )
    add_documents_with_attributes(store, [], write, "t")


def unit_ids(store: Store) -> dict[tuple[str, int], str]:
    return {(s.document_id, int(s.label)): s.id for s in store.segments()}


def ids_of(store: Store, keys: list[tuple[str, int]]) -> set[str]:
    found = unit_ids(store)
    return {found[k] for k in keys}


@pytest.fixture(scope="module")
def filtered_study(
    engine: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str | Path]:
    folder = tmp_path_factory.mktemp("filters")
    with new_target(engine, request, folder) as target:
        yield build(target, folder)


@pytest.fixture
def filtered(filtered_study: str | Path) -> Iterator[Store]:
    with Store.open(filtered_study) as store:
        yield store


SPEAKER_NURSE = AttributeFilter("speaker", ("nurse",))
SETTING_CLINIC = AttributeFilter("setting", ("clinic",))


# -- the coder's view ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("chosen", "kept"),
    [
        (SPEAKER_NURSE, [(d, i) for d in TEXTS for i in (1, 3)]),
        (SETTING_CLINIC, [("d2", i) for i in range(4)]),
        (AttributeFilter("programme", ("Alpha",)), [("d1", i) for i in range(4)]),
        (AttributeFilter("Speaker", ("nurse", "mother")), list(CODES_ALL)),
        (AttributeFilter("setting", ()), []),
    ],
    ids=["unit", "document", "programme", "two-values", "no-values"],
)
def test_the_coder_view_holds_only_units_with_the_values(
    filtered: Store, chosen: AttributeFilter, kept: list[tuple[str, int]]
) -> None:
    view = coder_service.coder_view(filtered, "chloe", attribute=chosen, limit=100)
    assert {u.segment_id for u in view.units} == ids_of(filtered, kept)
    assert view.total == len(kept)
    assert view.assigned == 8  # the progress stays the coder's own, over every unit
    by_values = attribute_service.unit_ids_where(filtered, "chloe", chosen.name, chosen.values)
    assert {u.segment_id for u in view.units} == set(by_values)


def test_the_filter_combines_with_the_document_and_the_state(filtered: Store) -> None:
    view = coder_service.coder_view(
        filtered, "chloe", document_id="d2", attribute=SPEAKER_NURSE, state="todo", limit=100
    )
    assert {u.segment_id for u in view.units} == ids_of(filtered, [("d2", 1), ("d2", 3)])
    done = coder_service.coder_view(filtered, "chloe", attribute=SPEAKER_NURSE, state="done")
    assert done.total == 0


def test_a_unit_s_place_counts_only_the_units_that_pass_the_filter(filtered: Store) -> None:
    ids = unit_ids(filtered)

    def place(key: tuple[str, int]) -> int | None:
        return coder_service.unit_index(filtered, "chloe", ids[key], attribute=SPEAKER_NURSE)

    assert place(("d2", 1)) == 2  # after d1's units 1 and 3
    assert place(("d2", 0)) is None


def test_a_filter_on_an_unknown_attribute_names_the_ones_there_are(filtered: Store) -> None:
    with pytest.raises(CodingError, match="the study has: programme, setting, speaker"):
        coder_service.coder_view(filtered, "chloe", attribute=AttributeFilter("ward", ("a",)))


# -- the reviewer's queue ------------------------------------------------------------------
def queued(
    store: Store, chosen: AttributeFilter | None
) -> tuple[set[str], queue_service.QueueCounts]:
    page, counts = queue_service.review_queue(
        store, "rosa", attribute=chosen, state=QueueState.ALL, limit=100
    )
    return set(page["segment_id"]), counts


@pytest.mark.parametrize(
    ("chosen", "kept"),
    [
        (None, DISPUTED),
        (SPEAKER_NURSE, [("d1", 3), ("d2", 3)]),
        (SETTING_CLINIC, [("d2", 0), ("d2", 3)]),
        (AttributeFilter("programme", ("Alpha",)), [("d1", 0), ("d1", 3)]),
    ],
    ids=["none", "unit", "document", "programme"],
)
def test_the_queue_holds_only_disagreements_on_units_with_the_values(
    filtered: Store, chosen: AttributeFilter | None, kept: list[tuple[str, int]]
) -> None:
    found, counts = queued(filtered, chosen)
    assert found == ids_of(filtered, kept)
    assert (counts.items, counts.pairs, counts.resolved) == (len(kept), len(kept), 0)


def test_the_queue_follows_a_value_changed_after_it_was_read(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with (
        new_target(engine, request, tmp_path) as target,
        Store.open(build(target, tmp_path)) as store,
    ):
        before, _ = queued(store, SETTING_CLINIC)
        set_setting(store, {"d1": "clinic"})
        after, counts = queued(store, SETTING_CLINIC)
        assert before == ids_of(store, [("d2", 0), ("d2", 3)])
        assert after == ids_of(store, DISPUTED) and counts.items == 4


def test_the_filtered_queue_and_view_check_the_role(filtered: Store) -> None:
    with pytest.raises(PermissionDenied):
        queue_service.review_queue(filtered, "chloe", attribute=SPEAKER_NURSE)
    with pytest.raises(PermissionDenied):
        coder_service.coder_view(filtered, "rosa", attribute=SPEAKER_NURSE)
    with pytest.raises(PermissionDenied):
        attribute_service.list_attributes(filtered, "stranger")
    for member in ("chloe", "rosa"):
        names = [a.name for a in attribute_service.list_attributes(filtered, member)]
        assert names == ["programme", "setting", "speaker"]


# -- the pages (SQLite) ----------------------------------------------------------------------
@pytest.fixture
def study_db(tmp_path: Path) -> Path:
    path = build(tmp_path / "filters.db", tmp_path)
    assert isinstance(path, Path)
    return path


@pytest.fixture
def bare_db(tmp_path: Path) -> Path:
    """A study without attributes (no programme either), with the team."""
    path = tmp_path / "bare.db"
    with service.init_study(path, "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [DATA / "manual.md"], "t")
        for name, role in TEAM:
            access.add_user(store, name, role, PASSWORD, "t")
        service.assign(store, "chloe", "t")
    return path


def pick(at: AppTest, key: str, name: str, values: list[str]) -> AppTest:
    at.selectbox(key=f"{key}-attribute").set_value(name).run()
    assert not at.exception, at.exception
    at.multiselect(key=f"{key}-values").set_value(values).run()
    assert not at.exception, at.exception
    return at


def clear(at: AppTest, key: str) -> AppTest:
    at.button(key=f"{key}-filter-clear").click().run()
    assert not at.exception, at.exception
    return at


def in_view(at: AppTest) -> str:
    return next(plain(m.value).replace("**", "") for m in at.markdown if "in this view" in m.value)


def table_units(at: AppTest) -> set[tuple[str, int]]:
    rows = at.dataframe[-1].value
    return {(str(d), int(u) - 1) for d, u in zip(rows["document"], rows["unit"], strict=True)}


def keys_of(at: AppTest) -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        key = getattr(node, "key", None)
        if key:
            found.add(str(key))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


@pytest.mark.sqlite_only("the app's pages, on a study file")
def test_picking_a_value_on_the_code_page_keeps_only_matching_units(study_db: Path) -> None:
    at = open_page(study_db, "chloe", "code")
    assert "Unit 1 of 8 in this view" in in_view(at)
    pick(at, "code", "speaker", ["nurse"])
    assert in_view(at) == "Unit 1 of 4 in this view · speaker = nurse"
    assert table_units(at) == {(d, i) for d in TEXTS for i in (1, 3)}
    assert "Staff notice cues." in "".join(str(e.proto.body) for e in at.get("html"))
    at.button(key="code-next").click().run()
    assert "Unit 2 of 4 in this view" in in_view(at)
    pick(at, "code", "setting", ["clinic"])
    assert table_units(at) == {("d2", i) for i in range(4)}
    clear(at, "code")
    assert "Unit 1 of 8 in this view" in in_view(at)
    assert len(table_units(at)) == 8


@pytest.mark.sqlite_only("the app's pages, on a study file")
def test_changing_the_filter_keeps_the_open_unit_s_ticks_as_a_draft(study_db: Path) -> None:
    at = open_page(study_db, "chloe", "code")
    with Store.open(study_db) as store:
        first = unit_ids(store)["d1", 0]
    at.checkbox(key=f"c-{first}-calm").check().run()
    pick(at, "code", "speaker", ["nurse"])  # the open unit (a mother's) leaves the view
    with Store.open(study_db) as store:
        units = coder_service.coder_view(store, "chloe", limit=100).units
    assert next(u.codes for u in units if u.segment_id == first) == ("calm",)


@pytest.mark.sqlite_only("the app's pages, on a study file")
def test_a_found_unit_outside_the_filter_opens_without_it(study_db: Path) -> None:
    at = open_page(study_db, "chloe", "code")
    pick(at, "code", "speaker", ["nurse"])
    at.text_input(key="code_find").input("Feeding").run()
    at.button(key="code-hit-0").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="code-attribute").value == ""
    assert "Unit 3 of 4 in this view" in in_view(at)  # d2's unit 3, all its units shown


@pytest.mark.sqlite_only("the app's pages, on a study file")
def test_picking_a_value_on_the_resolve_page_keeps_only_matching_disagreements(
    study_db: Path,
) -> None:
    at = open_page(study_db, "rosa", "resolve")
    assert "0 of 4 disagreements resolved; 4 units in this queue" in progress(at)
    pick(at, "queue", "speaker", ["mother"])
    assert "0 of 2 disagreements resolved; 2 units in this queue" in progress(at)
    assert any("in the queue · speaker = mother" in plain(m.value) for m in at.markdown)
    rows = at.dataframe[-1].value
    queue = zip(rows["document_id"], rows["unit"], strict=True)
    assert {(str(d), int(u) - 1) for d, u in queue} == {("d1", 0), ("d2", 0)}
    clear(at, "queue")
    assert "0 of 4 disagreements resolved; 4 units in this queue" in progress(at)


def progress(at: AppTest) -> str:
    return str(at.get("progress")[0].proto.text)


@pytest.mark.sqlite_only("the app's pages, on a study file")
@pytest.mark.parametrize(("user", "page"), [("chloe", "code"), ("rosa", "resolve")])
def test_a_study_without_attributes_shows_no_filter(bare_db: Path, user: str, page: str) -> None:
    at = open_page(bare_db, user, page)
    assert not any("attribute" in key or "filter" in key for key in keys_of(at))
    assert not at.get("popover")


@pytest.mark.sqlite_only("the app's pages, on a study file")
@pytest.mark.parametrize(
    ("user", "page", "key"), [("chloe", "code", "code"), ("rosa", "resolve", "queue")]
)
def test_a_study_with_attributes_offers_each_attribute(
    study_db: Path, user: str, page: str, key: str
) -> None:
    at = open_page(study_db, user, page)
    offered = at.selectbox(key=f"{key}-attribute").options
    assert offered == ["No filter", "programme (document)", "setting (document)", "speaker (unit)"]
