"""What the values diagram writes on the network's layout: the training step at a glance.

Forward values (each input's x, each unit's z and a, each output's ŷ) in one tone, gradients (each
unit's δ = ∂L/∂z, each bias's ∂L/∂b above the first unit it feeds, each labelled edge's ∂L/∂w) in the
other; a ReLU unit whose derivative is 0 is drawn dead. Between layers with too many edges to label,
the weights' gradients are left to the solution's summary table, as the weights are left to theirs.
Every value is a slot, its width laid out for the widest it prints (:class:`Values.widest`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from gradegen.core.graph import Kind, Role
from gradegen.core.rounding import shortest
from gradegen.documents.diagram_layout import (
    DX_LABELLED,
    VALUE,
    Run,
    Text,
    symbol_runs,
    unit_runs,
    widest_text,
)
from gradegen.documents.items import DocumentPlan
from gradegen.documents.numbers import Numbers, Slots, diagram_number

FORWARD, GRADIENT, LEGEND = "forward", "gradient", "legend"
MAX_LABELLED_VALUES = 6
"""The most edges between two layers labelled with their gradients (twice a weight's label long)."""
RELU = "ReLU"  # the activation whose units can die (its derivative 0 for z ≤ 0)


@dataclass(frozen=True)
class Values:
    """The values diagram's texts for a plan (``exact``: laid out for exact mode's figures)."""

    plan: DocumentPlan = field(hash=False, compare=False)  # the layout's cache key holds its id
    exact: bool = False

    @cached_property
    def _own(self) -> Numbers:
        """The spec's own numbers, as printed: a variant's are laid out no narrower."""
        return Numbers(self.plan.graph.evaluate(hand=not self.exact), 0, self.exact)

    def widest(self, node: str) -> str:
        g = self.plan.graph
        if g[node].kind is Kind.GIVEN:
            return widest_text([VALUE, shortest(g.defaults[node])])
        nominal = "-" + Slots(g, self.exact).nominal(f"t:{node}")
        return widest_text([diagram_number(nominal), diagram_number(self._own.text(node))])

    def _gradient(self, param: str) -> Text:
        runs = symbol_runs(self.plan.graph[param].symbol)
        return (("∂L/∂" + runs[0][0], False), *runs[1:]), self.plan.graph.gradients[param], GRADIENT

    def edge(self, weight: str) -> Text:
        return self._gradient(weight)

    def bias(self, bias: str) -> Text:
        return self._gradient(bias)

    def output(self, k: int, n: int, unit: str) -> Text:
        runs: tuple[Run, ...] = (("ŷ", False),) if n == 1 else (("ŷ", False), (str(k + 1), True))
        return runs, self.plan.graph.node_of(Role.ACTIVATION, unit).id, FORWARD

    def notes(self, unit: str) -> tuple[Text, ...]:
        g = self.plan.graph
        if unit in self.plan.layers[0].units:
            return ((unit_runs(unit), unit, FORWARD),)
        z, a = g.node_of(Role.WEIGHTED_SUM, unit).id, g.node_of(Role.ACTIVATION, unit).id
        delta = g.node_of(Role.DELTA, unit).id
        if unit in self.plan.layers[-1].units:  # its a is ŷ, at the arrow's end
            return (((("z", False),), z, FORWARD), ((("δ", False),), delta, GRADIENT))
        return (
            ((("z", False),), z, FORWARD),
            ((("a", False),), a, FORWARD),
            ((("δ", False),), delta, GRADIENT),
        )

    max_labelled = MAX_LABELLED_VALUES
    dx_tabled = DX_LABELLED  # the units' notes cover less of shallower edges
    bias_once = True  # a shared bias's one gradient, once above its layer

    def legend(self, labelled: int, gaps: int) -> tuple[Text, ...]:
        layers = self.plan.layers
        lines = [
            ("Blue: the forward pass, each input x and each unit's z and a, the outputs ŷ", FORWARD),
            ("Red: the gradients, δ = ∂L/∂z under each unit, ∂L/∂b above the first unit it feeds", GRADIENT),
        ]
        if labelled == gaps:
            lines[-1] = (lines[-1][0] + ", ∂L/∂w on each edge", GRADIENT)
        else:
            where = "on each labelled edge, elsewhere" if labelled else "of each edge"
            lines.append((f"∂L/∂w {where} δ × a: the δ of the unit it feeds, the a it carries", GRADIENT))
        if any(layer.activation == RELU for layer in layers[1:]):
            lines += [
                ("Dashed and grey: a dead ReLU unit (z ≤ 0, so a = 0 and δ = 0) and the edges", LEGEND),
                ("into it: no gradient reaches the weights into a dead unit", LEGEND),
            ]
        return tuple((((text, False),), "", tone) for text, tone in lines)

    def dead(self) -> dict[str, str]:
        g = self.plan.graph
        return {
            unit: g.node_of(Role.DA_DZ, unit).id
            for layer in self.plan.layers[1:]
            if layer.activation == RELU
            for unit in layer.units
        }
