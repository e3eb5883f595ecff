"""What each quantity is, in words with inline math: the phrases the documents print.

The graph's own ``meaning`` is plain text for terminals ("the weighted sum into h1_1"); the
documents write units and quantities as their equations do ("the weighted sum into $h_{1,1}$",
"the derivative of the sigmoid at $z_{out}$"). Only the answer lines show the IDs themselves.
"""

from __future__ import annotations

from gradegen.core.functions import activation_rule
from gradegen.core.graph import AFTER_OF, Graph, Node, Role
from gradegen.core.network import unit_symbol
from gradegen.core.spec import Activation, Spec
from gradegen.documents.prose import M, Prose, prose


def unit(name: str) -> tuple[str, ...]:
    """A unit as running text names it: ``$h_{1,2}$``, or "the output unit" for ``out``."""
    return ("the output unit",) if name == "out" else (M(unit_symbol(name)),)


def units(names: tuple[str, ...] | list[str], joiner: str = " and ") -> tuple[str, ...]:
    """Several units joined ("$h_{1}$ and $h_{2}$"; a list of three or more with commas)."""
    pieces: list[str] = []
    for k, name in enumerate(names):
        if k:
            pieces.append(joiner if k == len(names) - 1 else ", ")
        pieces.extend(unit(name))
    return tuple(pieces)


def activation_name(spec: Spec, layer: int) -> str:
    """The activation of a layer as a textbook names it: "sigmoid", "leaky ReLU", "softmax"."""
    spec_layer = spec.layers[layer]
    if spec_layer.activation is Activation.SOFTMAX:
        return "softmax"
    return activation_rule(spec_layer.activation, spec_layer.slope).name


def _source(graph: Graph, weight: Node) -> str:
    """The unit a weight comes from: the operand it multiplies in its weighted sum."""
    z = graph.node_of(Role.WEIGHTED_SUM, weight.unit)
    return graph[z.parents[z.parents.index(weight.id) - 1]].unit or ""


def fed_units(graph: Graph, bias: Node) -> list[str]:
    """The units whose weighted sums a bias enters."""
    sums = graph.with_role(Role.WEIGHTED_SUM, layer=bias.layer)
    return [z.unit or "" for z in sums if bias.id in z.parents]


def description(spec: Spec, graph: Graph, node: Node) -> Prose:
    """What a given is, as the givens table says it ("weight from $x_{1}$ into $h_{1}$")."""
    if node.role is Role.WEIGHT:
        return prose("weight from ", *unit(_source(graph, node)), " into ", *unit(node.unit or ""))
    if node.role is Role.BIAS:
        return prose("bias of ", *units(fed_units(graph, node)))
    if node.role is Role.TARGET and node.unit != "out":
        return prose("target of ", *unit(node.unit or ""))
    return prose(node.meaning)


def noun(spec: Spec, graph: Graph, node: Node) -> Prose:
    """What a quantity is, as a noun phrase ("the activation of $h_{1}$", "how the loss …")."""
    role, name = node.role, node.unit or ""
    before = next((r for r, after in AFTER_OF.items() if after is role), None)
    original = graph.find(before, unit=node.unit) if before is not None else None
    if original is not None:  # a forward quantity recomputed after the update
        return prose(*noun(spec, graph, original).pieces(), " after the update")
    param = graph[node.param].symbol if node.param else ""
    match role:
        case Role.WEIGHT | Role.BIAS:
            return prose("the ", *description(spec, graph, node).pieces())
        case Role.WEIGHTED_SUM:
            return prose("the weighted sum into ", *unit(name))
        case Role.ACTIVATION if node.layer != len(spec.layers) - 1:
            return prose("the activation of ", *unit(name))
        case Role.ACTIVATION if name != "out":
            return prose("the prediction of ", *unit(name))
        case Role.LOSS_TERM:
            return prose(f"the {_loss_name(node)} term of ", *unit(name))
        case Role.DL_DA if node.layer == len(spec.layers) - 1 and name != "out":
            a = graph.node_of(Role.ACTIVATION, name).symbol
            return prose("the derivative of the loss with respect to the prediction ", M(a))
        case Role.DL_DA if node.layer != len(spec.layers) - 1:
            a = graph.node_of(Role.ACTIVATION, name).symbol
            return prose("how the loss changes with ", M(a), ", through every unit it feeds")
        case Role.DA_DZ:
            z = graph.node_of(Role.WEIGHTED_SUM, name).symbol
            return prose(f"the derivative of the {activation_name(spec, node.layer or 0)} at ", M(z))
        case Role.DELTA:
            phrase = prose("the error signal (delta) of ", *unit(name))
            if len(node.parents) == 2 and graph[node.parents[1]].role is Role.TARGET:
                a, y = (graph[p].symbol for p in node.parents)
                return prose(*phrase.pieces(), ": ", M(f"{a} - {y}"), " for softmax with cross-entropy")
            if graph.find(Role.DA_DZ, unit=name) is None:
                return prose(*phrase.pieces(), " through the softmax")
            return phrase
        case Role.WEIGHT_GRADIENT:
            return prose("the gradient of the loss with respect to ", M(param))
        case Role.BIAS_GRADIENT:
            shared = len(node.parents) > 1
            return prose(
                "the gradient of the loss with respect to ", M(param),
                " (summed over the units it feeds)" if shared else "",
            )  # fmt: skip
        case Role.STEP:
            return prose("the step of ", M(param), ", the learning rate ", M(r"\eta"), " times its gradient")
        case Role.UPDATE:
            return prose(M(param), " after one step of gradient descent")
    return prose(node.meaning if node.meaning.startswith("how ") else f"the {node.meaning}")


def _loss_name(node: Node) -> str:
    """The loss's name from a term's plain meaning ("cross-entropy term of o1")."""
    return node.meaning.split(" term of ", 1)[0]


def title(kind: str, index: int) -> str:
    """A layer's heading: "Output layer" or "Hidden layer 2"."""
    return "Output layer" if kind == "output" else f"Hidden layer {index}"
