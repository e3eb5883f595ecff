"""The structure of a worked solution, derived once per graph and reused for every variant.

:func:`build_plan` makes a :class:`~gradegen.documents.items.DocumentPlan` in the spec's style;
the ``full`` style (every weight's chain rule written out) is planned here.
"""

from __future__ import annotations

from collections.abc import Callable

from gradegen.core.graph import Graph, Kind, Node, Role
from gradegen.core.key import asks_steps
from gradegen.core.network import derivative_symbol, unit_names
from gradegen.core.options import Style
from gradegen.core.spec import Activation, Spec
from gradegen.documents import phrases
from gradegen.documents.after import after_sections
from gradegen.documents.compact import plan_compact
from gradegen.documents.items import (
    ChainEq,
    DocumentPlan,
    Item,
    Known,
    Layer,
    LocalEq,
    NodeEq,
    Para,
    Section,
)
from gradegen.documents.matrix import plan_matrix
from gradegen.documents.notes import with_notes
from gradegen.documents.prose import M, Prose, prose

_EXACT_DERIVATIVES = (Activation.RELU, Activation.LEAKY_RELU, Activation.LINEAR)
"""Activations whose derivative is one of a few exact numbers (0, 1, the slope)."""

_DEFINITIONS = {
    Activation.SIGMOID: r"\sigma(z) = \frac{1}{1 + e^{-z}}",
    Activation.TANH: r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
    Activation.RELU: r"\mathrm{ReLU}(z) = \max(0, z)",
    Activation.LINEAR: r"a = z",
    Activation.SOFTMAX: r"\hat{y}_k = \frac{e^{z_k}}{\sum_j e^{z_j}}",
}

_LOSSES = {
    "half_mse": (r"L = \tfrac{1}{2}\sum_k (y_k - \hat{y}_k)^{2}", "half squared error"),
    "sse": (r"L = \sum_k (y_k - \hat{y}_k)^{2}", "sum of squared errors"),
    "mse": (r"L = \tfrac{1}{n}\sum_k (y_k - \hat{y}_k)^{2}", "mean squared error"),
    "bce": (
        r"L = -\tfrac{1}{n}\sum_k \left[y_k \ln \hat{y}_k + (1 - y_k) \ln(1 - \hat{y}_k)\right]",
        "binary cross-entropy",
    ),
    "cross_entropy": (r"L = -\sum_k y_k \ln \hat{y}_k", "cross-entropy"),
}


def _is(noun: Prose) -> tuple[str, ...]:
    """Join a symbol to its phrase: "… is the derivative …", or ", how the loss changes …"."""
    pieces = tuple(noun.pieces())
    return (", ", *pieces) if noun.parts[0].startswith("how ") else (" is ", *pieces)


def _is_product(graph: Graph, node: Node) -> bool:
    """A delta node ∂L/∂z = ∂L/∂a · ∂a/∂z (not a softmax delta, which is computed directly)."""
    return len(node.parents) == 2 and graph[node.parents[0]].role is Role.DL_DA


class _Planner:
    """Walks the graph once, deciding which equations to show and where (each node once)."""

    def __init__(self, spec: Spec, graph: Graph, zero: frozenset[str] = frozenset()) -> None:
        self.spec = spec
        self.graph = graph
        self.zero = zero
        self.shown: set[str] = {n.id for n in graph.nodes if n.kind is Kind.GIVEN}

    # -- the chain of factors behind ∂L/∂z_u, and the products that build it in steps
    def delta_chain(self, unit: str) -> tuple[list[Item | str], list[str]]:
        """(factors, product steps) for ∂L/∂z_unit; a factor is a node id or a LocalEq."""
        dz = self.graph.node_of(Role.DELTA, unit)
        if not _is_product(self.graph, dz):
            return [dz.id], []
        _, dadz_id = dz.parents
        factors, steps = self.a_chain(unit)
        return [*factors, dadz_id], [*steps, dz.id]

    def a_chain(self, unit: str) -> tuple[list[Item | str], list[str]]:
        da = self.graph.node_of(Role.DL_DA, unit)
        deltas = da.parents[0::2]
        single_path = len(deltas) == 1 and self.graph[deltas[0]].role is Role.DELTA and len(da.parents) == 2
        if not single_path:
            return [da.id], []
        child = self.graph[deltas[0]].unit or ""
        weight = da.parents[1]
        factors, steps = self.delta_chain(child)
        z_child = self.graph.node_of(Role.WEIGHTED_SUM, child)
        a_sym = self.graph.node_of(Role.ACTIVATION, unit).symbol
        local = LocalEq(derivative_symbol(z_child.symbol, a_sym), weight, z_child.symbol, a_sym)
        return [*factors, local], [*steps, da.id]

    # -- emitting items
    def show(self, node_id: str, out: list[Item]) -> None:
        """Append the node's equation, after any of its parents not yet shown."""
        if node_id in self.shown:
            return
        node = self.graph[node_id]
        if node_id in self.zero:  # said, not computed: after whatever makes it 0
            for parent in node.parents:
                if parent in self.zero:
                    self.show(parent, out)
            out.append(Para(self.zero_phrase(node), node_id))
            self.shown.add(node_id)
            return
        for parent in node.parents:
            self.show(parent, out)
        if node.role is Role.UPDATE and node.parents[2] in self.zero:
            param = M(self.graph[node.param or ""].symbol)
            text = prose("Its gradient is 0, so ", param, " stays as it is:")
            out.append(Known(node_id, text, computed=True))
        else:
            out.append(NodeEq(node_id))
        self.shown.add(node_id)

    def zero_phrase(self, node: Node) -> Prose:
        """Why a quantity is 0 whatever the other numbers are, in place of its computation."""
        g = self.graph
        assert node.formula is not None  # a given that is 0 is printed, never said
        formula = node.formula.render([g[p].symbol for p in node.parents])
        factor = next((p for p in node.parents if p in self.zero), None)
        if factor is None or (self.zero.issuperset(node.parents) and len(node.parents) > 1):
            return prose(M(f"{node.symbol} = {formula} = 0"), ": every term is 0.")
        return prose(
            M(f"{node.symbol} = {formula} = 0"), ", since ", M(f"{g[factor].symbol} = 0"),
            ": with a factor 0 it is 0, whatever the other numbers are.",
        )  # fmt: skip

    def factor_items(self, factor: Item | str, out: list[Item]) -> None:
        if isinstance(factor, LocalEq):
            out.append(Para(self.local_phrase(factor)))
            out.append(factor)
            return
        assert isinstance(factor, str)
        node = self.graph[factor]
        said = _is(phrases.noun(self.spec, self.graph, node))
        if factor in self.shown:
            out.append(Known(factor, prose(M(node.symbol), *said, "; from above,")))
            return
        out.append(Para(prose(M(node.symbol), *said, ":")))
        self.show(factor, out)

    def local_phrase(self, local: LocalEq) -> Prose:
        if local.equals is None:
            return Prose.of("", local.symbol, " is 1: a bias enters its weighted sum with coefficient 1.")
        return Prose.of(
            "",
            local.symbol,
            " is what ",
            local.var,
            " multiplies in the weighted sum ",
            local.z,
            " (no other term depends on it):",
        )

    def units_of(self, grad: Node) -> list[str]:
        """The units whose deltas a gradient's paths go through (several: a shared bias)."""
        return [self.graph[p].unit or "" for p in grad.parents if self.graph[p].role is Role.DELTA]

    def parameter_section(self, grad: Node) -> Section:
        """∂L/∂p for one weight or bias: the chain rule, each factor, the product in steps."""
        g = self.graph
        param = grad.param or ""
        p_sym = g[param].symbol
        out: list[Item] = []
        if grad.id in self.zero:
            self.show(grad.id, out)
            kind = "Weight " if grad.role is Role.WEIGHT_GRADIENT else "Bias "
            return Section(prose(kind, M(p_sym)), 3, tuple(out))
        units = self.units_of(grad)
        if grad.role is Role.BIAS_GRADIENT and len(units) > 1:
            terms = []
            for u in units:
                z = g.node_of(Role.WEIGHTED_SUM, u).symbol
                terms.append(rf"{g.node_of(Role.DELTA, u).symbol} \cdot {derivative_symbol(z, p_sym)}")
            out.append(
                Para(
                    prose(
                        "The bias ", M(p_sym), " feeds ", *phrases.units(units),
                        ", so its gradient sums the paths through each:",
                    )
                )
            )  # fmt: skip
            out.append(ChainEq(f"{grad.symbol} = " + " + ".join(terms)))
            for u in units:
                dz = g.node_of(Role.DELTA, u)
                one = derivative_symbol(g.node_of(Role.WEIGHTED_SUM, u).symbol, p_sym)
                if dz.id in self.shown:
                    text = prose(
                        "Through ", *phrases.unit(u), ", ", M(one + " = 1"), " and the delta ",
                        M(dz.symbol), " is, from above:",
                    )  # fmt: skip
                    out.append(Known(dz.id, text))
                    continue
                through = ("Through ", *phrases.unit(u), ", ", M(one + " = 1"))
                text = prose(*through, " and the delta is built as follows.")
                out.append(Para(text))
                factors, steps = self.delta_chain(u)
                self.chain_items(dz, factors, steps, out)
            out.append(Para(Prose.of("Adding the paths:")))
            self.show(grad.id, out)
            return Section(prose("Bias ", M(p_sym)), 3, tuple(out))
        unit = units[0]
        factors, steps = self.delta_chain(unit)
        z_sym = g.node_of(Role.WEIGHTED_SUM, unit).symbol
        source = grad.parents[1] if grad.role is Role.WEIGHT_GRADIENT else None
        local = LocalEq(derivative_symbol(z_sym, p_sym), source, z_sym, p_sym)
        chain = [*factors, local]
        decay = len(grad.parents) == 3
        sym = " \\cdot ".join(self.symbol_of(f) for f in chain)
        if decay:
            sym += rf" + \lambda {p_sym}"
        out.append(Para(Prose.of("By the chain rule:")))
        out.append(ChainEq(f"{grad.symbol} = {sym}"))
        self.chain_items(grad, chain, [*steps, grad.id], out)
        title = prose("Weight " if grad.role is Role.WEIGHT_GRADIENT else "Bias ", M(p_sym))
        return Section(title, 3, tuple(out))

    def chain_items(self, target: Node, factors: list[Item | str], steps: list[str], out: list[Item]) -> None:
        for factor in factors:
            self.factor_items(factor, out)
        todo = [s for s in steps if s not in self.shown]
        if not todo:
            if target.id in self.shown:
                out.append(Known(target.id, Prose.of("So ", target.symbol, ", from above:")))
            return
        if len(steps) > 1:
            out.append(
                Para(
                    Prose.of("Multiplying one factor at a time, each product rounded before the next:"),
                    exact=Prose.of("Multiplying one factor at a time:"),
                )
            )
        else:
            out.append(Para(Prose.of("Multiplying:")))
        # Steps already computed: the last of them stands for the others.
        done = [s for s in steps if s in self.shown]
        if done:
            out.append(Known(done[-1], Prose.of("From above,")))
        for s in todo:
            self.show(s, out)

    def symbol_of(self, factor: Item | str) -> str:
        if isinstance(factor, LocalEq):
            return factor.symbol
        assert isinstance(factor, str)
        return self.graph[factor].symbol


def exact_derivatives(spec: Spec, graph: Graph) -> frozenset[str]:
    """The activations' derivatives that are exact by nature (a ReLU's 0 or 1, a slope)."""
    return frozenset(
        n.id
        for n in graph.with_role(Role.DA_DZ)
        if spec.layers[n.layer or 0].activation in _EXACT_DERIVATIVES
    )


def layers_of(spec: Spec, graph: Graph) -> tuple[Layer, ...]:
    """The network's layers as the documents describe them, the inputs first."""
    names = unit_names(spec)
    layers = [Layer(0, "input", graph.ids_of(Role.INPUT), None, None)]
    last = len(spec.layers) - 1
    for i, layer in enumerate(spec.layers):
        act = layer.activation
        definition = _DEFINITIONS.get(act)
        if act is Activation.LEAKY_RELU:
            definition = rf"\mathrm{{LeakyReLU}}(z) = \max({layer.slope:g} z, z)"
        layers.append(
            Layer(
                i + 1, "output" if i == last else "hidden", tuple(names[i]), phrases.activation_name(spec, i),
                definition,
            )
        )  # fmt: skip
    return tuple(layers)


StylePlanner = Callable[[Spec, Graph, frozenset[str], tuple[Layer, ...]], tuple[Section, ...]]
"""A style's solution: (spec, graph, zero, layers) → its sections."""


def chain_lengths(spec: Spec, graph: Graph, zero: frozenset[str]) -> dict[str, int]:
    """Each gradient's chain-rule factors as the full style writes them out (a shared bias's sum
    of paths has none): the worksheet's working space follows them, whatever the style."""
    planner = _Planner(spec, graph, zero)
    lengths = {}
    for grad in graph.nodes:
        if grad.kind is not Kind.GRADIENT or grad.id in zero:
            continue
        units = planner.units_of(grad)
        if grad.role is Role.WEIGHT_GRADIENT or len(units) == 1:
            lengths[grad.id] = len(planner.delta_chain(units[0])[0]) + 1  # the factors, then ∂z/∂p
    return lengths


def plan_full(
    spec: Spec, graph: Graph, zero: frozenset[str], layers: tuple[Layer, ...]
) -> tuple[Section, ...]:
    """The ``full`` style: every weight's and bias's chain rule written out, factor by factor."""
    planner = _Planner(spec, graph, zero)
    sections: list[Section] = []
    # forward pass, one subsection per layer
    forward: list[Section] = []
    for info in layers[1:]:
        items: list[Item] = []
        for unit in info.units:
            planner.show(graph.node_of(Role.WEIGHTED_SUM, unit).id, items)
        for unit in info.units:
            planner.show(graph.node_of(Role.ACTIVATION, unit).id, items)
        units = phrases.units(info.units, ", ")
        heading = prose(phrases.title(info.kind, info.index), ": ", *units, f" ({info.activation})")
        forward.append(Section(heading, 3, tuple(items)))
    sections.append(Section(prose("Forward pass"), 2, ()))
    sections.extend(forward)
    loss_items: list[Item] = []
    for node in graph.nodes:
        if node.kind is Kind.LOSS:
            planner.show(node.id, loss_items)
    sections.append(Section(prose("Loss"), 2, tuple(loss_items)))

    zero_note = _ZERO_NOTE if zero.difference(graph.givens) else ""
    intro = Para(
        Prose.of(_BACKWARD_INTRO[0] + _BACKWARD_INTRO[1] + zero_note),
        exact=Prose.of(_BACKWARD_INTRO[0] + _EXACT + zero_note),
    )
    sections.append(Section(prose("Backward pass"), 2, (intro,)))
    for node in graph.nodes:
        if node.kind is Kind.GRADIENT:
            sections.append(planner.parameter_section(node))
    rest: list[Item] = []
    for node in graph.nodes:
        if node.kind in (Kind.FORWARD, Kind.LOSS, Kind.FACTOR, Kind.GRADIENT):
            planner.show(node.id, rest)
    if rest:  # pragma: no cover - every factor feeds some gradient in the networks the core builds
        sections.append(Section(prose("Other quantities"), 3, tuple(rest)))

    update_items: list[Item] = [Para(Prose.of(_UPDATE_INTRO[0], r"\eta", _UPDATE_INTRO[1]))]
    steps = asks_steps(graph)  # else each update's line shows its step: 0.4 − 0.0411
    for node in graph.nodes:
        if node.kind is Kind.UPDATE:
            step = graph.find(Role.STEP, param=node.param)
            if steps and step is not None:  # the step first: the update subtracts it
                planner.show(step.id, update_items)
            planner.show(node.id, update_items)
    if not spec.update_biases:
        update_items.append(Para(Prose.of("The biases are not updated in this exercise.")))
    sections.append(Section(prose("Update"), 2, tuple(update_items)))
    return tuple(sections)


STYLES: dict[Style, StylePlanner] = {
    Style.FULL: plan_full,
    Style.COMPACT: plan_compact,
    Style.MATRIX: plan_matrix,
}
"""Each style's planner: a style is one module with one function, registered here."""


def build_plan(
    spec: Spec, graph: Graph, zero: frozenset[str] = frozenset(), dead: frozenset[str] = frozenset()
) -> DocumentPlan:
    """The solution's structure for ``graph`` in the spec's style (``spec`` supplies layer kinds
    and activations; ``zero``: quantities that are 0 in every variant, said rather than computed;
    ``dead``: ReLU units that pass no gradient back in any variant, for the notes)."""
    layers = layers_of(spec, graph)
    sections = STYLES[spec.style](spec, graph, zero, layers)
    closing = _Planner(spec, graph, zero)  # every style ends with the forward pass after the update
    closing.shown.update(n.id for n in graph.nodes if n.kind is not Kind.AFTER)
    sections = (*sections, *after_sections(spec, graph, layers, closing.show, closing.shown))
    if spec.documents.notes:
        sections = with_notes(spec, graph, sections, dead)
    loss_def, loss_name = _LOSSES[spec.loss.value]
    return DocumentPlan(
        graph=graph,
        layers=layers,
        sections=sections,
        givens=graph.givens,
        parameters=graph.parameters,
        updates=graph.updates,
        loss_definition=loss_def,
        loss_name=loss_name,
        mean_over=len(spec.targets) if spec.loss.value in ("mse", "bce") else 0,
        symbolic={
            n.id: n.formula.render([graph[p].symbol for p in n.parents]) for n in graph.nodes if n.formula
        },
        nouns={n.id: phrases.noun(spec, graph, n) for n in graph.nodes},
        zero=zero,
        chains=chain_lengths(spec, graph, zero),
        whole=exact_derivatives(spec, graph),
        descriptions={gid: phrases.description(spec, graph, graph[gid]) for gid in graph.givens},
    )


_BACKWARD_INTRO = (
    "For each weight and bias, the chain rule writes the gradient as a product of local "
    "derivatives. Each factor is computed once; the products are formed one factor at a time, ",
    "rounding each before it is used, so every line can be checked with a calculator. "
    "Hidden-layer gradients use the weights from before the update.",
)
_EXACT = (
    "in float64 without rounding (each value is shown to 10 significant figures). "
    "Hidden-layer gradients use the weights from before the update."
)
_ZERO_NOTE = (
    " A quantity that is 0 whatever the other numbers are (it has a factor 0) is said"
    " rather than computed, and a term that is 0 is left out of its sum."
)
_UPDATE_INTRO = (
    "Gradient descent moves each parameter against its gradient, with learning rate ",
    ": the new value is the old one minus the step, the learning rate times the gradient.",
)
