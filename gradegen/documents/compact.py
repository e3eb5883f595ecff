"""The ``compact`` style: per-layer tables for deeper networks, one chain-rule path per layer in full.

Each layer's units get a table (z, a, ∂L/∂a, the activation's derivative, the delta δ = ∂L/∂z) and
its weights another (∂L/∂w = δ_j · a_k, the two factors written out, so each row re-computes).
Every table cell that computes shows its numbers, as an equation line does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gradegen.core.graph import Graph, Node, Role
from gradegen.core.key import asks_steps
from gradegen.core.network import derivative_symbol, unit_symbol
from gradegen.core.spec import Activation, Spec
from gradegen.documents import phrases
from gradegen.documents.items import Cell, Item, Layer, NodeEq, Para, Section, Table
from gradegen.documents.prose import M, Prose, prose

if TYPE_CHECKING:
    from gradegen.documents.plan import _Planner


def plan_compact(
    spec: Spec, graph: Graph, zero: frozenset[str], layers: tuple[Layer, ...]
) -> tuple[Section, ...]:
    """The ``compact`` style: the forward and backward passes and the update as tables."""
    from gradegen.documents import plan  # here: plan.py imports this module to register the style

    planner = plan._Planner(spec, graph, zero)
    exact = plan.exact_derivatives(spec, graph)
    update_intro = Prose.of(plan._UPDATE_INTRO[0], r"\eta", plan._UPDATE_INTRO[1])
    tables = _Tables(planner, exact, update_intro, plan._is_product)
    sections = [Section(prose("Forward pass"), 2, (Para(_FORWARD_INTRO),))]
    sections += [tables.forward(info) for info in layers[1:]]
    loss_items: list[Item] = []
    for node in graph.with_role(Role.LOSS_TERM, Role.LOSS):
        planner.show(node.id, loss_items)
    sections.append(Section(prose("Loss"), 2, tuple(loss_items)))
    intro = Para(Prose.of(_BACKWARD_INTRO + _ROUNDED + _BEFORE), exact=Prose.of(_BACKWARD_INTRO + _BEFORE))
    sections.append(Section(prose("Backward pass"), 2, (intro,)))
    sections += [tables.backward(info) for info in reversed(layers[1:])]
    sections.append(tables.update())
    return tuple(sections)


class _Tables:
    """Builds the tables over the full style's planner, which knows what is shown already."""

    def __init__(
        self,
        planner: _Planner,
        exact: frozenset[str],
        update_intro: Prose,
        is_product: Callable[[Graph, Node], bool],  # a delta ∂L/∂a · ∂a/∂z (not a softmax's)
    ) -> None:
        self.update_intro = update_intro
        self.is_product = is_product
        self.planner = planner
        self.exact = exact  # derivatives exact by nature (0, 1, a slope): their values alone
        self.graph = planner.graph
        self.spec = planner.spec

    def cell(self, node_id: str, work: int = 1) -> Cell:
        """A quantity worked out in this cell (or said to be 0, as it is whatever the numbers)."""
        self.planner.shown.add(node_id)
        if node_id in self.planner.zero:
            return Cell("0", node_id, computed=True)
        return Cell(node=node_id, work=work, computed=True)

    def line(self, node_id: str, out: list[Item]) -> None:
        """A quantity's line with its numbers but not its formula (the text states it once)."""
        planner = self.planner
        for parent in self.graph[node_id].parents:
            planner.show(parent, out)
        if node_id in planner.zero or node_id in planner.shown:
            planner.show(node_id, out)
            return
        out.append(NodeEq(node_id, bare=True))
        planner.shown.add(node_id)

    def forward(self, info: Layer) -> Section:
        """A layer's weighted sums, one line each; its activations in a table (a softmax's as lines:
        each needs the whole layer)."""
        g, planner = self.graph, self.planner
        i = info.index - 1
        items: list[Item] = []
        x = "x" if info.index == 1 else "a"
        sums = rf"z_j = {x}_1 w_{{j1}} + {x}_2 w_{{j2}} + \dots + b_j"
        items.append(
            Para(prose("Each weighted sum ", M(sums), ", its terms in the order of the units feeding it:"))
        )
        for unit in info.units:
            self.line(g.node_of(Role.WEIGHTED_SUM, unit).id, items)
        acts = [g.node_of(Role.ACTIVATION, unit) for unit in info.units]
        if self.spec.layers[i].activation is Activation.SOFTMAX:
            for node in acts:
                planner.show(node.id, items)
        else:
            formula = acts[0].formula
            assert formula is not None  # an activation is computed
            a = _generic(info)
            header = (prose("unit"), prose(M("z")), prose(M(f"{a} = {formula.render(['z'])}")))
            rows = []
            for unit, node in zip(info.units, acts, strict=True):
                z = g.node_of(Role.WEIGHTED_SUM, unit).id
                rows.append((Cell(unit_symbol(unit)), Cell(node=z), self.cell(node.id)))
            intro = prose("The activations, ", M(f"{a} = {formula.render(['z'])}"), ":")
            items.append(Table(header, tuple(rows), intro))
        units = phrases.units(info.units, ", ")
        heading = prose(phrases.title(info.kind, info.index), ": ", *units, f" ({info.activation})")
        return Section(heading, 3, tuple(items))

    def backward(self, info: Layer) -> Section:
        """A layer's backward pass: its first weight's chain in full, then every unit's delta and
        every weight's and bias's gradient in tables, the pattern stated once."""
        g, planner = self.graph, self.planner
        i = info.index - 1
        items: list[Item] = []
        first = g.with_role(Role.WEIGHT_GRADIENT, layer=i)[0]
        w = M(g[first.param or ""].symbol)
        items.append(Para(prose("One path in full, the first weight's, ", w, ":")))
        items += planner.parameter_section(first).items
        deltas = [g.node_of(Role.DELTA, unit) for unit in info.units]
        if info.kind == "hidden":
            todo = [g.node_of(Role.DL_DA, u).id for u in info.units]
            todo = [n for n in todo if n not in planner.shown]
            if todo:
                items.append(Para(_SUMS))
            for node_id in todo:
                self.line(node_id, items)
        if not all(self.tabled(d) for d in deltas):  # a softmax's deltas with a loss other than
            for d in deltas:  # cross-entropy: each needs the whole layer, a line each
                planner.show(d.id, items)
        items.append(self.units_table(info, deltas))
        items.append(self.weights_table(i, self.pattern(info)))
        for bias in g.with_role(Role.BIAS_GRADIENT, layer=i):
            if len(bias.parents) > 1:
                b = M(g[bias.param or ""].symbol)
                items.append(
                    Para(
                        prose(
                            "The bias ",
                            b,
                            " feeds ",
                            *phrases.units([g[p].unit or "" for p in bias.parents]),
                            ", so its gradient sums their deltas, each times ",
                            M(r"\partial z / \partial b = 1"),
                            ":",
                        )
                    )
                )
                planner.show(bias.id, items)
        units = phrases.units(info.units, ", ")
        heading = prose(phrases.title(info.kind, info.index), ": ", *units)
        return Section(heading, 3, tuple(items))

    def tabled(self, delta: Node) -> bool:
        """Whether a delta's working fits a table cell: a product, or a softmax's ŷ − y."""
        return self.is_product(self.graph, delta) or self.graph[delta.parents[-1]].role is Role.TARGET

    def units_table(self, info: Layer, deltas: list[Node]) -> Table:
        """z, a, ∂L/∂a, the activation's derivative and δ for each unit of a layer."""
        g = self.graph
        a = _generic(info)
        header = [prose("unit"), prose(M("z")), prose(M(a))]
        softmax_ce = not self.is_product(g, deltas[0]) and self.tabled(deltas[0])
        rows = []
        for unit, delta in zip(info.units, deltas, strict=True):
            row = [Cell(unit_symbol(unit)), Cell(node=g.node_of(Role.WEIGHTED_SUM, unit).id)]
            row.append(Cell(node=g.node_of(Role.ACTIVATION, unit).id))
            if softmax_ce:
                target = g.node_of(Role.TARGET, unit)
                row += [Cell(node=target.id), self.cell(delta.id)]
            else:
                if info.kind == "output":  # a hidden unit's is worked out above, and in its δ's cell
                    row.append(self.cell(g.node_of(Role.DL_DA, unit).id))
                if self.is_product(g, delta):
                    da_dz = g[delta.parents[1]]
                    row += [self.cell(da_dz.id, 0 if da_dz.id in self.exact else 1), self.cell(delta.id)]
                else:
                    row.append(Cell(node=delta.id))
            rows.append(tuple(row))
        if softmax_ce:
            header += [prose(M("y")), prose(M(rf"\delta = {a} - y"))]
        else:
            first = deltas[0]
            dl_da = g.node_of(Role.DL_DA, info.units[0])
            dl = derivative_symbol("L", a)
            if info.kind == "output":
                header.append(prose(M(f"{dl} = {_render(g, dl_da, info)}")))
            if self.is_product(g, first):
                da = derivative_symbol(a, "z")
                header.append(prose(M(f"{da} = {_render(g, g[first.parents[1]], info)}")))
                header.append(prose(M(rf"\delta = {dl} \cdot {da}")))
            else:
                header.append(prose(M(r"\delta = \frac{\partial L}{\partial z}")))
        return Table(tuple(header), tuple(rows), prose("Every unit of the layer:"))

    def pattern(self, info: Layer) -> Prose:
        """The rule every row of the weights table follows, as a formula."""
        a_k = "x_k" if info.index == 1 else "a_k"
        decay = r" + \lambda w_{jk}" if self.spec.weight_decay else ""
        return prose(
            "The other weights follow the same pattern: the weight ", M("w_{jk}"), " from unit ", M("k"),
            " into unit ", M("j"), " multiplies ", M(a_k), " in ", M("z_j"), ", so ",
            M(rf"\frac{{\partial L}}{{\partial w_{{jk}}}} = \delta_j \cdot {a_k}{decay}"), ", where ",
            M(r"\delta_j = \frac{\partial L}{\partial z_j}"),
            "; a bias of one unit enters with coefficient 1, ",
            M(r"\frac{\partial L}{\partial b_j} = \delta_j"), ":",
        )  # fmt: skip

    def weights_table(self, i: int, intro: Prose) -> Table:
        """∂L/∂w = δ_j · a_k for each weight into layer ``i`` (and each bias of one unit)."""
        g = self.graph
        a_k = "x_k" if i == 0 else "a_k"
        header = (
            prose(""), prose("into"),  # the first column's symbols say what they are: narrow
            prose(M(rf"\frac{{\partial L}}{{\partial w_{{jk}}}} = \delta_j \cdot {a_k}")),
        )  # fmt: skip
        rows = []
        for grad in g.with_role(Role.WEIGHT_GRADIENT, Role.BIAS_GRADIENT, layer=i):
            if grad.role is Role.BIAS_GRADIENT and len(grad.parents) > 1:
                continue  # a shared bias: its sum of paths follows the table
            # what the weight multiplies is in its cell, beside the delta of the unit it feeds
            into = Cell(unit_symbol(g[grad.parents[0]].unit or ""))
            rows.append((Cell(g[grad.param or ""].symbol), into, self.cell(grad.id)))
        return Table(header, tuple(rows), intro)

    def update(self) -> Section:
        """Every parameter's step and new value, a row each."""
        g = self.graph
        items: list[Item] = [Para(self.update_intro)]
        steps = asks_steps(g)  # a tiny η: the steps have a column (they are asked)
        rows = []
        for node in g.with_role(Role.UPDATE):
            step = g.node_of(Role.STEP, param=node.param)
            if step.id in self.planner.zero:  # its gradient is 0: it stays as it is
                cells = [self.cell(step.id)] * steps + [Cell(node=node.id, computed=True)]
            else:  # else the new value's cell is p − η × g = new, as a student writes it
                cells = [self.cell(step.id), self.cell(node.id)] if steps else [self.cell(node.id, -1)]
            rows.append((Cell(g[node.param or ""].symbol), *cells))
            self.planner.shown.update((node.id, step.id))
        if rows:
            new = prose(M(r"p^{\text{new}} = p - \eta \cdot \frac{\partial L}{\partial p}"))
            step_column = (prose(M(r"\eta \cdot \frac{\partial L}{\partial p}")),) * steps
            items.append(Table((prose("parameter"), *step_column, new), tuple(rows)))
        stays = [
            M(g[n.param or ""].symbol) for n in g.with_role(Role.UPDATE) if n.parents[2] in self.planner.zero
        ]
        if stays:
            items.append(Para(prose("A gradient of 0 leaves its parameter as it is: ", *_listed(stays), ".")))
        if not self.spec.update_biases:
            items.append(Para(Prose.of("The biases are not updated in this exercise.")))
        return Section(prose("Update"), 2, tuple(items))


def _listed(pieces: list[M]) -> list[str]:
    """Math pieces as a list in prose: a, b and c."""
    out: list[str] = []
    for k, piece in enumerate(pieces):
        if k:
            out.append(" and " if k == len(pieces) - 1 else ", ")
        out.append(piece)
    return out


def _generic(info: Layer) -> str:
    """A unit's activation as the tables' headings name it: ŷ on the output layer, else a."""
    return r"\hat{y}" if info.kind == "output" else "a"


def _render(graph: Graph, node: Node, info: Layer) -> str:
    """``node``'s formula over generic symbols (a, ŷ, y, z), as a table's heading states it."""
    assert node.formula is not None
    names = {Role.ACTIVATION: _generic(info), Role.TARGET: "y", Role.WEIGHTED_SUM: "z"}
    return node.formula.render(
        [names.get(graph[p].role or Role.INPUT, graph[p].symbol) for p in node.parents]
    )


_FORWARD_INTRO = Prose.of(
    "Each unit's weighted sum adds what feeds it, each times its weight, and its bias (",
    r"z_j = \sum_k w_{jk} a_k + b_j",
    "); its activation applies the layer's function to it.",
)
_SUMS = Prose.of(
    "Each other unit's ",
    r"\partial L / \partial a_j = \delta_1 w_{1j} + \delta_2 w_{2j} + \dots",
    " adds up the deltas of the units it feeds, each times the weight that joins them:",
)
_BACKWARD_INTRO = (
    "Layer by layer from the output, how the loss changes with each unit's weighted sum is worked "
    "out once, and every gradient is that derivative times what its parameter multiplies. For each "
    "layer one path is written in full by the chain rule; tables give the rest, each row by the same "
    "pattern. "
)
_ROUNDED = "Each value is rounded before it is used, so every row can be checked with a calculator. "
_BEFORE = "Hidden-layer gradients use the weights from before the update."
