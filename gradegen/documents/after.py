"""The solution's closing section: the forward pass again with the updated parameters, and by how
much the loss fell (as Mazur's walkthrough ends). :func:`~gradegen.documents.plan.build_plan`
appends it after every style's own sections.
"""

from __future__ import annotations

from collections.abc import Callable

from gradegen.core.graph import Graph, Role
from gradegen.core.key import asks_steps
from gradegen.core.options import Style
from gradegen.core.spec import Spec
from gradegen.core.steps import shown_steps
from gradegen.documents import phrases
from gradegen.documents.items import Cell, Item, Layer, NodeEq, Para, Section, Table
from gradegen.documents.numbers import slot
from gradegen.documents.prose import M, Prose, prose

_FORWARD = (Role.AFTER_WEIGHTED_SUM, Role.AFTER_ACTIVATION)

Show = Callable[[str, list[Item]], None]
"""Appends a node's equation (or why it is 0) to a list of items: the style planner's ``show``."""


def after_sections(
    spec: Spec, graph: Graph, layers: tuple[Layer, ...], show: Show, shown: set[str]
) -> tuple[Section, ...]:
    """The section "After the update": each z and a with the new parameters, the new loss and its
    decrease (none for a graph without those nodes, such as a hand-built one). ``show`` and
    ``shown``: the style planner's, which says each quantity once."""
    loss_after = graph.find(Role.AFTER_LOSS)
    decrease = graph.find(Role.LOSS_DECREASE)
    if loss_after is None or decrease is None:
        return ()
    params = "weights and biases" if spec.update_biases else "weights (the biases stay as they are)"
    intro = Para(
        prose(
            "The forward pass once more, with the same inputs and the new ", params,
            ", worked as before: one step of gradient descent should lower the loss.",
        )
    )  # fmt: skip
    sections = [Section(prose("After the update"), 2, (intro,))]
    if spec.style is Style.FULL:
        for info in layers[1:]:
            items: list[Item] = []
            for role in _FORWARD:
                for unit in info.units:
                    show(graph.node_of(role, unit).id, items)
            units = phrases.units(info.units, ", ")
            heading = prose(phrases.title(info.kind, info.index), ": ", *units, " with the new parameters")
            sections.append(Section(heading, 3, tuple(items)))
    else:  # values only, the work being the forward pass's: kept short
        listed = [_values(graph, info) for info in layers[1:]]
        shown.update(n for para in listed for n in para.states)
        sections.append(Section(prose("Each layer with the new parameters"), 3, tuple(listed)))
    items = []
    for node in graph.with_role(Role.AFTER_LOSS_TERM, Role.AFTER_LOSS):
        show(node.id, items)
    loss = graph.node_of(Role.LOSS)
    items.append(
        Para(
            prose(
                "The loss went from ", M(f"{loss.symbol} = {slot('t:' + loss.id)}"), " to ",
                M(f"{loss_after.symbol} = {slot('t:' + loss_after.id)}"), ", a decrease of",
            )
        )
    )  # fmt: skip
    items.append(NodeEq(decrease.id))
    if asks_steps(graph):  # η so small that the change hides below the hand precision
        items.append(Para(Prose.of(_TINY.format(spec.decimals)), exact=Prose.of(_TINY_EXACT)))
    items.append(Para(_SIGN))
    sections.append(Section(prose("Loss with the new parameters"), 3, tuple(items)))
    return (*sections, *_steps_appendix(spec, graph))


def _values(graph: Graph, info: Layer) -> Para:
    """A layer's weighted sums and activations after the update, as values in one paragraph."""
    pieces: list[str] = [phrases.title(info.kind, info.index), ": "]
    ids: list[str] = []
    for k, unit in enumerate(info.units):
        for j, role in enumerate(_FORWARD):
            node = graph.node_of(role, unit)
            sep = "; " if k and not j else (", " if j else "")
            pieces += [sep, M(f"{node.symbol} = {slot('t:' + node.id)}")]
            ids.append(node.id)
    return Para(prose(*pieces, "."), states=tuple(ids))


def _steps_appendix(spec: Spec, graph: Graph) -> tuple[Section, ...]:
    """With ``steps: N > 1``: the loss after each step (a sample of them for many) and the
    parameters after the last, as computed in float64 (:mod:`gradegen.core.steps`)."""
    losses = graph.with_role(Role.STEP_LOSS)
    if not losses:
        return ()
    n = spec.steps
    every = len(losses) == n - 1
    intro = prose(
        f"Training repeats the step {n} times, each from the parameters the last one left. These values are "
        f"computed in float64 without rounding by hand and shown to {spec.decimals + 2} decimal places "
        "(steps 0 and 1 are the ones worked above)",
        "." if every else f"; the loss is shown after a selection of the {n} steps.",
    )
    loss, after = graph.node_of(Role.LOSS), graph.node_of(Role.AFTER_LOSS)
    rows = [(Cell(latex="0"), Cell(node=loss.id)), (Cell(latex="1"), Cell(node=after.id))]
    for k, node in zip(shown_steps(n), losses, strict=True):
        rows.append((Cell(latex=str(k)), Cell(node=node.id, computed=True)))
    finals = graph.with_role(Role.FINAL_PARAMETER)
    params = [(Cell(latex=graph[p.param or ""].symbol), Cell(node=p.id, computed=True)) for p in finals]
    items = (
        Para(intro),
        Table(
            (prose("step ", M("k")), prose("loss ", M("L^{(k)}"))), tuple(rows),
            Prose.of("The loss after each step:"),
        ),
        Table(
            (prose("parameter"), prose("after step ", M(str(n)))), tuple(params),
            prose(f"The parameters after step {n}:"),
        ),
    )  # fmt: skip
    return (Section(prose(f"Appendix: {n} steps of training"), 2, items),)


_SIGN = Prose.of(
    "A positive decrease is what gradient descent promises for a small enough learning rate; "
    "a negative one means the step overshot (the loss rose), and a smaller learning rate would do better."
)
_TINY = (
    "With a learning rate this small the loss changes by less than {} decimal places show: "
    "the exact solution (generate --exact) shows the decrease to 10 significant figures."
)
_TINY_EXACT = "With a learning rate this small the change is tiny, but the 10 significant figures show it."
