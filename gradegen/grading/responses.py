"""Quiz reports an LMS downloads, read as submissions: Moodle's quiz Responses report and
Canvas's quiz Student Analysis report.

Moodle's Responses report (Results → Responses, downloaded as CSV or Excel with "Question text"
ticked) has the user's identity columns (``First name``, ``Last name``/``Surname``, ``Email
address``, ``ID number``…), ``State``, ``Started on``… and per quiz slot ``Question N`` (the
question's text as plain text, each blank shown as ``_____``), ``Response N`` and ``Right answer
N``. A Cloze question's response is ``part 1: …; part 2: …`` (``qtype_multianswer``'s
``summarise_response``, its parts joined by ``"; "``, ``-`` for no answer at all).

gradegen's Cloze text (:mod:`gradegen.exports.moodle`) names its variant, ``[variant v001]``, and
tags each blank with its quantity id, ``[z_h1] … _____``: so a row's variant and the meaning of
each part are read from the row's own ``Question N`` cell, whichever variant Moodle drew.

Canvas's Student Analysis report (Quiz → Quiz Statistics → Student Analysis) has ``name, id,
sis_id, section, section_id, section_sis_id, submitted[, attempt]``, then per question
``"<question id>: <question text>"`` and its points, then ``n correct, n incorrect, score``;
gradegen's Canvas items begin with their quantity id, ``[z_h1]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gradegen.tables import Table, find_column, header_key
from gradegen.variants.exports import MOODLE_FIELDS

VARIANT = re.compile(r"\[variant\s+([^\]]*[^\]\s])\s*\]")
"""How the Cloze text names its variant (the one place the marker is read; the writer is
:data:`gradegen.exports.moodle.VARIANT_MARK`)."""

TAG = re.compile(r"\[([A-Za-z_]\w*)\][^\[]*?_____")
"""A quantity id's tag and the blank after it, as Moodle's question summary shows them."""

PART = re.compile(r"(?:^|;\s+)[^\W\d_]+\s(\d+)\s?:\s?")
"""Where a Cloze part begins: ``part 1: `` (or a translation: ``parte 1: ``, ``partie 1 : ``)."""

_SLOT = re.compile(r"^(question|response) (\d+)$")
_FINISHED = "finished"


def is_moodle_responses(header: Sequence[str]) -> bool:
    """Whether a table is Moodle's quiz Responses report: a ``Response N`` column and a ``State``."""
    keys = [header_key(h).replace("_", " ") for h in header]
    return "state" in keys and any(_SLOT.match(k) and k.startswith("response") for k in keys)


class ResponsesRow:
    """One attempt of the report: who, which variant, the answers by quantity id, and problems."""

    __slots__ = ("aliases", "answers", "attempt", "line", "problems", "student", "variant")

    def __init__(self, student: str, line: int) -> None:
        self.student = student
        self.line = line
        self.variant: str | None = None  # the variant answered, when the quiz drew one
        self.aliases: tuple[str, ...] = ()  # other ids the student's key may be filed under
        self.attempt = 0
        self.answers: dict[str, str] = {}
        self.problems: list[str] = []


def moodle_rows(table: Table) -> tuple[list[ResponsesRow], list[str]]:
    """The finished attempts of a Responses report, and the report's own problems (one line each).

    A student with several finished attempts is graded on the last in the report; the others are
    named among the problems."""
    header = table.header
    slots: dict[int, dict[str, int]] = {}
    for j, name in enumerate(header):
        match = _SLOT.match(header_key(name).replace("_", " "))
        if match:
            slots.setdefault(int(match.group(2)), {})[match.group(1)] = j
    problems: list[str] = []
    id_number, email = (find_column(header, [header_key(f)]) for f in MOODLE_FIELDS)
    who = id_number if id_number is not None else email
    if id_number is not None and email is not None and not all(c.strip() for c in table.columns[id_number]):
        who = email  # the ID number only when every attempt has one (Moodle leaves it empty unless set)
    if who is None:
        return [], ["no Email address or ID number column: show one of them in the report"]
    if not any("question" in s for s in slots.values()):
        return [], ["no Question N columns: download the report with 'Question text' ticked"]
    state = find_column(header, ["state"])
    rows: dict[str, ResponsesRow] = {}
    for i in range(len(table)):
        line = table.lines[i] if table.lines else i + 2
        status = table.columns[state][i].strip() if state is not None else _FINISHED
        student = table.columns[who][i].strip()
        if not status:  # the report's "Overall average" line
            continue
        if not student:
            problems.append(f"row {line}: no {header[who]}; not graded")
            continue
        if status.lower() != _FINISHED:
            problems.append(f"row {line}: the attempt by {student!r} is {status!r}, not Finished; not graded")
            continue
        row = ResponsesRow(student, line)
        for _, columns in sorted(slots.items()):
            if "question" in columns:
                _read_slot(row, table.columns[columns["question"]][i], _cell(table, columns, "response", i))
        if row.variant is None:
            problems.append(
                f"row {line}: {student!r}: no gradegen variant named in the questions; not graded"
            )
            continue
        earlier = rows.pop(student, None)
        if earlier is not None:
            problems.append(
                f"row {earlier.line}: {student!r} attempted again (row {line}); the later is graded"
            )
        rows[student] = row
    return sorted(rows.values(), key=lambda r: r.line), problems


def _cell(table: Table, columns: dict[str, int], kind: str, i: int) -> str:
    j = columns.get(kind)
    return "" if j is None else table.columns[j][i]


def _read_slot(row: ResponsesRow, question: str, response: str) -> None:
    """A slot's variant and answers, when its question is one of gradegen's."""
    found = VARIANT.search(question)
    if found is None:
        return
    if row.variant is not None and row.variant != found.group(1):
        row.problems.append(
            f"answered two variants ({row.variant!r}, {found.group(1)!r}); the first is graded"
        )
        return
    row.variant = found.group(1)
    ids = TAG.findall(question)
    parts = cloze_parts(response)
    for number, text in parts.items():
        if 1 <= number <= len(ids):
            row.answers[ids[number - 1]] = text
        else:
            row.problems.append(f"part {number} of the response has no blank in the question (ignored)")


def cloze_parts(response: str) -> dict[int, str]:
    """A Cloze response summary as answers by part number: ``part 1: 0.37; part 2: `` → {1: "0.37", 2: ""}."""
    text = response.strip()
    if text in ("", "-"):
        return {}
    starts = list(PART.finditer(text))
    parts: dict[int, str] = {}
    for k, match in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(text)
        parts.setdefault(int(match.group(1)), text[match.end() : end].strip())
    return parts


# --- Canvas: the quiz's Student Analysis report ----------------------------------------------------

CANVAS_QUESTION = re.compile(r"^(\d+): (.*)$", re.S)
"""A question's column: ``"<question id>: <question text>"`` (canvas-lms
``quizzes/quiz_statistics/student_analysis.rb``, ``to_csv``); the column after it holds its points."""

CANVAS_TAG = re.compile(r"\[([A-Za-z_]\w*)\]")
"""The quantity id that :mod:`gradegen.exports.canvas` puts at the start of each item's text."""

_CANVAS_HEAD = ("name", "id", "section", "submitted")
_CANVAS_TAIL = ("n_correct", "n_incorrect", "score")


def is_canvas_student_analysis(header: Sequence[str]) -> bool:
    """Whether a table is Canvas's Student Analysis report: its student columns and its last three."""
    keys = [header_key(h) for h in header]
    return set(_CANVAS_HEAD) <= set(keys) and tuple(keys[-3:]) == _CANVAS_TAIL


def canvas_rows(table: Table) -> tuple[list[ResponsesRow], list[str]]:
    """The report's submissions: the student (Canvas user id, the SIS id kept as an alias), the
    answers of the tagged questions, by quantity id. A student's latest attempt is graded."""
    header = table.header
    questions: dict[int, str] = {}
    problems: list[str] = []
    for j, cell in enumerate(header):
        match = CANVAS_QUESTION.match(cell.strip())
        if match is None:
            continue
        tag = CANVAS_TAG.search(match.group(2))
        if tag is None:
            problems.append(f"column {j + 1} ({match.group(1)}): no [quantity id] in its text; ignored")
        elif tag.group(1) in questions.values():
            problems.append(f"column {j + 1}: {tag.group(1)} asked twice; the first is used")
        else:
            questions[j] = tag.group(1)
    who, sis = find_column(header, ["id"]), find_column(header, ["sis_id"])
    attempt = find_column(header, ["attempt"])
    rows: dict[str, ResponsesRow] = {}
    if who is None:  # pragma: no cover - part of the recognition
        return [], problems
    for i in range(len(table)):
        line = table.lines[i] if table.lines else i + 2
        student = table.columns[who][i].strip()
        if not student:
            problems.append(f"row {line}: no id (a logged-out or anonymous submission); not graded")
            continue
        row = ResponsesRow(student, line)
        row.aliases = (
            (table.columns[sis][i].strip(),) if sis is not None and table.columns[sis][i].strip() else ()
        )
        row.attempt = _number(table.columns[attempt][i]) if attempt is not None else 0
        row.answers = {q: table.columns[j][i] for j, q in questions.items()}
        earlier = rows.get(student)
        if earlier is None or row.attempt >= earlier.attempt:
            rows[student] = row
    return sorted(rows.values(), key=lambda r: r.line), problems


def _number(cell: str) -> int:
    try:
        return int(float(cell.strip()))
    except ValueError:
        return 0
