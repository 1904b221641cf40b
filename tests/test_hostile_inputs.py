"""Hostile and broken inputs: every one is refused with its file and place, and changes nothing.

CSV readers (codings, pre-segmented documents, manifests, codebooks, reliability layouts) must
not let a stray quote swallow rows; YAML aliases, zip bombs and huge files must not exhaust
memory or time.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from coding import service
from coding.agreement.layouts import read_layout
from coding.cli import cli
from coding.codebook import read_codebook
from coding.corpus import read_presegmented, read_source
from coding.csvfile import parse_csv
from coding.errors import CodingError, InvalidInput
from coding.store import Store
from tests.conftest import DATA
from tests.snapshot import snapshot

pytestmark = pytest.mark.both_engines


def _refused(study: Path, action: Callable[[Store], object]) -> str:
    """Run ``action`` on the study; it must raise InvalidInput and leave the study as it was."""
    before = snapshot(study)
    with Store.open(study) as store, pytest.raises(InvalidInput) as caught:
        action(store)
    after = snapshot(study)
    assert after == before
    assert after.integrity in ("ok", "n/a")  # n/a: PostgreSQL has no integrity_check
    return str(caught.value)


@pytest.fixture
def coders_db(corpus_db: Path) -> Path:
    """The small corpus with coders amira and ben, nothing coded yet."""
    with Store.open(corpus_db) as store:
        service.add_coders(store, ["amira", "ben"], "tester")
    return corpus_db


def _unit_ids(study: Path) -> list[str]:
    with Store.open(study) as store:
        return [s.id for s in store.segments()]


def _import(path: Path, complete: str = "documents") -> Callable[[Store], object]:
    return lambda store: service.import_codings(store, path, "tester", complete=complete)


# -- item 1: CSV --------------------------------------------------------------------------------
def test_unterminated_quote_in_a_codings_memo_is_refused(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text(
        "segment_id,coder,code,memo\n"
        f'{u[0]},amira,calm,"starts a memo and never closes it\n'
        f"{u[1]},amira,cues,\n"
        f"{u[2]},ben,cues,\n"
        f"{u[3]},ben,calm,\n",
        encoding="utf-8",
    )
    message = _refused(coders_db, _import(path, complete="documents"))
    assert str(path) in message
    assert "line 2: a quote opened in this row is never closed" in message


def test_quote_closed_rows_later_is_refused_even_in_a_memo(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text(
        "segment_id,coder,code,memo\n"
        f'{u[0]},amira,calm,"open here\n'
        f"{u[1]},amira,cues,\n"
        f"{u[2]},ben,cues,\n"
        f'{u[3]},ben,calm,closes here"\n',
        encoding="utf-8",
    )
    message = _refused(coders_db, _import(path))
    assert "row 2: the value of 'memo' spans lines 2-5 and holds what read as whole rows" in message


def test_value_spanning_lines_outside_the_memo_is_refused(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text(
        f'segment_id,coder,code\n{u[0]},amira,"calm\n{u[1]},amira,cues"\n', encoding="utf-8"
    )
    message = _refused(coders_db, _import(path))
    assert "row 2: the value of 'code' spans lines 2-3, which this file does not allow" in message


def test_memo_over_several_lines_is_still_imported(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_bytes(
        (
            "\ufeffsegment_id,coder,code,memo\r\n"
            f'{u[0]},amira,calm,"first line\r\nsecond line, with a comma"\r\n'
            f"{u[1]},amira,cues,\r\n"
        ).encode()
    )
    with Store.open(coders_db) as store:
        result = service.import_codings(store, path, "tester")
        memos = sorted(store.annotations_frame()["memo"])
    assert result.rows == 2
    assert memos == ["", "first line\nsecond line, with a comma"]


@pytest.mark.parametrize(("sep", "name"), [(";", "';'"), ("\t", "tab")])
def test_semicolon_or_tab_separated_codings_are_named(
    coders_db: Path, tmp_path: Path, sep: str, name: str
) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text(sep.join(["segment_id", "coder", "code"]) + f"\n{u[0]}{sep}amira{sep}calm\n")
    message = _refused(coders_db, _import(path))
    assert f"line 1: the header looks {name}-separated" in message


def test_rows_with_extra_or_missing_cells_are_refused(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text(
        "segment_id,coder,code,memo\n"
        f"{u[0]},amira,calm,fine\n"
        f"{u[1]},amira,cues,a memo, with an unquoted comma\n"
        f"{u[2]},ben\n",
        encoding="utf-8",
    )
    message = _refused(coders_db, _import(path))
    assert "row 3: 5 cells, header has 4" in message
    assert "row 4: 2 cells, header has 4" in message


def test_quoted_value_followed_by_text_is_refused(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text(f'segment_id,coder,code,memo\n{u[0]},amira,calm,"said "hi" twice"\n')
    message = _refused(coders_db, _import(path))
    assert "row 2: a quoted value is followed by more text" in message


def test_non_utf8_codings_name_line_and_byte(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_bytes(f"segment_id,coder,code,memo\n{u[0]},amira,calm,caf".encode() + b"\xe9\n")
    bad_byte = path.read_bytes().index(b"\xe9")
    message = _refused(coders_db, _import(path))
    assert f"line 2, byte {bad_byte}: not valid UTF-8" in message


def test_column_named_twice_is_refused(coders_db: Path, tmp_path: Path) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text(f"segment_id,coder,code,code\n{u[0]},amira,calm,cues\n")
    message = _refused(coders_db, _import(path))
    assert "line 1: column 'code' appears twice" in message


def test_stray_quote_in_a_presegmented_csv_is_refused(study: Path, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "document_id,segment_id,text\n"
        'prog_a,p1,"The parent calms down.\n'
        "prog_a,p2,Staff notice cues.\n"
        "prog_a,p3,A home visit.\n",
        encoding="utf-8",
    )
    message = _refused(study, lambda s: service.import_documents(s, [path], "tester"))
    assert "line 2: a quote opened in this row is never closed" in message


def test_presegmented_text_may_span_lines(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text('document_id,segment_id,text\nd,s1,"one\n\ntwo"\nd,s2,three\n')
    rows = read_presegmented(path)
    assert [(r.segment_id, r.text) for r in rows] == [("s1", "one\n\ntwo"), ("s2", "three")]


def test_stray_quote_in_a_manifest_is_refused(study: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Some text.\n")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text('file,document_id,title\na.txt,a,"Title\nb.txt,b,Other\n')
    message = _refused(
        study,
        lambda s: service.import_documents(s, [tmp_path / "a.txt"], "tester", manifest=manifest),
    )
    assert str(manifest) in message
    assert "line 2: a quote opened in this row is never closed" in message


def test_stray_quote_in_a_codebook_csv_is_refused(study: Path, tmp_path: Path) -> None:
    lines = (DATA / "codebook_small.csv").read_text().splitlines()
    lines[1] = lines[1].replace("The parent manages", '"The parent manages')
    path = tmp_path / "codebook.csv"
    path.write_text("\n".join(lines) + "\nextra,Extra,,,A third code.,,,,,\n")
    message = _refused(study, lambda s: service.load_codebook(s, path, "tester"))
    assert "line 2: a quote opened in this row is never closed" in message


def test_codebook_csv_definition_may_span_lines(tmp_path: Path) -> None:
    path = tmp_path / "codebook.csv"
    path.write_text('id,name,definition\ncalm,Calm,"First line.\nSecond line."\n')
    codebook, _ = read_codebook(path)
    assert codebook.codes[0].definition == "First line.\nSecond line."


def test_codebook_csv_extra_cells_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "codebook.csv"
    path.write_text("id,name,definition\ncalm,Calm,Manages distress, calmly\n")
    with pytest.raises(InvalidInput, match="row 2: 4 cells, header has 3"):
        read_codebook(path)


def test_stray_quote_in_a_reliability_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('unit,a,b\nu1,"x,y\nu2,x,x\nu3,y,y\n')
    with pytest.raises(InvalidInput, match="line 2: a quote opened in this row is never closed"):
        read_layout(path, "units-by-coders")
    with pytest.raises(InvalidInput, match="never closed"):
        read_layout(io.StringIO(path.read_text()), "units-by-coders")


def test_reliability_cli_names_a_semicolon_separated_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("unit;a;b\nu1;x;y\nu2;x;x\n")
    result = CliRunner().invoke(cli, ["reliability", str(path)])
    assert result.exit_code == 1
    assert "line 1: the header looks ';'-separated" in result.output
    assert "Traceback" not in result.output


def test_parse_csv_reports_a_header_left_open() -> None:
    with pytest.raises(InvalidInput, match="line 1: a quote opened in this row is never closed"):
        parse_csv('"id,name\n1,a\n', "f.csv")


# -- item 4: unbounded inputs -------------------------------------------------------------------
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
codebook: {id: bomb, name: Bomb, description: *i}
codes:
  - {id: calm, name: Calm, definition: *i}
"""


def test_yaml_alias_bomb_is_refused_at_its_first_anchor(study: Path, tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS)
    # refused at line 1, the first anchor: nothing is expanded (speed is not asserted here)
    with pytest.raises(InvalidInput, match="line 1: anchors and aliases"):
        read_codebook(path)
    message = _refused(study, lambda s: service.load_codebook(s, path, "tester"))
    assert "line 1: anchors and aliases (&name, *name) are not allowed" in message


def test_yaml_alias_for_a_long_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_text(
        "codebook: {id: c, name: C}\n"
        "codes:\n"
        "  - id: calm\n"
        "    name: Calm\n"
        "    definition: &long The parent manages their own distress.\n"
        "  - {id: cues, name: Cues, definition: *long}\n"
    )
    with pytest.raises(InvalidInput, match="line 5: anchors and aliases"):
        read_codebook(path)


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        ("json", "[" * 100_000, "file: nested too deeply"),
        ("yaml", "[" * 100_000, "line 1: nested more than 50 levels deep"),
        ("yaml", "- " * 50_000, "line 1: nested more than 50 levels deep"),
    ],
)
def test_deeply_nested_codebook_is_refused(
    tmp_path: Path, fmt: str, text: str, message: str
) -> None:
    path = tmp_path / f"deep.{fmt}"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        read_codebook(path)


def _docx(extra: dict[str, bytes] | None = None, document_xml: bytes | None = None) -> bytes:
    import docx

    made = docx.Document()
    made.add_heading("Manual", level=1)
    made.add_paragraph("The parent calms down.")
    buffer = io.BytesIO()
    made.save(buffer)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "word/document.xml" and document_xml is not None:
                content = document_xml
            dst.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def test_docx_zip_bomb_is_refused_with_the_file_name(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_MAX_DOCX_MB", "1")
    path = tmp_path / "bomb.docx"
    path.write_bytes(_docx({"word/media/filler.bin": b"\0" * 3_000_000}))
    assert path.stat().st_size < 100_000
    message = _refused(study, lambda s: service.import_documents(s, [path], "tester"))
    assert str(path) in message
    assert "word/media/filler.bin: decompressed size exceeds the limit of 1000000 bytes" in message


def test_docx_with_broken_xml_names_the_file(study: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(_docx(document_xml=b"<w:document><w:body><w:p>"))
    message = _refused(study, lambda s: service.import_documents(s, [path], "tester"))
    assert f"{path}: file: not a readable .docx file: broken XML" in message


def test_docx_within_the_limits_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.docx"
    path.write_bytes(_docx())
    assert read_source(path).text == "## Manual\n\nThe parent calms down."


def test_huge_text_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(200_000_000)  # sparse: no disk space used
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as caught:
            read_source(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000
    assert "the file is 200.0 MB; the limit is 50 MB (set CONCORD_MAX_DOCUMENT_MB" in str(
        caught.value
    )


def test_document_limit_is_configurable(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("A paragraph of notes.\n" * 100)
    monkeypatch.setenv("CONCORD_MAX_DOCUMENT_MB", "0.001")
    message = _refused(study, lambda s: service.import_documents(s, [path], "tester"))
    assert "the limit is 0.001 MB (set CONCORD_MAX_DOCUMENT_MB to change it)" in message
    monkeypatch.setenv("CONCORD_MAX_DOCUMENT_MB", "1")
    assert read_source(path).text.startswith("A paragraph")


def test_csv_limit_is_configurable(
    coders_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    u = _unit_ids(coders_db)
    path = tmp_path / "codings.csv"
    path.write_text("segment_id,coder,code\n" + f"{u[0]},amira,calm\n" * 50)
    monkeypatch.setenv("CONCORD_MAX_CSV_MB", "0.001")
    message = _refused(coders_db, _import(path))
    assert "(set CONCORD_MAX_CSV_MB to change it)" in message
    with pytest.raises(InvalidInput, match="CONCORD_MAX_CSV_MB"):
        read_layout(io.StringIO(path.read_text()), "long")


def test_codebook_limit_is_configurable(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_MAX_CODEBOOK_MB", "0.0001")
    message = _refused(study, lambda s: service.load_codebook(s, DATA / "codebook_small.yaml", "t"))
    assert "the codebook is" in message and "CONCORD_MAX_CODEBOOK_MB" in message


def test_a_bad_limit_setting_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_MAX_CSV_MB", "lots")
    with pytest.raises(CodingError, match="CONCORD_MAX_CSV_MB='lots': give a positive number"):
        read_presegmented(DATA / "presegmented.csv")
