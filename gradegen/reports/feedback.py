"""Feedback pages: what each student got right, each mistake with its diagnosis and the working."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Kind
from gradegen.escape import md_inline, md_plain
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake
from gradegen.grading.results import GradingResults, GroupResult, Verdict
from gradegen.reports.gradebook import _num, _percent


def _short(text: str, limit: int = 80) -> str:
    """A student's text as shown in feedback: at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


class _Texts:
    """Feedback text that depends only on the key, not on the student: built once per key and item."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int, str], tuple[str, str, list[str]]] = {}
        self.verdicts: dict[int, list[list[int]]] = {}

    def verdict_rows(self, group: GroupResult) -> list[list[int]]:
        """Each row's verdict codes, in asked order (one numpy pass per group, not per student)."""
        rows = self.verdicts.get(id(group))
        if rows is None:
            stacked = np.stack([group.columns[q].verdict for q in group.asked], axis=1)
            rows = self.verdicts[id(group)] = stacked.tolist()
        return rows

    def get(self, group: GroupResult, k: int, q: str) -> tuple[str, str, list[str]]:
        """The key's hand value, the heading, and the expected/working lines for item ``q``."""
        entry = self.cache.get((id(group), k, q))
        if entry is None:
            graph, hand, c = group.graph, group.hand, group.columns[q]
            node = graph[q]
            step = "the step w − w_new " if node.kind is Kind.UPDATE else ""
            value = hand.text(q, k)
            lines = [
                f"- Expected {value} (exactly {_fmt(float(c.exact_k[k]), 10)}); accepted "
                f"{_interval(float(c.lo_k[k]), float(c.hi_k[k]))} ({step}{group.rule[q].describe()})."
            ]
            if node.formula is not None:
                symbolic = node.formula.render([graph[p].label for p in node.parents], latex=False)
                numbers = node.formula.render(
                    [hand.text(p, k) for p in node.parents], latex=False, numbers=True
                )
                lines.append(f"- Working: {node.label} = {symbolic} = {numbers} = {value}")
            entry = (value, f"### `{q}`: {node.label}, {node.meaning}", lines)
            self.cache[(id(group), k, q)] = entry
        return entry


_CORRECT = list(Verdict).index(Verdict.CORRECT)
_FOLLOW = list(Verdict).index(Verdict.FOLLOW_THROUGH)
_MISSING = list(Verdict).index(Verdict.MISSING)
_UNPARSEABLE = list(Verdict).index(Verdict.UNPARSEABLE)
_MISTAKES = list(Mistake)


def feedback_markdown(results: GradingResults, index: int, texts: _Texts | None = None) -> str:
    """One student's feedback: what was right, each mistake with its diagnosis and the working."""
    texts = texts or _Texts()
    group, row = results.locate(index)
    k = int(group.key_index[row])
    score, possible = float(group.score[row]), float(group.max[row])
    lines = [
        f"# Feedback for {md_inline(results.ids[index])}",
        "",
        f"Score: **{_num(score)} / {_num(possible)}** ({_percent(score, possible):.1f}%)",
        "",
    ]
    verdict = dict(zip(group.asked, texts.verdict_rows(group)[row], strict=True))
    right = [q for q, v in verdict.items() if v == _CORRECT]
    follow = [q for q, v in verdict.items() if v == _FOLLOW]
    wrong = [q for q, v in verdict.items() if v not in (_CORRECT, _FOLLOW)]
    if right:
        lines += ["## Right", "", ", ".join(f"`{q}`" for q in right), ""]
    if follow:
        lines += ["## Follow-through", ""]
        for q in follow:
            c = group.columns[q]
            share = float(c.points[row]) / c.max_points if c.max_points else 0.0
            answer = md_inline(_short(c.raw[row] or ""))
            lines.append(
                f"- `{q}` ({group.graph[q].label}): your {answer} is not the key's "
                f"{texts.get(group, k, q)[0]}, but it follows correctly from your own earlier answers "
                f"(they give {_fmt(float(c.follow[row]))}); credited {share:.0%} of its points."
            )
        lines.append("")
    if wrong:
        lines += ["## To review", ""]
        for q in wrong:
            c = group.columns[q]
            _, heading, expected = texts.get(group, k, q)
            lines += [heading, ""]
            raw = md_inline(_short(c.raw[row] or ""))
            if verdict[q] == _MISSING:
                lines.append("- Your answer: missing.")
            elif verdict[q] == _UNPARSEABLE:
                lines.append(f"- Your answer {raw} could not be read as a number.")
            else:
                lines.append(f"- Your answer: {raw}.")
            lines.append(expected[0])
            d = int(c.diagnosis[row])
            if d >= 0:
                lines.append(f"- Likely mistake (`{_MISTAKES[d].value}`): {EXPLANATIONS[_MISTAKES[d]]}")
            lines += [*expected[1:], ""]
    problems = results.errors_of(index)
    if problems:
        lines += ["## Problems with your submission", ""]
        lines += [f"- {md_inline(e)}" for e in problems]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


_ITEMS_CACHED = 200_000
"""At most this many wrong-item texts are kept for reuse (distinct wrong answers can be many)."""


class _Pages:
    """Feedback pages for a whole class as UTF-8, assembled from per-key fragments: the fast path
    of :func:`feedback_markdown`, which stays as the reference (the bytes are the same)."""

    def __init__(self, results: GradingResults) -> None:
        self.results = results
        self.texts = _Texts()
        self.blocks: dict[tuple[int, int, int, int], tuple[bytes, bytes]] = {}
        self.items: dict[tuple[int, int, int, int, int, str | None], bytes] = {}  # answers repeat
        self.scores: dict[tuple[float, float], bytes] = {}
        self.follow_parts: dict[tuple[int, int, int], tuple[str, str]] = {}

    def _score(self, score: float, possible: float) -> bytes:
        text = f"Score: **{_num(score)} / {_num(possible)}** ({_percent(score, possible):.1f}%)\n\n"
        data = self.scores[(score, possible)] = text.encode()
        return data

    def _block(self, g: int, k: int, j: int, d: int) -> tuple[bytes, bytes]:
        """A wrong item's text before and after the student's own answer line."""
        group = self.results.groups[g]
        _, heading, expected = self.texts.get(group, k, group.asked[j])
        after = expected[0] + "\n"
        if d >= 0:
            after += f"- Likely mistake (`{_MISTAKES[d].value}`): {EXPLANATIONS[_MISTAKES[d]]}\n"
        after += "".join(line + "\n" for line in expected[1:]) + "\n"
        entry = self.blocks[(g, k, j, d)] = ((heading + "\n\n").encode(), after.encode())
        return entry

    def _item(self, g: int, k: int, j: int, d: int, v: int, raw: str | None) -> bytes:
        """A wrong item's whole text: heading, the student's answer, expected, diagnosis, working."""
        data = self.items.get((g, k, j, d, v, raw))
        if data is not None:
            return data
        before, after = self.blocks.get((g, k, j, d)) or self._block(g, k, j, d)
        shown = md_inline(_short(raw or ""))
        if v == _MISSING:
            answer = "- Your answer: missing.\n"
        elif v == _UNPARSEABLE:
            answer = f"- Your answer {shown} could not be read as a number.\n"
        else:
            answer = f"- Your answer: {shown}.\n"
        data = before + answer.encode() + after
        if len(self.items) < _ITEMS_CACHED:
            self.items[(g, k, j, d, v, raw)] = data
        return data

    def _follow(self, group: GroupResult, row: int, k: int, j: int) -> str:
        """A follow-through line: the key's parts once per item, the student's numbers each time."""
        q = group.asked[j]
        c = group.columns[q]
        parts = self.follow_parts.get((id(group), k, j))
        if parts is None:
            parts = self.follow_parts[(id(group), k, j)] = (
                f"- `{q}` ({group.graph[q].label}): your ",
                f" is not the key's {self.texts.get(group, k, q)[0]}, but it follows correctly from your "
                "own earlier answers (they give ",
            )
        share = float(c.points[row]) / c.max_points if c.max_points else 0.0
        return (
            f"{parts[0]}{md_inline(_short(c.raw[row] or ''))}{parts[1]}{_fmt(float(c.follow[row]))}); "
            f"credited {share:.0%} of its points.\n"
        )

    def __iter__(self) -> Iterator[bytes]:
        results = self.results
        n = len(results)
        for start in range(0, n, 4096):  # chunks: per-row Python lists only for a few rows at a time
            students = np.arange(start, min(start + 4096, n))
            ids = [results.ids[i] for i in students.tolist()]
            # the common case: nothing to escape
            names = ids if all(map(md_plain, ids)) else [md_inline(s) for s in ids]
            pages: list[bytes | None] = [None] * len(names)
            for g, group in enumerate(results.groups):
                mine = np.flatnonzero(results.group_of[students] == g)
                rows = results.row_of[students[mine]]
                for at, page in zip(
                    mine.tolist(),
                    self._group_pages(g, group, rows, [names[i] for i in mine.tolist()], students[mine]),
                    strict=True,
                ):
                    pages[at] = page
            yield from pages  # type: ignore[misc]

    def _group_pages(
        self, g: int, group: GroupResult, rows: NDArray[np.intp], names: list[str], students: NDArray[np.intp]
    ) -> list[bytes]:
        """The pages of some rows of one group, in order, built column by column.

        Each page is a row of pieces: the heading and score, then per section its title, one piece
        per item (empty where the item is not in that section) and its end. Pieces that depend only
        on the key, the item and the answer are built once per distinct combination.
        """
        asked = group.asked
        n, width = rows.size, len(asked)
        keys, key_of = np.unique(group.key_index[rows], return_inverse=True)
        verdicts = np.stack([group.columns[q].verdict[rows] for q in asked], axis=1)
        right, follow = verdicts == _CORRECT, verdicts == _FOLLOW
        wrong = ~right & ~follow
        # columns: heading; Right: title, items, end; Follow-through: same; To review: title, items; problems
        at_right, at_follow, at_review = 1, width + 3, 2 * width + 5
        pieces = np.full((n, 3 * width + 7), b"", dtype=object)
        scores, inverse = np.unique(
            np.stack([group.score[rows], group.max[rows]], axis=1), axis=0, return_inverse=True
        )
        score_texts = np.array([self._score(s, m) for s, m in scores.tolist()], dtype=object)[inverse.ravel()]
        pieces[:, 0] = [
            f"# Feedback for {name}\n\n".encode() + s
            for name, s in zip(names, score_texts.tolist(), strict=True)
        ]
        first_right = right.argmax(axis=1)
        for at, mask, title, end in (
            (at_right, right, b"## Right\n\n", b"\n\n"),
            (at_follow, follow, b"## Follow-through\n\n", b"\n"),
            (at_review, wrong, b"## To review\n\n", b""),
        ):
            anyone = mask.any(axis=1)
            pieces[anyone, at] = title
            if end:
                pieces[anyone, at + width + 1] = end
        for j, q in enumerate(asked):
            c = group.columns[q]
            tick = f"`{q}`".encode()
            mine = right[:, j]
            pieces[mine, at_right + 1 + j] = b", " + tick
            pieces[mine & (first_right == j), at_right + 1 + j] = tick
            for r in np.flatnonzero(follow[:, j]).tolist():
                pieces[r, at_follow + 1 + j] = self._follow(
                    group, int(rows[r]), int(keys[key_of[r]]), j
                ).encode()
            picked = np.flatnonzero(wrong[:, j])
            if picked.size:
                distinct, item_of = c.distinct_items(rows[picked], keys, key_of[picked])
                table = np.array(
                    [self._item(g, k, j, d, v, None if v == _MISSING else t) for t, _, k, v, d in distinct],
                    dtype=object,
                )
                pieces[picked, at_review + 1 + j] = table[item_of]
        problems = self.results.student_errors
        for r, index in enumerate(students.tolist()):
            if index in problems:
                pieces[r, -1] = (
                    b"## Problems with your submission\n\n"
                    + "".join(f"- {md_inline(e)}\n" for e in problems[index]).encode()
                )
        # Every part ends in a newline and every section in a blank line: end with just one.
        return [page[:-1] if page.endswith(b"\n\n") else page for page in map(b"".join, pieces.tolist())]


def iter_feedback(results: GradingResults) -> Iterator[bytes]:
    """Every student's feedback Markdown as UTF-8, in order (the bytes :func:`feedback_markdown` gives)."""
    return iter(_Pages(results))
