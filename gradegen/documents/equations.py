"""A node's equation as segments (symbol, formula, numbers substituted, value), for any format."""

from __future__ import annotations

import dataclasses
import functools
import re

from gradegen.core.graph import Formula, Graph, Kind, Role
from gradegen.documents.items import DocumentPlan, LocalEq
from gradegen.documents.numbers import Numbers, Slots

_BARE = re.compile(r"\{\d+\}")  # a formula that is just one of its parents (a = z)
_PLACE = re.compile(r"\{(\d+)\}")


@functools.cache
def _delimited(latex: str) -> frozenset[int]:
    """Parent positions that only ever stand alone inside brackets: σ({0}), max(0, {0}), e^{{{0}}}.

    Those need no parentheses around a negative number; tanh((−1.08)) would read as a typo. Nor
    does the z of a case distinction ("1 if −0.07 > 0").
    """
    alone: dict[int, bool] = {}
    for match in _PLACE.finditer(latex):
        before, after = latex[: match.start()], latex[match.end() :]
        inside = before.endswith(("(", ", ", "{{")) and after.startswith((")", ",", "}}"))
        inside = inside or (before.endswith("if }} ") and after.startswith((" > ", r" \le ")))
        position = int(match.group(1))
        alone[position] = alone.get(position, True) and inside
    return frozenset(p for p, ok in alone.items() if ok)


def equation(plan: DocumentPlan, numbers: Numbers | Slots, node_id: str) -> list[str]:
    """A node's line as segments: symbol, formula, numbers substituted, (step), value.

    The substituted line is shown whenever it has an operation in it, whatever the numbers,
    so every variant of a graph has the same lines.
    """
    node = plan.graph[node_id]
    value = numbers.short(node_id) if node_id in plan.whole else numbers.text(node_id)
    segments = [node.symbol]
    if node.formula is None:
        return [*segments, value]
    if plan.symbolic[node_id] != node.symbol:  # a step η·∂L/∂p is its own formula
        segments.append(plan.symbolic[node_id])
    if not node.parents:  # a constant (a linear unit's derivative 1): it is its own value
        return segments
    if not _BARE.fullmatch(node.formula.latex):
        alone = _delimited(node.formula.latex)
        args = [
            numbers.short(p) if p in plan.whole else numbers.text(p) if i in alone else numbers.operand(p)
            for i, p in enumerate(node.parents)
        ]
        formula = node.formula
        if plan.zero.intersection(node.parents):
            formula = _without_zero_terms(formula, node.parents, plan.zero)
        if not _BARE.fullmatch(formula.latex):  # else a sum left with one term: its value
            segments.append(formula.render(args, numbers=True))
    step = plan.graph.find(Role.STEP, param=node.param) if node.kind is Kind.UPDATE else None
    if step is not None:
        segments.append(f"{numbers.operand(node.parents[0])} - {numbers.operand(step.id)}")
    segments.append(value)
    return segments


def worked(plan: DocumentPlan, numbers: Numbers | Slots, node_id: str, work: int) -> str:
    """A node's last ``work`` forms with numbers substituted (its first ``-work`` when negative),
    then its value: a table cell's "0.1385 \\times 0.5933 = 0.0822"."""
    segments = equation(plan, numbers, node_id)
    node = plan.graph[node_id]
    numeric = segments[2 if plan.symbolic.get(node_id, node.symbol) != node.symbol else 1 :]
    forms = numeric[-work - 1 : -1] if work > 0 else numeric[:-work]
    return " = ".join([*forms, numeric[-1]])


def terms(latex: str) -> list[str]:
    """A LaTeX expression's terms: the pieces between its " + " signs outside any brackets."""
    pieces: list[str] = []
    depth = start = 0
    for i, ch in enumerate(latex):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0 and latex.startswith(" + ", i) and i > start:
            pieces.append(latex[start:i])
            start = i + 3
    pieces.append(latex[start:])
    return pieces


def _without_zero_terms(formula: Formula, parents: tuple[str, ...], zero: frozenset[str]) -> Formula:
    """A sum's formula without its terms that are 0 (a product with a zero factor), when its
    terms stand at the top level ("{0}·{1} + {2}·{3} + {4}"); otherwise as it is."""
    pieces = terms(formula.latex)
    kept = [p for p in pieces if not any(parents[int(k)] in zero for k in _PLACE.findall(p))]
    if len(pieces) < 2 or len(kept) == len(pieces):
        return formula
    return dataclasses.replace(formula, latex=" + ".join(kept) or "0")


def local_equation(graph: Graph, numbers: Numbers | Slots, item: LocalEq) -> list[str]:
    if item.equals is None:
        return [item.symbol, "1"]
    return [item.symbol, graph[item.equals].symbol, numbers.text(item.equals)]
