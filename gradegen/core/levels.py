"""What a worksheet asks at each level (:class:`~gradegen.core.options.Level`), what a scaffolded
one gives, and the points each question is worth.

- ``standard``: every quantity (:func:`gradegen.core.key.default_questions`), 1 point each.
- ``scaffolded``: the forward pass is given (every weighted sum, activation and loss that is
  not asked and computes from no asked quantity); by default the rest is asked, 1 point each.
- ``exam``: one quantity of each kind along one path from an input to an output
  (:func:`exam_questions`), worth :data:`EXAM_POINTS` by kind.

The spec's ``points:`` overrides any question's points at every level.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum

from gradegen.core.graph import Graph, Group, Kind, Role
from gradegen.core.options import Level
from gradegen.core.spec import Spec


class Question(StrEnum):
    """The kinds of question a sheet asks, as the exam's points tell them apart."""

    FORWARD = "forward"  # a weighted sum or activation
    LOSS = "loss"  # the loss or one output's share of it
    FACTOR = "factor"  # ∂L/∂a, the activation's derivative, a delta
    OUTPUT_GRADIENT = "output_gradient"  # ∂L/∂w into the output layer
    HIDDEN_GRADIENT = "hidden_gradient"  # ∂L/∂w into a hidden layer
    BIAS_GRADIENT = "bias_gradient"  # ∂L/∂b (a shared bias sums its layer's deltas)
    UPDATE = "update"  # a step η·∂L/∂p or a new value


EXAM_POINTS: Mapping[Question, float] = {
    Question.FORWARD: 1.0,
    Question.LOSS: 1.0,
    Question.FACTOR: 1.0,
    Question.OUTPUT_GRADIENT: 2.0,
    Question.HIDDEN_GRADIENT: 3.0,
    Question.BIAS_GRADIENT: 2.0,
    Question.UPDATE: 1.0,
}
"""An exam question's points by kind: more for the work a hidden gradient's chain takes."""

_FORWARD_PASS = (Kind.FORWARD, Kind.LOSS)


def question_of(graph: Graph, qid: str) -> Question:
    """The kind of question ``qid`` is."""
    node = graph[qid]
    if node.kind is Kind.FORWARD:
        return Question.FORWARD
    if node.kind is Kind.LOSS:
        return Question.LOSS
    if node.kind is Kind.FACTOR:
        return Question.FACTOR
    if node.role is Role.BIAS_GRADIENT:
        return Question.BIAS_GRADIENT
    if node.kind is Kind.GRADIENT:
        output = node.group is Group.OUTPUT_GRADIENTS
        return Question.OUTPUT_GRADIENT if output else Question.HIDDEN_GRADIENT
    return Question.UPDATE


def points_of(spec: Spec, graph: Graph, qid: str) -> float:
    """The points ``qid`` is worth: the spec's ``points:``, else the level's (1 outside an exam)."""
    if qid in spec.points:
        return float(spec.points[qid])
    if spec.documents.level is Level.EXAM:
        return EXAM_POINTS[question_of(graph, qid)]
    return 1.0


def points_text(points: float) -> str:
    """How a sheet shows points: "1 point", "2 points", "0.5 points"."""
    return f"{points:g} point" + ("" if points == 1 else "s")


def level_questions(
    graph: Graph, level: Level, standard: Sequence[str], fixed: Collection[str], unasked: Kind
) -> tuple[str, ...]:
    """The default questions at ``level``, from the ``standard`` ones (those not ``fixed``,
    each update in the form that is not ``unasked``)."""
    if level is Level.SCAFFOLDED:
        return tuple(q for q in standard if graph[q].kind not in _FORWARD_PASS)
    if level is Level.EXAM:
        return exam_questions(graph, fixed, unasked)
    return tuple(standard)


def scaffold(graph: Graph, level: Level, asked: Iterable[str]) -> tuple[str, ...]:
    """What a worksheet at ``level`` gives as worked out: at ``scaffolded``, every forward value
    and loss that is not asked and computes from no asked quantity (nothing at other levels)."""
    if level is not Level.SCAFFOLDED:
        return ()
    asked_set = set(asked)
    tainted = set(asked_set)  # asked, or computed from something asked
    given = []
    for node in graph.nodes:
        if tainted.intersection(node.parents):
            tainted.add(node.id)
        elif node.kind in _FORWARD_PASS and node.id not in tainted:
            given.append(node.id)
    return tuple(given)


def exam_questions(graph: Graph, fixed: Collection[str], unasked: Kind) -> tuple[str, ...]:
    """One quantity of each kind along the first path from an input to an output (in graph order)
    whose questions none is ``fixed``: the first hidden unit's activation, the loss, the output
    weight's gradient, the first hidden weight's gradient, the shared bias gradient of the layer
    below the output (else of the output layer), and the hidden weight's update (its step when
    updates are ``unasked``). A network without hidden layer has no hidden gradient."""
    loss = graph.node_of(Role.LOSS).id
    chosen: tuple[str, ...] | None = None
    for path in _paths(graph):
        questions = _on_path(graph, path, loss, unasked)
        if chosen is None:
            chosen = questions
        if not set(questions).intersection(fixed):
            chosen = questions
            break
    if chosen is None:
        return (loss,)
    return tuple(n.id for n in graph.nodes if n.id in chosen)


def _paths(graph: Graph) -> Iterator[tuple[str, ...]]:
    """Every chain of weight gradients from the output layer down to an input, output first."""
    by_unit: dict[str, list[str]] = {}
    for node in graph.nodes:
        if node.role is Role.WEIGHT_GRADIENT and node.unit is not None:
            by_unit.setdefault(node.unit, []).append(node.id)
    outputs = [
        n.id for n in graph.nodes if n.role is Role.WEIGHT_GRADIENT and n.group is Group.OUTPUT_GRADIENTS
    ]

    def down(chain: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        source = _source(graph, chain[-1])
        if graph[source].role is Role.INPUT:
            yield chain
            return
        for gid in by_unit.get(graph[source].unit or "", []):
            yield from down((*chain, gid))

    for gid in outputs:
        yield from down((gid,))


def _source(graph: Graph, gradient: str) -> str:
    """The activation or input a weight gradient's weight carries."""
    return next(p for p in graph[gradient].parents if graph[p].role in (Role.ACTIVATION, Role.INPUT))


def _on_path(graph: Graph, path: tuple[str, ...], loss: str, unasked: Kind) -> tuple[str, ...]:
    """The exam's questions along ``path`` (weight gradients, the output layer's first)."""
    output, first = path[0], path[-1]
    questions = [loss, output]
    hidden_units = [graph[_source(graph, g)] for g in path[:-1]]  # nearest the output first
    if hidden_units:
        questions += [hidden_units[-1].id, first]
    else:  # no hidden layer: the forward value is the output's
        questions.append(graph.node_of(Role.ACTIVATION, graph[output].unit).id)
    weight = graph[first].param
    update = next(
        (
            n.id
            for n in graph.nodes
            if n.kind in (Kind.STEP, Kind.UPDATE) and n.kind is not unasked and n.param == weight
        ),
        None,
    )
    if update is not None:
        questions.append(update)
    below_output = hidden_units[0].layer if hidden_units else None
    shared = {n.layer: n.id for n in graph.nodes if n.role is Role.BIAS_GRADIENT and n.unit is None}
    bias = shared.get(below_output) if below_output in shared else shared.get(graph[output].layer)
    if bias is not None:
        questions.append(bias)
    return tuple(questions)
