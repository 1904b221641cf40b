"""Importing .qdpx projects into a study that already has work: all or nothing, our own
exports re-import as no-ops, drafts stay hidden, and bad or reserved names are handled."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd
import pytest

from coding import service
from coding.errors import InvalidInput, NotFound
from coding.model import Annotation
from coding.refi.positions import PositionUnit, detect_unit
from coding.refi.qdpx_read import read_qdpx
from coding.refi.qdpx_write import ProjectContent, write_qdpx
from coding.service.export import export_bytes
from coding.service.refi import QdpxImport, import_qdpx
from coding.store import Store
from coding.store.projects import ProjectWrite, import_project

pytestmark = pytest.mark.both_engines


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, ":".join(parts)))


@dataclass
class Src:
    name: str
    text: str
    selections: list[tuple[int, int, str, str]] = field(default_factory=list)  # user, code
    whole: list[tuple[str, str]] = field(default_factory=list)  # (user, code) on the source
    guid: str = ""


def project_file(
    path: Path,
    sources: list[Src],
    users: list[str | tuple[str, str]],
    codes: dict[str, str],
    origin: str = "Test tool",
) -> Path:
    """Write a small .qdpx: users are names or (guid, name); codes map key -> name."""
    user_guid: dict[str, str] = {}
    user_xml = ""
    for user in users:
        key, name = user if isinstance(user, tuple) else (_guid("user", user), user)
        user_guid.setdefault(name, key)
        user_xml += f"<User guid={quoteattr(key)} name={quoteattr(name)}/>"
    code_xml = "".join(
        f'<Code guid="{_guid("code", k)}" name={quoteattr(n)} isCodable="true">'
        f"<Description>{escape(n)}</Description></Code>"
        for k, n in codes.items()
    )

    def coding(user: str, code: str) -> str:
        return (
            f'<Coding guid="{uuid.uuid4()}" creatingUser="{user_guid[user]}">'
            f'<CodeRef targetGUID="{_guid("code", code)}"/></Coding>'
        )

    entries: list[tuple[str, bytes]] = []
    source_xml = ""
    for i, src in enumerate(sources):
        key = src.guid or _guid("source", src.name, src.text)
        selections = "".join(
            f'<PlainTextSelection guid="{uuid.uuid4()}" startPosition="{a}" endPosition="{b}">'
            f"{coding(u, c)}</PlainTextSelection>"
            for a, b, u, c in src.selections
        )
        whole = "".join(coding(u, c) for u, c in src.whole)
        source_xml += (
            f"<TextSource guid={quoteattr(key)} name={quoteattr(src.name)} "
            f'plainTextPath="internal://s{i}.txt">{selections}{whole}</TextSource>'
        )
        entries.append((f"sources/s{i}.txt", src.text.encode()))
    xml = (
        f'<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin={quoteattr(origin)}>'
        f"<Users>{user_xml}</Users><CodeBook><Codes>{code_xml}</Codes></CodeBook>"
        f"<Sources>{source_xml}</Sources></Project>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", xml.encode())
        for name, content in entries:
            archive.writestr(name, content)
    return path


def state(study: Path) -> dict[str, int]:
    """Revision and row counts: equal before and after means the study is unchanged."""
    with Store.open(study) as store:
        tables = ("documents", "codebook_versions", "codes", "coders", "annotations")
        return {
            "revision": store.revision(),
            **{t: store.count(t) for t in (*tables, "assignments", "segments")},
        }


@pytest.fixture
def empty_study(targets: Callable[[], str]) -> str:
    path = targets()
    service.init_study(path, "tester").close()
    return path


def _import(study: Path, path: Path, positions: str = "auto") -> QdpxImport:
    with Store.open(study) as store:
        return import_qdpx(store, path, "tester", positions=positions)


# -- 2. all or nothing ----------------------------------------------------------------------
def test_a_late_document_id_collision_leaves_the_study_unchanged(
    empty_study: Path, tmp_path: Path
) -> None:
    codes = {"x": "X"}
    first = Src("doc", "First text here.\n\nSecond para.", [(0, 5, "amy", "x")])
    changed = Src("doc", "Changed text here.\n\nSecond para.", [(0, 5, "amy", "x")])
    _import(empty_study, project_file(tmp_path / "a1.qdpx", [first], ["amy"], codes))
    _import(empty_study, project_file(tmp_path / "a2.qdpx", [changed], ["amy"], codes))
    before = state(empty_study)
    clash = Src("doc@v2", "Third unrelated text.", [(0, 5, "zed", "y")])
    path = project_file(tmp_path / "a3.qdpx", [clash], ["amy", "zed"], {"x": "X", "y": "Y"})
    with pytest.raises(InvalidInput, match="doc@v2"):
        _import(empty_study, path)
    assert state(empty_study) == before


def test_a_project_is_written_in_one_transaction(coded_db: Path) -> None:
    before = state(coded_db)
    with Store.open(coded_db) as store:
        book = store.codebook().codebook
        write = ProjectWrite(
            source="x.qdpx",
            codebook=book,
            codebook_sha256="0" * 64,
            coders=["zoe"],
            annotations=[Annotation("no-such-unit", "calm", "zoe", codebook_version=1)],
        )
        with pytest.raises(NotFound, match="no-such-unit"):
            import_project(store, write, "tester")
    assert state(coded_db) == before


# -- 3. our own .qdpx keeps document versions and re-imports as a no-op ----------------------
@pytest.fixture
def versioned_db(corpus_db: Path, tmp_path: Path) -> Path:
    """manual.md imported twice with a change: documents 'manual' and 'manual@v2', coded."""
    changed = tmp_path / "manual.md"
    text = (Path(__file__).parent / "data" / "manual.md").read_text(encoding="utf-8")
    changed.write_text(text + "\n\nA new closing paragraph.\n", encoding="utf-8")
    with Store.open(corpus_db) as store:
        service.import_documents(store, [changed], "tester", programme="Small Steps")
        service.add_coders(store, ["amira"], "tester")
        version = store.codebook().version
        units = store.segments()
        ids = {d.id for d in store.documents()}
        assert ids == {"manual", "manual@v2"}
        picks = [u for u in units if u.document_id == "manual@v2"][:2] + units[:1]
        store.add_annotations(
            [Annotation(u.id, "calm", "amira", codebook_version=version) for u in picks],
            "tester",
            complete=[(u.id, "amira") for u in picks],
        )
    return corpus_db


def test_qdpx_names_sources_by_document_name_and_carries_the_version(
    versioned_db: Path, tmp_path: Path, targets: Callable[[], str]
) -> None:
    path = tmp_path / "own.qdpx"
    with Store.open(versioned_db) as store:
        path.write_bytes(export_bytes(store, "qdpx", "qdpx")[1])
        original = {(d.id, d.name, d.version, d.text) for d in store.documents()}
    project = read_qdpx(path.read_bytes(), "own")
    assert sorted((s.name, s.version) for s in project.sources) == [
        ("manual", 1),
        ("manual", 2),
    ]
    copy = targets()
    service.init_study(copy, "tester").close()
    _import(copy, path)
    with Store.open(copy) as store:
        assert {(d.id, d.name, d.version, d.text) for d in store.documents()} == original


def test_reimporting_our_own_qdpx_into_its_study_changes_nothing(
    versioned_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "own.qdpx"
    with Store.open(versioned_db) as store:
        path.write_bytes(export_bytes(store, "qdpx", "qdpx")[1])
    before = state(versioned_db)
    result = _import(versioned_db, path)
    assert not result.documents_added and result.annotations == 0
    assert len(result.documents_reused) == 2
    assert state(versioned_db) == before


# -- 4. drafts are never revealed ---------------------------------------------------------
def test_import_never_completes_a_unit_the_coder_holds_unsubmitted(
    coded_db: Path, tmp_path: Path
) -> None:
    with Store.open(coded_db) as store:
        service.add_coders(store, ["carol"], "tester")
        units = [s.id for s in store.segments()]
        version = store.codebook().version
        store.assign(units[:2], "carol", "tester")
        store.add_annotations(
            [Annotation(units[0], "calm", "carol", memo="draft", codebook_version=version)],
            "carol",
        )
        documents = store.documents()
        segments = store.segments_frame().set_index("segment_id")
        rows = [
            {
                "segment_id": u,
                "document_id": segments.loc[u, "document_id"],
                "coder": "carol",
                "code_id": code,
                "start": int(segments.loc[u, "start"]),
                "end": int(segments.loc[u, "end"]),
                "created_at": "",
            }
            for u, code in ((units[0], "cues"), (units[2], "cues"))
        ]
        content = ProjectContent(
            "p", store.codebook().codebook, documents, ["carol"], pd.DataFrame(rows)
        )
    path = tmp_path / "carol.qdpx"
    path.write_bytes(write_qdpx(content))
    result = _import(coded_db, path)
    assert result.held_units == ((units[0], "carol"),)
    assert any("not yet submitted" in note for note in result.notes)
    with Store.open(coded_db) as store:
        carol = store.assignments_frame(["carol"]).set_index("segment_id")["completed"]
        mine = store.annotations_frame(["carol"])
    assert not carol[units[0]] and not carol[units[1]]  # the draft and the untouched unit
    assert carol[units[2]]  # the unit the import coded
    assert set(zip(mine["segment_id"], mine["code_id"], strict=True)) == {
        (units[0], "calm"),
        (units[2], "cues"),
    }


# -- 5. duplicate GUIDs ------------------------------------------------------------------------
def test_duplicate_source_guids_in_any_case_are_problems(tmp_path: Path) -> None:
    key = _guid("same")
    path = project_file(
        tmp_path / "dup.qdpx",
        [
            Src("alpha", "Alpha text.", [(0, 5, "amy", "x")], guid=key),
            Src("beta", "Beta words here.", [(0, 4, "amy", "x")], guid=key.upper()),
        ],
        ["amy"],
        {"x": "X"},
    )
    with pytest.raises(InvalidInput, match=r"TextSource\[2\] beta: duplicate source guid"):
        read_qdpx(path.read_bytes(), "dup")


def test_duplicate_user_guids_are_problems(tmp_path: Path) -> None:
    key = _guid("u")
    path = project_file(
        tmp_path / "dup.qdpx",
        [Src("doc", "Some text.", [(0, 4, "amy", "x")])],
        [(key, "amy"), ("{" + key.upper() + "}", "bob")],
        {"x": "X"},
    )
    with pytest.raises(InvalidInput, match=r"User\[2\] bob: duplicate user guid"):
        read_qdpx(path.read_bytes(), "dup")


# -- 6. positions of our own exports ----------------------------------------------------------
def test_emoji_before_a_mid_word_span_survives_a_round_trip(
    empty_study: Path, tmp_path: Path, targets: Callable[[], str]
) -> None:
    raw = "\U0001f600 abc def ghi\n\nSecond paragraph \U0001f600 here."
    path = project_file(
        tmp_path / "in.qdpx", [Src("doc", raw, [(3, 6, "amy", "x")])], ["amy"], {"x": "X"}
    )
    _import(empty_study, path, positions="codepoints")
    out = tmp_path / "out.qdpx"
    with Store.open(empty_study) as store:
        out.write_bytes(export_bytes(store, "qdpx", "qdpx")[1])
    copy = targets()
    service.init_study(copy, "tester").close()
    _import(copy, out)
    for study in (empty_study, copy):
        with Store.open(study) as store:
            text = store.documents()[0].text
            spans = {text[r.start : r.end] for r in store.annotations_frame().itertuples()}
        assert spans == {"bc "}


def test_the_boundary_heuristic_needs_a_clear_margin() -> None:
    text = "\U0001f600 abc def ghi jkl"
    one_edge = [(3, 8), (10, 14)]  # UTF-16 reading wins by a single edge only
    assert detect_unit(text, one_edge)[0] is PositionUnit.CODEPOINTS
    assert detect_unit(text, [(3, 6)])[0] is PositionUnit.UTF16
    assert detect_unit(text, [(3, 6)], "Concord")[0] is PositionUnit.CODEPOINTS


# -- 9. reserved coder names -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["consensus", "nlp", "Consensus"])
def test_reserved_user_names_are_renamed_with_a_note(
    empty_study: Path, tmp_path: Path, name: str
) -> None:
    path = project_file(
        tmp_path / "r.qdpx",
        [Src("doc", "Some text here.", [(0, 4, name, "x")])],
        [name],
        {"x": "X"},
    )
    result = _import(empty_study, path)
    assert result.coders_added == (f"{name}-imported",)
    assert any("reserves" in note for note in result.notes)


# -- 10. smaller things ------------------------------------------------------------------------
def test_a_coding_of_the_whole_source_covers_every_unit(empty_study: Path, tmp_path: Path) -> None:
    path = project_file(
        tmp_path / "w.qdpx",
        [Src("doc", "One para.\n\nTwo para.", whole=[("amy", "x")])],
        ["amy"],
        {"x": "X"},
    )
    result = _import(empty_study, path)
    assert result.annotations == 2 and any("whole source" in n for n in result.notes)


def test_source_names_with_dots_keep_their_whole_name(empty_study: Path, tmp_path: Path) -> None:
    sources = [
        Src("Interview 1.2 (final)", "First interview."),
        Src("Interview 1.3 (final)", "Second interview."),
    ]
    path = project_file(tmp_path / "n.qdpx", sources, ["amy"], {"x": "X"})
    result = _import(empty_study, path)
    assert sorted(result.documents_added) == ["interview-1-2-final", "interview-1-3-final"]


def test_duplicate_zip_entries_are_refused(empty_study: Path, tmp_path: Path) -> None:
    path = project_file(
        tmp_path / "d.qdpx", [Src("doc", "Text.", [(0, 4, "amy", "x")])], ["amy"], {"x": "X"}
    )
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("project.qde", b"<Project/>")
    before = state(empty_study)
    with pytest.raises(InvalidInput, match="two entries"):
        _import(empty_study, path)
    assert state(empty_study) == before


def test_an_oversized_file_is_refused_unread(empty_study: Path, tmp_path: Path) -> None:
    path = project_file(
        tmp_path / "big.qdpx",
        [Src("doc", "Text " * 500, [(0, 4, "amy", "x")])],
        ["amy"],
        {"x": "X"},
    )
    with Store.open(empty_study) as store, pytest.raises(InvalidInput, match="the limit is 100"):
        import_qdpx(store, path, "tester", max_bytes=100)
