"""Class lists as the LMSs export them: Canvas, Moodle, Brightspace and Blackboard, recognised by
their headers.

Each export's own student identifier becomes the id used for variants, keys and grading, and the
cells the LMS's grade import matches students by are kept for the gradebook written back
(:mod:`gradegen.reports.canvas` and its siblings). The rules, from each LMS's documentation and
source (cited in the README's "Using gradegen with your LMS"):

* **Canvas** gradebook export: ``Student, ID, SIS User ID, SIS Login ID, Section, <assignments…>``
  and a "Points Possible" row. The id is ``ID``, Canvas's own user id, which its importer matches
  first; the name is ``Student``. Rows Canvas's importer skips (Points Possible, Muted/Manual
  Posting) are skipped here too.
* **Moodle** grades export or participants download: ``First name, Last name`` (or ``Surname``),
  ``ID number, Email address, …``. The id is ``ID number`` when every student has one, else
  ``Email address`` (the two fields Moodle's grade import maps users by that a teacher can see).
* **Brightspace** grades export: ``OrgDefinedId, Username, …, End-of-Line Indicator``, its ids
  written with a ``#`` in front (not part of the id). The id is ``OrgDefinedId`` when every
  student has one, else ``Username``.
* **Blackboard** Grade Center download: ``Last Name, First Name, Username, Student ID, …``. The id
  is ``Username``, the only identifier Blackboard's upload matches students by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from gradegen.tables import Column, Table, header_key


class Lms(StrEnum):
    """The learning management systems whose exports are read and whose imports are written."""

    CANVAS = "canvas"
    MOODLE = "moodle"
    BRIGHTSPACE = "brightspace"
    BLACKBOARD = "blackboard"


CANVAS_FIELDS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
"""Canvas's student columns, in the order its export writes and its importer reads them."""

MOODLE_FIELDS = ("ID number", "Email address")
BRIGHTSPACE_FIELDS = ("OrgDefinedId", "Username")
BLACKBOARD_FIELDS = ("Username", "Student ID")

_CANVAS_SKIPPED = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.IGNORECASE)
"""A row of these cells only is Canvas's posting-policy row (canvas-lms GradebookImporter)."""


@dataclass(frozen=True)
class ExportRows:
    """An LMS export's students, row by row: the id, name and kept cells of each row, and which
    rows hold a student at all (not a Points Possible row, not blank)."""

    lms: Lms | None
    key: str
    ids: list[str]
    names: list[str]
    fields: list[tuple[tuple[str, str], ...]]
    students: list[bool]
    columns: tuple[str, ...]


def recognise(header: Sequence[str]) -> Lms | None:
    """Which LMS wrote a table with this header, or None for a plain roster."""
    keys = [header_key(cell) for cell in header]
    if len(keys) > 2 and "student" in keys[0] and keys[1] == "id" and "section" in keys:
        return Lms.CANVAS
    if "orgdefinedid" in keys or ("username" in keys and "end_of_line_indicator" in keys):
        return Lms.BRIGHTSPACE
    if {"last_name", "first_name", "username"} <= set(keys):
        return Lms.BLACKBOARD
    if "email_address" in keys and "first_name" in keys and ({"last_name", "surname"} & set(keys)):
        return Lms.MOODLE
    return None


def _texts(column: Column) -> list[str]:
    cells: list[str] = column.tolist() if isinstance(column, np.ndarray) else list(column)
    return [cell.strip() for cell in cells]


def read_export(table: Table, lms: Lms) -> ExportRows:
    """The students of an export recognised as ``lms``'s (see the module's rules)."""
    keys = [header_key(cell) for cell in table.header]
    cells = {key: _texts(table.columns[j]) for j, key in reversed(list(enumerate(keys)))}  # first wins
    n = len(table)
    empty = [""] * n

    def cells_of(*names: str) -> list[str]:
        return next((cells[header_key(name)] for name in names if header_key(name) in cells), empty)

    rows = [any(str(column[i]).strip() for column in table.columns) for i in range(n)]
    if lms is Lms.CANVAS:
        first = cells[keys[0]]
        for i in range(n):
            rest = [str(column[i]) for column in table.columns]
            if "Points Possible" in first[i] or all(_CANVAS_SKIPPED.match(c) for c in rest):
                rows[i] = False
        kept: tuple[str, ...] = CANVAS_FIELDS
        key, names = "ID", first
        known = {header_key(f) for f in (*CANVAS_FIELDS, "Integration ID", "Root Account")}
        columns = tuple(h for h, k in zip(table.header, keys, strict=True) if k not in known)
        values = {f: cells_of(f) for f in kept}
    else:
        first_names = cells_of("First name")
        last_names = cells_of("Last name", "Surname")
        names = [f"{a} {b}".strip() for a, b in zip(first_names, last_names, strict=True)]
        if lms is Lms.MOODLE:
            kept = MOODLE_FIELDS
            values = {f: cells_of(f) for f in kept}
            key = _first_complete(values, ("ID number", "Email address"), rows)
        elif lms is Lms.BRIGHTSPACE:
            kept = BRIGHTSPACE_FIELDS
            # The export's "#" keeps a spreadsheet from reading an id as a number; it is not the id.
            values = {f: [c.removeprefix("#") for c in cells_of(f)] for f in kept}
            key = _first_complete(values, ("OrgDefinedId", "Username"), rows)
        else:
            kept = BLACKBOARD_FIELDS
            values = {f: cells_of(f) for f in kept}
            key = "Username"
        columns = ()
        if lms is Lms.BLACKBOARD:
            student = {header_key(f) for f in ("Last Name", "First Name", *BLACKBOARD_FIELDS)}
            columns = tuple(h for h, k in zip(table.header, keys, strict=True) if k not in student)
    fields = [tuple((f, values[f][i]) for f in kept if values[f][i]) for i in range(n)]
    return ExportRows(lms, key, values[key], names, fields, rows, columns)


def _first_complete(values: dict[str, list[str]], order: Sequence[str], rows: list[bool]) -> str:
    """The first of ``order`` whose column has a value on every student row (else the last)."""
    for name in order:
        if all(cell for cell, row in zip(values[name], rows, strict=True) if row):
            return name
    return order[-1]
