"""Feedback pages in Markdown: what each student got right, each mistake with its diagnosis and the
working, and any problem with the submission.

Every piece of text is written by one function here (the heading, the score line, a follow-through
line, a wrong item's block, the problems), used by both ways of making pages: :func:`feedback_markdown`
builds one student's page from their records (the reference), :func:`iter_feedback` a whole class's
pages column by column, each piece built once per distinct key, item and answer (the same bytes).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Kind
from gradegen.escape import md_inline, md_plain
from gradegen.grading.compare import Rule
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake
from gradegen.grading.results import MISTAKES, VERDICTS, GradingResults, GroupResult, Verdict
from gradegen.reports.columns import distinct_items
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


def _fmt(x: float | None, digits: int = 6) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:.{digits}g}".replace("-", "−")


def _interval(lo: float, hi: float) -> str:
    """[lo, hi] with just enough significant figures to tell the ends apart."""
    for digits in range(6, 16):
        a, b = f"{lo:.{digits}g}", f"{hi:.{digits}g}"
        if a != b:
            break
    return f"[{a}, {b}]".replace("-", "−")


def follow_line(
    q: str, label: str, raw: str | None, key_value: str, follow: float | None, share: float
) -> str:
    """A follow-through item: the answer is not the key's but follows from the student's own."""
    return (
        f"- `{q}` ({label}): your {shown(raw)} is not the key's {key_value}, but it follows correctly "
        f"from your own earlier answers (they give {_fmt(follow)}); credited {share:.0%} of its points.\n"
    )


@dataclass(frozen=True)
class KeyText:
    """What a wrong item's block says about the key: the same for every student of one key."""

    value: str  # the key's hand value, as written
    heading: str
    expected: str
    working: tuple[str, ...]


def key_text(
    group: GroupResult, k: int, q: str, exact: float, accepted: tuple[float, float], rule: Rule
) -> KeyText:
    """Item ``q`` of key ``k`` of a group: its heading, expected value and interval, and working."""
    graph, hand = group.graph, group.hand
    node = graph[q]
    step = "the step w − w_new " if node.kind is Kind.UPDATE else ""
    value = hand.text(q, k)
    expected = (
        f"- Expected {value} (exactly {_fmt(exact, 10)}); accepted {_interval(*accepted)} "
        f"({step}{rule.describe()})."
    )
    working: tuple[str, ...] = ()
    if node.formula is not None:
        symbolic = node.formula.render([graph[p].label for p in node.parents], latex=False)
        numbers = node.formula.render([hand.text(p, k) for p in node.parents], latex=False, numbers=True)
        working = (f"- Working: {node.label} = {symbolic} = {numbers} = {value}",)
    return KeyText(value, f"### `{q}`: {node.label}, {node.meaning}", expected, working)


def answer_line(verdict: Verdict, raw: str | None) -> str:
    if verdict is Verdict.MISSING:
        return "- Your answer: missing."
    if verdict is Verdict.UNPARSEABLE:
        return f"- Your answer {shown(raw)} could not be read as a number."
    return f"- Your answer: {shown(raw)}."


def mistake_line(mistake: Mistake) -> str:
    return f"- Likely mistake (`{mistake.value}`): {EXPLANATIONS[mistake]}"


def review_item(key: KeyText, verdict: Verdict, raw: str | None, mistake: Mistake | None) -> str:
    """A wrong item's block: heading, the student's answer, the key, the likely mistake, the working."""
    lines = [key.heading, "", answer_line(verdict, raw), key.expected]
    if mistake is not None:
        lines.append(mistake_line(mistake))
    return "\n".join([*lines, *key.working]) + "\n\n"


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

    def key(q: str) -> KeyText:
        item = items[q]
        return key_text(group, k, q, item.exact, item.accepted, item.rule or group.rule[q])

    parts = [heading(record.student), score_line(record.score, record.max)]
    if right:
        parts += [section(RIGHT), TICK_SEPARATOR.join(map(tick, right)) + TICKS_END]
    if follow:
        parts.append(section(FOLLOW))
        for q in follow:
            item = items[q]
            share = item.points / item.max_points if item.max_points else 0.0
            parts.append(follow_line(q, group.graph[q].label, item.raw, key(q).value, item.follow, share))
        parts.append(FOLLOW_END)
    if wrong:
        parts.append(section(REVIEW))
        parts += [review_item(key(q), items[q].verdict, items[q].raw, items[q].diagnosis) for q in wrong]
    if record.errors:
        parts.append(problems_block(record.errors))
    return finish("".join(parts))


# --- a class's pages, column by column: the fast path ----------------------------------------------

_ITEMS_CACHED = 200_000
"""At most this many wrong-item texts are kept for reuse (distinct wrong answers can be many)."""

_CHUNK = 4096
"""Students whose pages are built at a time: per-row Python lists only for a few rows at once."""

_CORRECT = VERDICTS.index(Verdict.CORRECT)
_FOLLOW = VERDICTS.index(Verdict.FOLLOW_THROUGH)
_MISSING = VERDICTS.index(Verdict.MISSING)


class _Pages:
    """A class's feedback pages as UTF-8, in order, assembled from cached pieces."""

    def __init__(self, results: GradingResults) -> None:
        self.results = results
        self.keys: dict[tuple[int, int, int], KeyText] = {}
        self.items: dict[tuple[int, int, int, int, int, str | None], bytes] = {}  # answers repeat
        self.follows: dict[tuple[int, int, int, str | None, float, float], bytes] = {}
        self.scores: dict[tuple[float, float], bytes] = {}

    def _key(self, g: int, k: int, j: int) -> KeyText:
        text = self.keys.get((g, k, j))
        if text is None:
            group = self.results.groups[g]
            q = group.asked[j]
            c = group.columns[q]
            accepted = (float(c.lo_k[k]), float(c.hi_k[k]))
            text = self.keys[(g, k, j)] = key_text(group, k, q, float(c.exact_k[k]), accepted, group.rule[q])
        return text

    def _item(self, g: int, k: int, j: int, d: int, v: int, raw: str | None) -> bytes:
        data = self.items.get((g, k, j, d, v, raw))
        if data is None:
            data = review_item(self._key(g, k, j), VERDICTS[v], raw, MISTAKES[d] if d >= 0 else None).encode()
            if len(self.items) < _ITEMS_CACHED:
                self.items[(g, k, j, d, v, raw)] = data
        return data

    def _follow(self, g: int, k: int, j: int, raw: str | None, follow: float, share: float) -> bytes:
        data = self.follows.get((g, k, j, raw, follow, share))
        if data is None:
            group = self.results.groups[g]
            q = group.asked[j]
            value = follow if math.isfinite(follow) else None
            data = follow_line(q, group.graph[q].label, raw, self._key(g, k, j).value, value, share).encode()
            if len(self.follows) < _ITEMS_CACHED:
                self.follows[(g, k, j, raw, follow, share)] = data
        return data

    def _score(self, score: float, possible: float) -> bytes:
        data = self.scores.get((score, possible))
        if data is None:
            data = self.scores[(score, possible)] = score_line(score, possible).encode()
        return data

    def __iter__(self) -> Iterator[bytes]:
        results = self.results
        n = len(results)
        for start in range(0, n, _CHUNK):
            students = np.arange(start, min(start + _CHUNK, n))
            pages: list[bytes] = [b""] * students.size
            for g in range(len(results.groups)):
                mine = np.flatnonzero(results.group_of[students] == g)
                if mine.size:
                    built = self._group_pages(g, results.row_of[students[mine]], students[mine])
                    for at, page in zip(mine.tolist(), built, strict=True):
                        pages[at] = page
            yield from pages

    def _group_pages(self, g: int, rows: NDArray[np.intp], students: NDArray[np.intp]) -> list[bytes]:
        """The pages of some rows of one group, in order, built column by column.

        A page is a row of pieces: the heading, the score, then per section (right, follow-through,
        to review) its title, its items in asked order and its end, then the problems. Each item
        goes to the column its section and its rank among the row's items give; titles and ends
        of sections a row does not have stay empty.
        """
        results = self.results
        group = results.groups[g]
        asked = group.asked
        n, width = rows.size, len(asked)
        keys, key_of = np.unique(group.key_index[rows], return_inverse=True)
        verdicts = np.stack([group.columns[q].verdict[rows] for q in asked], axis=1)
        sections = np.where(verdicts == _CORRECT, 0, np.where(verdicts == _FOLLOW, 1, 2))
        # An item's rank in its page: sections in order, asked order within one.
        order = np.argsort(sections * width + np.arange(width), axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(width)[None, :], axis=1)
        column = 3 + 2 * sections + rank  # after heading, score and the titles and ends before it
        counts = [(sections == s).sum(axis=1) for s in range(3)]
        pieces = np.full((n, width + 9), b"", dtype=object)
        everyone = np.arange(n)
        ids = [results.ids[i] for i in students.tolist()]
        plain = all(map(md_plain, ids))  # the common case: nothing to escape
        pieces[:, 0] = [heading(s, plain=plain).encode() for s in ids]
        scores = self.scores
        pieces[:, 1] = [
            scores.get(pair) or self._score(*pair)
            for pair in zip(group.score[rows].tolist(), group.max[rows].tolist(), strict=True)
        ]
        before = np.zeros(n, dtype=np.intp)  # items of the sections before this one
        for s, (title, end) in enumerate(((RIGHT, TICKS_END), (FOLLOW, FOLLOW_END), (REVIEW, ""))):
            some = counts[s] > 0
            start = 2 + 2 * s + before
            pieces[everyone[some], start[some]] = section(title).encode()
            pieces[everyone[some], (start + 1 + counts[s])[some]] = end.encode()
            before = before + counts[s]
        first_right = np.where(sections == 0, rank, width).argmin(axis=1)
        for j, q in enumerate(asked):
            c = group.columns[q]
            mine = np.flatnonzero(sections[:, j] == 0)
            pieces[mine, column[mine, j]] = (TICK_SEPARATOR + tick(q)).encode()
            first = mine[first_right[mine] == j]
            pieces[first, column[first, j]] = tick(q).encode()
            for r in np.flatnonzero(sections[:, j] == 1).tolist():
                row = int(rows[r])
                share = float(c.points[row]) / c.max_points if c.max_points else 0.0
                pieces[r, column[r, j]] = self._follow(
                    g, int(keys[key_of[r]]), j, c.raw[row] or None, float(c.follow[row]), share
                )
            picked = np.flatnonzero(sections[:, j] == 2)
            if picked.size:
                distinct, item_of = distinct_items(c, rows[picked], keys, key_of[picked])
                table = np.array(
                    [self._item(g, k, j, d, v, None if v == _MISSING else t) for t, _, k, v, d in distinct],
                    dtype=object,
                )
                pieces[picked, column[picked, j]] = table[item_of]
        problems = results.student_errors
        for r, index in enumerate(students.tolist()):
            if index in problems:
                pieces[r, -1] = problems_block(problems[index]).encode()
        # Every block ends in a blank line: end with just one newline, as finish() does.
        return [page[:-1] if page.endswith(b"\n\n") else page for page in map(b"".join, pieces.tolist())]


def iter_feedback(results: GradingResults) -> Iterator[bytes]:
    """Every student's feedback page as UTF-8, in order: the bytes of :func:`feedback_markdown`."""
    return iter(_Pages(results))
