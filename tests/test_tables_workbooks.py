"""Rosters and submission tables as spreadsheets save them, read to the same table as plain CSV:
CSV with a byte order mark, UTF-16 (Excel's "Unicode text"), semicolons with decimal commas,
CRLF and quoted cells, and .xlsx and .ods workbooks (written here by openpyxl and odfpy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table as OdsTable
from odf.table import TableCell, TableRow
from odf.text import P
from openpyxl import Workbook

from gradegen.core.spec import Spec
from gradegen.grading.grade import grade
from gradegen.grading.submissions import read_submissions
from gradegen.tables import TableError, cell_text, read_sheet, read_table
from gradegen.variants.roster import RosterError, read_roster

ROSTER_ROWS = [["student", "name"], ["0012", "Lee, Ann"], ["s2", 'Bo "B" Smith'], ["s3", "Çelik, Ümit"]]
"""A roster with what trips spreadsheets: a leading zero, a comma, quotes, letters beyond ASCII."""

ANSWER_ROWS: list[list[object]] = [
    ["student", "z_h1", "dL_dw5", "a_out"],
    ["ana", 0.3775, 0.0822, 0.75136507],
    ["bo", 0.38, -0.0822, ""],
    ["cy", 0.3775, "8.22e-2", 0.7514],
]
"""Answers as numbers (a workbook's numeric cells) and as text."""


def _csv(rows: list[list[object]], delimiter: str = ",", *, decimal_comma: bool = False) -> str:
    def cell(value: object) -> str:
        text = value if isinstance(value, str) else repr(value)
        if decimal_comma and not isinstance(value, str):
            text = text.replace(".", ",")
        return '"' + text.replace('"', '""') + '"'  # every cell quoted, as Excel quotes when it must

    return "\r\n".join(delimiter.join(cell(c) for c in row) for row in rows) + "\r\n"


def _plain(rows: list[list[object]]) -> str:
    """The plain CSV: comma-separated UTF-8, quotes only where needed, \\n line ends."""
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [c if isinstance(c, str) else repr(c) for c in r] for r in rows
    )
    return buffer.getvalue()


def _xlsx(rows: list[list[object]], path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append([None if c == "" else c for c in row])
    book.save(path)
    return path


def _ods(rows: list[list[object]], path: Path) -> Path:
    document = OpenDocumentSpreadsheet()
    table = OdsTable(name="Sheet1")
    for row in rows:
        line = TableRow()
        for value in row:
            if isinstance(value, float):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=repr(value)))
            else:
                cell = TableCell(valuetype="string")
                if value:
                    cell.addElement(P(text=str(value)))
            line.addElement(cell)
        table.addElement(line)
    document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def _forms(rows: list[list[object]], folder: Path, *, decimal_comma: bool = True) -> dict[str, Path]:
    """The same table in every form a spreadsheet saves it in."""
    folder.mkdir(exist_ok=True)
    forms = {
        "plain.csv": _plain(rows).encode("utf-8"),
        "bom-crlf-quoted.csv": b"\xef\xbb\xbf" + _csv(rows).encode("utf-8"),
        "unicode-text.txt": b"\xff\xfe" + _csv(rows, "\t").encode("utf-16-le"),
        "semicolons.csv": _csv(rows, ";", decimal_comma=decimal_comma).encode("utf-8"),
    }
    paths = {}
    for name, data in forms.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    paths["book.xlsx"] = _xlsx(rows, folder / "book.xlsx")
    paths["book.ods"] = _ods(rows, folder / "book.ods")
    return paths


@pytest.mark.parametrize(
    "form", ["bom-crlf-quoted.csv", "unicode-text.txt", "semicolons.csv", "book.xlsx", "book.ods"]
)
def test_a_roster_in_every_form_is_the_plain_csv_roster(tmp_path: Path, form: str) -> None:
    """A roster saved with a BOM, as UTF-16 tab text, with semicolons, as .xlsx or as .ods gives the
    plain CSV's students: ids (a leading zero kept) and names (commas, quotes, accents kept)."""
    paths = _forms([list(r) for r in ROSTER_ROWS], tmp_path)
    plain = read_roster(paths["plain.csv"])
    assert plain.ids == ("0012", "s2", "s3")
    assert plain.names == ("Lee, Ann", 'Bo "B" Smith', "Çelik, Ümit")
    assert read_roster(paths[form]) == plain


@pytest.mark.parametrize("form", ["bom-crlf-quoted.csv", "unicode-text.txt", "book.xlsx", "book.ods"])
def test_an_answer_table_in_every_form_reads_to_the_plain_table(tmp_path: Path, form: str) -> None:
    """The answer table read from each form has the plain CSV's header and cells (a workbook's
    numbers as their shortest text: 0.3775, not 0.37750000000000006)."""
    paths = _forms(ANSWER_ROWS, tmp_path)
    plain = read_table(paths["plain.csv"], what="CSV", limit=10**6)
    table = read_table(paths[form], what="CSV", limit=10**6)
    assert table.header == plain.header == ["student", "z_h1", "dL_dw5", "a_out"]
    assert [list(map(str, c)) for c in table.columns] == [list(map(str, c)) for c in plain.columns]
    assert list(table.lines) == list(plain.lines) == [2, 3, 4]


@pytest.mark.parametrize(
    "form", ["bom-crlf-quoted.csv", "unicode-text.txt", "semicolons.csv", "book.xlsx", "book.ods"]
)
def test_answers_in_every_form_grade_as_the_plain_csv(tmp_path: Path, handout: Spec, form: str) -> None:
    """Graded, every form gives the plain CSV's results: semicolon files' decimal commas (0,3775)
    read as the grader reads them, workbooks' numeric cells as their numbers."""
    paths = _forms(ANSWER_ROWS, tmp_path)
    plain = grade(handout, read_submissions([paths["plain.csv"]]))
    other = grade(handout, read_submissions([paths[form]]))
    assert other.ids == plain.ids == ("ana", "bo", "cy")
    assert other.scores.tolist() == plain.scores.tolist()
    values = [{q: i.value for q, i in s.items.items()} for s in plain.students]
    assert [{q: i.value for q, i in s.items.items()} for s in other.students] == values
    assert values[0]["z_h1"] == 0.3775 and values[2]["dL_dw5"] == 0.0822
    assert not other.errors


def test_workbooks_in_a_folder_are_read_as_answer_tables(tmp_path: Path) -> None:
    """An .xlsx or .ods inside a submissions folder is an answer table like a .csv."""
    _xlsx(ANSWER_ROWS[:2], tmp_path / "section1.xlsx")
    _ods([ANSWER_ROWS[0], ANSWER_ROWS[2]], tmp_path / "section2.ods")
    table = read_submissions([tmp_path])
    assert table.students == ["ana", "bo"] and not table.errors


def test_cell_text_is_what_a_spreadsheet_shows() -> None:
    """Whole numbers lose ".0" (an id typed as a number), others keep their shortest exact form;
    booleans are TRUE/FALSE, dates ISO, empty cells empty."""
    import datetime as dt

    assert cell_text(20067930.0) == "20067930"
    assert cell_text(0.0822) == "0.0822" and cell_text(1e-5) == "1e-05"
    assert cell_text(True) == "TRUE" and cell_text(None) == "" and cell_text("x") == "x"
    assert cell_text(dt.date(2026, 12, 1)) == "2026-12-01"


def test_a_file_that_is_no_workbook_is_one_line(tmp_path: Path) -> None:
    """A .xlsx that is not a workbook is a one-line error naming the file, never a traceback."""
    with pytest.raises(TableError, match="not a workbook that can be read"):
        read_sheet(b"PK\x03\x04 not really a zip")
    bad = tmp_path / "class.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(RosterError, match=r"class\.xlsx: not a workbook that can be read"):
        read_roster(bad)
    table = read_submissions([bad])
    assert [e.message for e in table.errors] == [table.errors[0].message]
    assert "not a workbook" in table.errors[0].message


def test_a_workbook_header_below_blank_rows_keeps_the_sheet_row_numbers(tmp_path: Path) -> None:
    """Rows are numbered as the spreadsheet numbers them, the header wherever the first text is."""
    path = _xlsx([["", ""], ["student", "name"], ["a", "Ann"], ["a", "Ann"]], tmp_path / "r.xlsx")
    with pytest.raises(RosterError, match=r"row 4: duplicate student id 'a' \(first on row 3\)"):
        read_roster(path)
