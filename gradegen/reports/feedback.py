"""Feedback pages in Markdown: what each student got right, each mistake with its diagnosis and the
working, and any problem with the submission.

Every piece of text is written by one function here (the heading, the score line, a follow-through
line, a wrong item's block, the problems), used by both ways of making pages: :func:`feedback_markdown`
builds one student's page from their records (the reference), :func:`iter_feedback` a whole class's
pages column by column (the same bytes). The pieces that depend on a key (the expected value, the
accepted interval, the working) are written for many keys at once from each column's numbers as
written, so that a class on per-student keys, where nearly every wrong item is its own, costs a few
passes per column rather than a call per item.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from gradegen.core.graph import Kind
from gradegen.escape import md_inline
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake
from gradegen.grading.results import GradingResults, GroupResult, ItemResult, Verdict
from gradegen.reports.gradebook import number_text, percent

# --- the wording: one function or constant per piece of text -------------------------------------

RIGHT, FOLLOW, REVIEW, PROBLEMS = "Right", "Follow-through", "To review", "Problems with your submission"
"""The sections' titles, in page order."""

TICK_SEPARATOR, TICKS_END = ", ", "\n\n"
"""Between the IDs answered right, and after the last one."""

FOLLOW_END = "\n"
"""After the last follow-through line: a blank line."""


def heading(student: str, *, plain: bool = False) -> str:
    """The page's title; ``plain``: the id has nothing to escape (:func:`md_plain`), the usual case."""
    return f"# Feedback for {student if plain else md_inline(student)}\n\n"


def score_line(score: float, possible: float) -> str:
    return f"Score: **{number_text(score)} / {number_text(possible)}** ({percent(score, possible):.1f}%)\n\n"


def section(title: str) -> str:
    return f"## {title}\n\n"


def tick(q: str) -> str:
    """An ID answered right."""
    return f"`{q}`"


def _short(text: str, limit: int = 80) -> str:
    """A student's text as shown in feedback: at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(raw: str | None) -> str:
    """A student's answer as the page shows it: shortened and escaped."""
    return md_inline(_short(raw or ""))


_PLAIN_NUMBERS = re.compile(r"[0-9.eE+\-\n]*")


def shown_many(raws: Sequence[str | None]) -> list[str]:
    """:func:`shown` of many answers. When every answer is a plain number (digits, a point, an
    exponent and signs, at most 80 characters: what a spreadsheet's cells hold) or empty, they are
    escaped together as :func:`md_inline` escapes each: every sign gets a backslash, and so does a
    point after leading digits (``1.`` would start a list). Otherwise each goes through
    :func:`shown`. (md_inline costs some 5 µs a text, as its cache misses with a key per student.)"""
    texts = ["" if raw is None else raw for raw in raws]
    joined = "\n".join(texts)
    plain = (
        _PLAIN_NUMBERS.fullmatch(joined)
        and joined.count("\n") == len(texts) - 1
        and max(map(len, texts), default=0) <= 80
    )
    if not plain:
        return [shown(raw) for raw in raws]
    escaped = joined.replace("-", "\\-").replace("+", "\\+").split("\n")
    return [  # (digits first: no sign, so the first point is the text's)
        e.replace(".", "\\.", 1) if t[:1].isdigit() and "." in t and t.partition(".")[0].isdigit() else e
        for t, e in zip(texts, escaped, strict=True)
    ]


def _fmts(xs: Sequence[float], digits: int = 6) -> list[str]:
    """Numbers for a sentence: ``digits`` significant figures, a real minus sign, — for none."""
    spec = f".{digits}g"
    texts = [format(x, spec) if math.isfinite(x) else "—" for x in xs]
    return "\n".join(texts).replace("-", "−").split("\n") if texts else []


def _fmt(x: float | None, digits: int = 6) -> str:
    return "—" if x is None else _fmts([x], digits)[0]


def _intervals(lo: Sequence[float], hi: Sequence[float]) -> tuple[list[str], list[str]]:
    """Intervals' ends with just enough significant figures (6 to 15) to tell them apart."""
    if not lo:
        return [], []
    a, b = [format(x, ".6g") for x in lo], [format(x, ".6g") for x in hi]
    left = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x == y]
    for digits in range(7, 16):
        if not left:
            break
        spec = f".{digits}g"
        for i in left:
            a[i], b[i] = format(lo[i], spec), format(hi[i], spec)
        left = [i for i in left if a[i] == b[i]]
    ends = "\n".join(a + b).replace("-", "−").split("\n")
    return ends[: len(a)], ends[len(a) :]


def follow_lines(
    q: str,
    label: str,
    answers: Sequence[str],
    key_values: Sequence[str],
    follows: Sequence[float],
    shares: Sequence[float],
) -> list[str]:
    """Follow-through items: each answer (as shown) is not the key's but follows from the
    student's own (``follows``: what those give, NaN for nothing)."""
    return [
        f"- `{q}` ({label}): your {a} is not the key's {v}, but it follows correctly "
        f"from your own earlier answers (they give {f}); credited {share:.0%} of its points.\n"
        for a, v, f, share in zip(answers, key_values, _fmts(follows), shares, strict=True)
    ]


def follow_line(
    q: str, label: str, raw: str | None, key_value: str, follow: float | None, share: float
) -> str:
    """A follow-through item: the answer is not the key's but follows from the student's own."""
    value = math.nan if follow is None else follow
    return follow_lines(q, label, [shown(raw)], [key_value], [value], [share])[0]


_ANSWERS = {
    Verdict.MISSING: ("- Your answer: missing.", ""),
    Verdict.UNPARSEABLE: ("- Your answer ", " could not be read as a number."),
}
_ANSWERED = ("- Your answer: ", ".")


def answer_form(verdict: Verdict) -> tuple[str, str]:
    """A wrong item's answer line around the student's answer as shown ("" when missing)."""
    return _ANSWERS.get(verdict, _ANSWERED)


def mistake_line(mistake: Mistake) -> str:
    return f"- Likely mistake (`{mistake.value}`): {EXPLANATIONS[mistake]}"


@dataclass(frozen=True)
class ReviewTemplate:
    """A wrong item's block (heading, the student's answer, the key, the likely mistake, the
    working) with its variable parts as ``%s`` slots, in this order: the answer line's start, the
    answer as shown and its end (:func:`answer_form`); the key's hand value as written, its exact
    value and the accepted interval's ends (:func:`_fmt`, :func:`_intervals`); the likely-mistake
    line after a newline, or ""; then, with a working line, the hand values of ``parents`` (in the
    order the working shows them) and the value again. Every block ends in a blank line."""

    text: str
    parents: tuple[str, ...]
    working: bool


def review_template(group: GroupResult, q: str) -> ReviewTemplate:
    """Item ``q``'s block as a template: the same for every key of the group."""
    graph = group.graph
    node = graph[q]

    def literal(text: str) -> str:
        return text.replace("%", "%%")

    step = "the step w − w_new " if node.kind is Kind.UPDATE else ""
    text = (
        literal(f"### `{q}`: {node.label}, {node.meaning}")
        + "\n\n%s%s%s\n- Expected %s (exactly %s); accepted [%s, %s] ("
        + literal(f"{step}{group.rule[q].describe()}")
        + ").%s"
    )
    if node.formula is None:
        return ReviewTemplate(text + "\n\n", (), False)
    symbolic = node.formula.render([graph[p].label for p in node.parents], latex=False)
    marks = node.formula.render([f"\x00{i}\x00" for i in range(len(node.parents))], latex=False, numbers=True)
    pieces = marks.split("\x00")  # text, a parent's index, text, …
    numbers = "%s".join(literal(piece) for piece in pieces[::2])
    parents = tuple(node.parents[int(i)] for i in pieces[1::2])
    working = literal(f"\n- Working: {node.label} = {symbolic} = ") + numbers + " = %s"
    return ReviewTemplate(text + working + "\n\n", parents, True)


def review_item(group: GroupResult, k: int, q: str, item: ItemResult) -> str:
    """A wrong item's block, from its record and its key (``k``) in the group."""
    template = review_template(group, q)
    hand = group.hand
    value = hand.text(q, k)
    before, after = answer_form(item.verdict)
    answer = "" if item.verdict is Verdict.MISSING else shown(item.raw)
    mistake = "" if item.diagnosis is None else "\n" + mistake_line(item.diagnosis)
    (lo,), (hi,) = _intervals([item.accepted[0]], [item.accepted[1]])
    parts = [before, answer, after, value, _fmt(item.exact, 10), lo, hi, mistake]
    if template.working:
        parts += [*(hand.text(p, k) for p in template.parents), value]
    return template.text % tuple(parts)


def problems_block(problems: Sequence[str]) -> str:
    return section(PROBLEMS) + "".join(f"- {md_inline(e)}\n" for e in problems) + "\n"


def finish(page: str) -> str:
    """Every block ends in a blank line; a page ends in one newline."""
    return page.rstrip("\n") + "\n"


# --- one student's page, from the records: the reference ------------------------------------------


def feedback_markdown(results: GradingResults, index: int) -> str:
    """One student's feedback: what was right, each mistake with its diagnosis and the working."""
    record = results.student(index)
    group, row = results.locate(index)
    k = int(group.key_index[row])
    items = record.items
    right = [q for q, item in items.items() if item.verdict is Verdict.CORRECT]
    follow = [q for q, item in items.items() if item.verdict is Verdict.FOLLOW_THROUGH]
    wrong = [q for q, item in items.items() if item.verdict not in (Verdict.CORRECT, Verdict.FOLLOW_THROUGH)]

    parts = [heading(record.student), score_line(record.score, record.max)]
    if right:
        parts += [section(RIGHT), TICK_SEPARATOR.join(map(tick, right)) + TICKS_END]
    if follow:
        parts.append(section(FOLLOW))
        for q in follow:
            item = items[q]
            share = item.points / item.max_points if item.max_points else 0.0
            value = group.hand.text(q, k)
            parts.append(follow_line(q, group.graph[q].label, item.raw, value, item.follow, share))
        parts.append(FOLLOW_END)
    if wrong:
        parts.append(section(REVIEW))
        parts += [review_item(group, k, q, items[q]) for q in wrong]
    if record.errors:
        parts.append(problems_block(record.errors))
    return finish("".join(parts))


# --- a class's pages, column by column: the fast path ----------------------------------------------
