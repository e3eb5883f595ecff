"""A node's equation as segments (symbol, formula, numbers substituted, value), for any format."""

from __future__ import annotations

import functools
import re

from gradegen.core.graph import Graph, Kind, Role
from gradegen.documents.numbers import Numbers, Slots
from gradegen.documents.plan import DocumentPlan, LocalEq

_BARE = re.compile(r"\{\d+\}")  # a formula that is just one of its parents (a = z)
_PLACE = re.compile(r"\{(\d+)\}")


@functools.cache
def _delimited(latex: str) -> frozenset[int]:
    """Parent positions that only ever stand alone inside brackets: σ({0}), max(0, {0}), e^{{{0}}}.

    Those need no parentheses around a negative number; tanh((−1.08)) would read as a typo.
    """
    alone: dict[int, bool] = {}
    for match in _PLACE.finditer(latex):
        before, after = latex[: match.start()], latex[match.end() :]
        inside = before.endswith(("(", ", ", "{{")) and after.startswith((")", ",", "}}"))
        position = int(match.group(1))
        alone[position] = alone.get(position, True) and inside
    return frozenset(p for p, ok in alone.items() if ok)


def equation(plan: DocumentPlan, numbers: Numbers | Slots, node_id: str) -> list[str]:
    """A node's line as segments: symbol, formula, numbers substituted, (step), value.

    The substituted line is shown whenever it has an operation in it, whatever the numbers,
    so every variant of a graph has the same lines.
    """
    node = plan.graph[node_id]
    value = numbers.text(node_id)
    segments = [node.symbol]
    if node.formula is None:
        return [*segments, value]
    if plan.symbolic[node_id] != node.symbol:  # a step η·∂L/∂p is its own formula
        segments.append(plan.symbolic[node_id])
    if node.parents and not _BARE.fullmatch(node.formula.latex):
        alone = _delimited(node.formula.latex)
        args = [numbers.text(p) if i in alone else numbers.operand(p) for i, p in enumerate(node.parents)]
        segments.append(node.formula.render(args, numbers=True))
    step = plan.graph.find(Role.STEP, param=node.param) if node.kind is Kind.UPDATE else None
    if step is not None:
        segments.append(f"{numbers.operand(node.parents[0])} - {numbers.operand(step.id)}")
    segments.append(value)
    return segments


def local_equation(graph: Graph, numbers: Numbers | Slots, item: LocalEq) -> list[str]:
    if item.equals is None:
        return [item.symbol, "1"]
    return [item.symbol, graph[item.equals].symbol, numbers.text(item.equals)]
