"""Importing REFI-QDA projects: each real-world quirk has its own small hand-written file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from coding import service
from coding.errors import InvalidInput
from coding.refi.locate import locate
from coding.refi.positions import PositionMap, PositionUnit, detect_unit, utf16_offsets
from coding.refi.qdc import read_qdc
from coding.refi.qdpx_read import read_qdpx
from coding.service.refi import import_qdpx
from coding.store import Store
from coding.xmlzip import read_archive

pytestmark = pytest.mark.both_engines

REFI = Path(__file__).parent / "data" / "refi"


def build_qdpx(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """Zip a fixture folder as written, every file under its relative path."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.writestr(path.relative_to(folder).as_posix(), path.read_bytes())
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write_qdpx(tmp_path: Path, case: str, **kwargs: dict[str, bytes]) -> Path:
    path = tmp_path / f"{case}.qdpx"
    path.write_bytes(build_qdpx(REFI / case, **kwargs))
    return path


@pytest.fixture
def empty_study(tmp_path: Path) -> Path:
    path = tmp_path / "empty.db"
    service.init_study(path, "tester").close()
    return path


def spans(study: Path) -> set[tuple[str, str, str]]:
    """(coder, code, coded text) for every annotation in a study."""
    with Store.open(study) as store:
        texts = {d.id: d.text for d in store.documents()}
        frame = store.annotations_frame()
    return {
        (r.coder, r.code_id, texts[r.document_id][r.start : r.end])
        for r in frame.itertuples(index=False)
    }


# -- positions -----------------------------------------------------------------------------
def test_utf16_positions_shift_by_one_per_astral_character() -> None:
    text = "a\U0001f600b\U0001f600c"
    offsets = utf16_offsets(text)
    assert offsets == [0, 1, 3, 4, 6, 7]
    mapping = PositionMap(text, PositionUnit.UTF16)
    assert mapping.span(4, 7) == (3, 5)  # "\U0001F600c" read as UTF-16
    assert PositionMap(text, PositionUnit.CODEPOINTS).span(3, 5) == (3, 5)


def test_a_utf16_position_inside_a_surrogate_pair_is_rejected() -> None:
    assert PositionMap("\U0001f600x", PositionUnit.UTF16).span(1, 3) is None


def test_detection_prefers_codepoints_without_astral_characters() -> None:
    unit, reason = detect_unit("plain text", [(0, 5)])
    assert unit is PositionUnit.CODEPOINTS and "agree" in reason


def test_raw_crlf_positions_map_to_normalised_offsets() -> None:
    mapping = PositionMap("ab\r\ncd", PositionUnit.CODEPOINTS)
    assert mapping.text == "ab\ncd"
    assert mapping.span(4, 6) == (3, 5)


# -- quirks ----------------------------------------------------------------------------------
def test_nvivo_utf16_positions_with_emoji_are_converted(empty_study: Path, tmp_path: Path) -> None:
    result = import_qdpx(Store.open(empty_study), write_qdpx(tmp_path, "nvivo_utf16"), "tester")
    assert spans(empty_study) == {
        ("Amira_K", "calm", "staying calm"),
        ("ben", "trust", "build trust"),
    }
    assert any("utf16" in note for note in result.notes)


def test_codepoint_positions_with_emoji_are_detected(empty_study: Path, tmp_path: Path) -> None:
    import_qdpx(Store.open(empty_study), write_qdpx(tmp_path, "codepoints_emoji"), "tester")
    assert ("Amira_K", "calm", "staying calm") in spans(empty_study)


def test_forcing_the_wrong_unit_fails_cleanly(empty_study: Path, tmp_path: Path) -> None:
    path = write_qdpx(tmp_path, "nvivo_utf16")
    with Store.open(empty_study) as store:
        import_qdpx(store, path, "tester", positions="codepoints", min_overlap=0.1)
    assert ("Amira_K", "calm", "staying calm") not in spans(empty_study)


def test_windows_bom_crlf_and_upper_case_sources_folder(empty_study: Path, tmp_path: Path) -> None:
    import_qdpx(Store.open(empty_study), write_qdpx(tmp_path, "windows"), "tester")
    assert spans(empty_study) == {("Amira_K", "calm", "stays calm"), ("ben", "trust", "trust")}
    with Store.open(empty_study) as store:
        text = store.documents()[0].text
    assert "\r" not in text and not text.startswith("\ufeff")


def test_mac_root_entry_and_codebook_namespace_0_4(empty_study: Path, tmp_path: Path) -> None:
    result = import_qdpx(Store.open(empty_study), write_qdpx(tmp_path, "mac"), "tester")
    assert spans(empty_study) == {("Amira_K", "trust", "We trust the staff.")}
    assert any(".root" in note for note in result.notes)


def test_empty_sets_is_tolerated_with_a_warning(empty_study: Path, tmp_path: Path) -> None:
    result = import_qdpx(Store.open(empty_study), write_qdpx(tmp_path, "empty_sets"), "tester")
    assert any("<Sets/>" in note for note in result.notes)
    assert len(spans(empty_study)) == 1


def test_bare_relative_plain_text_path(empty_study: Path, tmp_path: Path) -> None:
    result = import_qdpx(Store.open(empty_study), write_qdpx(tmp_path, "bare_path"), "tester")
    assert spans(empty_study) == {("ben", "trust", "We trust the staff.")}
    assert any("bare relative" in note for note in result.notes)


def test_project_without_namespace(empty_study: Path, tmp_path: Path) -> None:
    import_qdpx(Store.open(empty_study), write_qdpx(tmp_path, "no_namespace"), "tester")
    assert len(spans(empty_study)) == 1


def test_coding_creating_user_wins_over_the_selection(tmp_path: Path) -> None:
    project = read_qdpx(build_qdpx(REFI / "both_users"), "both_users")
    coders = {(c.code_id, c.coder) for c in project.codings}
    assert coders == {("trust", "ben"), ("calm", "ben")}
    assert any("Coding@creatingUser was used" in w for w in project.warnings)
    assert any("PlainTextSelection@creatingUser" in w for w in project.warnings)


def test_guids_of_any_case_and_braces_resolve() -> None:
    project = read_qdpx(build_qdpx(REFI / "windows"), "windows")
    assert {c.code_id for c in project.codings} == {"calm", "trust"}


@pytest.mark.parametrize("name", ["codebook_1_0.qdc", "codebook_0_4.qdc"])
def test_qdc_namespaces_and_plain_descriptions(name: str) -> None:
    book, _ = read_qdc((REFI / name).read_bytes(), name)
    calm, trust = book.codes
    assert calm.definition.startswith("Plain description") and "Inclusion:" in calm.definition
    assert calm.inclusion == () and calm.colour == "#1B9E77"
    assert trust.parent == "calm" and trust.id == "trust_in_staff"


def test_locate_reports_positions_outside_the_text() -> None:
    project = read_qdpx(build_qdpx(REFI / "mac"), "mac")
    project.codings[0] = type(project.codings[0])(
        project.codings[0].source, 5, 999, "trust", "x", "here"
    )
    _texts, _located, _notes, problems = locate(project, "codepoints")
    assert problems and "does not fit" in problems[0].message


# -- hostile and broken archives ----------------------------------------------------------
def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _unchanged_after(study: Path, path: Path) -> None:
    with Store.open(study) as store:
        before = store.revision()
        with pytest.raises(InvalidInput):
            import_qdpx(store, path, "tester", max_bytes=1_000_000)
        assert store.revision() == before


def test_zip_slip_is_refused(empty_study: Path, tmp_path: Path) -> None:
    path = tmp_path / "slip.qdpx"
    path.write_bytes(build_qdpx(REFI / "mac", extra={"../evil.txt": b"x"}))
    _unchanged_after(empty_study, path)
    with pytest.raises(InvalidInput, match="escapes"):
        read_archive(path.read_bytes(), "slip.qdpx")


def test_zip_bomb_over_the_cap_is_refused(empty_study: Path, tmp_path: Path) -> None:
    path = tmp_path / "bomb.qdpx"
    path.write_bytes(build_qdpx(REFI / "mac", extra={"sources/big.txt": b"0" * 3_000_000}))
    assert path.stat().st_size < 50_000
    _unchanged_after(empty_study, path)
    with pytest.raises(InvalidInput, match="exceeds the limit"):
        read_archive(path.read_bytes(), "bomb", max_total=1_000_000)


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("malformed.qde", "malformed XML"),
        ("xxe.qde", "DOCTYPE"),
    ],
)
def test_hostile_or_broken_xml_is_refused(
    empty_study: Path, tmp_path: Path, fixture: str, message: str
) -> None:
    path = tmp_path / "bad.qdpx"
    path.write_bytes(_zip({"project.qde": (REFI / fixture).read_bytes()}))
    _unchanged_after(empty_study, path)
    with pytest.raises(InvalidInput, match=message):
        read_qdpx(path.read_bytes(), "bad")


def test_not_a_zip_is_refused(empty_study: Path, tmp_path: Path) -> None:
    path = tmp_path / "plain.qdpx"
    path.write_bytes(b"this is not a zip")
    _unchanged_after(empty_study, path)


def test_missing_source_text_is_an_error_and_nothing_is_written(
    empty_study: Path, tmp_path: Path
) -> None:
    path = tmp_path / "nosource.qdpx"
    path.write_bytes(_zip({"project.qde": (REFI / "mac" / "project.qde").read_bytes()}))
    _unchanged_after(empty_study, path)
