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

from gradegen.core.graph import Role
from gradegen.core.spec import Spec
from gradegen.documents.equations import equation, local_equation
from gradegen.documents.numbers import Numbers, Slots
from gradegen.documents.page import Page
from gradegen.documents.plan import ChainEq, DocumentPlan, Known, LocalEq, NodeEq, Para, Prose
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

    def diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        """What the templates' ``diagram`` is: the picture, or where it is."""
        raise NotImplementedError

    def student(self, shown: str | None, student: str | None) -> str:
        return self.escape(shown) if shown else ""

    def render(self, page: Page) -> dict[str, str]:
        static = _static(page.plan, self, page.exact_mode)
        place = page.numbers.place
        sections = [
            Ctx(title=title, level=level, body=[place(item) for item in body])
            for title, level, body in static.sections
        ]
        context = _context(
            page.spec, page.plan, self, page.numbers, sections, page.asked, page.precision,
            page.students[self.name], page.exact_mode,
        )  # fmt: skip
        context.update(self.extra(page))
        return {name: _render(page.env, name, context) for name in self.files}

    def extra(self, page: Page) -> dict[str, Any]:
        """What this format's templates get beyond the common context (nothing by default)."""
        return {}


def _spaced(escape: Callable[[str], str]) -> Callable[[str], str]:
    """Escape, keeping the leading and trailing spaces that join prose to math."""

    def inner(text: str) -> str:
        core = escape(text)
        lead = " " if text[:1].isspace() else ""
        tail = " " if text[-1:].isspace() and core else ""
        return lead + core + tail

    return inner


@dataclass(frozen=True)
class Static:
    """The parts of one format's documents that are the same for every variant of a graph."""

    layers: tuple[str, ...]
    loss: str
    givens: tuple[tuple[str, str, str], ...]  # id, symbol, meaning (escaped)
    meanings: dict[str, str]  # node id → escaped noun phrase ("the weighted sum into h1")
    sections: tuple[tuple[str, int, tuple[str, ...]], ...]  # title, level, items (numbers as slots)


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
        units = ", ".join(layer.units)
        if layer.kind == "input":
            text = Prose.of(f"Inputs: {units}.")
        else:
            what = "Output layer" if layer.kind == "output" else f"Hidden layer {layer.index}"
            text = Prose.of(f"{what}: {units}, activation {layer.activation}, ", layer.definition or "", ".")
        layers.append(prose(text))
    slots = Slots(g, exact_mode)
    sections = []
    for section in plan.sections:
        body: list[str] = []
        for item in section.items:
            if isinstance(item, Para):
                body.append(prose(item.text))
            elif isinstance(item, Known):
                body.append(
                    prose(item.text)
                    + " "
                    + fmt.math(f"{g[item.node].symbol} = {slots.text(item.node)}")
                    + "."
                )
            else:
                body.append(fmt.equation(_segments(plan, slots, item), slots))
        sections.append((fmt.escape(section.title), section.level, tuple(body)))
    static = Static(
        layers=tuple(layers),
        loss=prose(Prose.of(f"Loss: {plan.loss_name}, ", plan.loss_definition, ".")),
        givens=tuple((gid, g[gid].symbol, part(g[gid].meaning)) for gid in plan.givens),
        meanings={n.id: part(_noun(n.meaning)) for n in g.nodes},
        sections=tuple(sections),
    )
    if len(_STATIC) >= 32:
        _STATIC.pop(next(iter(_STATIC)))
    _STATIC[key] = (plan, static)  # holding the plan keeps its id from being reused
    return static


def _noun(meaning: str) -> str:
    """A node's phrase as a noun phrase: "the weighted sum into h1", "how the loss changes …"."""
    return meaning if meaning.startswith("how ") else f"the {meaning}"


def _segments(plan: DocumentPlan, slots: Slots, item: NodeEq | LocalEq | ChainEq) -> list[str]:
    if isinstance(item, NodeEq):
        return equation(plan, slots, item.node)
    if isinstance(item, LocalEq):
        return local_equation(plan.graph, slots, item)
    return item.latex.split(" = ", 1)  # symbol, then the right-hand side (a long one is broken)


def _rounding(decimals: int) -> str:
    return (
        f"Working by hand, every computed value is rounded to {decimals} decimal places "
        "(more where that would leave fewer than 3 significant figures) before it is used in a "
        "later step; an updated parameter keeps as many places as its step needs."
    )


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
            rounding=escape(_rounding(spec.decimals)),
            givens=[
                Ctx(id=gid, symbol=sym, value=numbers.text(gid), meaning=meaning)
                for gid, sym, meaning in static.givens
            ],
        ),
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
            )
            for number, qid in enumerate(asked, start=1)
        ],
        "mode": "exact" if exact_mode else "hand",
        "decimals": spec.decimals,
        "diagram": fmt.diagram(plan, numbers),
        "lr": numbers.text(graph.node_of(Role.LEARNING_RATE).id),
    }


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    template_name = f"{name}.j2"
    try:
        return env.get_template(template_name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or template_name
        raise GradegenError(f"template {where}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise GradegenError(f"template {template_name}: {exc.message or exc}") from None
