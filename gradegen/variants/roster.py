"""Rosters of students, anonymous variant ids, and safe folder names for student ids.

A roster is a CSV file (read by :mod:`gradegen.tables`, as the submissions are) with a student id
column (header ``student_id``, ``student``, ``id`` or ``email``, any case) and optionally a
``name`` column. A student id is only data: it becomes a
folder name through :func:`folder_names`, which never lets it escape the output folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gradegen.core.reading import read_text
from gradegen.errors import GradegenError
from gradegen.names import folder_names
from gradegen.tables import TableError, find_column, read_rows, sniff_delimiter

ID_COLUMNS = ("student_id", "student", "id", "email")
"""Headers accepted for the id column, in order of preference (case-insensitive)."""

NAME_COLUMNS = ("name", "student_name", "full_name")
"""Headers accepted for the optional name column."""

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
    """Read a roster CSV file (comma, semicolon or tab separated; UTF-8, with or without BOM)."""
    path = Path(path)
    return parse_roster(read_text(path, what="roster", limit=MAX_ROSTER_BYTES), source=str(path))


def parse_roster(text: str, *, source: str = "roster") -> Roster:
    """Parse roster CSV text; the first row with text is the header."""
    try:
        rows = read_rows(text, delimiter=sniff_delimiter(text))
    except TableError as exc:
        raise RosterError(f"{source}: {exc}") from None
    start = next((i for i, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    if start is None:
        raise RosterError(f"{source}: empty roster; expected a header row with a student id column")
    id_col = find_column(rows[start], ID_COLUMNS)
    if id_col is None:
        found = ", ".join(repr(c) for c in rows[start]) or "nothing"
        raise RosterError(
            f"{source}: no student id column; expected a header named one of "
            f"{', '.join(ID_COLUMNS)} (any case), got {found}"
        )
    name_col = find_column(rows[start], NAME_COLUMNS)
    students: list[Student] = []
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows[start + 1 :], start=start + 2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not students
        student = row[id_col].strip() if id_col < len(row) else ""
        if not student:
            raise RosterError(f"{source}: row {i}: empty student id")
        if student in first_row:
            raise RosterError(
                f"{source}: row {i}: duplicate student id {student!r} (first on row {first_row[student]})"
            )
        first_row[student] = i
        name = row[name_col].strip() if name_col is not None and name_col < len(row) else ""
        students.append(Student(student, name or None))
    if not students:
        raise RosterError(f"{source}: the roster has a header but no students")
    return Roster(tuple(students))
