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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Kind, Values
from gradegen.core.rounding import format_numbers
from gradegen.escape import md_inline, md_plain
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake
from gradegen.grading.results import MISTAKES, VERDICTS, GradingResults, GroupResult, ItemResult, Verdict
from gradegen.reports.columns import Item, distinct_items
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

_ITEMS_CACHED = 200_000
"""At most this many wrong-item texts are kept for reuse (distinct wrong answers can be many)."""

_CHUNK = 4096
"""Students whose pages are built at a time: per-row Python lists only for a few rows at once."""

_CORRECT = VERDICTS.index(Verdict.CORRECT)
_FOLLOW = VERDICTS.index(Verdict.FOLLOW_THROUGH)
_MISSING = VERDICTS.index(Verdict.MISSING)
_BEFORE = [answer_form(v)[0].encode() for v in VERDICTS]
_AFTER = [answer_form(v)[1].encode() for v in VERDICTS]
"""A wrong item's answer line before and after the answer as shown, by verdict code (UTF-8)."""
_MISTAKE_PARTS = {-1: b"", **{MISTAKES.index(m): ("\n" + mistake_line(m)).encode() for m in MISTAKES}}
"""A wrong item's likely-mistake line after its newline, by diagnosis code (none: empty; UTF-8)."""


def _encoded(texts: list[str]) -> list[bytes]:
    """Texts as UTF-8, encoded together (one pass) unless one holds the separator."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):
        return [t.encode() for t in texts]
    return joined.encode().split(b"\x00") if texts else []


class _HandTexts:
    """A group's hand values as written (:meth:`Values.text`) for many keys at once: each node's
    distinct (value, places) written once, when the node is first asked for."""

    def __init__(self, hand: Values) -> None:
        self.hand = hand
        self.tables: dict[str, tuple[NDArray[np.object_], NDArray[np.intp]]] = {}

    def _table(self, node_id: str) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
        """The node's distinct texts, and each key's text among them."""
        table = self.tables.get(node_id)
        if table is None:
            hand = self.hand
            values = np.ascontiguousarray(hand[node_id])
            places = hand.places.get(node_id) if hand.places is not None else None
            # Runs of equal bits and places in sorted order (a value recurring with other places
            # between may get a run of its own: the same text written twice, no harm).
            order = np.argsort(values.view(np.int64))
            bits = values.view(np.int64)[order]
            start = np.ones(values.size, dtype=bool)
            start[1:] = bits[1:] != bits[:-1]
            if places is not None:
                ranked = places[order]
                start[1:] |= ranked[1:] != ranked[:-1]
            inverse = np.empty(values.size, dtype=np.intp)
            inverse[order] = np.cumsum(start) - 1
            first = order[start]
            if places is not None:  # as Values.text writes them
                texts = format_numbers(values[first].tolist(), places[first].tolist())
            else:
                texts = [hand.text(node_id, k) for k in first.tolist()]
            table = self.tables[node_id] = (np.array(texts, dtype=object), inverse)
        return table

    def of(self, node_id: str, keys: NDArray[np.intp]) -> list[str]:
        texts, inverse = self._table(node_id)
        out: list[str] = texts[inverse[keys]].tolist()
        return out

    def one(self, node_id: str, key: int) -> str:
        texts, inverse = self._table(node_id)
        text: str = texts[inverse[key]]
        return text


class _Pages:
    """A class's feedback pages as UTF-8, in order, assembled from pieces.

    Where several students share a key, pieces are kept for reuse across chunks of students (the
    same wrong answer recurs); with a key per student nearly every wrong item is its own, and each
    column's are written at once from its numbers (:class:`_HandTexts`, :func:`_fmts`, …)."""

    def __init__(self, results: GradingResults) -> None:
        self.results = results
        self.hands = [_HandTexts(group.hand) for group in results.groups]
        self.reuse = [np.unique(group.key_index).size * 2 <= group.key_index.size for group in results.groups]
        self.templates: dict[tuple[int, int], ReviewTemplate] = {}
        self.items: dict[tuple[int, int, int, int, int, str | None], bytes] = {}  # answers repeat
        self.follows: dict[tuple[int, int, int, str | None, float, float], bytes] = {}
        self.scores: dict[tuple[float, float], bytes] = {}

    def _blocks(
        self,
        g: int,
        j: int,
        raws: Sequence[str | None],
        keys: NDArray[np.intp],
        verdicts: Sequence[int],
        codes: Sequence[int],
    ) -> list[bytes]:
        """Wrong items' blocks of column ``j`` (each its answer, key, verdict and diagnosis code):
        each column of numbers written at once, then one template per item."""
        group = self.results.groups[g]
        q = group.asked[j]
        c = group.columns[q]
        template = self.templates.get((g, j))
        if template is None:
            template = self.templates[(g, j)] = review_template(group, q)
        hand = self.hands[g]
        values = _encoded(hand.of(q, keys))
        lo, hi = _intervals(c.lo_k[keys].tolist(), c.hi_k[keys].tolist())
        columns = [
            [_BEFORE[v] for v in verdicts],
            _encoded(shown_many(raws)),
            [_AFTER[v] for v in verdicts],
            values,
            _encoded(_fmts(c.exact_k[keys].tolist(), 10)),
            _encoded(lo),
            _encoded(hi),
            [_MISTAKE_PARTS[d] for d in codes],
        ]
        if template.working:
            columns += [*(_encoded(hand.of(p, keys)) for p in template.parents), values]
        text = template.text.encode()  # bytes % bytes: no text of a block is encoded on its own
        return [text % parts for parts in zip(*columns, strict=True)]

    def _items(self, g: int, j: int, distinct: Sequence[Item]) -> list[bytes]:
        """The blocks of a column's distinct wrong items (answer, key, verdict, diagnosis), in
        order, each kept for reuse by later chunks of students."""
        cached = self.items
        asked = [(t if v != _MISSING else None, k, v, d) for t, _, k, v, d in distinct]
        found = [cached.get((g, k, j, d, v, raw)) for raw, k, v, d in asked]
        todo = [i for i, data in enumerate(found) if data is None]
        if todo:
            raws, keys, verdicts, codes = zip(*(asked[i] for i in todo), strict=True)
            blocks = self._blocks(g, j, raws, np.array(keys, dtype=np.intp), verdicts, codes)
            for i, data in zip(todo, blocks, strict=True):
                found[i] = data
                if len(cached) < _ITEMS_CACHED:
                    raw, k, v, d = asked[i]
                    cached[(g, k, j, d, v, raw)] = data
        return found  # type: ignore[return-value]

    def _follow(self, g: int, k: int, j: int, raw: str | None, follow: float, share: float) -> bytes:
        data = self.follows.get((g, k, j, raw, follow, share))
        if data is None:
            group = self.results.groups[g]
            q = group.asked[j]
            value = follow if math.isfinite(follow) else None
            key_value = self.hands[g].one(q, k)
            data = follow_line(q, group.graph[q].label, raw, key_value, value, share).encode()
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
            follows = np.flatnonzero(sections[:, j] == 1)
            if follows.size:
                them = rows[follows]
                points, values = c.points[them].tolist(), c.follow[them].tolist()
                shares = [point / c.max_points if c.max_points else 0.0 for point in points]
                raws = [raw or None for raw in c.raws(them).tolist()]
                if self.reuse[g]:
                    lines = [
                        self._follow(g, k, j, raw, value, share)
                        for k, raw, value, share in zip(
                            keys[key_of[follows]].tolist(), raws, values, shares, strict=True
                        )
                    ]
                else:  # a key per student: each line its own
                    key_values = self.hands[g].of(q, group.key_index[them])
                    answers = shown_many(raws)
                    lines = _encoded(
                        follow_lines(q, group.graph[q].label, answers, key_values, values, shares)
                    )
                pieces[follows, column[follows, j]] = np.array(lines, dtype=object)
            picked = np.flatnonzero(sections[:, j] == 2)
            if not picked.size:
                continue
            if self.reuse[g]:
                distinct, item_of = distinct_items(c, rows[picked], keys, key_of[picked])
                table = np.array(self._items(g, j, distinct), dtype=object)
                pieces[picked, column[picked, j]] = table[item_of]
            else:  # a key per student: nearly every item is its own
                them = rows[picked]
                verdict = c.verdict[them]
                cells = c.raws(them).astype(object)
                cells[verdict == _MISSING] = None
                raws = cells.tolist()
                blocks = self._blocks(
                    g, j, raws, group.key_index[them], verdict.tolist(), c.diagnosis[them].tolist()
                )
                pieces[picked, column[picked, j]] = np.array(blocks, dtype=object)
        problems = results.student_errors
        for r, index in enumerate(students.tolist()):
            if index in problems:
                pieces[r, -1] = problems_block(problems[index]).encode()
        # Every block ends in a blank line: end with just one newline, as finish() does.
        return [page[:-1] if page.endswith(b"\n\n") else page for page in map(b"".join, pieces.tolist())]


def iter_feedback(results: GradingResults) -> Iterator[bytes]:
    """Every student's feedback page as UTF-8, in order: the bytes of :func:`feedback_markdown`."""
    return iter(_Pages(results))
