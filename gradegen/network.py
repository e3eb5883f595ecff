"""Spec → the graph of one training step: forward pass, loss, chain-rule factors, gradients, updates.

Quantity ids (public; worksheets, keys and submissions use them):

* givens ``x1…``, ``y`` or ``y1…``, ``w1…``, ``b1…``, ``lr`` (the learning rate η);
* forward ``z_h1``, ``a_h1``, …, ``z_out``, ``a_out`` (ŷ), or ``z_o1``, ``a_o1``… with several outputs;
* ``loss``, and ``loss_o1``… (each output's term) when there are several outputs;
* per unit ``dL_da_<u>``, ``da_<u>_dz_<u>``, ``dL_dz_<u>`` (a softmax output has no ``da/dz``);
* gradients ``dL_dw1…``, ``dL_db1…``; updates ``w1_new…``, ``b1_new…``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from functools import reduce
from typing import Any

import numpy as np

from gradegen.errors import SpecError
from gradegen.functions import activation_rule, loss_rule, softmax
from gradegen.graph import Array, Formula, Graph, Group, Kind, Node
from gradegen.spec import Activation, Loss, Spec


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


def target_ids(spec: Spec) -> list[str]:
    n = len(spec.targets)
    return ["y"] if n == 1 else [f"y{k + 1}" for k in range(n)]


def _sub(unit: str) -> str:
    return unit.replace("_", ",")


def _partial(top: str, bottom: str) -> str:
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


def _decayed(lam: float) -> Any:
    """∂L/∂w with L2 weight decay: the data term plus λ·w."""

    def grad(g: Array, a: Array, w: Array) -> Array:
        return g * a + lam * w

    return grad


def _update(w: Array, lr: Array, g: Array) -> Array:
    return w - lr * g


class _Builder:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.nodes: list[Node] = []
        self.symbols: dict[str, str] = {}
        self.labels: dict[str, str] = {}

    def add(self, node: Node) -> None:
        self.nodes.append(node)
        self.symbols[node.id] = node.symbol
        self.labels[node.id] = node.label

    def given(self, node_id: str, symbol: str, label: str, meaning: str, param: str | None = None) -> None:
        self.add(Node(node_id, Kind.GIVEN, Group.GIVENS, symbol, label, meaning, param=param))

    def computed(
        self,
        node_id: str,
        kind: Kind,
        group: Group,
        symbol: str,
        label: str,
        meaning: str,
        parents: Sequence[str],
        fn: Any,
        latex: str,
        text: str | None = None,
        **where: str,
    ) -> None:
        if text is None:
            text = latex.replace(r" \cdot ", "·")
        self.add(
            Node(
                node_id,
                kind,
                group,
                symbol,
                label,
                meaning,
                tuple(parents),
                fn,
                Formula(latex, text),
                **where,
            )
        )


def build_graph(spec: Spec) -> Graph:
    """The graph of one training step of ``spec``'s network on its example."""
    b = _Builder(spec)
    units = unit_names(spec)
    ys = target_ids(spec)
    n_out = len(ys)
    defaults: dict[str, float] = {}

    # --- givens, numbered as in the handout: w1, w2, … row-major through the layers
    inputs = [f"x{k + 1}" for k in range(len(spec.inputs))]
    for k, (xid, value) in enumerate(zip(inputs, spec.inputs, strict=True)):
        b.given(xid, f"x_{{{k + 1}}}", xid, f"input {k + 1}")
        defaults[xid] = value
    for k, (yid, value) in enumerate(zip(ys, spec.targets, strict=True)):
        sym = "y" if n_out == 1 else f"y_{{{k + 1}}}"
        b.given(yid, sym, yid, "target" if n_out == 1 else f"target of output {k + 1}")
        defaults[yid] = value

    weight_ids: list[list[list[str]]] = []  # [layer][unit][input]
    bias_ids: list[list[str]] = []  # [layer][unit] (shared biases repeat one id)
    feeding = inputs
    w_count = 0
    for i, layer in enumerate(spec.layers):
        rows: list[list[str]] = []
        for u, row in enumerate(layer.weights):
            ids = []
            for j, value in enumerate(row):
                w_count += 1
                wid = f"w{w_count}"
                b.given(
                    wid, f"w_{{{w_count}}}", wid, f"weight from {feeding[j]} into {units[i][u]}", param=wid
                )
                defaults[wid] = value
                ids.append(wid)
            rows.append(ids)
        weight_ids.append(rows)
        feeding = units[i]
    b_count = 0
    for i, layer in enumerate(spec.layers):
        layer_biases = []
        for u, value in enumerate(layer.biases()):
            b_count += 1
            bid = f"b{b_count}"
            fed = units[i] if layer.shared_bias else [units[i][u]]
            b.given(bid, f"b_{{{b_count}}}", bid, f"bias of {' and '.join(fed)}", param=bid)
            defaults[bid] = value
            layer_biases.append(bid)
        bias_ids.append(layer_biases * len(units[i]) if layer.shared_bias else layer_biases)
    b.given("lr", r"\eta", "η", "learning rate")
    defaults["lr"] = spec.learning_rate

    # --- forward pass
    last = len(spec.layers) - 1
    acts: list[list[str]] = []
    feeding = inputs
    for i, layer in enumerate(spec.layers):
        zs = [f"z_{u}" for u in units[i]]
        for u, unit in enumerate(units[i]):
            parents = [p for pair in zip(feeding, weight_ids[i][u], strict=True) for p in pair]
            parents.append(bias_ids[i][u])
            latex = _join(len(feeding), "{{{0}}}{{mul}}{{{1}}}") + " + {" + str(len(parents) - 1) + "}"
            b.computed(
                zs[u],
                Kind.FORWARD,
                Group.FORWARD,
                f"z_{{{_sub(unit)}}}",
                f"z_{unit}",
                f"weighted sum into {unit}",
                parents,
                _dot,
                latex,
                unit=unit,
            )
        for u, unit in enumerate(units[i]):
            aid = f"a_{unit}"
            if i == last:
                sym = r"\hat{y}" if n_out == 1 else rf"\hat{{y}}_{{{u + 1}}}"
                label = "ŷ" if n_out == 1 else f"ŷ{u + 1}"
                meaning = "prediction" if n_out == 1 else f"prediction {u + 1}"
            else:
                sym, label, meaning = f"a_{{{_sub(unit)}}}", aid, f"activation of {unit}"
            if layer.activation is Activation.SOFTMAX:
                # \frac{e^{z_k}}{e^{z_1} + …}, with braces doubled for Formula's str.format
                latex = (
                    r"\frac{{e^{{{"
                    + str(u)
                    + r"}}}}}{{"
                    + " + ".join(r"e^{{{" + str(j) + r"}}}" for j in range(len(zs)))
                    + "}}"
                )
                text = f"e^{{{u}}} / (" + " + ".join(f"e^{{{j}}}" for j in range(len(zs))) + ")"
                b.computed(
                    aid,
                    Kind.FORWARD,
                    Group.FORWARD,
                    sym,
                    label,
                    meaning,
                    zs,
                    lambda *z, k=u: softmax(z, k),
                    latex,
                    text,
                    unit=unit,
                )
            else:
                rule = activation_rule(layer.activation, layer.slope)
                b.computed(
                    aid,
                    Kind.FORWARD,
                    Group.FORWARD,
                    sym,
                    label,
                    meaning,
                    [zs[u]],
                    rule.f,
                    _template(rule.latex, z=0),
                    _template(rule.text, z=0),
                    unit=unit,
                )
        acts.append([f"a_{u}" for u in units[i]])
        feeding = acts[i]

    # --- loss
    loss = loss_rule(spec.loss, n_out)
    outs = acts[last]
    if n_out == 1:
        b.computed(
            "loss",
            Kind.LOSS,
            Group.LOSS,
            "L",
            "L",
            loss.name,
            [outs[0], ys[0]],
            loss.term,
            _template(loss.latex, a=0, y=1),
            _template(loss.text, a=0, y=1),
        )
    else:
        terms = []
        for k, unit in enumerate(units[last]):
            tid = f"loss_{unit}"
            terms.append(tid)
            b.computed(
                tid,
                Kind.LOSS,
                Group.LOSS,
                f"L_{{{unit}}}",
                f"L_{unit}",
                f"{loss.name} term of {unit}",
                [outs[k], ys[k]],
                loss.term,
                _template(loss.latex, a=0, y=1),
                _template(loss.text, a=0, y=1),
            )
        total = " + ".join(f"{{{k}}}" for k in range(n_out))
        if loss.mean:
            latex, text = rf"\tfrac{{{{1}}}}{{{{{n_out}}}}}({total})", f"(1/{n_out})·({total})"
        else:
            latex, text = total, total
        b.computed(
            "loss",
            Kind.LOSS,
            Group.LOSS,
            "L",
            "L",
            loss.name,
            terms,
            _mean if loss.mean else _sum,
            latex,
            text,
        )

    # --- backward pass, output layer first; gradients use the weights from before the update
    lam = spec.weight_decay
    for i in range(last, -1, -1):
        layer = spec.layers[i]
        group = Group.OUTPUT_GRADIENTS if i == last else Group.HIDDEN_GRADIENTS
        for u, unit in enumerate(units[i]):
            a_sym = b.symbols[acts[i][u]]
            z_sym = f"z_{{{_sub(unit)}}}"
            a_lab = b.labels[acts[i][u]]
            da, dz, dadz = f"dL_da_{unit}", f"dL_dz_{unit}", f"da_{unit}_dz_{unit}"
            softmax_ce = layer.activation is Activation.SOFTMAX and spec.loss is Loss.CROSS_ENTROPY
            if i == last and softmax_ce:
                b.computed(
                    dz,
                    Kind.FACTOR,
                    group,
                    _partial("L", z_sym),
                    f"∂L/∂z_{unit}",
                    f"error signal (delta) of {unit}: ŷ − y for softmax with cross-entropy",
                    [acts[i][u], ys[u]],
                    _difference,
                    "{0} - {1}",
                    "{0} − {1}",
                    unit=unit,
                )
                continue
            if i == last:
                b.computed(
                    da,
                    Kind.FACTOR,
                    group,
                    _partial("L", a_sym),
                    f"∂L/∂{a_lab}",
                    "derivative of the loss with respect to the prediction",
                    [acts[i][u], ys[u]],
                    lambda a, y, n=n_out: loss.grad(a, y, n),
                    _template(loss.d_latex, a=0, y=1),
                    _template(loss.d_text, a=0, y=1),
                    unit=unit,
                )
            else:
                nxt = units[i + 1]
                parents = [p for k, v in enumerate(nxt) for p in (f"dL_dz_{v}", weight_ids[i + 1][k][u])]
                b.computed(
                    da,
                    Kind.FACTOR,
                    group,
                    _partial("L", a_sym),
                    f"∂L/∂{a_lab}",
                    f"how the loss changes with {a_lab}, through every unit it feeds",
                    parents,
                    _dot,
                    _join(len(nxt), "{{{0}}}{{mul}}{{{1}}}"),
                    unit=unit,
                )
            if layer.activation is Activation.SOFTMAX:
                continue  # its deltas need the whole layer's ∂L/∂ŷ: added below
            rule = activation_rule(layer.activation, layer.slope)
            operand = {"a": [acts[i][u]], "z": [f"z_{unit}"], "": []}[rule.uses]
            b.computed(
                dadz,
                Kind.FACTOR,
                group,
                _partial(a_sym, z_sym),
                f"∂{a_lab}/∂z_{unit}",
                f"derivative of the {rule.name} at z_{unit}",
                operand,
                (lambda: np.ones(1)) if not operand else rule.df,
                _template(rule.d_latex, a=0, z=0),
                _template(rule.d_text, a=0, z=0),
                unit=unit,
            )
            b.computed(
                dz,
                Kind.FACTOR,
                group,
                _partial("L", z_sym),
                f"∂L/∂z_{unit}",
                f"error signal (delta) of {unit}",
                [da, dadz],
                _product,
                "{0}{mul}{1}",
                unit=unit,
            )
        if layer.activation is Activation.SOFTMAX and spec.loss is not Loss.CROSS_ENTROPY:
            n = len(units[i])
            for u, unit in enumerate(units[i]):
                parents = [*acts[i], *(f"dL_da_{v}" for v in units[i])]
                inner = " + ".join(f"{{{j}}}{{mul}}{{{n + j}}}" for j in range(n))
                b.computed(
                    f"dL_dz_{unit}",
                    Kind.FACTOR,
                    group,
                    _partial("L", f"z_{{{_sub(unit)}}}"),
                    f"∂L/∂z_{unit}",
                    f"error signal (delta) of {unit} through the softmax",
                    parents,
                    lambda *v, k=u, n=n: (
                        v[k] * (v[n + k] - _dot(*(x for j in range(n) for x in (v[j], v[n + j]))))
                    ),
                    f"{{{u}}}\\left({{{n + u}}} - ({inner})\\right)",
                    f"{{{u}}}·({{{n + u}}} − ({inner}))",
                    unit=unit,
                )
        feeding = inputs if i == 0 else acts[i - 1]
        for u, unit in enumerate(units[i]):
            for j, wid in enumerate(weight_ids[i][u]):
                parents = [f"dL_dz_{unit}", feeding[j]]
                latex, fn = "{0}{mul}{1}", _product
                if lam:
                    parents.append(wid)
                    latex += f" + {lam:g}{{mul}}{{2}}"
                    fn = _decayed(lam)
                b.computed(
                    f"dL_d{wid}",
                    Kind.GRADIENT,
                    group,
                    _partial("L", f"w_{{{wid[1:]}}}"),
                    f"∂L/∂{wid}",
                    f"gradient of the loss with respect to {wid}",
                    parents,
                    fn,
                    latex,
                    unit=unit,
                    param=wid,
                )
        for bid in dict.fromkeys(bias_ids[i]):
            fed = [f"dL_dz_{unit}" for u, unit in enumerate(units[i]) if bias_ids[i][u] == bid]
            latex = " + ".join(f"{{{k}}}" for k in range(len(fed))) if len(fed) > 1 else "{0}{mul}1"
            b.computed(
                f"dL_d{bid}",
                Kind.GRADIENT,
                group,
                _partial("L", f"b_{{{bid[1:]}}}"),
                f"∂L/∂{bid}",
                f"gradient of the loss with respect to {bid}"
                + (" (summed over the units it feeds)" if len(fed) > 1 else ""),
                fed,
                _sum if len(fed) > 1 else _identity,
                latex,
                param=bid,
            )

    # --- updates, in parameter order
    params = [w for layer in weight_ids for row in layer for w in row]
    if spec.update_biases:
        params += [bid for layer in bias_ids for bid in dict.fromkeys(layer)]
    for pid in params:
        sym = f"{pid[0]}_{{{pid[1:]}}}"
        b.computed(
            f"{pid}_new",
            Kind.UPDATE,
            Group.UPDATES,
            sym + r"^{\text{new}}",
            f"new {pid}",
            f"{pid} after one step of gradient descent",
            [pid, "lr", f"dL_d{pid}"],
            _update,
            "{0} - {1}{mul}{2}",
            "{0} − {1}·{2}",
            param=pid,
        )
    graph = Graph(tuple(b.nodes), defaults, spec.decimals)
    check_ids(spec, graph)
    return graph


def check_ids(spec: Spec, graph: Graph, *, source: str = "spec") -> None:
    """Per-id settings (tolerances, points) must name quantities of this network."""
    for field in ("tolerances", "points"):
        for qid in getattr(spec, field):
            if qid not in graph:
                close = difflib.get_close_matches(qid, graph.ids, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SpecError(f"{field}.{qid}: unknown quantity id{hint}", source=source)
