"""Rosters of students, anonymous variant ids, and safe folder names for student ids.

A roster is a table file (read by :mod:`gradegen.tables`, as the submissions are: CSV separated by
commas, semicolons or tabs, UTF-8 or UTF-16; or an .xlsx/.ods workbook). A class list exported
from Canvas, Moodle, Brightspace or Blackboard is recognised by its header and read by that LMS's
rules (:mod:`gradegen.variants.exports`); any other table has a student id column (header
``student_id``, ``student``, ``id`` or ``email``, any case) and optionally a ``name`` column. A
student id is only data: it becomes a folder name through :func:`folder_names`, which never lets
it escape the output folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradegen.core.reading import path_text
from gradegen.errors import GradegenError
from gradegen.names import folder_names
from gradegen.tables import (
    ID_COLUMNS,
    NAME_COLUMNS,
    Column,
    Table,
    TableError,
    find_column,
    read_columns,
    read_table,
)
from gradegen.variants.exports import ExportRows, Lms, read_export, recognise

MAX_ROSTER_BYTES = 50_000_000

MAX_STUDENTS = 200_000
"""Students (or anonymous variants) one class run makes at most: twice the largest class the
benchmarks grade (100,000), and what a batched evaluation of a 4-8-8-3 network holds in memory
(every quantity, exact and by hand: 476 × 2 × 8 bytes a student, 1.5 GB at this bound)."""


class RosterError(GradegenError):
    """A roster that cannot be read or has a bad row."""


@dataclass(frozen=True)
class Student:
    """A student: the id, the name for documents, and the cells an LMS's grade import matches
    students by (header → text, from that LMS's export; empty for a plain roster)."""

    id: str
    name: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    def field(self, header: str) -> str:
        """One of :attr:`fields` by its header ("" when the export had none)."""
        return next((value for name, value in self.fields if name == header), "")


@dataclass(frozen=True)
class Roster:
    """Students in roster order, with ids unique and non-empty.

    ``lms`` is the LMS whose export this was (None for a plain roster), ``key`` the export's header
    the ids come from, and ``columns`` its other columns (assignments a gradebook may match).
    """

    students: tuple[Student, ...]
    lms: Lms | None = None
    key: str = ""
    columns: tuple[str, ...] = ()
    source: str = field(default="roster", compare=False)  # where it was read from, for messages

    def __len__(self) -> int:
        return len(self.students)

    def __iter__(self) -> Iterator[Student]:
        return iter(self.students)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.students)

    @property
    def names(self) -> tuple[str | None, ...]:
        return tuple(s.name for s in self.students)

    @property
    def folders(self) -> tuple[str, ...]:
        """Each student's folder name (see :func:`folder_names`)."""
        return folder_names(self.ids)

    @classmethod
    def anonymous(cls, count: int) -> Roster:
        """``count`` anonymous variants v001, v002, …"""
        return cls(tuple(Student(i) for i in anonymous_ids(count)))


def anonymous_ids(count: int) -> tuple[str, ...]:
    """Ids ``v001``, ``v002``, … zero-padded to at least 3 digits (more when ``count`` needs them)."""
    if count < 1:
        raise GradegenError(f"--variants: expected at least 1 variant, got {count}")
    if count > MAX_STUDENTS:  # checked before any id is made: 10**8 ids alone would fill the memory
        raise GradegenError(f"--variants: at most {MAX_STUDENTS:,} variants, got {count:,}"[:200])
    width = max(3, len(str(count)))
    return tuple(f"v{i:0{width}d}" for i in range(1, count + 1))


def read_roster(path: str | Path) -> Roster:
    """Read a roster file: an LMS's class export or a plain table, as CSV (comma, semicolon or tab
    separated; UTF-8 or UTF-16, with or without BOM) or an .xlsx/.ods workbook."""
    path = Path(path)
    source = path_text(path)
    try:
        table = read_table(path, what="roster", limit=MAX_ROSTER_BYTES)
    except TableError as exc:
        raise RosterError(f"{source}: {exc}") from None
    return roster_of(table, source=source)


def parse_roster(text: str, *, source: str = "roster") -> Roster:
    """Parse roster CSV text; the first row with text is the header, and a bad row is an error."""
    try:
        table = read_columns(text)
    except TableError as exc:
        raise RosterError(f"{source}: {exc}") from None
    return roster_of(table, source=source)


def roster_of(table: Table, *, source: str = "roster") -> Roster:
    """The roster a table holds: an LMS export by that LMS's rules, else a plain roster."""
    if table.bad:  # a roster is the instructor's own file: a row that cannot be read is refused
        raise RosterError(f"{source}: invalid CSV at row {table.bad[0].line}: {table.bad[0].reason}")
    if not table.header:
        raise RosterError(f"{source}: empty roster; expected a header row with a student id column")
    lms = recognise(table.header)
    if lms is not None:
        rows = read_export(table, lms)
        students = _students(rows, table.lines, source)
        return Roster(students, lms, rows.key, rows.columns, source)
    id_col = find_column(table.header, ID_COLUMNS)
    if id_col is None:
        found = ", ".join(repr(c) for c in table.header) or "nothing"
        raise RosterError(
            f"{source}: no student id column; expected a header named one of "
            f"{', '.join(ID_COLUMNS)} (any case), or a Canvas, Moodle, Brightspace or Blackboard "
            f"export, got {found}"
        )
    name_col = find_column(table.header, NAME_COLUMNS)
    ids = _cells(table.columns[id_col])
    names = _cells(table.columns[name_col]) if name_col is not None else [""] * len(ids)
    blank = [not any(str(column[i]).strip() for column in table.columns) for i in range(len(ids))]
    plain = ExportRows(None, "", ids, names, [()] * len(ids), [not b for b in blank], ())
    return Roster(_students(plain, table.lines, source), source=source)


def _students(rows: ExportRows, lines: Sequence[int], source: str) -> tuple[Student, ...]:
    """The student rows as students, refusing an empty or repeated id (naming its row)."""
    students: list[Student] = []
    first_row: dict[str, int] = {}
    for i, line in enumerate(lines):
        if not rows.students[i]:
            continue  # blank lines (and an LMS's points row) are not students
        student, name = rows.ids[i], rows.names[i]
        if not student:
            what = f" (its {rows.key} is empty)" if rows.key else ""
            raise RosterError(f"{source}: row {line}: empty student id{what}")
        if student in first_row:
            raise RosterError(
                f"{source}: row {line}: duplicate student id {student!r} (first on row {first_row[student]})"
            )
        first_row[student] = line
        students.append(Student(student, name or None, rows.fields[i]))
    if not students:
        raise RosterError(f"{source}: the roster has a header but no students")
    return tuple(students)


def _cells(column: Column) -> list[str]:
    """A column's cells as stripped text (a numpy text column becomes a list)."""
    cells: list[str] = column.tolist() if isinstance(column, np.ndarray) else list(column)
    return [cell.strip() for cell in cells]
