"""Importing sources: normalisation, each file type, bad input, versions."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from coding import service
from coding.corpus import normalise, normalise_with_map, read_source
from coding.errors import InvalidInput
from coding.model import ProgressEvent
from coding.store import Store

pytestmark = pytest.mark.both_engines

DATA = Path(__file__).parent / "data"


def test_crlf_and_bom_are_normalised() -> None:
    source = read_source(DATA / "crlf.txt")
    assert "\r" not in source.text and source.text.startswith("Café notes.\n\nSecond")


@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                "e\u0301",
                "\r\n",
                "\r",
                "\n",
                "\u00e9",
                " ",
                "\ufeff",
                "x",
                "\u0301",
                "\u0323",
                "\u1100",
                "\u1161",
                "\u11a8",
                "\u0bc6",
                "\u0bbe",
                "\u0b95",
                "\u212b",
                "\U0001f600",
                "\u2028",
            ]  # accents, Hangul jamo, Tamil vowel signs, emoji
        ),
        max_size=40,
    ).map("".join)
)
@example("\u00e9\u0301\u0323")  # the dot below moves before the acute and joins the e
@settings(max_examples=max(300, settings.default.max_examples))  # cheap: more than most
def test_offset_map_points_back_into_the_raw_text(raw: str) -> None:
    text, positions = normalise_with_map(raw)
    assert text == normalise(raw)
    assert len(positions) == len(text) + 1
    assert positions == sorted(positions)
    for i, char in enumerate(text):
        if char == "\n":
            assert raw[positions[i]] in "\r\n\u2028\u2029"
        elif not unicodedata.combining(char):
            # A base character maps to the raw character it was composed from.
            nfd = unicodedata.normalize("NFD", raw[positions[i]])
            assert nfd[0] == unicodedata.normalize("NFD", char)[0], (i, char)
    # Cutting the raw text at the mapped positions of line starts gives the same lines.
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    for a, b in zip(starts, [*starts[1:], len(text) + 1], strict=True):
        end = positions[b - 1] if b <= len(text) else len(raw)
        piece = re.sub("\r\n?|\u2028|\u2029", "\n", raw[positions[a] : end])
        assert unicodedata.normalize("NFC", piece).removeprefix("\n") == text[a : b - 1]


def test_markdown_title_comes_from_the_first_heading() -> None:
    assert read_source(DATA / "manual.md").title == "Small Steps Manual"


def test_docx_headings_become_markdown_headings(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Family Time", level=1)
    document.add_paragraph("Parents and infants play together.")
    document.save(str(tmp_path / "m.docx"))
    source = read_source(tmp_path / "m.docx")
    assert source.text == "## Family Time\n\nParents and infants play together."


def _pdf(path: Path, lines: list[str]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.rect(50, 50, 100, 100)
    for i, line in enumerate(lines):
        pdf.drawString(72, 760 - 14 * i, line)
    pdf.save()
    return path


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    source = read_source(_pdf(tmp_path / "m.pdf", ["Staff soothe the parent."]))
    assert "Staff soothe the parent." in source.text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.txt", "the document is empty"),
        ("blank.txt", "the document is empty"),
        ("latin1.txt", "line 1, byte 3: not valid UTF-8"),
    ],
)
def test_bad_text_files_get_a_clear_error_naming_the_file(name: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_source(DATA / name)
    assert caught.value.source.endswith(name)
    assert message in str(caught.value)


def test_scanned_pdf_without_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no extractable text"):
        read_source(_pdf(tmp_path / "scan.pdf", []))


def test_unsupported_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.rtf").write_text("x")
    (tmp_path / "b.docx").write_text("not a zip")
    with pytest.raises(InvalidInput, match=r"unsupported file type \.rtf"):
        read_source(tmp_path / "a.rtf")
    with pytest.raises(InvalidInput, match=r"not a readable \.docx"):
        read_source(tmp_path / "b.docx")


def test_one_bad_file_means_nothing_is_imported(store: Store) -> None:
    before = store.revision()
    with pytest.raises(InvalidInput) as caught:
        service.import_documents(store, [DATA / "manual.md", DATA / "empty.txt"], "tester")
    assert "empty.txt" in str(caught.value)
    assert store.documents() == [] and store.revision() == before


def test_reimporting_an_unchanged_file_is_a_no_op(corpus_db: Path) -> None:
    with Store.open(corpus_db) as store:
        before = store.revision()
        results = service.import_documents(store, [DATA / "manual.md"], "tester")
        assert [r.status for r in results] == ["unchanged"]
        assert store.revision() == before


def test_a_changed_file_becomes_a_new_version(corpus_db: Path, tmp_path: Path) -> None:
    changed = tmp_path / "manual.md"
    changed.write_text((DATA / "manual.md").read_text() + "\nA new closing paragraph.\n")
    with Store.open(corpus_db) as store:
        results = service.import_documents(store, [changed], "tester")
        assert [(r.document_id, r.status) for r in results] == [("manual@v2", "new version")]
        assert [d.version for d in store.document_versions("manual")] == [1, 2]
        assert store.document("manual").text == normalise((DATA / "manual.md").read_text())


def test_segment_ids_are_stable_across_studies(tmp_path: Path, small_codebook: Path) -> None:
    ids = []
    for name in ("a.db", "b.db"):
        with service.init_study(tmp_path / name, "t", small_codebook) as store:
            service.import_documents(store, [DATA / "manual.md"], "t")
            ids.append([s.id for s in store.segments()])
    assert ids[0] == ids[1]


def test_presegmented_csv_keeps_segments_and_their_ids(store: Store) -> None:
    results = service.import_documents(store, [DATA / "presegmented.csv"], "tester")
    assert [(r.document_id, r.segments) for r in results] == [("prog_a", 2), ("prog_b", 1)]
    doc = store.document("prog_a")
    segs = store.segments(document_id="prog_a")
    assert [s.label for s in segs] == ["p1", "p2"]
    assert all(doc.text[s.start : s.end] == s.text for s in segs)
    assert doc.programme == "Alpha"


def test_presegmented_csv_reports_duplicates_and_empty_cells(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.import_documents(store, [DATA / "presegmented_dup.csv"], "tester")
    text = str(caught.value)
    assert "row 3: duplicate segment_id 'p1' in document 'prog_a' (first at row 2)" in text
    assert "row 4: 'text' is empty" in text


def test_manifest_sets_ids_programmes_and_titles(store: Store, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,document_id,programme,title\nmanual.md,steps,Small Steps,Steps\n")
    service.import_documents(store, [DATA / "manual.md"], "tester", manifest=manifest)
    doc = store.document("steps")
    assert (doc.programme, doc.title) == ("Small Steps", "Steps")


def test_import_reports_typed_progress_in_order(store: Store, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,document_id,programme\nManual.md,steps,Small Steps\n")
    second = tmp_path / "second.txt"
    second.write_text("A second source.\n\nWith two paragraphs.\n")
    events: list[ProgressEvent] = []
    files = [DATA / "manual.md", second]
    service.import_documents(store, files, "t", manifest=manifest, on_progress=events.append)
    unlisted = "is not in the manifest; using id {!r} and no programme"
    assert events == [
        ProgressEvent("reading", 0, 2, str(files[0])),
        ProgressEvent(
            "reading", 0, 2, str(files[0]), note="manual.md " + unlisted.format("manual")
        ),
        ProgressEvent("reading", 1, 2, str(second)),
        ProgressEvent("reading", 1, 2, str(second), note="second.txt " + unlisted.format("second")),
        ProgressEvent("reading", 2, 2),
        ProgressEvent(
            "reading", 2, 2, str(manifest), "manifest rows for files not imported here: Manual.md"
        ),
        ProgressEvent("storing", item="2 document(s)"),
    ]


def test_an_import_that_stores_nothing_reports_no_storing(corpus_db: Path) -> None:
    events: list[ProgressEvent] = []
    with Store.open(corpus_db) as store:
        service.import_documents(store, [DATA / "manual.md"], "t", on_progress=events.append)
    assert [e.stage for e in events] == ["reading", "reading"]


def test_a_file_the_manifest_does_not_name_is_noted_with_the_programme_given(
    store: Store, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,document_id\nother.md,other\n")
    events: list[ProgressEvent] = []
    service.import_documents(
        store,
        [DATA / "manual.md"],
        "t",
        programme="Small Steps",
        manifest=manifest,
        on_progress=events.append,
    )
    assert [e.note for e in events if e.note] == [
        "manual.md is not in the manifest; using id 'manual' and programme 'Small Steps'",
        "manifest rows for files not imported here: other.md",
    ]
    assert store.document("manual").programme == "Small Steps"
