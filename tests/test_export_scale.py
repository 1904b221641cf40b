"""Exports of large studies: the theme report's excerpt cap and its counts, progress events
and the CLI's progress bar, and the streamed writers (same output a chunk at a time)."""

from __future__ import annotations

import gc
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from coding import service
from coding.cli import cli
from coding.cli.export import ProgressBar
from coding.errors import CodingError
from coding.export import document as doc
from coding.export.cells import csv_text, write_csv
from coding.export.records import records, write_json
from coding.export.xlsx import workbook_bytes, write_workbook
from coding.model import ProgressEvent
from coding.service.export import export_bytes, export_study
from coding.store import Store
from tests.conftest import write_codings

QUOTE_END = re.compile(r"^> \u2014 \*", re.MULTILINE)  # the line under each quoted excerpt


@pytest.fixture
def agreed_db(corpus_db: Path, tmp_path: Path) -> Path:
    """Two programmes (4 and 5 units); both coders apply 'calm' and 'cues' to every unit."""
    second = tmp_path / "second.txt"
    second.write_text("\n\n".join(f"Paragraph {i} on calm and cues." for i in range(5)))
    with Store.open(corpus_db) as store:
        service.import_documents(store, [second], "tester", programme="Other")
        service.add_coders(store, ["amira", "ben"], "tester")
        rows = [
            (unit.id, coder, code)
            for unit in store.segments()
            for coder in ("amira", "ben")
            for code in ("calm", "cues")
        ]
        service.import_codings(store, write_codings(tmp_path / "codings.csv", rows), "tester")
    return corpus_db


def _final_counts(csv_path: Path) -> dict[tuple[str, str], int]:
    """(code_id, programme) -> segments with the code as a final code, from the CSV."""
    rows = pd.read_csv(csv_path, keep_default_na=False)
    final = rows[rows["final"] == "yes"]
    return {k: int(n) for k, n in final.groupby(["code_id", "programme"]).size().items()}


def _sections(markdown: str) -> dict[str, str]:
    """The report's code sections by code id ("## Name (id)")."""
    found = {}
    for part in markdown.split("\n## ")[1:]:
        heading = part.split("\n", 1)[0].replace("\\", "")  # Markdown escapes the brackets
        if heading.endswith(")") and "(" in heading:
            found[heading.rsplit("(", 1)[1][:-1]] = part
    return found


def test_theme_report_caps_excerpts_and_counts_what_it_left_out(
    agreed_db: Path, tmp_path: Path
) -> None:
    with Store.open(agreed_db) as store:
        export_study(store, tmp_path / "out", ["segments", "themes"], ["csv", "md"], excerpts=1)
    counts = _final_counts(tmp_path / "out" / "coded_segments.csv")
    assert counts == {
        ("calm", "Other"): 5,
        ("calm", "Small Steps"): 4,
        ("cues", "Other"): 5,
        ("cues", "Small Steps"): 4,
    }
    report = (tmp_path / "out" / "theme_report.md").read_text(encoding="utf-8")
    sections = _sections(report)
    for (code_id, _programme), total in counts.items():
        section = sections[code_id]
        if total > 1:
            assert f"Showing 1 of {total:,d} excerpts; the full list is in" in section
    assert len(QUOTE_END.findall(report)) == len(counts)  # one excerpt per code and programme
    left_out = sum(total - 1 for total in counts.values())
    assert f"{left_out:,d} of {sum(counts.values()):,d} excerpts are not quoted here" in report
    assert "coded_segments.csv" in report.replace("\\", "")  # Markdown escapes the "_"


def test_uncapped_report_quotes_every_final_code(agreed_db: Path, tmp_path: Path) -> None:
    with Store.open(agreed_db) as store:
        export_study(store, tmp_path / "all", ["segments", "themes"], ["csv", "md"], excerpts=None)
        export_study(store, tmp_path / "big", ["themes"], ["md"], excerpts=1000)
    counts = _final_counts(tmp_path / "all" / "coded_segments.csv")
    report = (tmp_path / "all" / "theme_report.md").read_text(encoding="utf-8")
    assert len(QUOTE_END.findall(report)) == sum(counts.values())
    assert "Showing" not in report and "not quoted here" not in report
    # A cap no cell reaches changes nothing.
    assert (tmp_path / "big" / "theme_report.md").read_text(encoding="utf-8") == report


def test_the_cap_leaves_the_coded_segments_whole(agreed_db: Path) -> None:
    with Store.open(agreed_db) as store:
        capped = export_bytes(store, "segments", "csv", excerpts=0)[1]
        whole = export_bytes(store, "segments", "csv", excerpts=None)[1]
        report = export_bytes(store, "themes", "md", excerpts=0)[1].decode()
    assert capped == whole
    assert not QUOTE_END.findall(report) and "Showing 0 of" in report


def test_a_negative_cap_is_refused(coded_db: Path, tmp_path: Path) -> None:
    with Store.open(coded_db) as store, pytest.raises(CodingError, match="0 or more"):
        export_study(store, tmp_path / "out", ["themes"], excerpts=-1)
    assert not (tmp_path / "out").exists()


def test_cli_excerpts_option(agreed_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["export", str(agreed_db), "--only", "themes", "--format", "md"]
    capped = runner.invoke(cli, [*base, "--to", str(tmp_path / "a"), "--excerpts", "1"])
    assert capped.exit_code == 0, capped.output
    assert "Showing 1 of" in (tmp_path / "a" / "theme_report.md").read_text(encoding="utf-8")
    whole = runner.invoke(cli, [*base, "--to", str(tmp_path / "b"), "--excerpts", "all"])
    assert whole.exit_code == 0, whole.output
    assert "Showing" not in (tmp_path / "b" / "theme_report.md").read_text(encoding="utf-8")
    bad = runner.invoke(cli, [*base, "--to", str(tmp_path / "c"), "--excerpts", "many"])
    assert bad.exit_code != 0 and "--excerpts takes a number" in bad.output


def test_export_reports_each_stage_and_every_file(coded_db: Path, tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    with Store.open(coded_db) as store:
        written = export_study(store, tmp_path / "out", on_progress=events.append)
    stages = list(dict.fromkeys(e.stage for e in events))
    assert stages == ["reading", "agreement", "writing"]
    for event in events:
        assert event.total is not None and 0 <= event.done <= event.total
    for stage in stages:
        mine = [e for e in events if e.stage == stage]
        assert [e.done for e in mine] == sorted(e.done for e in mine)  # never goes back
        assert mine[-1].done == mine[-1].total  # and ends complete
    writing = [e for e in events if e.stage == "writing"]
    assert [e.item for e in writing[:-1]] == [p.name for p in written]
    assert writing[-1].total == len(written)


def test_the_cycle_collector_pauses_during_an_export_and_comes_back(
    coded_db: Path, tmp_path: Path
) -> None:
    seen: list[bool] = []
    with Store.open(coded_db) as store:
        export_study(store, tmp_path / "out", on_progress=lambda _: seen.append(gc.isenabled()))
        assert gc.isenabled()
        (tmp_path / "a file").write_text("not a folder")
        with pytest.raises(CodingError, match="not a folder"):  # failing inside the pause
            export_study(store, tmp_path / "a file")
        assert gc.isenabled()
    assert seen and not any(seen)


def test_a_download_reports_its_progress(coded_db: Path) -> None:
    events: list[ProgressEvent] = []
    with Store.open(coded_db) as store:
        name, _content = export_bytes(store, "segments", "csv", on_progress=events.append)
    assert {e.stage for e in events} == {"reading", "writing"}  # no agreement tables needed
    assert (events[-1].stage, events[-1].done, events[-1].total) == ("writing", 1, 1)
    assert events[-1].item == name


def test_progress_bar_draws_in_place_on_a_terminal_and_wipes_itself() -> None:
    screen = io.StringIO()
    bar = ProgressBar(screen, shown=True)
    bar(ProgressEvent("reading", 1, 4, "segments"))
    bar(ProgressEvent("writing", 3, 4, "theme_report.docx"))
    drawn = screen.getvalue()
    assert drawn.startswith("\rreading   [######") and "1/4 segments" in drawn
    assert "\rwriting   [##################------] 3/4 theme_report.docx" in drawn
    bar.close()
    assert screen.getvalue().endswith("\r")
    assert screen.getvalue().split("\r")[-2].strip() == ""  # the line is wiped


def test_progress_bar_stays_silent_off_a_terminal(coded_db: Path, tmp_path: Path) -> None:
    quiet = io.StringIO()
    bar = ProgressBar(quiet, shown=False)
    bar(ProgressEvent("writing", 1, 2, "x"))
    bar.close()
    assert quiet.getvalue() == ""
    result = CliRunner().invoke(cli, ["export", str(coded_db), "--to", str(tmp_path / "o")])
    assert result.exit_code == 0 and "\r" not in result.output  # only the list of files


# -- the streamed writers: the same bytes whatever the chunk size ----------------------------
AWKWARD = pd.DataFrame(
    {
        "text": ["=1+1", "plain", None, "-0.5", " padded ", "cr\rinside", "tab\tand\nline", "é"],
        "n": [1, -2, 3, 4, 5, 6, 7, 8],
        "share": [0.5, None, 1 / 3, 2.0, -0.0, 1e-9, 3.25, 0.1],
        "flag": [True, False, True, True, False, True, False, True],
    }
)


def test_streamed_csv_is_the_same_in_any_chunk_size() -> None:
    whole = csv_text(AWKWARD)
    for size in (1, 3, 100):
        out = io.BytesIO()
        write_csv(AWKWARD, out, chunk_rows=size)
        assert out.getvalue().decode("utf-8") == whole
    assert '"\'=1+1"' in whole


def test_streamed_json_is_what_json_dumps_writes() -> None:
    fields: list[tuple[str, object]] = [
        ("study", "s"),
        ("rows", AWKWARD),
        ("empty", AWKWARD.iloc[:0]),
        ("meta", {"a": [1, {"b": None}]}),
    ]
    want = {k: records(v) if isinstance(v, pd.DataFrame) else v for k, v in fields}
    expected = json.dumps(want, indent=2, ensure_ascii=False) + "\n"
    for size in (1, 3, 100):
        out = io.BytesIO()
        write_json(fields, out, chunk_rows=size)
        assert out.getvalue().decode("utf-8") == expected


def test_a_table_longer_than_a_sheet_goes_on_over_more_sheets() -> None:
    frame = pd.DataFrame({"n": range(7), "text": [f"row {i}" for i in range(7)]})
    out = io.BytesIO()
    write_workbook({"coded segments of a long study": frame}, out, max_rows=4)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "coded segments of a long study",
        "coded segments of a long st (2)",
        "coded segments of a long st (3)",
    ]
    assert all([c.value for c in sheet[1]] == ["n", "text"] for sheet in book.worksheets)
    rows = [row for sheet in book.worksheets for row in sheet.iter_rows(2, values_only=True)]
    assert rows == list(frame.itertuples(index=False, name=None))


def test_streamed_xlsx_keeps_values_types_styles_and_layout() -> None:
    wide = pd.DataFrame({"long": ["x" * 80, "short"], "=head": [1, 2]})
    chunked = io.BytesIO()
    write_workbook({"awkward": AWKWARD, "wide": wide}, chunked, chunk_rows=3)
    assert chunked.getvalue() == workbook_bytes({"awkward": AWKWARD, "wide": wide})
    book = openpyxl.load_workbook(chunked)
    sheet = book["awkward"]
    assert [c.value for c in sheet[1]] == list(AWKWARD.columns)
    assert all(c.font.b for c in sheet[1]) and sheet.freeze_panes == "A2"
    texts = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in texts] == [
        "=1+1",
        "plain",
        None,
        "-0.5",
        " padded ",
        "cr\rinside",
        "tab\tand\nline",
        "é",
    ]
    assert [c.quotePrefix for c in texts] == [True] + [False] * 7
    assert sheet["B3"].value == -2 and sheet["C4"].value == pytest.approx(1 / 3)
    assert sheet["C3"].value is None and sheet["D2"].value is True
    other = book["wide"]
    assert other.column_dimensions["A"].width == 60 and other["A2"].alignment.wrap_text
    assert other["B1"].quotePrefix and other["B1"].font.b


def test_docx_paragraphs_are_those_python_docx_writes() -> None:
    import docx

    blocks: list[doc.Block] = [
        doc.Heading("Report", 1),
        doc.Heading("Code", 2),
        doc.Para("tab\there\nline\r\nend "),
        doc.Quote(" where ", "quoted\ttext"),
    ]
    built = docx.Document()
    built.add_heading("Report", 0)
    built.add_heading("Code", 1)
    built.add_paragraph("tab\there\nline\r\nend ")
    built.add_paragraph("quoted\ttext", style="Quote")
    built.add_paragraph(" where ").runs[0].italic = True
    saved = io.BytesIO()
    built.save(saved)
    assert _body(doc.to_docx(blocks, "t")) == _body(saved.getvalue())


def _body(docx_file: bytes) -> bytes:
    """The body of a Word file's document.xml: its paragraphs and section properties."""
    with zipfile.ZipFile(io.BytesIO(docx_file)) as archive:
        xml = archive.read("word/document.xml")
    return xml[xml.index(b"<w:body>") : xml.index(b"</w:body>")]
