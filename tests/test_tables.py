"""The CSV table reader shared by rosters and submissions: what spreadsheets write, and the fast path."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.grading.submissions import read_submissions
from gradegen.tables import (
    TEXT_CELL_CHARS,
    TableError,
    _split_fast,
    find_column,
    header_key,
    read_columns,
    read_rows,
    sniff_delimiter,
)
from gradegen.variants.roster import parse_roster, read_roster


def cells(table_columns: list[object]) -> list[list[str]]:
    """Columns as plain lists of str, whichever form the reader chose."""
    return [list(map(str, column)) for column in table_columns]  # type: ignore[call-overload]


def test_spreadsheet_export_with_bom_crlf_and_quotes() -> None:
    """A byte order mark is dropped; CRLF ends lines; quoted cells keep commas, quotes and line breaks."""
    text = '\ufeffstudent,name,z_h1\r\ns1,"Lee, Ann",0.3775\r\ns2,"Bo ""B""\r\nSmith","0,3775"\r\n'
    table = read_columns(text)
    assert table.header == ["student", "name", "z_h1"]
    assert cells(table.columns) == [["s1", "s2"], ["Lee, Ann", 'Bo "B"\r\nSmith'], ["0.3775", "0,3775"]]
    assert table.ragged == [] and len(table) == 2


def test_rows_as_the_csv_module_reads_them() -> None:
    """read_rows is the csv module (strict), with the byte order mark dropped and blank lines kept."""
    text = '\ufeffid;name\n\n1;"a;b"\n'
    assert read_rows(text, delimiter=";") == [["id", "name"], [], ["1", "a;b"]]


@pytest.mark.parametrize(
    ("text", "bad", "students"),
    [
        ('student,z\n"s1,0.5\ns2,0.6\ns3,0.7\n', [(2, "a quote is left open")], ["s2", "s3"]),
        ('student,z\ns1,"0.5"x\ns2,0.6\n', [(2, "text after a closing quote")], ["s2"]),
        # The open quote closes at s3's quote: that row goes, then s3's own quote is left open.
        (
            'student,z\ns1,"0.5\ns2,0.6\ns3,"0.7\ns4,0.8\n',
            [(2, "text after"), (4, "left open")],
            ["s2", "s4"],
        ),
        ('student,z\ns1,"a\nb",0.5\ns2,"0.5\ns3,0.6\n', [(4, "left open")], ["s1", "s3"]),
    ],
)
def test_a_bad_row_costs_that_row_only(text: str, bad: list[tuple[int, str]], students: list[str]) -> None:
    """A quote left open (or text after a closing quote) sets that row aside, naming its line, and
    every other row is read; a quoted cell spanning lines before it is still one cell.
    (Changed shape: this was a TableError for the whole file.)"""
    table = read_columns(text)
    assert [(b.line, reason in b.reason) for b, (_, reason) in zip(table.bad, bad, strict=True)] == [
        (line, True) for line, _ in bad
    ]
    assert [str(s) for s in table.columns[0]] == students


def test_a_huge_cell_costs_its_row_only() -> None:
    """A cell over the csv module's field limit (131,072 characters) is its row's error, not the file's."""
    huge = "9" * 200_000
    table = read_columns(f'student,z\ns1,0.5\ns2,"{huge}"\ns3,{huge}\ns4,0.7\n')
    assert [str(s) for s in table.columns[0]] == ["s1", "s4"]
    assert [(b.line, b.reason) for b in table.bad] == [(3, "a cell longer than 131,072 characters")] * 1 + [
        (4, "a cell longer than 131,072 characters")
    ]
    assert list(table.lines) == [2, 5]


def test_a_bad_header_is_an_error() -> None:
    """A header row that cannot be read leaves no table: that is the file's error."""
    with pytest.raises(TableError, match="invalid CSV at row 1"):
        read_columns('"student,z\ns1,0.5\n')


def test_many_open_quotes_read_in_linear_time() -> None:
    """Every row with a quote left open costs its row only, without reading the rest again per row."""
    text = "student,z\n" + "".join(f's{i},"0.{i}\n' for i in range(20_000))
    table = read_columns(text)
    assert len(table.bad) == 20_000 and len(table) == 0


def test_ragged_rows_are_padded_and_reported() -> None:
    """Rows with too few or too many cells are cut or padded to the header; blank lines are not ragged."""
    table = read_columns("student,a,b\ns1,1\n\ns2,1,2,3\n")
    assert cells(table.columns) == [["s1", "", "s2"], ["1", "", "1"], ["", "", "2"]]
    assert table.ragged == [0, 2]


def test_long_cells_make_list_columns() -> None:
    """A cell longer than a text column holds makes the columns lists (not one very wide array)."""
    long = "9" * (TEXT_CELL_CHARS + 1)
    table = read_columns(f"student,z\ns1,{long}\ns2,0.5\n")
    assert all(isinstance(c, list) for c in table.columns)
    assert table.columns[1] == [long, "0.5"]


def test_header_rules() -> None:
    """Headers match ignoring case, surrounding spaces and inner spaces or dashes; first name wins."""
    assert header_key(" Student-ID ") == "student_id" and header_key("Full  Name") == "full_name"
    header = ["E-mail", "ID", " Student ID "]
    assert find_column(header, ("student_id", "id")) == 2
    assert find_column(header, ("id", "student_id")) == 1
    assert find_column(header, ("email",)) is None  # "e_mail" is not "email"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("id;name\n1;a,b\n", ";"), ("\n\nid\tname\n", "\t"), ("id\n1\n", ","), ("a,b;c,d\n", ",")],
)
def test_sniff_delimiter(text: str, delimiter: str) -> None:
    """The delimiter is the comma, semicolon or tab used most on the first line with text."""
    assert sniff_delimiter(text) == delimiter


def test_the_fast_path_reads_a_plain_export() -> None:
    """An ASCII export without quotes is split on its bytes into numpy text columns (CRLF or not)."""
    text = "student,z_h1,dL_dw5\r\ns1,0.3775,\r\ns2,-1e-3,0.0822\r\n"
    split = _split_fast(text)
    assert split is not None
    header, columns = split
    assert header == ["student", "z_h1", "dL_dw5"]
    assert [c.tolist() for c in columns] == [["s1", "s2"], ["0.3775", "-1e-3"], ["", "0.0822"]]
    assert all(isinstance(c, np.ndarray) for c in read_columns(text).columns)


@pytest.mark.parametrize(
    "text",
    ['student,z\n"s1",1\n', "student,z\ns1,0.5\n\ns2,0.6\n", "student,z\nJosé,0.5\n", "a,b\rc,d\r"],
)
def test_the_fast_path_leaves_other_files_to_the_csv_module(text: str) -> None:
    """Quotes, blank lines inside, non-ASCII text and old Mac line ends go through the csv module."""
    assert _split_fast(text) is None
    expected = list(csv.reader(io.StringIO(text, newline="")))
    table = read_columns(text)
    assert table.header == expected[0]


# Cells as an export has them: digits, signs, points, spaces, letters, sometimes a comma or a
# quote (which make the cell quoted), a line break, or a cell past TEXT_CELL_CHARS.
_CELL = st.text("0123456789.-e x/−", max_size=12) | st.text('0,"\n a', max_size=6) | st.just("9" * 41)


@given(
    st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(_CELL, min_size=w, max_size=w), max_size=10)),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.booleans(),
)
def test_columns_hold_what_the_csv_module_reads(
    rows: list[list[str]], newline: str, final_newline: bool, bom: bool
) -> None:
    """Whichever path reads a table, its columns hold exactly the cells the csv module reads."""
    width = len(rows[0]) if rows else 1
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=newline).writerows([[f"q{j}" for j in range(width)], *rows])
    text = buffer.getvalue()
    if not final_newline:
        text = text.removesuffix(newline)
    expected = list(csv.reader(io.StringIO(text, newline="")))
    table = read_columns(("\ufeff" if bom else "") + text)
    assert table.header == expected[0]
    body = [row if row else [""] * width for row in expected[1:]]  # a blank line: empty cells
    assert cells(table.columns) == [[row[j] for row in body] for j in range(width)]


def test_submissions_from_a_spreadsheet(tmp_path: Path) -> None:
    """A CSV saved by a spreadsheet (BOM, CRLF, a quoted name with a comma and a line break) grades."""
    path = tmp_path / "class.csv"
    text = '\ufeffStudent,Name,z_h1\r\nana,"Lee,\r\nAna",0.3775\r\nbo,Bo,"0,3775"\r\n'
    path.write_bytes(text.encode("utf-8"))
    table = read_submissions([path])
    assert not table.errors
    assert table.students == ["ana", "bo"]
    assert {q: list(c) for q, c in table.columns.items()} == {"z_h1": ["0.3775", "0,3775"]}


def test_roster_from_a_spreadsheet(tmp_path: Path) -> None:
    """A roster with a byte order mark (in a file or in text), CRLF and quoted names reads the same."""
    text = '\ufeffStudent ID;Name\r\ns1;"Lee; Ann"\r\ns2;"Doe\r\nJo"\r\n'
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8"))
    for roster in (read_roster(path), parse_roster(text)):
        assert roster.ids == ("s1", "s2")
        assert roster.names == ("Lee; Ann", "Doe\r\nJo")
