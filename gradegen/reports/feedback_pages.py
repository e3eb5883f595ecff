"""Every student's feedback page for a whole class, column by column: the fast path of
:func:`~gradegen.reports.feedback.feedback_markdown`, with the same wording and the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Values
from gradegen.core.rounding import format_numbers
from gradegen.escape import md_plain
from gradegen.grading.results import MISTAKES, VERDICTS, GradingResults, Verdict
from gradegen.reports.columns import Item, distinct_items
from gradegen.reports.feedback import (
    FOLLOW,
    FOLLOW_END,
    REVIEW,
    RIGHT,
    TICK_SEPARATOR,
    TICKS_END,
    ReviewTemplate,
    _fmts,
    _intervals,
    answer_form,
    follow_line,
    follow_lines,
    heading,
    mistake_line,
    problems_block,
    review_template,
    score_line,
    section,
    shown_many,
    tick,
)

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
                scientific = hand.graph.precision_of(node_id).scientific if node_id in hand.graph else False
                texts = format_numbers(values[first].tolist(), places[first].tolist(), scientific)
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
