"""The why of each step, said once, right before the first line that needs it: a pass over any
style's sections (``--notes/--no-notes``).

Contract with a style planner: a note is placed by the quantities it explains (node ids found by
role), before the first item that shows one of them (:func:`~gradegen.documents.items.shown_by`,
what :meth:`~gradegen.documents.items.Section.shows` gathers). A style whose items (tables,
matrices) are covered there gets its notes with nothing else to do. A
paragraph without a node that ends with a colon introduces the item after it, so a note goes before
that paragraph; a quantity no item shows gets no note. Notes are paragraphs (``node=""``) and
symbolic lines (:class:`~gradegen.documents.items.ChainEq`): they show no quantity and hold no
number, so every variant of a graph gets the same notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from gradegen.core.graph import Graph, Role, Values
from gradegen.core.network import derivative_symbol
from gradegen.core.spec import Activation, Loss, Spec
from gradegen.documents import phrases
from gradegen.documents.items import ChainEq, Item, Para, Section, shown_by
from gradegen.documents.prose import M, Prose, prose


@dataclass(frozen=True)
class Note:
    """Paragraphs and symbolic lines placed before the first item showing any of ``needs``."""

    key: str  # what the note explains: one note per key
    needs: frozenset[str]
    items: tuple[Item, ...]


def dead_units(spec: Spec, graph: Graph, values: Iterable[Values]) -> frozenset[str]:
    """ReLU units whose derivative is 0 (z ≤ 0) in every variant of every evaluation given."""
    found = []
    for node in graph.with_role(Role.DA_DZ):
        if spec.layers[node.layer or 0].activation is not Activation.RELU:
            continue
        if all(not np.any(v[node.id]) for v in values):
            found.append(node.unit or "")
    return frozenset(found)


def with_notes(
    spec: Spec, graph: Graph, sections: Sequence[Section], dead: frozenset[str] = frozenset()
) -> tuple[Section, ...]:
    """``sections`` with each note inserted before the first item that needs it (``dead``: the
    ReLU units that pass no gradient back in any variant, from :func:`dead_units`)."""
    placed: dict[tuple[int, int], list[Item]] = {}
    for note in notes(spec, graph, dead):
        at = _first_need(sections, note.needs)
        if at is not None:
            placed.setdefault(at, []).extend(note.items)
    out = []
    for s, section in enumerate(sections):
        items: list[Item] = []
        for i, item in enumerate(section.items):
            items.extend(placed.get((s, i), ()))
            items.append(item)
        out.append(replace(section, items=tuple(items)) if len(items) > len(section.items) else section)
    return tuple(out)


def _first_need(sections: Sequence[Section], needs: frozenset[str]) -> tuple[int, int] | None:
    """(section, item) before which a note needing ``needs`` goes, or None if nothing shows them."""
    for s, section in enumerate(sections):
        if needs.isdisjoint(section.shows()):
            continue
        i = next((i for i, item in enumerate(section.items) if not needs.isdisjoint(shown_by(item))), 0)
        while i > 0 and _leads_in(section.items[i - 1]):
            i -= 1
        return s, i
    return None


def _leads_in(item: Item) -> bool:
    """A paragraph that introduces the item after it ("… is the weighted sum:")."""
    return isinstance(item, Para) and not item.node and item.text.parts[-1].endswith(":")


def notes(spec: Spec, graph: Graph, dead: frozenset[str] = frozenset()) -> list[Note]:
    """The notes this network needs, in the order they are read where several meet."""
    last = len(spec.layers) - 1
    output = spec.layers[last].activation
    out_deltas = frozenset(graph.ids_of(Role.DELTA, layer=last))
    found = [_delta(spec, graph)]
    if output is Activation.SOFTMAX and spec.loss is Loss.CROSS_ENTROPY:
        found.append(Note("softmax_cross_entropy", out_deltas, _SOFTMAX_CROSS_ENTROPY))
    else:
        found.append(Note("loss", frozenset(graph.ids_of(Role.DL_DA, layer=last)), _loss(spec)))
    seen: set[tuple[Activation, float]] = set()
    for i in range(last, -1, -1):
        layer = spec.layers[i]
        if layer.activation is Activation.SOFTMAX:
            if spec.loss is not Loss.CROSS_ENTROPY:
                found.append(Note("softmax", out_deltas, _SOFTMAX))
            continue
        kind = _kind(spec, i)
        if kind in seen:
            continue
        seen.add(kind)
        needs = frozenset(n.id for n in graph.with_role(Role.DA_DZ) if _kind(spec, n.layer or 0) == kind)
        found.append(
            Note(
                f"derivative:{layer.activation}" + (f":{kind[1]:g}" if kind[1] else ""),
                needs,
                _derivative(layer.activation, layer.slope),
            )
        )
    if output is Activation.SIGMOID and spec.loss is Loss.BCE:
        found.append(Note("sigmoid_bce", out_deltas, _SIGMOID_BCE))
    sigmoid = [i for i, layer in enumerate(spec.layers) if layer.activation is Activation.SIGMOID]
    if len(sigmoid) >= 2:
        deeper = frozenset(n.id for i in sigmoid[:-1] for n in graph.with_role(Role.DA_DZ, layer=i))
        found.append(Note("vanishing", deeper, _VANISHING))
    for node in graph.with_role(Role.DA_DZ):
        if node.unit in dead:
            found.append(Note(f"dead:{node.unit}", frozenset({node.id}), _dead(spec, graph, node.unit)))
    found.append(Note("sign", frozenset(graph.ids_of(Role.STEP, Role.UPDATE)), _SIGN))
    return found


def _kind(spec: Spec, i: int) -> tuple[Activation, float]:
    """A layer's activation, with its slope where it has one: one derivative note per kind."""
    layer = spec.layers[i]
    return layer.activation, layer.slope if layer.activation is Activation.LEAKY_RELU else 0.0


# --------------------------------------------------------------------------- the notes' texts


def _delta(spec: Spec, graph: Graph) -> Note:
    """What the delta of a unit is, before the first delta is worked out."""
    text = [
        "The delta (or error signal) of a unit, ",
        M(r"\delta = " + derivative_symbol("L", "z")),
        ", is how the loss changes with the unit's weighted sum ",
        M("z"),
        "; it is written ",
        M(derivative_symbol("L", "z")),
        " here. Every gradient into the unit is built from it: a weight's is the "
        "delta times what the weight multiplies, ",
        M(derivative_symbol("L", "w") + r" = \delta \cdot a"),
        ", and a bias's is the delta itself.",
    ]
    if len(spec.layers) > 1:
        text += [
            " A hidden unit's ",
            M(derivative_symbol("L", "a")),
            " sums the deltas of the units it feeds, each "
            "times the weight between them: the deltas are what the backward pass carries from one "
            "layer to the one before.",
        ]
    return Note("delta", frozenset(graph.ids_of(Role.DELTA)), (Para(prose(*text)),))


def _loss(spec: Spec) -> tuple[Item, ...]:
    """∂L/∂ŷ for the loss, derived from its definition."""
    k = "_k" if len(spec.targets) > 1 else ""
    y, yh = f"y{k}", rf"\hat{{y}}{k}"
    d = derivative_symbol("L", yh)
    why: Prose
    match spec.loss:
        case Loss.HALF_MSE:
            why = prose(
                "Differentiating the half squared error (the ",
                M(r"\tfrac{1}{2}"),
                " cancels the 2 of the square; the inner derivative of ",
                M(f"{y} - {yh}"),
                " is ",
                M("-1"),
                "):",
            )
            line = rf"{d} = \tfrac{{1}}{{2}} \cdot 2({y} - {yh}) \cdot (-1) = {yh} - {y}"
        case Loss.SSE:
            why = prose(
                "Differentiating the squared error (the inner derivative of ",
                M(f"{y} - {yh}"),
                " is ",
                M("-1"),
                "):",
            )
            line = rf"{d} = 2({y} - {yh}) \cdot (-1) = 2({yh} - {y})"
        case Loss.MSE:
            why = prose(
                "Differentiating the mean squared error (the inner derivative of ",
                M(f"{y} - {yh}"),
                " is ",
                M("-1"),
                "; ",
                M("n"),
                " is the number of outputs):",
            )
            line = rf"{d} = \tfrac{{1}}{{n}} \cdot 2({y} - {yh}) \cdot (-1) = \tfrac{{2}}{{n}}({yh} - {y})"
        case Loss.BCE:
            why = prose(
                "Differentiating the binary cross-entropy (the derivative of ",
                M(r"\ln u"),
                " is ",
                M(r"\frac{1}{u}"),
                "; ",
                M("n"),
                " is the number of outputs):",
            )
            line = (
                rf"{d} = -\tfrac{{1}}{{n}}\left(\frac{{{y}}}{{{yh}}} - \frac{{1 - {y}}}{{1 - {yh}}}\right)"
                rf" = \tfrac{{1}}{{n}} \cdot \frac{{{yh} - {y}}}{{{yh}(1 - {yh})}}"
            )
        case Loss.CROSS_ENTROPY:
            why = prose(
                "Differentiating the cross-entropy (the derivative of ",
                M(r"\ln u"),
                " is ",
                M(r"\frac{1}{u}"),
                "):",
            )
            line = rf"{d} = -{y} \cdot \frac{{1}}{{{yh}}} = -\frac{{{y}}}{{{yh}}}"
    if k:  # the other outputs' terms do not depend on this one
        why = prose("Of the loss's terms, only that of ", M(yh), " depends on ", M(yh), ". ", *why.pieces())
    return Para(why), ChainEq(line)


def _derivative(activation: Activation, slope: float) -> tuple[Item, ...]:
    """The activation's derivative, derived (sigmoid, tanh) or read off its pieces (ReLU, linear)."""
    da = derivative_symbol("a", "z")
    match activation:
        case Activation.SIGMOID:
            return (
                Para(
                    prose(
                        "The sigmoid's derivative is written with its own value, as ",
                        M(r"1 - \sigma(z) = \frac{e^{-z}}{1 + e^{-z}}"),
                        ":",
                    )
                ),
                ChainEq(
                    rf"{da} = \frac{{e^{{-z}}}}{{(1 + e^{{-z}})^{{2}}}} = \sigma(z)(1 - \sigma(z)) = a(1 - a)"
                ),
            )
        case Activation.TANH:
            return (
                Para(
                    prose(
                        "The derivative of ",
                        M(r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}"),
                        " by the quotient rule, written with its own value:",
                    )
                ),
                ChainEq(
                    rf"{da} = \frac{{(e^{{z}} + e^{{-z}})^{{2}} - (e^{{z}} - e^{{-z}})^{{2}}}}"
                    rf"{{(e^{{z}} + e^{{-z}})^{{2}}}} = 1 - \tanh(z)^{{2}} = 1 - a^{{2}}"
                ),
            )
        case Activation.RELU:
            text = prose(
                M(r"\mathrm{ReLU}(z) = \max(0, z)"),
                " is ",
                M("z"),
                " where ",
                M("z > 0"),
                " and 0 where ",
                M("z < 0"),
                ", so its derivative is 1 or 0 (at ",
                M("z = 0"),
                ", where it has none, 0 is "
                "taken): a ReLU unit passes the gradient back unchanged, or not at all.",
            )
            return (Para(text),)
        case Activation.LEAKY_RELU:
            text = prose(
                "The leaky ReLU is ",
                M("z"),
                " where ",
                M("z > 0"),
                " and ",
                M(f"{slope:g} z"),
                " otherwise, so its derivative is 1 or ",
                M(f"{slope:g}"),
                " (at ",
                M("z = 0"),
                ", ",
                M(f"{slope:g}"),
                " is taken): unlike the ReLU, some gradient always gets through.",
            )
            return (Para(text),)
        case Activation.LINEAR:
            text = prose(
                "A linear unit has ",
                M("a = z"),
                ", so ",
                M(f"{da} = 1"),
                ": its delta is its ",
                M(derivative_symbol("L", "a")),
                ".",
            )
            return (Para(text),)
    raise ValueError(f"{activation} has no per-unit derivative")  # pragma: no cover - softmax is a layer's


def _dead(spec: Spec, graph: Graph, unit: str) -> tuple[Item, ...]:
    """Why a ReLU unit with z ≤ 0 passes nothing back, said before its derivative."""
    z = graph.node_of(Role.WEIGHTED_SUM, unit).symbol
    bias = graph.find(Role.BIAS, unit=unit)  # its own bias (a shared one still learns through the others)
    text = [
        "Here ",
        M(f"{z} \\le 0"),
        ", so ",
        *phrases.unit(unit),
        " is a dead ReLU unit for this example: its activation "
        "and its derivative are 0. Its delta is then 0, so no gradient reaches the weights into it",
        " or its bias" if bias is not None else "",
        ", and the weights out of it get gradient 0 too, as they multiply its activation 0.",
    ]
    if spec.weight_decay:
        text.append(" Only weight decay changes those weights.")
    return (Para(prose(*text)),)


_SOFTMAX_CROSS_ENTROPY: tuple[Item, ...] = (
    Para(
        prose(
            "With a softmax output and the cross-entropy, the two derivatives combine into a simple one. As ",
            M(r"\ln \hat{y}_j = z_j - \ln \sum_i e^{z_i}"),
            ", the derivative of ",
            M(r"\ln \hat{y}_j"),
            " with respect to ",
            M("z_k"),
            " is ",
            M(r"1 - \hat{y}_k"),
            " for ",
            M("j = k"),
            " and ",
            M(r"-\hat{y}_k"),
            " otherwise; so, from ",
            M(r"L = -\sum_j y_j \ln \hat{y}_j"),
            " and as the targets sum to 1:",
        )
    ),
    ChainEq(r"\frac{\partial L}{\partial z_k} = -y_k + \hat{y}_k \sum_j y_j = \hat{y}_k - y_k"),
    Para(
        prose(
            "Each output's delta is its prediction minus its target: no ",
            M(r"\partial L / \partial \hat{y}"),
            " and no softmax derivative is needed.",
        )
    ),
)

_SOFTMAX: tuple[Item, ...] = (
    Para(
        prose(
            "A softmax output depends on every weighted sum of its layer: ",
            M(r"\partial \hat{y}_k / \partial z_j = \hat{y}_k(1 - \hat{y}_j)"),
            " for ",
            M("j = k"),
            " and ",
            M(r"-\hat{y}_k \hat{y}_j"),
            " otherwise. Summing the paths through every output:",
        )
    ),
    ChainEq(
        r"\frac{\partial L}{\partial z_j} = \hat{y}_j\left(\frac{\partial L}{\partial \hat{y}_j}"
        r" - \sum_k \hat{y}_k \frac{\partial L}{\partial \hat{y}_k}\right)"
    ),
)

_SIGMOID_BCE: tuple[Item, ...] = (
    Para(prose("With a sigmoid output and the binary cross-entropy, the two factors cancel:")),
    ChainEq(
        r"\frac{\partial L}{\partial z_k} = \tfrac{1}{n} \cdot "
        r"\frac{\hat{y}_k - y_k}{\hat{y}_k(1 - \hat{y}_k)} \cdot \hat{y}_k(1 - \hat{y}_k)"
        r" = \tfrac{1}{n}(\hat{y}_k - y_k)"
    ),
    Para(
        Prose.of(
            "Below it is the product of the two rounded factors, as the chain rule writes it, so its "
            "last place may differ from that."
        ),
        exact=Prose.of("Below it is the product of the two factors, as the chain rule writes it."),
    ),
)

_VANISHING: tuple[Item, ...] = (
    Para(
        prose(
            "Each sigmoid layer the gradient passes back through multiplies it by ",
            M(r"a(1 - a)"),
            ", which is at most ",
            M(r"\tfrac{1}{4}"),
            " (as ",
            M(r"a(1 - a) = \tfrac{1}{4} - (a - \tfrac{1}{2})^{2}"),
            "), besides the weights. With two or more sigmoid layers, the gradients of the earlier layers "
            "shrink layer by layer: the vanishing gradient of deep sigmoid networks.",
        )
    ),
)

_SIGN: tuple[Item, ...] = (
    Para(
        prose(
            "The sign of a gradient says which way to move: ",
            M(r"\partial L / \partial p > 0"),
            " means the loss grows as ",
            M("p"),
            " grows, so ",
            M("p"),
            " is decreased; ",
            M(r"\partial L / \partial p < 0"),
            " means it falls, so ",
            M("p"),
            " is increased; a gradient 0 leaves ",
            M("p"),
            " as it is. The larger ",
            M(r"|\partial L / \partial p|"),
            ", the larger the step.",
        )
    ),
)
