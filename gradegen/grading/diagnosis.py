"""The mistake catalogue: what common backpropagation slips produce, as variants of the graph.

Each mistake is a code with a one-sentence explanation and one or more ways of producing the
values it leads to: a variant of the graph (:meth:`Graph.replace` with modified nodes), a
transformation of the key's values (a sign flipped, a power of ten), or an evaluation that rounds
intermediates too coarsely. Every variant is evaluated once over a whole batch of keys, never per
student. A wrong answer that matches several mistakes gets the first in :data:`PRECEDENCE`.

Values are compared in *comparison space*: the value itself, or for an updated parameter the step
it implies (``w − w_new``), so that an update is judged by its step, as grading judges it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from gradegen.core.graph import Array, Graph, Kind, Node, Role, Values
from gradegen.core.rounding import places_for, round_to
from gradegen.core.spec import Activation, Spec
from gradegen.errors import GradegenError


class Mistake(StrEnum):
    """Diagnosis codes, as they appear in results.json."""

    ADDED_GRADIENT = "added_gradient"
    MISSING_LEARNING_RATE = "missing_learning_rate"
    SIGN_ERROR = "sign_error"
    USED_UPDATED_WEIGHT = "used_updated_weight"
    BIAS_NOT_SUMMED = "bias_not_summed"
    MISSING_ACTIVATION_DERIVATIVE = "missing_activation_derivative"
    WRONG_ACTIVATION_DERIVATIVE = "wrong_activation_derivative"
    USED_PREACTIVATION = "used_preactivation"
    LOSS_FACTOR = "loss_factor"
    DECIMAL_SLIP = "decimal_slip"
    EARLY_ROUNDING = "early_rounding"


PRECEDENCE: tuple[Mistake, ...] = tuple(Mistake)
"""When a wrong answer matches several mistakes, the first in this order is reported: the
update-rule slips (which only updates can have), then an exact sign flip, then the structural
mistakes of the chain rule from the most specific to the broadest, and last the numeric
coincidences (a power of ten, coarse rounding), which are the likeliest to match by chance."""

EXPLANATIONS: dict[Mistake, str] = {
    Mistake.ADDED_GRADIENT: "The step was added to the weight (w + η·∂L/∂w) instead of subtracted.",
    Mistake.MISSING_LEARNING_RATE: "The whole gradient was subtracted (w − ∂L/∂w), without the "
    "learning rate η.",
    Mistake.SIGN_ERROR: "The magnitude is right but the sign is wrong.",
    Mistake.USED_UPDATED_WEIGHT: "A hidden unit's gradient was computed with an already updated "
    "outgoing weight; backpropagation uses the weights from before the update.",
    Mistake.BIAS_NOT_SUMMED: "A bias shared by several units gets the sum of their deltas; only "
    "one unit's was used.",
    Mistake.MISSING_ACTIVATION_DERIVATIVE: "The chain skipped the activation's derivative "
    "∂a/∂z (σ′), as if it were 1.",
    Mistake.WRONG_ACTIVATION_DERIVATIVE: "The activation's derivative was taken at the "
    "pre-activation z (like z(1−z) or σ(z)(1−z)) instead of from a = σ(z) (a(1−a)).",
    Mistake.USED_PREACTIVATION: "The pre-activation z was used where the activation a belongs.",
    Mistake.LOSS_FACTOR: "The ½ of the loss convention was lost or doubled (in the loss or in ∂L/∂ŷ).",
    Mistake.DECIMAL_SLIP: "The digits are right but the value is off by a power of ten.",
    Mistake.EARLY_ROUNDING: "The working is right, but an intermediate value was rounded too "
    "coarsely before it was used.",
}

DECIMAL_SLIPS = (-3, -2, -1, 1, 2, 3)
"""Powers of ten a ``decimal_slip`` may be off by."""

EARLY_ROUNDINGS: tuple[tuple[str, int], ...] = (("decimals", 1), ("decimals", 2), ("sigfig", 2))
"""Coarse roundings of intermediates ``early_rounding`` tries: fixed places and significant figures."""

References = dict[str, list[tuple[Mistake, Array, tuple[str, ...]]]]
"""Per asked id: (code, value in comparison space over the batch, the ids the mistake swapped)."""


@dataclass(frozen=True)
class Variant:
    """A mistake as a graph: the same ids, the ``swapped`` nodes computed the mistaken way."""

    code: Mistake
    graph: Graph
    swapped: tuple[str, ...]


def in_space(graph: Graph, node_id: str, values: Array, givens: Mapping[str, Array]) -> Array:
    """A value in comparison space: the value itself, or the step ``w − w_new`` of an update."""
    node = graph[node_id]
    if node.kind is Kind.UPDATE and node.param:
        step: Array = givens[node.param] - values
        return step
    return values


def _swap(node: Node, **changes: object) -> Node:
    return dataclasses.replace(node, **changes)  # type: ignore[arg-type]


def _layer(node: Node) -> int:
    if node.layer is None:
        raise GradegenError(f"{node.id} belongs to no layer")
    return node.layer


def _ones() -> Array:
    return np.ones(1)


def _scaled(fn: Callable[..., Array], factor: float) -> Callable[..., Array]:
    def scaled(*args: Array) -> Array:
        out: Array = factor * fn(*args)
        return out

    return scaled


def _a_times_one_minus_z(a: Array, z: Array) -> Array:
    out: Array = a * (1.0 - z)
    return out


def _first(*args: Array) -> Array:
    return args[0].copy()


def _per_layer(nodes: list[Node], layer_of: Callable[[Node], int]) -> list[list[Node]]:
    """The swaps applied layer by layer, and (with several layers) all at once."""
    layers = sorted({layer_of(n) for n in nodes})
    groups = [[n for n in nodes if layer_of(n) == i] for i in layers]
    return [*groups, nodes] if len(groups) > 1 else groups


def variant_graphs(graph: Graph, spec: Spec) -> list[Variant]:
    """Every structural mistake as a variant of ``graph`` (the same ids, some nodes swapped)."""
    out: list[Variant] = []
    last = len(spec.layers) - 1

    def add(code: Mistake, swaps: Iterable[Node]) -> None:
        swaps = list(swaps)
        if swaps:
            out.append(Variant(code, graph.replace(*swaps), tuple(n.id for n in swaps)))

    def of(role: Role, node: Node) -> str:
        """The id of the ``role`` node of ``node``'s unit (its z, a or ∂L/∂a)."""
        return graph.node_of(role, node.unit).id

    def activation(node: Node) -> Activation:
        return spec.layers[_layer(node)].activation

    derivs = list(graph.with_role(Role.DA_DZ))

    # missing_activation_derivative: ∂a/∂z replaced by 1, or left out of the delta ∂L/∂z = ∂L/∂a
    varying = [n for n in derivs if n.parents]
    for group in _per_layer(varying, _layer):
        add(Mistake.MISSING_ACTIVATION_DERIVATIVE, (_swap(n, parents=(), fn=_ones) for n in group))
        deltas = [graph.node_of(Role.DELTA, n.unit) for n in group if graph.find(Role.DL_DA, unit=n.unit)]
        add(
            Mistake.MISSING_ACTIVATION_DERIVATIVE,
            (_swap(d, parents=(of(Role.DL_DA, d),), fn=_first) for d in deltas),
        )

    # wrong_activation_derivative: the a-form of σ′ applied to z, or σ(z)(1 − z)
    a_form = [n for n in derivs if n.parents == (of(Role.ACTIVATION, n),)]
    for group in _per_layer(a_form, _layer):
        add(
            Mistake.WRONG_ACTIVATION_DERIVATIVE,
            (_swap(n, parents=(of(Role.WEIGHTED_SUM, n),)) for n in group),
        )
        sig = [n for n in group if activation(n) is Activation.SIGMOID]
        add(
            Mistake.WRONG_ACTIVATION_DERIVATIVE,
            (
                _swap(n, parents=(of(Role.ACTIVATION, n), of(Role.WEIGHTED_SUM, n)), fn=_a_times_one_minus_z)
                for n in sig
            ),
        )

    # used_preactivation: z where a belongs, in weight gradients, in the next layer's sum, in the loss
    def is_activation(node_id: str, layer: int | None = None) -> bool:
        node = graph[node_id]
        return node.role is Role.ACTIVATION and (layer is None or node.layer == layer)

    def a_to_z(parents: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(of(Role.WEIGHTED_SUM, graph[p]) if is_activation(p) else p for p in parents)

    def fed_by_activations(nodes: Iterable[Node], layer: int | None = None) -> list[Node]:
        return [n for n in nodes if any(is_activation(p, layer) for p in n.parents)]

    grads = fed_by_activations(graph.with_role(Role.WEIGHT_GRADIENT, Role.BIAS_GRADIENT))
    add(Mistake.USED_PREACTIVATION, (_swap(n, parents=a_to_z(n.parents)) for n in grads))
    sums = fed_by_activations(graph.with_role(Role.WEIGHTED_SUM))
    add(Mistake.USED_PREACTIVATION, (_swap(n, parents=a_to_z(n.parents)) for n in sums))
    outputs = [*graph.with_role(Role.LOSS_TERM, Role.LOSS), *graph.with_role(Role.DL_DA, layer=last)]
    reading = {n.id for n in fed_by_activations(outputs, last)}
    out_nodes = [n for n in graph.nodes if n.id in reading]
    if spec.layers[-1].activation is not Activation.SOFTMAX:
        add(Mistake.USED_PREACTIVATION, (_swap(n, parents=a_to_z(n.parents)) for n in out_nodes))

    # used_updated_weight: a hidden ∂L/∂a through an outgoing weight already updated
    updates = graph.updates
    hidden_da = [n for n in graph.with_role(Role.DL_DA) if n.layer != last]
    add(
        Mistake.USED_UPDATED_WEIGHT,
        (_swap(n, parents=tuple(updates.get(p, p) for p in n.parents)) for n in hidden_da),
    )

    # bias_not_summed: a shared bias's gradient from one of its units only
    shared = [n for n in graph.with_role(Role.BIAS_GRADIENT) if len(n.parents) > 1]
    for node in shared:
        for parent in node.parents:
            add(Mistake.BIAS_NOT_SUMMED, [_swap(node, parents=(parent,), fn=_first)])

    # loss_factor: the loss (its per-output terms, if any) and ∂L/∂ŷ doubled or halved
    terms = graph.with_role(Role.LOSS_TERM) or graph.with_role(Role.LOSS)
    dl_da = graph.with_role(Role.DL_DA, layer=last)
    for factor in (2.0, 0.5):
        add(
            Mistake.LOSS_FACTOR,
            (_swap(n, fn=_scaled(n.fn, factor)) for n in [*terms, *dl_da] if n.fn is not None),
        )
    return out


def rounded_evaluation(graph: Graph, givens: Mapping[str, Array], mode: str, digits: int) -> dict[str, Array]:
    """Each computed node from parents rounded too coarsely (the node itself left unrounded).

    ``mode`` is ``decimals`` (fixed places) or ``sigfig`` (significant figures); givens are used
    as given. This is what a student gets who rounds every intermediate to ``digits``.
    """
    rounded: dict[str, Array] = {}
    raw: dict[str, Array] = {}
    n = max(np.size(v) for v in givens.values())
    used = {p for node in graph.nodes for p in node.parents}  # a value no node reads is not rounded
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            if node.kind is Kind.GIVEN:
                rounded[node.id] = np.broadcast_to(np.asarray(givens[node.id], dtype=np.float64), (n,))
                continue
            value = np.broadcast_to(node.compute([rounded[p] for p in node.parents]), (n,)).astype(np.float64)
            raw[node.id] = value
            if node.id in used:
                places = places_for(value, 0) - (3 - digits) if mode == "sigfig" else digits
                rounded[node.id] = round_to(value, np.maximum(places, 0))
    return raw


def references(graph: Graph, spec: Spec, exact: Values, hand: Values, asked: Iterable[str]) -> References:
    """For each asked quantity, the values each mistake leads to, in comparison space, over the batch.

    The list for a quantity is in :data:`PRECEDENCE` order; several references may share a code.
    A graph variant's reference carries the ids it swapped: grading ignores it for a student who
    answered one of those (other than the quantity itself) correctly, since then the mistake did
    not happen where the variant puts it, and a match downstream would be a coincidence.
    """
    givens = {g: exact[g] for g in graph.givens}
    lr = graph.node_of(Role.LEARNING_RATE).id
    computed = [q for q in asked if graph[q].kind is not Kind.GIVEN]
    refs: References = {q: [] for q in computed}

    def add(code: Mistake, q: str, value: Array, swapped: tuple[str, ...] = ()) -> None:
        refs[q].append((code, in_space(graph, q, np.asarray(value, dtype=np.float64), givens), swapped))

    def add_space(code: Mistake, q: str, step: Array) -> None:
        refs[q].append((code, np.asarray(step, dtype=np.float64), ()))

    for q in computed:
        node = graph[q]
        for values in (exact, hand):
            s = in_space(graph, q, values[q], givens)
            if node.kind is Kind.UPDATE:
                add_space(Mistake.ADDED_GRADIENT, q, -s)
                add_space(Mistake.MISSING_LEARNING_RATE, q, s / givens[lr])
            else:
                add_space(Mistake.SIGN_ERROR, q, -s)
            for power in DECIMAL_SLIPS:
                add_space(Mistake.DECIMAL_SLIP, q, s * 10.0**power)

    for variant in variant_graphs(graph, spec):
        # Only what the swaps reach is evaluated again; the rest is as in the graph itself (in a
        # large network most of it, and an evaluation costs per node).
        moved = variant.graph.downstream(variant.swapped).union(variant.swapped)
        same = [n for n in graph.ids if n not in moved]
        batch = exact.batch
        ve = variant.graph.evaluate(givens, overrides={n: exact[n] for n in same}, batch=batch)
        vh = variant.graph.evaluate(givens, overrides={n: hand[n] for n in same}, hand=True, batch=batch)
        for q in computed:
            for values in (ve, vh):
                if not np.array_equal(values[q], exact[q]):
                    add(variant.code, q, values[q], variant.swapped)

    for mode, digits in EARLY_ROUNDINGS:
        rounded = rounded_evaluation(graph, givens, mode, digits)
        for q in computed:
            add(Mistake.EARLY_ROUNDING, q, rounded[q])

    order = {code: i for i, code in enumerate(PRECEDENCE)}
    return {q: sorted(items, key=lambda item: order[item[0]]) for q, items in refs.items()}
