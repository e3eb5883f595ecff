"""With ``spec.steps = N > 1``: the loss after some of the N steps and the parameters after the
last, as nodes of the graph (group ``steps``, not asked by default), so documents print them and
keys and grading hold them like any other quantity.

Each is computed in float64 from the givens by :func:`~gradegen.core.training.train` (no hand
rounding between steps) and rounded once, to two places more than the spec's decimals. One run
serves every node of an evaluation: the nodes share their parents, and the last run is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from gradegen.core.graph import Array, Graph, Group, Node, Role
from gradegen.core.rounding import Precision, Rule
from gradegen.core.spec import Spec

MAX_SHOWN = 20
"""Steps whose loss is a node: every one up to this many, else a sample ending at the last."""


def shown_steps(steps: int) -> tuple[int, ...]:
    """The steps (2 … N) whose loss gets a node: all of them, or 2, then 19 evenly spaced to N."""
    if steps <= MAX_SHOWN:
        return tuple(range(2, steps + 1))
    picks = {2, *(round(steps * k / (MAX_SHOWN - 1)) for k in range(1, MAX_SHOWN))}
    return tuple(sorted(s for s in picks if 2 <= s <= steps))


@dataclass
class _Run:
    """The training behind the nodes: the last run's parents and result, kept for the others."""

    graph: Graph
    steps: int
    givens: tuple[str, ...]
    last: tuple[tuple[Array, ...], dict[str, Array]] | None = field(default=None)

    def values(self, args: Sequence[Array]) -> dict[str, Array]:
        """Each step's loss (``"loss:k"``) and the final parameters, for these givens."""
        if self.last is not None and all(a is b for a, b in zip(self.last[0], args, strict=True)):
            return self.last[1]
        from gradegen.core.training import train  # training builds graphs: imported when run

        givens = dict(zip(self.givens, args, strict=True))
        run = train(self.graph, self.steps, givens)
        out = {f"loss:{k}": loss for k, loss in enumerate(run.history)}  # at step k + 1's forward pass
        last = self.graph.evaluate({**givens, **run.final})  # the forward pass after the last step
        out[f"loss:{self.steps}"] = last[self.graph.node_of(Role.LOSS).id]
        out.update(run.final)
        self.last = (tuple(args), out)
        return out


def _pick(run: _Run, key: str, *args: Array) -> Array:
    return run.values(args)[key]


def step_nodes(
    spec: Spec, graph: Graph, loss_id: Callable[[int], str], final_id: Callable[[str], str]
) -> list[Node]:
    """The nodes for ``spec.steps`` steps of training ``graph`` (none for one step); ids by
    :mod:`gradegen.core.network`'s ``loss_id(k)`` and ``final_id(param)``."""
    n = spec.steps
    if n < 2:
        return []
    givens = graph.givens
    run = _Run(graph, n, givens)
    precision = Precision(Rule.DECIMALS, spec.decimals + 2)
    nodes = []
    for k in shown_steps(n):
        nodes.append(
            Node(
                loss_id(k),
                Role.STEP_LOSS.kind,
                Group.STEPS,
                f"L^{{({k})}}",
                f"L after {k} steps",
                f"loss after {k} steps",
                givens,
                partial(_pick, run, f"loss:{k}"),
                role=Role.STEP_LOSS,
                precision=precision,
            )
        )
    for pid in graph.parameters:
        p = graph[pid]
        nodes.append(
            Node(
                final_id(pid),
                Role.FINAL_PARAMETER.kind,
                Group.STEPS,
                f"{p.symbol}^{{({n})}}",
                f"{pid} after {n} steps",
                f"{pid} after {n} steps",
                givens,
                partial(_pick, run, pid),
                unit=p.unit,
                param=pid,
                role=Role.FINAL_PARAMETER,
                layer=p.layer,
                precision=precision,
            )
        )
    return nodes
