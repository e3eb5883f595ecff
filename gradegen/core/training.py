"""Solving a spec: one or several training steps on its example, exactly and by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gradegen.core.graph import Array, Graph, Role, Values
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec


@dataclass(frozen=True)
class Training:
    """Several steps over a batch: the loss at each step's forward pass and the final parameters."""

    history: tuple[Array, ...]
    final: dict[str, Array]


def train(graph: Graph, steps: int, givens: Mapping[str, ArrayLike] | None = None) -> Training:
    """Repeat the training step ``steps`` times, each starting from the last one's parameters."""
    current: dict[str, ArrayLike] = dict(givens or {})
    updates = graph.updates
    params = graph.parameters
    loss = graph.node_of(Role.LOSS).id
    history: list[Array] = []
    final: dict[str, Array] = {}
    for _ in range(steps):
        values = graph.evaluate(current)
        history.append(values[loss])
        final = {p: values[updates[p]] if p in updates else values[p] for p in params}
        current.update(final)
    return Training(tuple(history), final)


@dataclass(frozen=True)
class Solution:
    """Everything ``gradegen solve`` reports for one spec."""

    spec: Spec
    graph: Graph
    exact: Values
    hand: Values
    history: tuple[float, ...]
    final: dict[str, float]

    def rows(self, *, exact: bool = False) -> list[tuple[str, str, str, str]]:
        """Every quantity in graph order as text: id, symbol, formula (over the parents' symbols)
        and value (hand, or full precision with ``exact``), as ``gradegen solve`` prints them."""
        values, graph = (self.exact if exact else self.hand), self.graph
        return [
            (
                node.id,
                node.label,
                node.formula.render([graph[p].label for p in node.parents], latex=False)
                if node.formula
                else "",
                values.text(node.id),
            )
            for node in graph.nodes
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``gradegen solve --json``."""
        return {
            "quantities": self.exact.scalars(),
            "hand": self.hand.scalars(),
            "history": list(self.history),
            "final": self.final,
        }


def solve(spec: Spec, steps: int | None = None) -> Solution:
    """Solve ``spec`` for ``steps`` steps (default: the spec's own ``steps``)."""
    graph = build_graph(spec)
    n = spec.steps if steps is None else steps
    run = train(graph, n)
    return Solution(
        spec=spec,
        graph=graph,
        exact=graph.evaluate(),
        hand=graph.evaluate(hand=True),
        history=tuple(float(loss[0]) for loss in run.history),
        final={k: float(np.asarray(v)[0]) for k, v in run.final.items()},
    )
