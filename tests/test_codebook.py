"""Codebook files: parsing, every validation problem with its place, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coding.codebook import parse_codebook, read_codebook, write_codebook
from coding.errors import InvalidInput
from coding.model import Code, Codebook, Examples

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def test_the_default_codebook_has_the_five_mechanisms_fully_described() -> None:
    book, _ = read_codebook(ROOT / "codebooks" / "mechanisms.yaml")
    assert book.code_ids == (
        "emotion_regulation",
        "caregiver_attunement",
        "reflective_functioning",
        "relational_safety",
        "parent_child_attachment",
    )
    for code in book.codes:
        assert len(code.definition) > 100
        assert code.inclusion and code.exclusion and len(code.indicators) >= 8
        assert code.examples.typical and code.examples.borderline and code.colour


def test_yaml_codebook_parses_every_field() -> None:
    book, sha = read_codebook(DATA / "codebook_small.yaml")
    calm = book.code("calm")
    assert (book.id, book.name, len(sha)) == ("small", "Small test codebook", 64)
    assert calm.indicators == ("calm", "soothe")
    assert calm.examples.borderline[0].startswith("Staff stayed calm")
    assert calm.colour == "#1b9e77"


def _problems(path: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        read_codebook(path)
    assert caught.value.source == str(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("fragment", "where"),
    [
        ("duplicate id 'calm' (first at line 4, codes[0])", "line 7, codes[1].id"),
        ("unknown parent 'nowhere'", "line 12, codes[2].parent"),
        ("'definition' is empty", "line 16, codes[3].definition"),
        ("colour 'red' is not of the form #rrggbb", "line 19, codes[4].colour"),
        ("parent chain forms a cycle", "line 23, codes[5].parent"),
    ],
)
def test_yaml_validation_reports_each_problem_with_its_line(fragment: str, where: str) -> None:
    problems = _problems(DATA / "codebook_bad.yaml")
    assert any(fragment in p and p.startswith(where) for p in problems), problems


def test_yaml_validation_reports_all_problems_at_once() -> None:
    assert len(_problems(DATA / "codebook_bad.yaml")) == 6  # cycle reported for both codes


def test_csv_codebook_parses_lists_and_parent() -> None:
    book, _ = read_codebook(DATA / "codebook_small.csv")
    assert book.code("calm").indicators == ("calm", "soothe")
    assert book.code("cues").parent == "calm"


def test_csv_validation_names_rows() -> None:
    problems = _problems(DATA / "codebook_bad.csv")
    assert "row 2, colour: colour '#zzzzzz' is not of the form #rrggbb" in problems
    assert "row 3, id: 'id' is empty" in problems
    assert "row 4, definition: 'definition' is empty" in problems
    assert any(p.startswith("row 4, parent") and "unknown parent 'ghost'" in p for p in problems)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("codes:\n  - id: a\n    name: [unclosed\n")
    problems = _problems(bad)
    assert problems[0].startswith("line ")


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    odd = tmp_path / "book.txt"
    odd.write_text("x")
    assert "unsupported codebook format" in _problems(odd)[0]


def test_non_utf8_codebook_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "latin.yaml"
    bad.write_bytes("codes:\n  - id: caf\xe9\n".encode("latin-1"))
    assert _problems(bad)[0].startswith("line 2, byte 18: not valid UTF-8")


texts = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
code_ids = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@st.composite
def codebooks(draw: st.DrawFn) -> Codebook:
    ids = draw(st.lists(code_ids, min_size=1, max_size=5, unique=True))
    codes = tuple(
        Code(
            id=i,
            name=draw(texts),
            definition=draw(texts),
            inclusion=tuple(draw(st.lists(texts, max_size=3))),
            indicators=tuple(draw(st.lists(texts.filter(lambda s: "|" not in s), max_size=3))),
            examples=Examples(typical=tuple(draw(st.lists(texts, max_size=2)))),
        )
        for i in ids
    )
    return Codebook(id="cb", name=draw(texts), codes=codes)


@given(codebooks(), st.sampled_from(["yaml", "json"]))
def test_writing_then_parsing_gives_the_same_codebook(book: Codebook, fmt: str) -> None:
    assert parse_codebook(write_codebook(book, fmt), f"book.{fmt}", fmt) == book


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("codes:\n  - {id: a, name: A, definition: [one, two]}\n", "'definition' must be text"),
        (
            "codes:\n  - {id: a, name: A, definition: d, examples: {atypical: [x]}}\n",
            "unknown kind(s) of example: atypical",
        ),
        (
            "codes:\n  - {id: a, name: A, definition: d, yes: 1, other: 2}\n",
            "unknown field(s): True, other",
        ),
    ],
)
def test_yaml_fields_that_would_lose_data_are_reported(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(text)
    assert any(message in p for p in _problems(path))


def test_csv_unknown_columns_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("id,name,definition,typical\na,A,d,ex1\n")
    assert _problems(path) == [
        "header: unknown column(s): typical (known: id, name, parent, "
        "colour, definition, inclusion, exclusion, indicators, "
        "typical_examples, borderline_examples)"
    ]


def test_a_file_that_is_not_a_study_is_a_clear_error(tmp_path: Path) -> None:
    from coding.errors import CodingError
    from coding.store import Store

    notes = tmp_path / "notes.db"
    notes.write_text("plain text, not SQLite\n" * 100)
    with pytest.raises(CodingError, match="cannot open the database"):
        Store.open(notes)
