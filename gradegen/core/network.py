"""Spec → the graph of one training step: forward pass, loss, chain-rule factors, gradients, updates.

Quantity ids (public; worksheets, keys and submissions use them):

* givens ``x1…``, ``y`` or ``y1…``, ``w1…``, ``b1…``, ``lr`` (the learning rate η);
* forward ``z_h1``, ``a_h1``, …, ``z_out``, ``a_out`` (ŷ), or ``z_o1``, ``a_o1``… with several outputs;
* ``loss``, and ``loss_o1``… (each output's term) when there are several outputs;
* per unit ``dL_da_<u>``, ``da_<u>_dz_<u>``, ``dL_dz_<u>`` (a softmax output has no ``da/dz``);
* gradients ``dL_dw1…``, ``dL_db1…``; steps ``step_w1…``, ``step_b1…`` (η·∂L/∂p); updates
  ``w1_new…``, ``b1_new…``; then (not asked by default) ``z_h1_after``… ``loss_after``, ``loss_decrease``;
* with ``steps: N > 1`` (not asked by default) ``loss_step2``…, ``w1_final``… (:mod:`.steps`).

Each computed node gets its hand precision here (:func:`precision_of`): a rule per role.

This is the one module that composes ids. Every node carries its role, layer, unit and parameter
(:class:`~gradegen.core.graph.Role`), so other modules ask the graph (``graph.node_of(Role.DELTA,
"h1")``) rather than read or build id strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial, reduce
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gradegen.core.functions import activation_rule, loss_rule, softmax
from gradegen.core.graph import AFTER_OF, Array, Formula, Graph, Group, Kind, Node, Role, check_ids
from gradegen.core.rounding import SIGNIFICANT, Precision, Rule, tiny_learning_rate
from gradegen.core.spec import Activation, Loss, Spec
from gradegen.core.steps import step_nodes


def unit_names(spec: Spec) -> list[list[str]]:
    """Each layer's unit names: h1, h2… (one hidden layer), h1_1, h2_1… (several), out or o1…"""
    hidden = spec.layers[:-1]
    names: list[list[str]] = []
    for i, layer in enumerate(hidden):
        prefix = layer.name or ("h" if len(hidden) == 1 else f"h{i + 1}_")
        names.append([f"{prefix}{j + 1}" for j in range(layer.size)])
    out = spec.layers[-1].size
    names.append(["out"] if out == 1 else [f"o{j + 1}" for j in range(out)])
    return names


_UNIT = re.compile(r"([A-Za-z]+)(\d+)(?:_(\d+))?")


def unit_symbol(unit: str) -> str:
    """How a unit is written in math (LaTeX): x_{1}, h_{2}, h_{1,3}, o_{2}; the single output
    unit ``out`` as \\mathrm{out}."""
    m = _UNIT.fullmatch(unit)
    if m is None:
        return rf"\mathrm{{{unit}}}"
    name, first, second = m.groups()
    return f"{name}_{{{first},{second}}}" if second else f"{name}_{{{first}}}"


def target_ids(spec: Spec) -> list[str]:
    n = len(spec.targets)
    return ["y"] if n == 1 else [f"y{k + 1}" for k in range(n)]


def _sub(unit: str) -> str:
    return unit.replace("_", ",")


def derivative_symbol(top: str, bottom: str) -> str:
    """∂top/∂bottom in LaTeX, as every derivative's symbol is written."""
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


def _template(template: str, **operands: int) -> str:
    """Rename a function template's named operands (``{a}``) to parent positions (``{0}``)."""
    for name, position in operands.items():
        template = template.replace("{" + name + "}", "{" + str(position) + "}")
    return template


def _join(count: int, pattern: str, sep: str = " + ") -> str:
    return sep.join(pattern.format(2 * j, 2 * j + 1, j=j) for j in range(count))


def _dot(*v: Array) -> Array:
    """Σ v[2j]·v[2j+1] (+ a trailing odd term): a weighted sum written as pairs."""
    total = reduce(np.add, (v[2 * j] * v[2 * j + 1] for j in range(len(v) // 2)))
    return total + v[-1] if len(v) % 2 else total


def _sum(*v: Array) -> Array:
    return reduce(np.add, v)


def _mean(*v: Array) -> Array:
    return reduce(np.add, v) / len(v)


def _product(a: Array, b: Array) -> Array:
    return a * b


def _identity(a: Array) -> Array:
    return a.copy()


def _difference(a: Array, y: Array) -> Array:
    return a - y


def _decayed(lam: float, g: Array, a: Array, w: Array) -> Array:
    """∂L/∂w with L2 weight decay: the data term plus λ·w."""
    return g * a + lam * w


def _one() -> Array:
    return np.ones(1)


def _softmax_k(k: int, *z: Array) -> Array:
    return softmax(z, k)


def _softmax_delta(k: int, n: int, *v: Array) -> Array:
    """ŷ_k (∂L/∂ŷ_k − Σ_j ŷ_j ∂L/∂ŷ_j), from the layer's outputs then their ∂L/∂ŷ."""
    return v[k] * (v[n + k] - _dot(*(x for j in range(n) for x in (v[j], v[n + j]))))


def _update(w: Array, lr: Array, g: Array) -> Array:
    return w - lr * g


_BEHIND_HIDDEN = frozenset({Role.DL_DA, Role.DELTA, Role.WEIGHT_GRADIENT, Role.BIAS_GRADIENT})
"""Roles whose values behind a hidden layer shrink with every layer the chain rule passes."""


def precision_of(spec: Spec, role: Role, layer: int | None) -> Precision | None:
    """How a quantity with ``role`` in ``layer`` is rounded by hand and asked for (None: a given).

    By role, never by value: the spec's ``decimals`` places, except the backward pass behind a
    hidden layer (∂L/∂a, deltas and gradients there), which is far below the working precision
    and keeps 3 significant figures in scientific notation; a step η·∂L/∂p and an update are the
    exact decimals of the rounded values (a step in scientific notation when η is tiny).
    """
    if role.kind is Kind.GIVEN:
        return None
    if role is Role.STEP:
        return Precision(Rule.EXACT, 0, tiny_learning_rate(spec.learning_rate, spec.decimals))
    if role is Role.UPDATE:
        return Precision(Rule.EXACT)
    if role in _BEHIND_HIDDEN and layer is not None and layer < len(spec.layers) - 1:
        return Precision(Rule.FIGURES, SIGNIFICANT, scientific=True)
    return Precision(Rule.DECIMALS, spec.decimals)


@dataclass
class _Net:
    """What the stages of :func:`build_graph` share: ids by layer, and the nodes made so far."""

    spec: Spec
    units: list[list[str]]  # [layer][unit]
    inputs: list[str]
    targets: list[str]
    weights: list[list[list[str]]] = field(default_factory=list)  # [layer][unit][input]
    biases: list[list[str]] = field(default_factory=list)  # [layer][unit]; a shared bias repeats
    nodes: list[Node] = field(default_factory=list)
    index: dict[str, Node] = field(default_factory=dict)
    defaults: dict[str, float] = field(default_factory=dict)

    def add(
        self,
        node_id: str,
        role: Role,
        group: Group,
        *,
        symbol: str,
        label: str,
        meaning: str,
        parents: Sequence[str] = (),
        fn: Any = None,
        latex: str | None = None,
        text: str | None = None,
        value: float | None = None,
        unit: str | None = None,
        param: str | None = None,
        layer: int | None = None,
    ) -> None:
        formula = None
        if latex is not None:
            text = text if text is not None else latex.replace(r" \cdot ", "·")
            formula = Formula(latex, text.replace("{n}", str(len(self.targets))), len(self.targets))
        node = Node(node_id, role.kind, group, symbol, label, meaning, tuple(parents), fn, formula, unit,
                    param, role, layer, precision_of(self.spec, role, layer))  # fmt: skip
        self.nodes.append(node)
        self.index[node_id] = node
        if value is not None:
            self.defaults[node_id] = value

    def acts(self, i: int) -> list[str]:
        """The ids feeding layer ``i + 1``: layer ``i``'s activations, or the inputs for ``i = -1``."""
        return self.inputs if i < 0 else [f"a_{u}" for u in self.units[i]]


def build_graph(spec: Spec) -> Graph:
    """The graph of one training step of ``spec``'s network on its example."""
    net = _Net(spec, unit_names(spec), [f"x{k + 1}" for k in range(len(spec.inputs))], target_ids(spec))
    _givens(net)
    for i in range(len(spec.layers)):
        _forward(net, i)
    _loss(net)
    # Backward, output layer first; gradients use the weights from before the update.
    for i in range(len(spec.layers) - 1, -1, -1):
        _deltas(net, i)
        _gradients(net, i)
    _updates(net)
    _after(net)
    graph = Graph(tuple(net.nodes), net.defaults, spec.decimals)
    steps = step_nodes(spec, graph, lambda k: f"loss_step{k}", lambda p: f"{p}_final")  # spec.steps > 1
    graph = Graph((*graph.nodes, *steps), net.defaults, spec.decimals) if steps else graph
    check_ids(spec, graph)
    return graph


def _givens(net: _Net) -> None:
    """Inputs, targets, then w1, w2, … row-major through the layers, b1, b2, …, and η."""
    spec = net.spec
    for k, (xid, value) in enumerate(zip(net.inputs, spec.inputs, strict=True)):
        net.add(xid, Role.INPUT, Group.GIVENS, symbol=f"x_{{{k + 1}}}", label=xid,
                meaning=f"input {k + 1}", value=value, unit=xid)  # fmt: skip
    several = len(net.targets) > 1
    last = len(spec.layers) - 1
    for k, (yid, value) in enumerate(zip(net.targets, spec.targets, strict=True)):
        net.add(yid, Role.TARGET, Group.GIVENS, symbol=f"y_{{{k + 1}}}" if several else "y", label=yid,
                meaning=f"target of output {k + 1}" if several else "target", value=value,
                unit=net.units[last][k], layer=last)  # fmt: skip
    count = 0
    for i, layer in enumerate(spec.layers):
        feeding, rows = (net.inputs if i == 0 else net.units[i - 1]), []
        for u, row in enumerate(layer.weights):
            ids = []
            for j, value in enumerate(row):
                count += 1
                wid = f"w{count}"
                net.add(wid, Role.WEIGHT, Group.GIVENS, symbol=f"w_{{{count}}}", label=wid,
                        meaning=f"weight from {feeding[j]} into {net.units[i][u]}", value=value,
                        param=wid, unit=net.units[i][u], layer=i)  # fmt: skip
                ids.append(wid)
            rows.append(ids)
        net.weights.append(rows)
    count = 0
    for i, layer in enumerate(spec.layers):
        ids = []
        for u, value in enumerate(layer.biases()):
            count += 1
            bid = f"b{count}"
            fed = net.units[i] if layer.shared_bias else [net.units[i][u]]
            net.add(bid, Role.BIAS, Group.GIVENS, symbol=f"b_{{{count}}}", label=bid,
                    meaning=f"bias of {' and '.join(fed)}", value=value, param=bid,
                    unit=None if layer.shared_bias else fed[0], layer=i)  # fmt: skip
            ids.append(bid)
        net.biases.append(ids * len(net.units[i]) if layer.shared_bias else ids)
    net.add("lr", Role.LEARNING_RATE, Group.GIVENS, symbol=r"\eta", label="η", meaning="learning rate",
            value=spec.learning_rate)  # fmt: skip


def _forward(net: _Net, i: int) -> None:
    """Layer ``i``'s weighted sums, then its activations (softmax needs every z first)."""
    layer, units = net.spec.layers[i], net.units[i]
    feeding = net.acts(i - 1)
    zs = [f"z_{u}" for u in units]
    for u, unit in enumerate(units):
        parents = [p for pair in zip(feeding, net.weights[i][u], strict=True) for p in pair]
        parents.append(net.biases[i][u])
        latex = _join(len(feeding), "{{{0}}}{{mul}}{{{1}}}") + f" + {{{len(parents) - 1}}}"
        net.add(zs[u], Role.WEIGHTED_SUM, Group.FORWARD, symbol=f"z_{{{_sub(unit)}}}", label=zs[u],
                meaning=f"weighted sum into {unit}", parents=parents, fn=_dot, latex=latex,
                unit=unit, layer=i)  # fmt: skip
    output = i == len(net.spec.layers) - 1
    fn: Callable[..., Array]
    for u, unit in enumerate(units):
        if not output:
            symbol, label, meaning = f"a_{{{_sub(unit)}}}", f"a_{unit}", f"activation of {unit}"
        elif len(units) == 1:
            symbol, label, meaning = r"\hat{y}", "ŷ", "prediction"
        else:
            symbol, label, meaning = rf"\hat{{y}}_{{{u + 1}}}", f"ŷ{u + 1}", f"prediction {u + 1}"
        if layer.activation is Activation.SOFTMAX:
            # \frac{e^{z_k}}{e^{z_1} + …}, braces doubled for Formula's str.format
            exps = " + ".join("e^{{{" + str(j) + "}}}" for j in range(len(zs)))
            latex = r"\frac{{e^{{{" + str(u) + "}}}}}{{" + exps + "}}"
            text = f"e^{{{u}}} / (" + " + ".join(f"e^{{{j}}}" for j in range(len(zs))) + ")"
            parents, fn = zs, partial(_softmax_k, u)
        else:
            rule = activation_rule(layer.activation, layer.slope)
            latex, text = _template(rule.latex, z=0), _template(rule.text, z=0)
            parents, fn = [zs[u]], rule.f
        net.add(f"a_{unit}", Role.ACTIVATION, Group.FORWARD, symbol=symbol, label=label, meaning=meaning,
                parents=parents, fn=fn, latex=latex, text=text, unit=unit, layer=i)  # fmt: skip


def _loss(net: _Net) -> None:
    """The loss, via one term per output when there are several."""
    outs, ys = net.acts(len(net.spec.layers) - 1), net.targets
    rule = loss_rule(net.spec.loss, len(ys))
    latex, text = _template(rule.latex, a=0, y=1), _template(rule.text, a=0, y=1)
    if len(ys) == 1:
        net.add("loss", Role.LOSS, Group.LOSS, symbol="L", label="L", meaning=rule.name,
                parents=[outs[0], ys[0]], fn=rule.term, latex=latex, text=text)  # fmt: skip
        return
    units = net.units[-1]
    for k, unit in enumerate(units):
        net.add(f"loss_{unit}", Role.LOSS_TERM, Group.LOSS, symbol=f"L_{{{unit}}}", label=f"L_{unit}",
                meaning=f"{rule.name} term of {unit}", parents=[outs[k], ys[k]], fn=rule.term,
                latex=latex, text=text, unit=unit, layer=len(net.spec.layers) - 1)  # fmt: skip
    total = " + ".join(f"{{{k}}}" for k in range(len(units)))
    n = len(units)
    net.add("loss", Role.LOSS, Group.LOSS, symbol="L", label="L", meaning=rule.name,
            parents=[f"loss_{u}" for u in units], fn=_mean if rule.mean else _sum,
            latex=rf"\tfrac{{{{1}}}}{{{{{{n}}}}}}({total})" if rule.mean else total,
            text=f"(1/{n})·({total})" if rule.mean else total)  # fmt: skip


def _deltas(net: _Net, i: int) -> None:
    """Each unit's chain-rule factors: ∂L/∂a, the activation's derivative, and the delta ∂L/∂z."""
    spec, layer, units = net.spec, net.spec.layers[i], net.units[i]
    output = i == len(spec.layers) - 1
    group = Group.OUTPUT_GRADIENTS if output else Group.HIDDEN_GRADIENTS
    acts = net.acts(i)
    softmax = layer.activation is Activation.SOFTMAX
    for u, unit in enumerate(units):
        a_sym, a_lab = net.index[acts[u]].symbol, net.index[acts[u]].label
        z_sym = f"z_{{{_sub(unit)}}}"
        d_sym, d_lab = derivative_symbol("L", z_sym), f"∂L/∂z_{unit}"
        if output and softmax and spec.loss is Loss.CROSS_ENTROPY:
            net.add(f"dL_dz_{unit}", Role.DELTA, group, symbol=d_sym, label=d_lab, unit=unit, layer=i,
                    meaning=f"error signal (delta) of {unit}: ŷ − y for softmax with cross-entropy",
                    parents=[acts[u], net.targets[u]], fn=_difference, latex="{0} - {1}",
                    text="{0} − {1}")  # fmt: skip
            continue
        if output:
            rule = loss_rule(spec.loss, len(units))
            net.add(f"dL_da_{unit}", Role.DL_DA, group, symbol=derivative_symbol("L", a_sym),
                    label=f"∂L/∂{a_lab}", meaning="derivative of the loss with respect to the prediction",
                    parents=[acts[u], net.targets[u]], fn=rule.grad,
                    latex=_template(rule.d_latex, a=0, y=1), text=_template(rule.d_text, a=0, y=1),
                    unit=unit, layer=i)  # fmt: skip
        else:
            feeds = net.units[i + 1]
            parents = [p for k, v in enumerate(feeds) for p in (f"dL_dz_{v}", net.weights[i + 1][k][u])]
            net.add(f"dL_da_{unit}", Role.DL_DA, group, symbol=derivative_symbol("L", a_sym),
                    label=f"∂L/∂{a_lab}",
                    meaning=f"how the loss changes with {a_lab}, through every unit it feeds",
                    parents=parents, fn=_dot, latex=_join(len(feeds), "{{{0}}}{{mul}}{{{1}}}"),
                    unit=unit, layer=i)  # fmt: skip
        if softmax:
            continue  # its deltas need the whole layer's ∂L/∂ŷ: added below
        rule_a = activation_rule(layer.activation, layer.slope)
        operand = {"a": [acts[u]], "z": [f"z_{unit}"], "": []}[rule_a.uses]
        net.add(f"da_{unit}_dz_{unit}", Role.DA_DZ, group, symbol=derivative_symbol(a_sym, z_sym),
                label=f"∂{a_lab}/∂z_{unit}", meaning=f"derivative of the {rule_a.name} at z_{unit}",
                parents=operand, fn=rule_a.df if operand else _one,
                latex=_template(rule_a.d_latex, a=0, z=0), text=_template(rule_a.d_text, a=0, z=0),
                unit=unit, layer=i)  # fmt: skip
        net.add(f"dL_dz_{unit}", Role.DELTA, group, symbol=d_sym, label=d_lab, unit=unit, layer=i,
                meaning=f"error signal (delta) of {unit}",
                parents=[f"dL_da_{unit}", f"da_{unit}_dz_{unit}"], fn=_product,
                latex="{0}{mul}{1}")  # fmt: skip
    if softmax and spec.loss is not Loss.CROSS_ENTROPY:
        n = len(units)
        inner = " + ".join(f"{{{j}}}{{mul}}{{{n + j}}}" for j in range(n))
        for u, unit in enumerate(units):
            net.add(f"dL_dz_{unit}", Role.DELTA, group, symbol=derivative_symbol("L", f"z_{{{_sub(unit)}}}"),
                    label=f"∂L/∂z_{unit}", meaning=f"error signal (delta) of {unit} through the softmax",
                    parents=[*acts, *(f"dL_da_{v}" for v in units)], fn=partial(_softmax_delta, u, n),
                    latex=f"{{{u}}}\\left({{{n + u}}} - ({inner})\\right)",
                    text=f"{{{u}}}·({{{n + u}}} − ({inner}))", unit=unit, layer=i)  # fmt: skip


def _gradients(net: _Net, i: int) -> None:
    """∂L/∂w = delta × the activation it multiplies (+ λ·w); a shared bias sums its units' deltas."""
    units, lam = net.units[i], net.spec.weight_decay
    group = Group.OUTPUT_GRADIENTS if i == len(net.spec.layers) - 1 else Group.HIDDEN_GRADIENTS
    feeding = net.acts(i - 1)
    for u, unit in enumerate(units):
        for j, wid in enumerate(net.weights[i][u]):
            parents, latex, fn = [f"dL_dz_{unit}", feeding[j]], "{0}{mul}{1}", _product
            if lam:
                parents.append(wid)
                latex += f" + {lam:g}{{mul}}{{2}}"
                fn = partial(_decayed, lam)
            net.add(f"dL_d{wid}", Role.WEIGHT_GRADIENT, group,
                    symbol=derivative_symbol("L", net.index[wid].symbol), label=f"∂L/∂{wid}",
                    meaning=f"gradient of the loss with respect to {wid}",
                    parents=parents, fn=fn, latex=latex, unit=unit, param=wid, layer=i)  # fmt: skip
    for bid in dict.fromkeys(net.biases[i]):
        fed = [f"dL_dz_{unit}" for u, unit in enumerate(units) if net.biases[i][u] == bid]
        shared = len(fed) > 1
        bias = net.index[bid]
        net.add(f"dL_d{bid}", Role.BIAS_GRADIENT, group, symbol=derivative_symbol("L", bias.symbol),
                label=f"∂L/∂{bid}",
                meaning=f"gradient of the loss with respect to {bid}"
                + (" (summed over the units it feeds)" if shared else ""),
                parents=fed, fn=_sum if shared else _identity,
                latex=" + ".join(f"{{{k}}}" for k in range(len(fed))) if shared else "{0}{mul}1",
                param=bid, unit=bias.unit, layer=i)  # fmt: skip


def _updates(net: _Net) -> None:
    """Each step η·∂L/∂p, then each w_new = w − η·∂L/∂w: every weight, then every bias if biases
    are updated."""
    params = [w for layer in net.weights for row in layer for w in row]
    if net.spec.update_biases:
        params += [bid for layer in net.biases for bid in dict.fromkeys(layer)]
    for pid in params:
        given, grad = net.index[pid], net.index[f"dL_d{pid}"]
        net.add(f"step_{pid}", Role.STEP, Group.UPDATES, symbol=rf"\eta \cdot {grad.symbol}",
                label=f"η·∂L/∂{pid}", meaning=f"step of {pid}, η times its gradient",
                parents=["lr", grad.id], fn=_product, latex="{0}{mul}{1}", param=pid,
                unit=given.unit, layer=given.layer)  # fmt: skip
    for pid in params:
        given = net.index[pid]
        net.add(f"{pid}_new", Role.UPDATE, Group.UPDATES, symbol=given.symbol + r"^{\text{new}}",
                label=f"new {pid}", meaning=f"{pid} after one step of gradient descent",
                parents=[pid, "lr", f"dL_d{pid}"], fn=_update, latex="{0} - {1}{mul}{2}",
                text="{0} − {1}·{2}", param=pid, unit=given.unit, layer=given.layer)  # fmt: skip


def _after(net: _Net) -> None:
    """The forward pass and the loss again with the updated parameters, then the loss's decrease."""
    renamed = {pid: f"{pid}_new" for pid in net.index if f"{pid}_new" in net.index}
    for node in [n for n in net.nodes if n.role in AFTER_OF]:
        role, renamed[node.id] = AFTER_OF[node.role], f"{node.id}_after"  # type: ignore[index]
        net.nodes.append(replace(node, id=renamed[node.id], kind=role.kind, group=Group.AFTER_UPDATE,
                                 symbol=node.symbol + r"^{\text{new}}", label=f"new {node.label}",
                                 parents=tuple(renamed.get(p, p) for p in node.parents), role=role,
                                 meaning=f"{node.meaning} after the update",
                                 precision=precision_of(net.spec, role, node.layer)))  # fmt: skip
        net.index[renamed[node.id]] = net.nodes[-1]
    net.add("loss_decrease", Role.LOSS_DECREASE, Group.AFTER_UPDATE, symbol=r"\Delta L", label="ΔL",
            meaning="decrease of the loss in the update", parents=["loss", "loss_after"],
            fn=_difference, latex="{0} - {1}", text="{0} − {1}")  # fmt: skip


@dataclass(frozen=True)
class Fixed:
    """Quantities the givens alone fix, whatever the computed values are: none is worth a question.

    ``zero``: identically 0 (a given that is 0, a cross-entropy term with target 0, its ∂L/∂ŷ, a
    product with such a factor, a sum of zeros); ``constant``: a constant derivative (a linear unit's 1),
    or the update of a parameter whose gradient is zero (it stays as it is).
    """

    zero: frozenset[str] = frozenset()
    constant: frozenset[str] = frozenset()

    @property
    def all(self) -> frozenset[str]:
        return self.zero | self.constant


def fixed_quantities(spec: Spec, graph: Graph, givens: Mapping[str, ArrayLike]) -> Fixed:
    """The quantities the givens fix, for givens that are 0 in every variant of ``givens``."""
    zero = {g for g in graph.givens if g in givens and not np.any(np.asarray(givens[g], dtype=np.float64))}
    constant: set[str] = set()
    last = len(spec.layers) - 1
    cross_entropy = spec.loss is Loss.CROSS_ENTROPY
    terms = (Role.LOSS_TERM, Role.DL_DA, Role.AFTER_LOSS_TERM)  # −y ln ŷ and −y/ŷ are 0 with y = 0
    for node in graph.nodes:
        if node.fn is None:
            continue
        parents = node.parents
        if node.role is Role.UPDATE:
            if parents[2] in zero:
                constant.add(node.id)
        elif not parents:
            constant.add(node.id)  # a constant derivative
        elif cross_entropy and node.layer == last and node.role in terms:
            if parents[1] in zero:
                zero.add(node.id)
        elif node.fn in (_product, _identity):
            if zero.intersection(parents):
                zero.add(node.id)
        elif node.fn is _sum:
            if zero.issuperset(parents):
                zero.add(node.id)
        elif (
            node.fn is _dot
            and node.role is Role.DL_DA
            and all(parents[k] in zero or parents[k + 1] in zero for k in range(0, len(parents), 2))
        ):
            zero.add(node.id)
    return Fixed(frozenset(zero), frozenset(constant))
