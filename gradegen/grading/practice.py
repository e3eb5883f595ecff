"""What a practice page embeds: per asked quantity, the grader's interval of right answers and
the interval of each diagnosed mistake, so the page can judge an answer as ``grade`` would.

The intervals are in comparison space (an update by its step ``w − w_new``), worked out by the
grader's own rule (:class:`~gradegen.grading.compare.Rule`) over the whole batch at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradegen.core.graph import Graph, Kind, Values
from gradegen.core.spec import Spec
from gradegen.grading.compare import Rule
from gradegen.grading.diagnosis import EXPLANATIONS, in_space, references


def practice_key(
    spec: Spec, graph: Graph, exact: Values, hand: Values, asked: Sequence[str]
) -> Callable[[int], dict[str, Any]]:
    """Each variant's practice data by index: ``{"explanations": {code: text}, "answers": {id:
    {"param", "right": [lo, hi], "mistakes": [[code, lo, hi], …]}}}``, mistakes in the grader's
    order of precedence (the same interval of one code listed once)."""
    refs = references(graph, spec, exact, hand, asked)
    givens = exact.arrays
    rules = {q: Rule(spec.tolerances.get(q, spec.tolerance)) for q in asked}
    right: dict[str, tuple[Any, Any]] = {}
    for q in asked:
        r = rules[q]
        e_s = in_space(graph, q, exact[q], givens)
        h_s = in_space(graph, q, hand[q], givens)
        right[q] = (
            np.minimum(e_s - r.half_width(e_s), h_s - r.half_width(h_s)),
            np.maximum(e_s + r.half_width(e_s), h_s + r.half_width(h_s)),
        )
    widths = {
        q: [(code, value, rules[q].half_width(value)) for code, value, _ in refs.get(q, [])] for q in asked
    }

    def data(index: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        codes: set[str] = set()
        for q in asked:
            node = graph[q]
            param = node.param if node.kind is Kind.UPDATE and node.param else None
            mistakes: dict[tuple[str, float, float], None] = {}
            for code, value, width in widths[q]:
                v, w = float(value[index]), float(width[index])
                if np.isfinite(v) and np.isfinite(w):
                    mistakes[(str(code), v - w, v + w)] = None
                    codes.add(str(code))
            lo, hi = right[q]
            out[q] = {
                "param": float(givens[param][index]) if param else None,
                "right": [float(lo[index]), float(hi[index])],
                "mistakes": [list(m) for m in mistakes],
            }
        explanations = {str(code): text for code, text in EXPLANATIONS.items() if str(code) in codes}
        return {"explanations": explanations, "answers": out}

    return data
