"""Rosters of students, anonymous variant ids, and safe folder names for student ids.

A roster is a CSV file (read by :mod:`gradegen.tables`, as the submissions are: comma, semicolon
or tab separated, UTF-8 or UTF-16) with a student id column (header ``student_id``, ``student``,
``id`` or ``email``, any case) and optionally a ``name`` column. A student id is only data: it becomes a
folder name through :func:`folder_names`, which never lets it escape the output folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradegen.core.reading import path_text, read_text
from gradegen.errors import GradegenError
from gradegen.names import folder_names
from gradegen.tables import ID_COLUMNS, NAME_COLUMNS, Column, TableError, find_column, read_columns

MAX_ROSTER_BYTES = 50_000_000

MAX_STUDENTS = 200_000
"""Students (or anonymous variants) one class run makes at most: twice the largest class the
benchmarks grade (100,000), and what a batched evaluation of a 4-8-8-3 network holds in memory
(every quantity, exact and by hand: 476 × 2 × 8 bytes a student, 1.5 GB at this bound)."""


class RosterError(GradegenError):
    """A roster that cannot be read or has a bad row."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str | None = None


@dataclass(frozen=True)
class Roster:
    """Students in roster order, with ids unique and non-empty."""

    students: tuple[Student, ...]

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
    """Read a roster CSV file (comma, semicolon or tab separated; UTF-8 or UTF-16, with or without BOM)."""
    path = Path(path)
    return parse_roster(read_text(path, what="roster", limit=MAX_ROSTER_BYTES), source=path_text(path))


def parse_roster(text: str, *, source: str = "roster") -> Roster:
    """Parse roster CSV text; the first row with text is the header, and a bad row is an error."""
    try:
        table = read_columns(text)
    except TableError as exc:
        raise RosterError(f"{source}: {exc}") from None
    if table.bad:  # a roster is the instructor's own file: a row that cannot be read is refused
        raise RosterError(f"{source}: invalid CSV at row {table.bad[0].line}: {table.bad[0].reason}")
    if not table.header:
        raise RosterError(f"{source}: empty roster; expected a header row with a student id column")
    id_col = find_column(table.header, ID_COLUMNS)
    if id_col is None:
        found = ", ".join(repr(c) for c in table.header) or "nothing"
        raise RosterError(
            f"{source}: no student id column; expected a header named one of "
            f"{', '.join(ID_COLUMNS)} (any case), got {found}"
        )
    name_col = find_column(table.header, NAME_COLUMNS)
    ids = _cells(table.columns[id_col])
    names = _cells(table.columns[name_col]) if name_col is not None else [""] * len(ids)
    blank = [not any(str(column[i]).strip() for column in table.columns) for i in range(len(ids))]
    students: list[Student] = []
    first_row: dict[str, int] = {}
    for i, (student, name, line) in enumerate(zip(ids, names, table.lines, strict=True)):
        if blank[i]:
            continue  # blank lines are not students
        if not student:
            raise RosterError(f"{source}: row {line}: empty student id")
        if student in first_row:
            raise RosterError(
                f"{source}: row {line}: duplicate student id {student!r} (first on row {first_row[student]})"
            )
        first_row[student] = line
        students.append(Student(student, name or None))
    if not students:
        raise RosterError(f"{source}: the roster has a header but no students")
    return Roster(tuple(students))


def _cells(column: Column) -> list[str]:
    """A column's cells as stripped text (a numpy text column becomes a list)."""
    cells: list[str] = column.tolist() if isinstance(column, np.ndarray) else list(column)
    return [cell.strip() for cell in cells]
