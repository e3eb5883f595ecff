"""The ``matrix`` style: the forward and backward passes as vectors and matrices, layer by layer.

Each layer l is worked as a course teaching the vectorised form does (Nielsen, ch. 2):
z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f(z⁽ˡ⁾), δ⁽ᴸ⁾ = ∂L/∂ŷ ⊙ f′(z⁽ᴸ⁾) (ŷ − y for softmax with
cross-entropy), δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾) ⊙ f′(z⁽ˡ⁾), ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾, ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ
and W⁽ˡ⁾ − η ∂L/∂W⁽ˡ⁾. Every entry of every matrix is a node of the graph, so each printed
product recomputes from its printed (hand-rounded) operands, entry by entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from gradegen.core.graph import Graph, Role
from gradegen.core.key import asks_steps
from gradegen.core.network import derivative_symbol
from gradegen.core.spec import Activation, Loss, Spec
from gradegen.documents import phrases
from gradegen.documents.equations import equation
from gradegen.documents.items import (
    ChainEq,
    DocumentPlan,
    Entry,
    Grid,
    Item,
    Layer,
    MatrixEq,
    NodeEq,
    Para,
    Section,
)
from gradegen.documents.numbers import Numbers, Slots
from gradegen.documents.prose import M, Prose, prose

_NAMES = {
    Activation.SIGMOID: r"\sigma",
    Activation.TANH: r"\tanh",
    Activation.RELU: r"\mathrm{ReLU}",
    Activation.LEAKY_RELU: r"\mathrm{LeakyReLU}",
    Activation.SOFTMAX: r"\mathrm{softmax}",
}
"""Each activation's name as a function of a vector (a linear layer has none: a = z)."""


def _sup(index: int) -> str:
    return f"^{{({index})}}"


def _column(ids: Sequence[str], entry: Entry = Entry.VALUE) -> Grid:
    return Grid(tuple((i,) for i in ids), entry)


def _row(ids: Sequence[str]) -> Grid:
    return Grid((tuple(ids),))


class _LayerMatrices:
    """The graph's quantities of one layer, arranged as its vectors and matrices."""

    def __init__(self, spec: Spec, graph: Graph, info: Layer) -> None:
        self.graph = graph
        self.info = info
        self.i = info.index - 1  # the spec's layer index
        self.l = info.index
        self.activation = spec.layers[self.i].activation
        self.output = info.kind == "output"
        g = graph
        units = info.units
        self.z = [g.node_of(Role.WEIGHTED_SUM, u).id for u in units]
        self.a = [g.node_of(Role.ACTIVATION, u).id for u in units]
        self.delta = [g.node_of(Role.DELTA, u).id for u in units]
        self.dl_da = [n.id for u in units if (n := g.find(Role.DL_DA, unit=u)) is not None]
        self.da_dz = [n.id for u in units if (n := g.find(Role.DA_DZ, unit=u)) is not None]
        weights = g.with_role(Role.WEIGHT, layer=self.i)
        self.w = [[n.id for n in weights if n.unit == u] for u in units]
        biases = g.with_role(Role.BIAS, layer=self.i)
        shared = next((n.id for n in biases if n.unit is None), None)
        self.shared_bias = shared
        self.b = [shared or g.node_of(Role.BIAS, u).id for u in units]
        gradients = g.gradients
        self.grad_w = [[gradients[w] for w in row] for row in self.w]
        self.grad_b = list(dict.fromkeys(gradients[b] for b in self.b))

    def vec(self, name: str) -> str:
        """A vector's symbol in this layer: z⁽ˡ⁾, a⁽ˡ⁾ (ŷ on the output layer)."""
        if name == "a" and self.output:
            return r"\hat{y}"
        return f"{name}{_sup(self.l)}"

    def derivative(self) -> str:
        """f′(z⁽ˡ⁾) as the layer's activation is written."""
        name = _NAMES.get(self.activation, "f")
        return f"{name}'(z{_sup(self.l)})"


def _prev(layers: list[_LayerMatrices], k: int, graph: Graph) -> tuple[str, list[str]]:
    """The vector feeding layer k (its symbol and ids): x, or the layer before's activations."""
    if k == 0:
        return "x", list(graph.ids_of(Role.INPUT))
    return layers[k - 1].vec("a"), layers[k - 1].a


Segment = tuple[str | Grid, ...]


def _named(symbol: str, ids: Sequence[str], graph: Graph) -> tuple[Segment, ...]:
    """The segment naming a vector's entries, unless the vector is one entry of the same name."""
    if len(ids) == 1 and graph[ids[0]].symbol == symbol:
        return ()
    return ((_column(ids, Entry.SYMBOL),),)


def _vector(graph: Graph, symbol: str, ids: Sequence[str], *middle: Segment | str) -> MatrixEq:
    """symbol = its entries' symbols = each of ``middle`` = the vector of ``ids``' values."""
    segments = tuple((m,) if isinstance(m, str) else m for m in middle)
    return MatrixEq(symbol, (*_named(symbol, ids, graph), *segments, (_column(ids),)))


def _matrix(rows: Sequence[Sequence[str]], entry: Entry = Entry.VALUE) -> Grid:
    return Grid(tuple(tuple(row) for row in rows), entry)


def _given(symbol: str, grid: Grid) -> MatrixEq:
    """Givens written out: their symbols, then their values."""
    return MatrixEq(symbol, ((Grid(grid.rows, Entry.SYMBOL),), (grid,)), False)


def _forward(graph: Graph, layers: list[_LayerMatrices]) -> list[Section]:
    sections = [Section(prose("Forward pass"), 2, (Para(Prose.of(*_FORWARD_INTRO)),))]
    for k, lay in enumerate(layers):
        prev, prev_ids = _prev(layers, k, graph)
        sup = _sup(lay.l)
        items: list[Item] = [_given("x", _column(prev_ids))] if k == 0 else []
        items += [_given(f"W{sup}", _matrix(lay.w)), _given(f"b{sup}", _column(lay.b))]
        if lay.shared_bias and len(lay.b) > 1:
            bias = M(graph[lay.shared_bias].symbol)
            items.append(
                Para(prose("The shared bias ", bias, " stands in every entry of ", M(f"b{sup}"), "."))
            )
        u = M("u")
        text = prose("The weighted sums: entry ", u, " is row ", u, " of ", M(f"W{sup}"), " times ", M(prev))
        items.append(Para(prose(*text.pieces(), ", plus its bias:")))
        product = (_matrix(lay.w), _column(prev_ids), " + ", _column(lay.b))
        items.append(_vector(graph, lay.vec("z"), lay.z, f"W{sup} {prev} + b{sup}", product))
        if lay.activation is Activation.LINEAR:
            items.append(_vector(graph, lay.vec("a"), lay.a, lay.vec("z")))
        else:
            name = _NAMES[lay.activation]
            each = "the vector" if lay.activation is Activation.SOFTMAX else "each entry"
            items.append(Para(prose("The activations, ", M(name), f" applied to {each}:")))
            worked = (_column(lay.a, Entry.WORKED),)
            items.append(_vector(graph, lay.vec("a"), lay.a, f"{name}(z{sup})", worked))
        sections.append(Section(_title(lay), 3, tuple(items)))
    return sections


def _title(lay: _LayerMatrices) -> Prose:
    units = phrases.units(lay.info.units, ", ")
    return prose(phrases.title(lay.info.kind, lay.l), ": ", *units, f" ({lay.info.activation})")


def _loss(graph: Graph) -> Section:
    targets = list(graph.ids_of(Role.TARGET))
    items: list[Item] = [_given("y", _column(targets))] if len(targets) > 1 else []
    items += [NodeEq(node.id) for node in graph.with_role(Role.LOSS_TERM, Role.LOSS)]
    return Section(prose("Loss"), 2, tuple(items))


def _derivative_items(lay: _LayerMatrices) -> list[Item]:
    """f′(z⁽ˡ⁾), entry by entry (a case distinction: said, then its values)."""
    symbol = lay.derivative()
    a = lay.vec("a")
    if lay.activation is Activation.LINEAR:
        return [
            Para(prose("The identity's derivative is 1 for every unit:")),
            _vector(lay.graph, symbol, lay.da_dz),
        ]
    if lay.activation in (Activation.RELU, Activation.LEAKY_RELU):
        slope = M(r"\alpha" if lay.activation is Activation.LEAKY_RELU else "0")
        z = M(f"z{_sup(lay.l)}")
        text = prose(M(symbol), " is 1 where the entry of ", z, " is positive and ", slope, " elsewhere:")
        return [Para(text), _vector(lay.graph, symbol, lay.da_dz)]
    formula = {Activation.SIGMOID: rf"{a} \odot (1 - {a})", Activation.TANH: rf"1 - {a} \odot {a}"}
    worked = (_column(lay.da_dz, Entry.WORKED),)
    return [
        Para(prose("The derivative of the activation, entry by entry, from ", M(a), ":")),
        _vector(lay.graph, symbol, lay.da_dz, formula[lay.activation], worked),
    ]


def _deltas(spec: Spec, layers: list[_LayerMatrices], k: int) -> list[Item]:
    """δ⁽ˡ⁾: at the output from ∂L/∂ŷ (or ŷ − y), in a hidden layer back through the weights above."""
    lay, graph = layers[k], layers[k].graph
    delta = rf"\delta{_sup(lay.l)}"
    hadamard = (_column(lay.dl_da), r" \odot ", _column(lay.da_dz))
    if k < len(layers) - 1:
        above = layers[k + 1]
        da, up = derivative_symbol("L", lay.vec("a")), f"W{_sup(above.l)}"
        transposed = Grid(tuple(tuple(row[j] for row in above.w) for j in range(len(lay.a))))
        return [
            Para(prose("Back through the weights ", M(up), ", transposed:")),
            _vector(
                graph,
                da,
                lay.dl_da,
                rf"({up})^{{\top}} \delta{_sup(above.l)}",
                (transposed, _column(above.delta)),
            ),
            *_derivative_items(lay),
            _vector(graph, delta, lay.delta, rf"{da} \odot {lay.derivative()}", hadamard),
        ]
    softmax = lay.activation is Activation.SOFTMAX
    if softmax and spec.loss is Loss.CROSS_ENTROPY:
        error = (_column(lay.a), " - ", _column(list(graph.ids_of(Role.TARGET))))
        return [
            Para(prose("With softmax and cross-entropy the delta is the error ", M(r"\hat{y} - y"), ":")),
            _vector(graph, delta, lay.delta, r"\hat{y} - y", error),
        ]
    dl = derivative_symbol("L", _YHAT)
    items: list[Item] = [
        Para(prose("The derivative of the loss with respect to each prediction:")),
        _vector(
            graph, dl, lay.dl_da, (_column(lay.dl_da, Entry.FORMULA),), (_column(lay.dl_da, Entry.WORKED),)
        ),
    ]
    if softmax:
        entries = ((_column(lay.delta, Entry.FORMULA),), (_column(lay.delta, Entry.WORKED),))
        items.append(Para(prose("Through the softmax each delta takes every prediction:")))
        return [*items, _vector(graph, delta, lay.delta, *entries)]
    return [
        *items,
        *_derivative_items(lay),
        _vector(graph, delta, lay.delta, rf"{dl} \odot {lay.derivative()}", hadamard),
    ]


def _backward(spec: Spec, graph: Graph, layers: list[_LayerMatrices]) -> list[Section]:
    lead: list[Item] = [
        Para(Prose.of(*_BACKWARD_INTRO)),
        ChainEq(rf"\delta^{{(L)}} = {derivative_symbol('L', _YHAT)} \odot f'(z^{{(L)}})"),
        ChainEq(r"\delta^{(l)} = \left((W^{(l+1)})^{\top} \delta^{(l+1)}\right) \odot f'(z^{(l)})"),
        ChainEq(rf"{derivative_symbol('L', 'b^{(l)}')} = \delta^{{(l)}}"),
        ChainEq(rf"{derivative_symbol('L', 'W^{(l)}')} = \delta^{{(l)}} (a^{{(l-1)}})^{{\top}}"),
        Para(Prose.of(*_BACKWARD_OUTRO)),
    ]
    sections = [Section(prose("Backward pass"), 2, tuple(lead))]
    for k in range(len(layers) - 1, -1, -1):
        lay = layers[k]
        sup = _sup(lay.l)
        items = _deltas(spec, layers, k)
        prev, prev_ids = _prev(layers, k, graph)
        formula = rf"\delta{sup} {'x' if k == 0 else f'({prev})'}^{{\top}}"
        product: Segment = (_column(lay.delta), _row(prev_ids))
        if spec.weight_decay:
            formula += rf" + \lambda W{sup}"
            product += (f" + {spec.weight_decay:g} ", _matrix(lay.w))
        items.append(Para(prose(_WEIGHTS)))
        items.append(
            MatrixEq(derivative_symbol("L", f"W{sup}"), ((formula,), product, (_matrix(lay.grad_w),)))
        )
        if lay.shared_bias and len(lay.b) > 1:
            bias = M(graph[lay.shared_bias].symbol)
            items.append(Para(prose("The shared bias ", bias, _SHARED)))
            items.extend(NodeEq(g) for g in lay.grad_b)
        else:
            items.append(Para(Prose.of(_BIAS)))
            if lay.shared_bias:  # one unit: a bias of its own
                items.extend(NodeEq(g) for g in lay.grad_b)
            else:
                items.append(_vector(graph, derivative_symbol("L", f"b{sup}"), lay.grad_b, rf"\delta{sup}"))
        sections.append(Section(_title(lay), 3, tuple(items)))
    return sections


_YHAT = r"\hat{y}"
_WEIGHTS = "Each weight's gradient is the delta of the unit it feeds times the activation it carries:"
_BIAS = "A bias enters its weighted sum with coefficient 1, so its gradient is the delta:"
_SHARED = " feeds every unit of the layer: its gradient is the sum of the deltas."


def _update(spec: Spec, graph: Graph, layers: list[_LayerMatrices]) -> Section:
    steps = asks_steps(graph)
    lr = Grid((("lr",),), Entry.NUMBER)
    items: list[Item] = [Para(Prose.of(*_UPDATE_INTRO))]

    def of(role: Role, grads: Grid) -> Grid:  # the step or update of each gradient's parameter
        return Grid(
            tuple(tuple(graph.node_of(role, param=graph[g].param).id for g in row) for row in grads.rows)
        )

    for lay in layers:
        sup = _sup(lay.l)
        matrices = [(f"W{sup}", _matrix(lay.w), _matrix(lay.grad_w))]
        if spec.update_biases and not lay.shared_bias:
            matrices.append((f"b{sup}", _column(lay.b), _column(lay.grad_b)))
        for symbol, given, grads in matrices:
            gradient = derivative_symbol("L", symbol)
            if steps:
                items.append(MatrixEq(rf"\eta {gradient}", ((lr, " ", grads), (of(Role.STEP, grads),))))
            new = of(Role.UPDATE, grads)
            # a column of biases is short enough to name its entries
            segments: list[Segment] = [(Grid(new.rows, Entry.SYMBOL),)] if symbol.startswith("b") else []
            segments += [(rf"{symbol} - \eta {gradient}",), (given, " - ", lr, " ", grads)]
            if steps:
                segments.append((given, " - ", of(Role.STEP, grads)))
            items.append(MatrixEq(f"{symbol}_{{\\text{{new}}}}", (*segments, (new,))))
        if spec.update_biases and lay.shared_bias:
            if steps:
                items.append(NodeEq(graph.node_of(Role.STEP, param=lay.shared_bias).id))
            items.append(NodeEq(graph.updates[lay.shared_bias]))
    if not spec.update_biases:
        items.append(Para(Prose.of("The biases are not updated in this exercise.")))
    return Section(prose("Update"), 2, tuple(items))


def plan_matrix(
    spec: Spec, graph: Graph, zero: frozenset[str], layers: tuple[Layer, ...]
) -> tuple[Section, ...]:
    """The ``matrix`` style: each layer's vectors and matrices, forward, backward and the update."""
    arranged = [_LayerMatrices(spec, graph, info) for info in layers[1:]]
    sections = [
        *_forward(graph, arranged),
        _loss(graph),
        *_backward(spec, graph, arranged),
        _update(spec, graph, arranged),
    ]
    return tuple(sections)


# --------------------------------------------------------------------------- rendering


def grid_latex(plan: DocumentPlan, numbers: Numbers | Slots, grid: Grid) -> str:
    """A matrix in LaTeX: a bmatrix (a scalar as an operand)."""
    if grid.entry is Entry.NUMBER:
        return numbers.operand(grid.rows[0][0])
    rows = [" & ".join(_entry(plan, numbers, grid.entry, node) for node in row) for row in grid.rows]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _slashed(symbol: str) -> str:
    """\\frac{top}{bottom} as top / bottom (any other symbol as it is)."""
    if not symbol.startswith("\\frac{"):
        return symbol
    groups, depth, start = [], 0, 0
    for i, ch in enumerate(symbol):
        if ch == "{":
            depth += 1
            start = i + 1 if depth == 1 else start
        elif ch == "}":
            depth -= 1
            if depth == 0:
                groups.append(symbol[start:i])
    return f"{groups[0]} / {groups[1]}" if len(groups) == 2 else symbol


def _entry(plan: DocumentPlan, numbers: Numbers | Slots, entry: Entry, node: str) -> str:
    if entry is Entry.SYMBOL:  # ∂L/∂z on one line: a column of fractions would crowd its rows
        return _slashed(plan.graph[node].symbol)
    if entry is Entry.FORMULA:
        return plan.symbolic[node]
    if entry is Entry.WORKED:
        segments = equation(plan, numbers, node)
        if len(segments) >= 4:  # symbol, formula, the numbers substituted, value
            return segments[2].replace(r"\frac{", r"\dfrac{")  # an entry's fraction at full size
    return numbers.short(node) if node in plan.whole else numbers.text(node)


def matrix_segments(plan: DocumentPlan, numbers: Numbers | Slots, item: MatrixEq) -> list[str]:
    """A matrix line's segments in LaTeX: its symbol, then each segment's text and matrices."""
    return [item.symbol] + [
        "".join(p if isinstance(p, str) else grid_latex(plan, numbers, p) for p in segment)
        for segment in item.segments
    ]


_FORWARD_INTRO = (
    "In vector form each layer ",
    "l",
    " computes the weighted sums ",
    r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}",
    " and the activations ",
    r"a^{(l)} = f(z^{(l)})",
    ", where ",
    r"a^{(0)} = x",
    " is the input. Row ",
    "u",
    " of ",
    r"W^{(l)}",
    " holds the weights into unit ",
    "u",
    ", one column for each unit feeding it.",
)
_BACKWARD_INTRO = (
    "The delta of a layer, ",
    r"\delta^{(l)} = \partial L / \partial z^{(l)}",
    ", has one entry for each unit: how the loss changes with that unit's weighted sum. Four "
    "equations give every gradient (",
    r"\odot",
    " multiplies entry by entry, ",
    "L",
    " is the output layer):",
)
_BACKWARD_OUTRO = (
    "Every entry is rounded before it is used, by the rule above, so each product can be checked "
    "with a calculator. Hidden-layer deltas use the weights from before the update.",
)
_UPDATE_INTRO = (
    "Gradient descent moves each parameter against its gradient, with learning rate ",
    r"\eta",
    ": ",
    r"W^{(l)} - \eta \, \partial L / \partial W^{(l)}",
    ", entry by entry.",
)
