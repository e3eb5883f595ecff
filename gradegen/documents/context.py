"""Templated documents: the base of every Jinja format, and the context its templates get.

A :class:`DocumentFormat` renders templates ``<document>.<suffix>.j2`` (the solution and the
worksheet) from a context built here. The parts of that context fixed by the graph (phrases,
section bodies laid out with slot markers for their numbers) are built once per graph and format;
a page only puts its numbers in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import jinja2

from gradegen.core.graph import Graph, Kind, Role
from gradegen.core.levels import points_of, points_text, scaffold
from gradegen.core.network import unit_symbol
from gradegen.core.options import Diagram, Level
from gradegen.core.rounding import SIGNIFICANT, Rule
from gradegen.core.spec import Spec
from gradegen.documents import phrases
from gradegen.documents.diagram import weight_tables
from gradegen.documents.equations import equation, local_equation, worked
from gradegen.documents.items import (
    Cell,
    ChainEq,
    DocumentPlan,
    Known,
    LocalEq,
    MatrixEq,
    NodeEq,
    Para,
    Table,
)
from gradegen.documents.matrix import matrix_segments
from gradegen.documents.numbers import Numbers, Slots
from gradegen.documents.page import Page
from gradegen.documents.prose import M, Prose
from gradegen.documents.prose import prose as build
from gradegen.errors import GradegenError

Ctx = SimpleNamespace  # template context records: attribute access is Jinja's fast path (dicts are not)


class DocumentFormat:
    """A format of Jinja documents: what a subclass says about its format, and the rendering.

    A subclass names its ``suffix`` (the files are ``solution.<suffix>`` and ``worksheet.<suffix>``,
    from templates ``<file>.j2``) and says how the format escapes text, writes an equation and
    shows the diagram.
    """

    name = ""
    suffix = ""
    documents: tuple[str, ...] = ("solution", "worksheet")
    compiles = True
    secret = False
    dash = "–"  # between the ends of a range of numbers
    filters: ClassVar[Mapping[str, Callable[[str], str]]] = {}

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f"{document}.{self.suffix}" for document in self.documents)

    def escape(self, text: str) -> str:
        """User text made literal in this format."""
        raise NotImplementedError

    def math(self, latex: str) -> str:
        """Inline math."""
        return f"${latex}$"

    def equation(self, segments: Sequence[str], slots: Slots) -> str:
        """A display equation from its segments (symbol = … = value), laid out with slots."""
        raise NotImplementedError

    def matrix_equation(self, segments: Sequence[str], slots: Slots) -> str:
        """A display equation of matrices (bmatrix); by default as any other equation."""
        return self.equation(segments, slots)

    def diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        """What the templates' ``diagram`` is: the picture, or where it is."""
        raise NotImplementedError

    def values_diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        """What the solution's ``values_diagram`` is (``--diagram values``): the picture of the
        step's values, or where it is."""
        raise NotImplementedError

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], slots: Slots, intro: str = ""
    ) -> str:
        """A table of the solution's: headings and cells already in the format (the first
        column names the row, the others hold math), after its introducing sentence."""
        raise NotImplementedError

    def student(self, shown: str | None, student: str | None) -> str:
        return self.escape(shown) if shown else ""

    def render(self, page: Page) -> dict[str, str]:
        context = self.context(page)
        return {name: _render(page.env, name, context) for name in self.files}

    def context(self, page: Page) -> dict[str, Any]:
        """What its templates are given for one page."""
        static = _static(page.plan, self, page.exact_mode)
        place = page.numbers.place
        sections = [
            Ctx(title=title, level=level, body=[place(item) for item in body], questions=asked_in)
            for (title, level, body), ids in zip(static.sections, static.shows, strict=True)
            for asked_in in [_numbers_of(ids, page.asked, self.dash)]
        ]
        context = _context(
            page.spec, page.plan, self, page.numbers, sections, page.asked, page.precision,
            page.students[self.name], page.exact_mode,
        )  # fmt: skip
        context.update(self.extra(page))
        return context

    def extra(self, page: Page) -> dict[str, Any]:
        """What this format's templates get beyond the common context (nothing by default)."""
        return {}


def _spaced(escape: Callable[[str], str]) -> Callable[[str], str]:
    """Escape, keeping the leading and trailing spaces that join prose to math."""

    def inner(text: str) -> str:
        core = escape(text).strip()
        lead = " " if text[:1].isspace() else ""
        tail = " " if text[-1:].isspace() and core else ""
        return lead + core + tail

    return inner


@dataclass(frozen=True)
class Static:
    """The parts of one format's documents that are the same for every variant of a graph."""

    layers: tuple[str, ...]
    loss: str
    rounding: str  # the hand-rounding rule
    givens: tuple[tuple[str, str, str], ...]  # id, symbol, meaning (escaped)
    meanings: dict[str, str]  # node id → escaped noun phrase ("the weighted sum into h1")
    sections: tuple[tuple[str, int, tuple[str, ...]], ...]  # title, level, items (numbers as slots)
    shows: tuple[frozenset[str], ...]  # each section's quantities, computed or said there


_STATIC: dict[tuple[int, str, bool], tuple[DocumentPlan, Static]] = {}


def _static(plan: DocumentPlan, fmt: DocumentFormat, exact_mode: bool) -> Static:
    key = (id(plan), fmt.name, exact_mode)
    hit = _STATIC.get(key)
    if hit is not None and hit[0] is plan:
        return hit[1]
    part = _spaced(fmt.escape)

    def prose(text: Prose) -> str:
        return "".join(part(p) if i % 2 == 0 else fmt.math(p) for i, p in enumerate(text.parts) if p)

    g = plan.graph
    layers = []
    for layer in plan.layers:
        units = phrases.units(layer.units, ", ")
        if layer.kind == "input":
            text = build("Inputs: ", *units, ".")
        else:
            text = build(
                phrases.title(layer.kind, layer.index), ": ", *units, f", activation {layer.activation}, ",
                M(layer.definition or ""), ".",
            )  # fmt: skip
        layers.append(prose(text))
    slots = Slots(g, exact_mode)
    sections = []
    shows = []
    for section in plan.sections:
        shows.append(frozenset(section.shows()))
        body: list[str] = []
        for item in section.items:
            if isinstance(item, Para):
                body.append(prose(item.exact if exact_mode and item.exact else item.text))
            elif isinstance(item, Known):
                body.append(
                    prose(item.text)
                    + " "
                    + fmt.math(f"{g[item.node].symbol} = {_value(plan, slots, item.node)}")
                    + "."
                )
            elif isinstance(item, MatrixEq):
                body.append(fmt.matrix_equation(matrix_segments(plan, slots, item), slots))
            elif isinstance(item, Table):
                cells = [[fmt.math(_cell(plan, slots, cell)) for cell in row] for row in item.rows]
                body.append(
                    fmt.table(
                        [prose(h) for h in item.header], cells, slots, prose(item.intro) if item.intro else ""
                    )
                )
            else:
                body.append(fmt.equation(_segments(plan, slots, item), slots))
        sections.append((prose(section.title), section.level, tuple(body)))
    static = Static(
        layers=tuple(layers),
        loss=prose(build(f"Loss: {plan.loss_name}, ", M(plan.loss_definition), *_n(plan.mean_over), ".")),
        rounding=prose(_rounding(g)),
        givens=tuple((gid, g[gid].symbol, prose(plan.descriptions[gid])) for gid in plan.givens),
        meanings={nid: prose(noun) for nid, noun in plan.nouns.items()},
        sections=tuple(sections),
        shows=tuple(shows),
    )
    if len(_STATIC) >= 32:
        _STATIC.pop(next(iter(_STATIC)))
    _STATIC[key] = (plan, static)  # holding the plan keeps its id from being reused
    return static


def _spaces(plan: DocumentPlan, asked: Sequence[str], worked: Sequence[str] = ()) -> dict[str, int]:
    """Lines of working space per question, for the work it takes after the questions before it
    (and the values ``worked`` out for the student): two per quantity it needs that no earlier
    question needed, and one per chain-rule factor beyond the second (a gradient's chain written
    out), from 2 to 16."""
    graph = plan.graph
    covered = {*graph.givens, *worked}
    spaces: dict[str, int] = {}
    for qid in asked:
        todo, work = [qid], set()
        while todo:
            node = todo.pop()
            if node not in covered and node not in work:
                work.add(node)
                todo.extend(graph[node].parents)
        covered |= work
        chain = max(plan.chains.get(qid, 0) - 2, 0)
        spaces[qid] = min(max(2 * len(work) + chain, 2), 16)
    return spaces


LEVEL_NOTES = {
    Level.SCAFFOLDED: "The forward pass is worked out for you: every weighted sum, activation and "
    "loss in the table after the network, rounded as the questions ask. Start from those values "
    "and work the rest of the step.",
    Level.EXAM: "This exam asks one quantity of each kind along one path through the network, "
    "from an input to the output. Each question's points are shown beside it: {total} in all.",
}
"""What the worksheet tells the student about its level (standard: nothing)."""


def _numbers_of(ids: frozenset[str], asked: Sequence[str], dash: str = "–") -> str:
    """The question numbers of the asked quantities among ``ids``: "question 7", "questions 1, 3–5"."""
    numbers = [k for k, qid in enumerate(asked, start=1) if qid in ids]
    runs: list[str] = []
    start = 0
    for i in range(1, len(numbers) + 1):
        if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
            first, last = numbers[start], numbers[i - 1]
            runs.append(str(first) if first == last else f"{first}{dash}{last}")
            start = i
    if not runs:
        return ""
    return ("question " if len(numbers) == 1 else "questions ") + ", ".join(runs)


def _n(outputs: int) -> tuple[str, ...]:
    """Where the loss is a mean over the outputs, what its n is."""
    if not outputs:
        return ()
    return (", where ", M(f"n = {outputs}"), " is the number of outputs")


def _value(plan: DocumentPlan, slots: Slots, node_id: str) -> str:
    return slots.short(node_id) if node_id in plan.whole else slots.text(node_id)


def _cell(plan: DocumentPlan, slots: Slots, cell: Cell) -> str:
    if not cell.node or cell.latex:
        return cell.latex
    return worked(plan, slots, cell.node, cell.work) if cell.work else _value(plan, slots, cell.node)


def _segments(plan: DocumentPlan, slots: Slots, item: NodeEq | LocalEq | ChainEq) -> list[str]:
    if isinstance(item, NodeEq):
        segments = equation(plan, slots, item.node)
        if item.bare and plan.symbolic.get(item.node) != segments[0]:
            del segments[1]
        return segments
    if isinstance(item, LocalEq):
        return local_equation(plan.graph, slots, item)
    return item.latex.split(" = ", 1)  # symbol, then the right-hand side (a long one is broken)


def _rounding(graph: Graph) -> Prose:
    """The hand-rounding rule as the documents state it (the rule of :mod:`gradegen.core.rounding`)."""
    rules = {graph.precision_of(n.id).rule for n in graph.nodes if n.kind is not Kind.GIVEN}
    parts = [
        f"Working by hand, every computed value is rounded to {graph.decimals} decimal places before "
        "it is used in a later step"
    ]
    if Rule.FIGURES in rules:
        parts[-1] += "; the backward pass behind a hidden layer ("
        parts += [r"\partial L / \partial a", ", ", r"\partial L / \partial z",
                  " and the gradients there) is far smaller "
                  f"and keeps {SIGNIFICANT} significant figures, written in scientific notation (",
                  r"1.23 \times 10^{-4}", ")"]  # fmt: skip
    parts[-1] += ". A step "
    parts += [r"\eta \cdot \partial L / \partial p", " is not rounded: it is the exact product of ",
              r"\eta", " and the rounded gradient (", r"0.0001 \times 0.1234 = 0.00001234",
              "), and the new value is the old one minus that step, exactly."]  # fmt: skip
    return Prose(tuple(parts))


def _context(
    spec: Spec,
    plan: DocumentPlan,
    fmt: DocumentFormat,
    numbers: Numbers | Slots,
    sections: list[Ctx],
    asked: Sequence[str],
    precision: Mapping[str, str],
    student: str,
    exact_mode: bool,
) -> dict[str, Any]:
    """The templates' context for one format (``numbers`` real, or slots when compiling)."""
    static = _static(plan, fmt, exact_mode)
    escape = fmt.escape
    graph = plan.graph
    level = spec.documents.level
    scaffolded = scaffold(graph, level, asked)
    space = _spaces(plan, asked, scaffolded)
    points = {qid: points_of(spec, graph, qid) for qid in asked}
    tabled = {w for t in weight_tables(plan) for _, weights in t.rows for w in weights}
    return {
        "meta": Ctx(
            title=escape(spec.title),
            course=escape(spec.course) if spec.course else "",
            instructions=escape(spec.instructions) if spec.instructions else "",
            student=student,
        ),
        "network": Ctx(
            layers=static.layers,
            loss=static.loss,
            rounding=static.rounding,
            givens=[
                Ctx(id=gid, symbol=sym, value=numbers.text(gid), meaning=meaning, tabled=gid in tabled)
                for gid, sym, meaning in static.givens
            ],
            weights=_weight_tables(plan, fmt, numbers),
        ),
        "style": spec.style.value,
        "sections": sections,
        "values": numbers.floats(),  # for user templates: every quantity as a number
        "table": [
            Ctx(
                id=pid,
                symbol=graph[pid].symbol,
                value=numbers.text(pid),
                gradient=numbers.text(graph.gradients[pid]),
                new=numbers.text(plan.updates[pid]) if pid in plan.updates else None,
            )
            for pid in plan.parameters
        ],
        "questions": [
            Ctx(
                number=number,
                id=qid,
                symbol=graph[qid].symbol,
                meaning=static.meanings[qid],
                precision=precision[qid],
                space=space[qid],
                points=points_text(points[qid]),
            )
            for number, qid in enumerate(asked, start=1)
        ],
        "level": level.value,
        "total_points": points_text(sum(points.values())),
        "level_note": escape(LEVEL_NOTES.get(level, "").format(total=points_text(sum(points.values())))),
        "worked": [
            Ctx(id=wid, symbol=graph[wid].symbol, value=numbers.text(wid), meaning=static.meanings[wid])
            for wid in scaffolded
        ],
        "mode": "exact" if exact_mode else "hand",
        "decimals": spec.decimals,
        "diagram": fmt.diagram(plan, numbers),
        # the step's values are answers: only a solution shows them
        "values_diagram": fmt.values_diagram(plan, numbers)
        if spec.documents.diagram is Diagram.VALUES and "solution" in fmt.documents
        else "",
        "lr": numbers.text(graph.node_of(Role.LEARNING_RATE).id),
    }


def _weight_tables(plan: DocumentPlan, fmt: DocumentFormat, numbers: Numbers | Slots) -> list[Ctx]:
    """The weights the diagram leaves unlabelled, a table per pair of layers: a row per unit fed,
    a column per unit feeding it, each cell the weight's symbol and value (math)."""
    names = ["the inputs"] + [
        "the output layer" if layer.kind == "output" else f"hidden layer {layer.index}"
        for layer in plan.layers[1:]
    ]
    g = plan.graph
    return [
        Ctx(
            title=fmt.escape(f"Weights from {names[t.gap]} into {names[t.gap + 1]}"),
            sources=[unit_symbol(s) for s in t.sources],
            rows=[
                Ctx(
                    unit=unit_symbol(unit),
                    cells=[Ctx(symbol=g[w].symbol, value=numbers.text(w)) for w in weights],
                )
                for unit, weights in t.rows
            ],
        )
        for t in weight_tables(plan)
    ]


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    template_name = f"{name}.j2"
    try:
        return env.get_template(template_name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or template_name
        raise GradegenError(f"template {where}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise GradegenError(f"template {template_name}: {exc.message or exc}") from None
