"""What a practice page embeds: per asked quantity, the grader's interval of right answers and
the interval of each diagnosed mistake, so the page can judge an answer as ``grade`` would.

The intervals are in comparison space (an update by its step ``w − w_new``), worked out by the
grader's own rule (:class:`~gradegen.grading.compare.Rule`) over the whole batch at once.
"""

from __future__ import annotations

import math
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
    batch = exact.batch
    # Every interval over the batch, turned into Python floats once (per variant it is a lookup).
    columns: dict[str, tuple[list[str], list[list[float]], list[list[float]], list[list[float]]]] = {}
    params: dict[str, str | None] = {}
    for q in asked:
        rule = Rule(spec.tolerances.get(q, spec.tolerance))
        e_s = in_space(graph, q, exact[q], givens)
        h_s = in_space(graph, q, hand[q], givens)
        right = np.broadcast_to(
            np.stack(
                [
                    np.minimum(e_s - rule.half_width(e_s), h_s - rule.half_width(h_s)),
                    np.maximum(e_s + rule.half_width(e_s), h_s + rule.half_width(h_s)),
                ]
            ),
            (2, batch),
        )
        codes = [str(code) for code, _, _ in refs.get(q, [])]
        values = np.array([np.broadcast_to(value, (batch,)) for _, value, _ in refs.get(q, [])])
        values = values.reshape(len(codes), batch)
        widths = rule.half_width(values)
        columns[q] = (codes, right.T.tolist(), (values - widths).T.tolist(), (values + widths).T.tolist())
        node = graph[q]
        params[q] = node.param if node.kind is Kind.UPDATE and node.param else None
    param_values = {p: np.broadcast_to(givens[p], (batch,)).tolist() for p in set(params.values()) if p}

    def data(index: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: set[str] = set()
        for q in asked:
            codes, right, los, his = columns[q]
            mistakes: dict[tuple[str, float, float], None] = {}
            for code, lo, hi in zip(codes, los[index], his[index], strict=True):
                if math.isfinite(lo) and math.isfinite(hi):
                    mistakes[(code, lo, hi)] = None
                    seen.add(code)
            param = params[q]
            out[q] = {
                "param": param_values[param][index] if param else None,
                "right": right[index],
                "mistakes": [list(m) for m in mistakes],
            }
        explanations = {str(code): text for code, text in EXPLANATIONS.items() if str(code) in seen}
        return {"explanations": explanations, "answers": out}

    return data
