"""The column reader of large CSVs reads exactly what the row reader reads, chunk by chunk."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coding import csvfile
from coding.errors import InvalidInput

PIECES = ["a", "b", " ", "é", ",", "\n", "\r\n", "\r", "\n\n", '"', '""', '"q\nq"', ";", "\t"]
HEADERS = ["a,b,c\n", "a,memo\n", "a,b,c,memo\n", "x\n", "\n", "\ufeffa,b\r\n"]
texts = st.tuples(st.sampled_from(HEADERS), st.lists(st.sampled_from(PIECES), max_size=40)).map(
    lambda parts: parts[0] + "".join(parts[1])
)


def _rows(text: str) -> object:
    try:
        table = csvfile.parse_csv(text, "f.csv", multiline={"memo"})
    except InvalidInput as err:
        return [str(p) for p in err.problems]
    return table.header, [(r.where, r.values) for r in table.rows]


def _columns(path: Path) -> object:
    try:
        table = csvfile.read_columns(path, multiline={"memo"})
    except InvalidInput as err:
        return [str(p) for p in err.problems]
    rows = zip(*(table.columns[name] for name in table.header), strict=True)
    return table.header, [(table.where(i), row) for i, row in enumerate(rows)]


@pytest.mark.parametrize("chunk", [1, 2, 3])
@given(text=texts)
def test_chunks_of_any_size_read_the_same_rows_and_problems(chunk: int, text: str) -> None:
    whole = _rows(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvfile, "_CHUNK", chunk)
        assert _rows(text) == whole


@given(text=texts)
def test_columns_hold_what_rows_hold(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_bytes(text.encode())
    rows, columns = _rows(text), _columns(path)
    if isinstance(rows, list):  # refused: the same problems
        assert columns == rows
    else:
        header, read = rows  # type: ignore[misc]
        width = len(header)
        padded = [(where, (*values, *[""] * width)[:width]) for where, values in read]
        assert columns == (header, padded)


def test_a_quote_left_open_deep_in_a_chunk_is_placed_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvfile, "_CHUNK", 4)
    path = tmp_path / "f.csv"
    path.write_text('a,memo\n1,x\n2,"two\nlines"\n3,y\n4,"open\n5,z\n6,w\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        csvfile.read_columns(path, multiline={"memo"})
    assert [str(p) for p in caught.value.problems] == [
        "line 6: a quote opened in this row is never closed (the rest of the file would "
        "become one value)"
    ]


def test_excel_line_ends_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b'\xef\xbb\xbfcode,memo\r\ncalm,"a\r\nb"\r\ncues,\r\r\nhope,\r')
    table = csvfile.read_columns(path, multiline={"memo"})
    assert table.header == ("code", "memo")
    assert table.columns == {"code": ["calm", "cues", "hope"], "memo": ["a\nb", "", ""]}
    assert [table.where(i) for i in range(3)] == ["row 2", "row 3 (line 4)", "row 4 (line 6)"]
