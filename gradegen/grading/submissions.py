"""Reading students' answers: answers.yaml (or JSON) files, folders of them, and CSV exports.

Everything is read into one column-wise :class:`Submissions` table (one row per submission, one
list of raw cells per quantity id), so that grading can work on whole columns. A file that cannot
be used is recorded in :attr:`Submissions.errors` and the rest is still read; nothing raises.

answers.yaml::

    student: ana
    z_h1: 0.3775
    dL_dw5: "8.22 × 10^-2"

The answers-<student>.json an HTML worksheet downloads is such a file:
``{"student": "ana", "assignment": "<title>", "answers": {"z_h1": "0,3775", …}}``.

A CSV file has a student id column (the roster's: ``student_id``, ``student``, ``id`` or ``email``)
and one column per quantity id (a ``name`` column is ignored), read by
:func:`gradegen.tables.read_columns` as spreadsheets write them (comma, semicolon or tab separated,
UTF-8 or UTF-16, quotes, ``\r\n``); a row that cannot be read is that row's error. A ``.tsv`` file
is a table too, and so are ``.xlsx``/``.ods`` workbooks (their first sheet) and a ``.txt`` file named
on the command line (Excel's "Unicode text"); in a folder ``.txt`` files are left alone (notes, not
answers).

Inside a folder no symbolic link is followed (each is reported), and a subfolder that cannot be
listed is reported; a path named by the user is read wherever it leads. A file name that is not
UTF-8 is carried with its odd bytes escaped (``\\xNN``), so it can go into results.json.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradegen.core.reading import parse_text, path_text, read_text
from gradegen.errors import GradegenError, SpecError
from gradegen.grading.responses import (
    canvas_rows,
    is_canvas_student_analysis,
    is_moodle_responses,
    moodle_rows,
)
from gradegen.outputs import is_gradegen_file, is_output_folder
from gradegen.tables import (
    ID_COLUMNS,
    NAME_COLUMNS,
    SHEET_SUFFIXES,
    Table,
    find_column,
    header_key,
    read_table,
)

SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".tsv", *SHEET_SUFFIXES)
"""File types read from folders."""

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", *SHEET_SUFFIXES)
"""Files read as tables (any other file is an answers file, YAML or JSON)."""

MAX_ANSWERS_BYTES = 1_000_000
"""An answers.yaml/json file larger than this is refused (a sheet is a few kilobytes)."""

MAX_CSV_BYTES = 500_000_000
"""A CSV export may be large (a whole course), but not unbounded."""

META = ("student", "name", "assignment")
"""Fields of an answers file that are not answers (``assignment``: the title an HTML worksheet
writes into the answers-<student>.json it downloads)."""

TABLE_META = frozenset((*ID_COLUMNS, *NAME_COLUMNS))
"""CSV columns that are not answers (as :func:`gradegen.tables.header_key` gives them)."""


@dataclass(frozen=True)
class FileError:
    """A submission file (or a row or student in it) that could not be graded, and why."""

    file: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "message": self.message}


@dataclass
class Submissions:
    """Submissions as columns: ``columns[id][row]`` is the raw cell (None where absent).

    ``csv_columns[(file, id)]`` records ids that came as CSV columns (reported once per file when
    unknown, rather than once per row); ``row_errors[row]`` holds problems found in that row's file
    (only rows that have any).
    """

    students: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)  # id → list, or numpy text array
    row_errors: dict[int, list[str]] = field(default_factory=dict)
    from_csv: list[bool] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    variants: dict[int, str] = field(default_factory=dict)
    """Rows answered on a variant other than the student's own (an LMS quiz handing out variants
    at random): the variant id their key is found by."""
    aliases: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Other ids a row's student may be filed under in the keys (Canvas's SIS id beside its user
    id): the first with a key becomes the row's student."""

    def __len__(self) -> int:
        return len(self.students)

    def resolve_aliases(self, has_key: Callable[[str], bool]) -> None:
        """Each row with aliases whose student has no key takes the first alias that has one."""
        for i, others in self.aliases.items():
            if not has_key(self.students[i]):
                self.students[i] = next((a for a in others if has_key(a)), self.students[i])

    def key_ids(self) -> list[str]:
        """The id each row's key is found by: its variant where the quiz said, else the student."""
        if not self.variants:
            return self.students
        return [self.variants.get(i, s) for i, s in enumerate(self.students)]

    def _column(self, qid: str) -> list[Any]:
        column = self.columns.get(qid)
        if column is None:
            column = self.columns[qid] = [None] * len(self.students)
        return column

    def _as_lists(self) -> None:
        """Columns kept as numpy text arrays (a large CSV read first) become lists to grow."""
        for qid, column in self.columns.items():
            if isinstance(column, np.ndarray):
                self.columns[qid] = column.tolist()

    def add_record(self, student: str, source: str, answers: dict[str, Any], errors: list[str]) -> None:
        """One submission (an answers file)."""
        self._as_lists()
        for column in self.columns.values():
            column.append(None)
        self.students.append(student)
        self.sources.append(source)
        if errors:
            self.row_errors[len(self.students) - 1] = errors
        self.from_csv.append(False)
        for qid, value in answers.items():
            self._column(qid)[-1] = value

    def add_table(self, students: Sequence[str], source: str, columns: Mapping[str, Any]) -> None:
        """Many submissions at once (the rows of a CSV file), column by column.

        Into an empty table the columns are taken as they are (numpy text arrays stay arrays, which
        grading reads fastest); otherwise they are appended as lists.
        """
        n = len(students)
        if not self.students and not self.columns:
            self.columns = dict(columns)
            self.students.extend(students)
            self.sources.extend([source] * n)
            self.from_csv.extend([True] * n)
            return
        self._as_lists()
        for qid, column in self.columns.items():
            if qid not in columns:
                column.extend([None] * n)
        for qid, cells in columns.items():
            cells = cells.tolist() if isinstance(cells, np.ndarray) else cells
            self._column(qid).extend(cells)  # a new column comes padded to ``start`` rows
        self.students.extend(students)
        self.sources.extend([source] * n)
        self.from_csv.extend([True] * n)


def _message(exc: GradegenError) -> str:
    """The error's message without the file name in front (the record names the file)."""
    text = str(exc)
    if isinstance(exc, SpecError) and exc.source and text.startswith(f"{exc.source}: "):
        return text[len(exc.source) + 2 :]
    return text


def _student_id(value: Any) -> str | None:
    """The student field as text (read as written, see :func:`_read_answers_file`), or None."""
    if isinstance(value, str):
        return value.strip() or None
    return None


def expand(paths: Iterable[str | Path]) -> tuple[list[Path], list[FileError]]:
    """Files to read: each path, or a folder's answer files (recursive, sorted, hidden ones skipped).

    gradegen's own output is never read as answers: inside a folder, its output folders and its
    results, keys and gradebooks are passed over; named on the command line, they are reported."""
    files: list[Path] = []
    errors: list[FileError] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            if is_output_folder(path):
                errors.append(FileError(path_text(path), "a folder gradegen wrote, not answers; not read"))
                continue
            found = [
                p
                for p in _walk(path, errors)
                if p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and not is_gradegen_file(p)
            ]
            files.extend(sorted(found, key=lambda p: p.relative_to(path).as_posix()))
        elif is_gradegen_file(path):
            errors.append(FileError(path_text(path), "a file gradegen wrote, not answers; not read"))
        elif path.exists() or path.is_symlink():  # a pipe or a dangling link: reading says why not
            files.append(path)
        else:
            errors.append(FileError(path_text(path), "no such file or folder"))
    return files, errors


def _walk(folder: Path, errors: list[FileError]) -> list[Path]:
    """Every file under ``folder`` that is not a link and not hidden; a link with an answers
    file's name or leading to a folder, and a subfolder that cannot be listed, are reported."""
    files: list[Path] = []
    found: list[FileError] = []
    pending = [folder]
    while pending:
        here = pending.pop()
        try:
            with os.scandir(here) as entries:
                listed = list(entries)
        except OSError as exc:
            found.append(
                FileError(
                    path_text(here), f"cannot read this folder ({exc.strerror}); its files are not graded"
                )
            )
            continue
        if here != folder and is_output_folder(here, {entry.name for entry in listed}):
            continue  # gradegen's own output inside the submissions (say output/grades/)
        for entry in listed:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                if path.suffix.lower() in SUFFIXES or path.is_dir():
                    found.append(
                        FileError(
                            path_text(path), "a symbolic link inside a folder is not followed; not graded"
                        )
                    )
            elif entry.is_dir(follow_symlinks=False):
                pending.append(path)
            else:
                files.append(path)
    errors.extend(sorted(found, key=lambda e: e.file))  # the order of a listing is the file system's
    return files


def read_submissions(paths: Iterable[str | Path]) -> Submissions:
    """Read answer files, folders and CSV files into one table; problems become :class:`FileError`."""
    files, errors = expand(paths)
    table = Submissions(errors=errors)
    seen: dict[str, str] = {}
    for path in files:
        if path.suffix.lower() in TABLE_SUFFIXES:
            _read_csv(path, table, seen)
        else:
            _read_answers_file(path, table, seen)
    return table


def _duplicate(student: str, source: str, seen: dict[str, str], table: Submissions, where: str) -> bool:
    first = seen.get(student)
    if first is None:
        seen[student] = source
        return False
    table.errors.append(
        FileError(
            source,
            f"{where}duplicate student {student!r} (already submitted in {first}); "
            "this submission is ignored",
        )
    )
    return True


def _answers_data(path: Path, table: Submissions) -> dict[Any, Any] | None:
    """An answers file's mapping (YAML, or JSON such as the HTML worksheet's download), or None
    with the reason recorded."""
    source = path_text(path)
    try:
        text = read_text(path, what="answers", limit=MAX_ANSWERS_BYTES)
        fmt = "json" if path.suffix.lower() == ".json" else "yaml"
        # The student field as typed: ``0123`` is not 83, ``12:30`` not 750, ``no`` not False.
        data = parse_text(text, fmt=fmt, source=source, as_text=("student",))
    except GradegenError as exc:
        table.errors.append(FileError(source, _message(exc)))
        return None
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        table.errors.append(
            FileError(source, f"expected a mapping with a student field and answers, got {kind}")
        )
        return None
    return data


def _answer_fields(data: dict[Any, Any]) -> dict[str, Any]:
    """The answers of an answers file: beside the student field, or (also accepted) in ``answers:``."""
    nested = data.get("answers")
    fields = {str(k): v for k, v in data.items() if k not in META and k != "answers"}
    if isinstance(nested, dict):
        fields.update({str(k): v for k, v in nested.items()})
    elif "answers" in data:
        fields["answers"] = nested
    return fields


def read_answers_as(path: Path, student: str) -> Submissions:
    """One answers file as ``student``'s submission, whoever its student field names (an
    autograder knows who submitted from the platform, not from the file)."""
    table = Submissions()
    data = _answers_data(path, table)
    if data is not None:
        table.add_record(student, path_text(path), _answer_fields(data), [])
    return table


def _read_answers_file(path: Path, table: Submissions, seen: dict[str, str]) -> None:
    source = path_text(path)
    data = _answers_data(path, table)
    if data is None:
        return
    student = _student_id(data.get("student"))
    if student is None:
        given = data.get("student")
        if isinstance(given, list | dict):
            message = f"the student field is a {type(given).__name__}, expected one id (`student: <id>`)"
        else:
            message = "no student field (expected `student: <id>`)"
        table.errors.append(FileError(source, message))
        return
    if _duplicate(student, source, seen, table, ""):
        return
    table.add_record(student, source, _answer_fields(data), [])


def _read_csv(path: Path, table: Submissions, seen: dict[str, str]) -> None:
    source = path_text(path)
    try:
        csv_table = read_table(path, what="CSV", limit=MAX_CSV_BYTES)
    except GradegenError as exc:
        table.errors.append(FileError(source, _message(exc)))
        return
    if not csv_table.header:
        table.errors.append(FileError(source, "empty CSV file (expected a header with a student column)"))
        return
    if is_moodle_responses(csv_table.header) or is_canvas_student_analysis(csv_table.header):
        _read_quiz_report(csv_table, source, table, seen)
        return
    lines = csv_table.lines
    for bad in csv_table.bad:  # one error per row: each is (at most) one student not graded
        table.errors.append(
            FileError(source, f"row {bad.line}: invalid CSV, {bad.reason}; this row is not graded")
        )
    if csv_table.ragged:
        ragged = [lines[i] for i in csv_table.ragged]
        table.errors.append(
            FileError(
                source,
                f"{'row' if len(ragged) == 1 else 'rows'} {_rows(ragged)}: expected {len(csv_table.header)} "
                "cells like the header; missing cells are empty",
            )
        )
    header = [h.strip() for h in csv_table.header]
    cols = csv_table.columns
    at = find_column(header, ID_COLUMNS)
    if at is None:
        table.errors.append(
            FileError(
                source, f"no student column in the CSV header (expected one of {', '.join(ID_COLUMNS)})"
            )
        )
        return
    student_column = cols[at]
    if isinstance(student_column, np.ndarray):
        student_column = student_column.tolist()
    names = [c.strip() for c in student_column]
    fresh = dict.fromkeys(names, source)
    if "" not in fresh and len(fresh) == len(names) and seen.keys().isdisjoint(fresh):
        seen.update(fresh)  # the usual export, a new student on every row: recorded in one go
        keep = list(range(len(names)))
    else:
        keep = []
        for i, name in enumerate(names):
            if name:
                if not _duplicate(name, source, seen, table, f"row {lines[i]}: "):
                    keep.append(i)
            elif any(col[i].strip() for col in cols):  # a blank line is skipped silently
                table.errors.append(
                    FileError(source, f"row {lines[i]}: no student id; this row is not graded")
                )
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        table.errors.append(FileError(source, f"duplicate columns {dupes}; the first is used"))
    everyone = len(keep) == len(names)
    columns: dict[str, Any] = {}  # id → list, or numpy text array
    rows_kept = np.array(keep, dtype=np.intp)
    for j, name in enumerate(header):
        if header_key(name) in TABLE_META or not name or name in columns:
            continue
        column = cols[j]
        if isinstance(column, np.ndarray):
            columns[name] = column if everyone else column[rows_kept]
        else:
            columns[name] = column if everyone else [column[i] for i in keep]
    if keep:
        table.add_table(names if everyone else [names[i] for i in keep], source, columns)


def _read_quiz_report(report: Table, source: str, table: Submissions, seen: dict[str, str]) -> None:
    """An LMS quiz report: Moodle's Responses (each attempt keyed by the variant it names) or
    Canvas's Student Analysis (each student keyed by Canvas id, else SIS id)."""
    moodle = is_moodle_responses(report.header)
    rows, problems = moodle_rows(report) if moodle else canvas_rows(report)
    table.errors.extend(FileError(source, message) for message in problems)
    for row in rows:
        if _duplicate(row.student, source, seen, table, f"row {row.line}: "):
            continue
        table.add_record(row.student, source, dict(row.answers), row.problems)
        if row.variant is not None:
            table.variants[len(table) - 1] = row.variant
        if row.aliases:
            table.aliases[len(table) - 1] = row.aliases


def _rows(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:5]))
    return shown + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
