"""Solving a spec: one or several training steps on its example, exactly and by hand.

Every value gradegen reports is finite: a spec whose step overflows float64 is refused with a
:class:`SpecError` naming the first quantity (in graph order) that is not a finite number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gradegen.core.graph import Array, Graph, Role, Values
from gradegen.core.network import build_graph
from gradegen.core.spec import MAX_STEPS, Spec
from gradegen.errors import GradegenError, SpecError


def first_non_finite(values: Values) -> str | None:
    """The id of the first quantity, in graph order, that is inf or NaN for some variant; or None."""
    for node in values.graph.nodes:
        if not np.isfinite(values[node.id]).all():
            return node.id
    return None


def check_finite(
    values: Values, *, source: str = "spec", step: int = 1, variants: Sequence[str] | None = None
) -> None:
    """Refuse values holding inf or NaN (float64 overflowed), naming the first such quantity (and,
    over a batch of ``variants``, the first variant where it is)."""
    qid = first_non_finite(values)
    if qid is None:
        return
    column = values[qid]
    at = int(np.flatnonzero(~np.isfinite(column))[0])
    bad = float(column[at])
    node = values.graph[qid]
    how = " when worked by hand" if values.hand else ""
    when = f"step {step}: " if step > 1 else ""
    who = f"students.{variants[at]}: " if variants is not None else ""
    what = "is not a number (NaN)" if bad != bad else f"overflows to {bad:+}"  # NaN is not itself
    raise SpecError(
        f"{who}{when}{qid} ({node.meaning}) {what}{how}: the numbers are too large for float64",
        source=source,
    )


def evaluate_spec(spec: Spec, *, source: str = "spec") -> tuple[Graph, Values, Values]:
    """``spec``'s graph and its values exactly and by hand, all checked finite."""
    graph = build_graph(spec)
    exact = graph.evaluate()
    check_finite(exact, source=source)
    hand = graph.evaluate(hand=True)
    check_finite(hand, source=source)
    return graph, exact, hand


def check_steps(steps: int) -> int:
    """``steps`` when it is a step count gradegen runs (1 to :data:`MAX_STEPS`)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise GradegenError(f"--steps: expected a whole number from 1 to {MAX_STEPS:,}, got {steps!r}"[:200])
    return steps


@dataclass(frozen=True)
class Training:
    """Several steps over a batch: the loss at each step's forward pass and the final parameters."""

    history: tuple[Array, ...]
    final: dict[str, Array]


def train(
    graph: Graph, steps: int, givens: Mapping[str, ArrayLike] | None = None, *, source: str = "spec"
) -> Training:
    """Repeat the training step ``steps`` times, each starting from the last one's parameters.

    A step that overflows is refused (:func:`check_finite`), so a diverging run stops with the
    step and quantity named rather than reporting inf.
    """
    check_steps(steps)
    current: dict[str, ArrayLike] = dict(givens or {})
    updates = graph.updates
    params = graph.parameters
    loss = graph.node_of(Role.LOSS).id
    history: list[Array] = []
    final: dict[str, Array] = {}
    for step in range(1, steps + 1):
        values = graph.evaluate(current)
        history.append(values[loss])
        final = {p: values[updates[p]] if p in updates else values[p] for p in params}
        # the loss and the new parameters first: a cheap test that nearly always passes
        if not all(np.isfinite(v).all() for v in (values[loss], *final.values())):
            check_finite(values, source=source, step=step)
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


def solve(spec: Spec, steps: int | None = None, *, source: str = "spec") -> Solution:
    """Solve ``spec`` for ``steps`` steps (default: the spec's own ``steps``, at most :data:`MAX_STEPS`)."""
    n = spec.steps if steps is None else check_steps(steps)
    graph, exact, hand = evaluate_spec(spec, source=source)
    run = train(graph, n, source=source)
    return Solution(
        spec=spec,
        graph=graph,
        exact=exact,
        hand=hand,
        history=tuple(float(loss[0]) for loss in run.history),
        final={k: float(np.asarray(v)[0]) for k, v in run.final.items()},
    )
