"""The printable answer key (key.md, key.tex): the worksheet's questions, each with its answer
filled in (the value worked by hand) and the interval grading accepts, so a TA can mark paper by eye.

Compiled like the other documents: its intervals are slots (``l:q``, ``u:q``) whose texts
:func:`bounds` works out for a block of variants at once; the reference renderer works them out
from each variant's key. It holds the answers, so a class run keeps it out of the students'
folders (see :data:`~gradegen.documents.formats.PUBLIC_FILES`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from gradegen.core.graph import Array, Graph, Kind, Values
from gradegen.core.key import Answer
from gradegen.core.spec import Spec, Tolerance
from gradegen.core.tolerance import accepted, describe, tolerance_width
from gradegen.documents.context import Ctx
from gradegen.documents.latex import Latex
from gradegen.documents.markdown import Markdown
from gradegen.documents.numbers import Numbers, math_number, scientific_math, slot
from gradegen.documents.page import Page


def intervals(
    graph: Graph, exact: Values, hand: Values, qid: str, tolerance: Tolerance, lo: int, hi: int
) -> tuple[Array, Array]:
    """The answers grading accepts for ``qid`` in variants lo … hi − 1, as grading works them
    out: around the exact and the hand value; for an update, around its step w − w_new."""
    e, h = exact[qid][lo:hi], hand[qid][lo:hi]
    node = graph[qid]
    width = tolerance_width(tolerance)
    if node.kind is not Kind.UPDATE or not node.param:
        return accepted(e, h, width)
    w = exact[node.param][lo:hi]
    low, high = accepted(w - e, w - h, width)
    return w - high, w - low


def bounds(
    spec: Spec, graph: Graph, exact: Values, hand: Values, keys: Iterable[str], lo: int, hi: int
) -> dict[str, list[str]]:
    """The texts of the interval slots (``l:q`` its low end, ``u:q`` its high end) among ``keys``."""
    out: dict[str, list[str]] = {}
    for qid in dict.fromkeys(k.split(":", 1)[1] for k in keys if k[:2] in ("l:", "u:")):
        low, high = intervals(graph, exact, hand, qid, spec.tolerances.get(qid, spec.tolerance), lo, hi)
        places = hand.places[qid][lo:hi] if hand.places and qid in hand.places else np.zeros(hi - lo, int)
        ends = zip(low.tolist(), high.tolist(), places.tolist(), strict=True)
        scientific = graph.precision_of(qid).scientific
        texts = [interval_text(a, b, int(p), scientific) for a, b, p in ends]
        out[f"l:{qid}"] = [t[0] for t in texts]
        out[f"u:{qid}"] = [t[1] for t in texts]
    return out


def interval_text(lo: float, hi: float, places: int, scientific: bool = False) -> tuple[str, str]:
    """The interval's ends rounded inwards (every number written between them is accepted), to
    one place more than the answer, or more where fewer would not show two different ends; in
    scientific notation when the answer is asked in it."""
    for p in range(places + 1, 17):
        scale = 10.0**p
        # strictly inside, by a hundredth of a unit at least: an end on the boundary would be
        # lost to the float rounding of w − answer when grading an update
        low, high = (math.floor(lo * scale + 0.01) + 1) / scale, (math.ceil(hi * scale - 0.01) - 1) / scale
        if low < high:
            break
    texts = (math_number(f"{low:.{p}f}"), math_number(f"{high:.{p}f}"))
    return (scientific_math(texts[0]), scientific_math(texts[1])) if scientific else texts


class _Key:
    """What the key formats add to their document format: the answers in the questions."""

    documents: tuple[str, ...] = ("key",)
    secret = True

    def context(self, page: Page) -> dict[str, Any]:
        context: dict[str, Any] = super().context(page)  # type: ignore[misc]
        spec = page.spec
        if page.key is None:  # compiling: the intervals are slots, filled per variant by bounds()
            ends = {q.id: (slot(f"l:{q.id}"), slot(f"u:{q.id}")) for q in context["questions"]}
        else:
            numbers, key = page.numbers, page.key()
            assert isinstance(numbers, Numbers)
            ends = {}
            for q in context["questions"]:
                answer = key.values[q.id]
                scientific = page.plan.graph.precision_of(q.id).scientific
                ends[q.id] = interval_text(
                    *_one(page.plan.graph, answer, q.id, numbers), answer.places, scientific
                )
        questions = []
        for q in context["questions"]:
            rule = self.escape(describe(spec.tolerances.get(q.id, spec.tolerance)))  # type: ignore[attr-defined]
            low, high = ends[q.id]
            questions.append(Ctx(**vars(q), answer=page.numbers.text(q.id), low=low, high=high, rule=rule))
        context["questions"] = questions
        return context


def _one(graph: Graph, answer: Answer, qid: str, numbers: Numbers) -> tuple[float, float]:
    """One variant's interval, from its key (the reference renderer's way to :func:`intervals`)."""
    node = graph[qid]
    e, h = np.array([answer.exact]), np.array([answer.hand])
    width = tolerance_width(answer.tolerance)
    if node.kind is not Kind.UPDATE or not node.param:
        low, high = accepted(e, h, width)
        return float(low[0]), float(high[0])
    w = np.array([numbers.values[node.param][numbers.index]])
    low, high = accepted(w - e, w - h, width)
    return float((w - high)[0]), float((w - low)[0])


class MarkdownKey(_Key, Markdown):
    """key.md, from templates/key.md.j2."""

    name = "markdown-key"


class LatexKey(_Key, Latex):
    """key.tex, from templates/key.tex.j2 (and key.pdf with ``--pdf``)."""

    name = "latex-key"


MARKDOWN_KEY = MarkdownKey()
LATEX_KEY = LatexKey()
