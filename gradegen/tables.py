"""Reading CSV tables, for rosters and submissions alike: one reader, one set of header rules.

What spreadsheets write is read as the :mod:`csv` module reads it: ``\\r\\n`` and ``\\n`` both end
a line, and a quoted cell may hold the delimiter, quotes (doubled) and line breaks. The delimiter is
sniffed (comma, semicolon or tab: Excel writes semicolons where the decimal mark is a comma, and
tabs as "Unicode text"); the encoding is read by :func:`gradegen.core.reading.decode`. The header is
the first row with text, matched by :func:`header_key` (case, surrounding spaces and inner spaces or
dashes do not matter); the student id column is the first of :data:`ID_COLUMNS` found.

A row the csv module cannot read (a quote left open, text after a closing quote, a cell over the
csv module's field limit) is set aside in :attr:`Table.bad`, naming its line, and reading goes on
at the next line: one bad row costs that row only. After a quote left open to the end of the file,
the rest is read a line at a time (a quoted cell there cannot span lines).

:func:`read_columns` gives a table as columns. A large export without quotes in plain ASCII (the
usual gradebook) is split on its bytes into numpy text columns, which the csv module plus numpy
take about five times longer to build (see the README's Performance section); any other file goes
through the csv module, and tests check that both give the same cells.

:func:`read_table` reads a file named by the user: a workbook (``.xlsx``, ``.xlsm``, ``.xls``,
``.ods``) through python-calamine, its first sheet's cells as the text a spreadsheet shows for
them, and anything else as CSV text. Both give the same :class:`Table`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from python_calamine import CalamineError, CalamineWorkbook

from gradegen.core.reading import decode, path_text, read_bytes, read_text
from gradegen.errors import GradegenError

DELIMITERS = ",;\t"
"""What :func:`sniff_delimiter` chooses from."""

ID_COLUMNS = ("student_id", "student", "id", "email")
"""Headers accepted for the student id column, in order of preference (matched by :func:`header_key`)."""

NAME_COLUMNS = ("name", "student_name", "full_name")
"""Headers accepted for the optional name column."""

TEXT_CELL_CHARS = 40
"""Longest cell kept in a numpy text column (an array is as wide as its longest cell); a table with
longer cells has its columns as lists instead."""

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
"""Files read as workbooks (their first sheet) rather than as CSV text."""

Column = NDArray[np.str_] | list[str]


class TableError(GradegenError):
    """A CSV file that cannot be read as a table (say, a header row the csv module cannot read)."""


@dataclass(frozen=True)
class BadRow:
    """A row the csv module could not read: the line it starts on (1 for the first) and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class Table:
    """A CSV table as columns: the header's cells and one column of cells per header cell.

    ``lines[i]`` is the line data row ``i`` starts on (as a spreadsheet numbers rows when no cell
    spans lines); ``ragged`` lists the data rows whose number of cells differs from the header's
    while holding some text (they are padded with empty cells or cut to fit); ``bad`` the rows
    that could not be read at all, which are not in the columns.
    """

    header: list[str]
    columns: list[Column]
    ragged: list[int] = field(default_factory=list)
    lines: Sequence[int] = ()
    bad: list[BadRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def header_key(cell: str) -> str:
    """How a header cell is matched: ``" Student-ID "`` → ``student_id``."""
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def find_column(header: Sequence[str], names: Sequence[str]) -> int | None:
    """The first header cell matching one of ``names``, in the order of ``names`` (or None)."""
    keys = [header_key(cell) for cell in header]
    for name in names:
        if name in keys:
            return keys.index(name)
    return None


def sniff_delimiter(text: str, choices: str = DELIMITERS) -> str:
    """The choice that occurs most often in the first line with text (a comma if none does)."""
    first, start = "", 0
    while start < len(text) and not first.strip():  # line by line: a whole export is not split
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        first, start = text[start:end], end + 1
    return max(choices, key=first.count) if any(c in first for c in choices) else ","


_REASONS = (
    ("end of data", "a quote is left open"),
    ("expected after", "text after a closing quote"),
    ("field limit", "a cell longer than {limit:,} characters"),
)
"""The csv module's messages (by a part of them), as a row's error says them."""


def _reason(exc: csv.Error) -> str:
    text = str(exc)
    found = next((reason for part, reason in _REASONS if part in text), text)
    return found.format(limit=csv.field_size_limit())


@dataclass(frozen=True)
class _Records:
    rows: list[list[str]]
    lines: list[int]
    bad: list[BadRow]


def _read_records(text: str, delimiter: str) -> _Records:
    """Every row of a CSV text with the line it starts on, and the rows the csv module refused."""
    lines = io.StringIO(text, newline="").readlines()  # splits where the csv module does
    rows: list[list[str]] = []
    starts: list[int] = []
    bad: list[BadRow] = []
    at = 0  # the next line to read
    while at < len(lines):
        reader = csv.reader(map(lines.__getitem__, range(at, len(lines))), delimiter=delimiter, strict=True)
        taken = 0  # lines taken by the rows read so far
        try:
            for row in reader:
                rows.append(row)
                starts.append(at + taken + 1)
                taken = reader.line_num
            break
        except csv.Error as exc:
            reason = _reason(exc)
            if "field limit" in str(exc) and reader.line_num - taken > 1:
                # A cell that grew that long over several lines is most likely a quote left open.
                reason = f"a quote is left open (its cell runs past {csv.field_size_limit():,} characters)"
            bad.append(BadRow(at + taken + 1, reason))
            at += taken + 1  # on at the line after the bad row's first
            if "end of data" in str(exc):
                # A quote left open took every line to the end: reading the rest as one text again
                # would do so again for each such quote, so the rest is read a line at a time.
                _read_lines(lines, at, delimiter, _Records(rows, starts, bad))
                break
    return _Records(rows, starts, bad)


def _read_lines(lines: list[str], at: int, delimiter: str, into: _Records) -> None:
    """Lines ``at`` onwards, each as one row (after a quote left open)."""
    for i in range(at, len(lines)):
        try:
            row = next(csv.reader([lines[i]], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            into.bad.append(BadRow(i + 1, _reason(exc)))
            continue
        into.rows.append(row)
        into.lines.append(i + 1)


def read_rows(text: str, *, delimiter: str = ",") -> list[list[str]]:
    """Every row of a CSV text, as the csv module reads it (blank lines are empty rows); a row it
    cannot read is a TableError naming its line."""
    records = _read_records(text.removeprefix("\ufeff"), delimiter)
    if records.bad:
        first = records.bad[0]
        raise TableError(f"invalid CSV at row {first.line}: {first.reason}")
    return records.rows


def read_columns(text: str, *, delimiter: str | None = None) -> Table:
    """A table as columns (numpy text arrays when every cell is short, else lists).

    The delimiter is sniffed unless given. The first row with text is the header; later blank
    lines are kept as rows of empty cells. A bad row at or before the header is a TableError.
    """
    text = text.removeprefix("\ufeff")
    delimiter = delimiter or sniff_delimiter(text)
    split = _split_fast(text, delimiter)
    if split is not None and any(cell.strip() for cell in split[0]):  # else: the header is further down
        return Table(split[0], [*split[1]], lines=range(2, len(split[1][0]) + 2))
    records = _read_records(text, delimiter)
    start = next((i for i, row in enumerate(records.rows) if any(c.strip() for c in row)), None)
    header_line = records.lines[start] if start is not None else None
    early = [b for b in records.bad if header_line is None or b.line < header_line]
    if early:
        raise TableError(f"invalid CSV at row {early[0].line} (no header before it): {early[0].reason}")
    if start is None:
        return Table([], [])
    return _table(records.rows[start], records.rows[start + 1 :], records.lines[start + 1 :], records.bad)


def _table(header: list[str], body: list[list[str]], lines: Sequence[int], bad: list[BadRow]) -> Table:
    """A header and the rows under it as columns, each row padded or cut to the header's width."""
    width = len(header)
    ragged = [i for i, row in enumerate(body) if len(row) != width and any(c.strip() for c in row)]
    body = [row if len(row) == width else (row + [""] * width)[:width] for row in body]
    if not body:
        return Table(header, [np.array([], dtype="<U1") for _ in header], ragged, lines, bad)
    if max(len(cell) for row in body for cell in row) > TEXT_CELL_CHARS:
        return Table(header, [[row[j] for row in body] for j in range(width)], ragged, lines, bad)
    grid = np.array(body)  # one conversion of the whole table: much quicker than one per column
    return Table(header, [np.ascontiguousarray(grid[:, j]) for j in range(width)], ragged, lines, bad)


_OLE2 = b"\xd0\xcf\x11\xe0"
"""How a real (binary) .xls file begins."""


def read_table(path: Path, *, what: str, limit: int) -> Table:
    """A table file as columns: a workbook's first sheet, or CSV text (any other suffix, and an
    ``.xls`` that is text: Blackboard's Grade Center download is UTF-16 tab-separated text so named)."""
    if path.suffix.lower() in SHEET_SUFFIXES:
        data = read_bytes(path, what=what, limit=limit)
        if path.suffix.lower() != ".xls" or data.startswith(_OLE2):
            return read_sheet(data)
        return read_columns(decode(data, what=what, source=path_text(path)))
    return read_columns(read_text(path, what=what, limit=limit))


def read_sheet(data: bytes) -> Table:
    """The first sheet of a workbook (xlsx, xls or ods) as a table, read by python-calamine; the
    first row with text is the header and rows are numbered as the spreadsheet numbers them."""
    try:
        sheets = CalamineWorkbook.from_filelike(io.BytesIO(data))
        grid = sheets.get_sheet_by_index(0).to_python(skip_empty_area=False) if sheets.sheet_names else []
    except (CalamineError, ValueError, IndexError) as exc:
        raise TableError(f"not a workbook that can be read ({exc})") from None
    rows = [[cell_text(cell) for cell in row] for row in grid]
    start = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if start is None:
        return Table([], [])
    return _table(rows[start], rows[start + 1 :], range(start + 2, len(rows) + 1), [])


def cell_text(value: object) -> str:
    """A workbook cell as the text a spreadsheet shows for it: whole numbers without ``.0``,
    others in their shortest exact form (``0.0822``), dates in ISO form, booleans as TRUE/FALSE."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return "" if value is None else str(value)


def _split_fast(text: str, delimiter: str = ",") -> tuple[list[str], list[NDArray[np.str_]]] | None:
    """The header and columns of an ASCII CSV without quotes whose lines all have the header's
    number of cells, none longer than :data:`TEXT_CELL_CHARS`; None for any other file."""
    if not text or '"' in text or not text.isascii():
        return None
    if "\r" in text:  # looked for first: a search for one character is much the quicker
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    return _split_ascii(text.removesuffix("\n").encode("ascii"), ord(delimiter))


def _split_ascii(data: bytes, delimiter: int) -> tuple[list[str], list[NDArray[np.str_]]] | None:
    """:func:`_split_fast` on the file's bytes: separators found by numpy, and each column gathered
    from the buffer into a fixed-width array, without a Python string per cell."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    is_end = buffer == delimiter
    is_end |= buffer == ord("\n")
    ends = np.flatnonzero(is_end)
    del is_end
    newline = buffer[ends] == ord("\n")
    width = int(np.argmax(newline)) + 1 if newline.any() else ends.size + 1
    height = int(newline.sum()) + 1
    # Every line has the header's number of cells: newlines exactly at every width-th separator.
    if ends.size + 1 != height * width or not np.array_equal(
        np.flatnonzero(newline), np.arange(width - 1, ends.size, width)
    ):
        return None
    # Cell i spans bounds[i] + 1 … bounds[i + 1]: bounds are the separators, with −1 and the end.
    bounds = np.empty(ends.size + 2, dtype=np.intp)
    bounds[0], bounds[1:-1], bounds[-1] = -1, ends, buffer.size
    del ends
    starts = bounds[:-1] + 1
    lengths = bounds[1:] - starts
    del bounds
    longest = max(int(lengths.max()), 1)
    if longest > TEXT_CELL_CHARS:
        return None
    header = [
        data[a : a + k].decode("ascii")
        for a, k in zip(starts[:width].tolist(), lengths[:width].tolist(), strict=True)
    ]
    starts, lengths = starts[width:].reshape(-1, width), lengths[width:].reshape(-1, width)
    padded = np.append(buffer, np.zeros(longest, dtype=np.uint8))  # room to read past the last cell
    # A window starting at longest − k holds k ones, then zeros: the mask of a k-character cell.
    mask = np.repeat(np.array([1, 0], dtype=np.uint8), longest)
    # Each column as UCS-4 code points (numpy's text layout), as wide as its own longest cell.
    codes = [np.zeros((height - 1, max(int(k), 1)), dtype=np.uint32) for k in lengths.max(axis=0, initial=0)]
    step = max(_CHUNK_CELLS // width, 1)
    for top in range(0, height - 1, step):
        rows = slice(top, top + step)
        # Whole lines at a time, in the buffer's order: a gather that reads memory in sequence.
        cells = _windows(padded, starts[rows].ravel(), longest)
        cells *= _windows(mask, longest - lengths[rows].ravel(), longest)
        grid = cells.reshape(-1, width, longest)
        for j, column in enumerate(codes):
            column[rows] = grid[:, j, : column.shape[1]]
    return header, [column.view(f"U{column.shape[1]}").reshape(-1) for column in codes]


_CHUNK_CELLS = 1 << 18
"""Cells gathered at a time by :func:`_split_ascii` (bounds its scratch memory)."""


def _windows(buffer: NDArray[np.uint8], at: NDArray[np.intp], size: int) -> NDArray[np.uint8]:
    """``buffer[a : a + size]`` for each ``a`` in ``at``, as the rows of a new array."""
    # Each window viewed as one void item: a fancy index then copies whole windows, several times
    # faster than one gather per character position.
    every = sliding_window_view(buffer, size).view(f"V{size}")[:, 0]
    return every[at].view(np.uint8).reshape(-1, size)
