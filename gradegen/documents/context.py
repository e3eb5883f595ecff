"""The templates' context: the parts of a format's documents fixed per graph, and per variant."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from gradegen.core.spec import Spec
from gradegen.documents.diagram import tikz
from gradegen.documents.equations import equation, local_equation
from gradegen.documents.latex import tex_equation
from gradegen.documents.markdown import md_equation
from gradegen.documents.numbers import Numbers, Slots
from gradegen.documents.plan import ChainEq, DocumentPlan, Known, LocalEq, NodeEq, Para, Prose
from gradegen.escape import latex_escape, md_escape

Ctx = SimpleNamespace  # template context records: attribute access is Jinja's fast path (dicts are not)


def _spaced(escape: Callable[[str], str]) -> Callable[[str], str]:
    """Escape, keeping the leading and trailing spaces that join prose to math."""

    def inner(text: str) -> str:
        core = escape(text)
        lead = " " if text[:1].isspace() else ""
        tail = " " if text[-1:].isspace() and core else ""
        return lead + core + tail

    return inner


_md_part = _spaced(md_escape)
_tex_part = _spaced(latex_escape)


_PROSE: dict[tuple[Prose, bool], str] = {}


def _prose(prose: Prose, part: Callable[[str], str]) -> str:
    """Prose rendered for one format; the same phrases recur in every variant, so cached."""
    key = (prose, part is _md_part)
    text = _PROSE.get(key)
    if text is None:
        text = "".join(part(p) if i % 2 == 0 else f"${p}$" for i, p in enumerate(prose.parts) if p)
        if len(_PROSE) > 100_000:
            _PROSE.clear()
        _PROSE[key] = text
    return text


@dataclass(frozen=True)
class Static:
    """The parts of one format's documents that are the same for every variant of a graph."""

    fmt: str
    layers: tuple[str, ...]
    loss: str
    givens: tuple[tuple[str, str, str], ...]  # id, symbol, meaning (escaped)
    titles: tuple[str, ...]  # section titles (escaped)
    meanings: dict[str, str]  # node id → escaped noun phrase ("the weighted sum into h1")
    prose: dict[int, str]  # id(item) → rendered prose of a Para or Known


_STATIC: dict[tuple[int, str], tuple[DocumentPlan, Static]] = {}


def _static(plan: DocumentPlan, fmt: str) -> Static:
    key = (id(plan), fmt)
    hit = _STATIC.get(key)
    if hit is not None and hit[0] is plan:
        return hit[1]
    part = _md_part if fmt == "md" else _tex_part
    escape = md_escape if fmt == "md" else latex_escape
    g = plan.graph
    layers = []
    for layer in plan.layers:
        units = ", ".join(layer.units)
        if layer.kind == "input":
            text = Prose.of(f"Inputs: {units}.")
        else:
            what = "Output layer" if layer.kind == "output" else f"Hidden layer {layer.index}"
            text = Prose.of(f"{what}: {units}, activation {layer.activation}, ", layer.definition or "", ".")
        layers.append(_prose(text, part))
    prose: dict[int, str] = {}
    for section in plan.sections:
        for item in section.items:
            if isinstance(item, Para | Known):
                prose[id(item)] = _prose(item.text, part)
    static = Static(
        fmt=fmt,
        layers=tuple(layers),
        loss=_prose(Prose.of(f"Loss: {plan.loss_name}, ", plan.loss_definition, "."), part),
        givens=tuple((gid, g[gid].symbol, part(g[gid].meaning)) for gid in plan.givens),
        titles=tuple(escape(section.title) for section in plan.sections),
        meanings={n.id: part(_noun(n.meaning)) for n in g.nodes},
        prose=prose,
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


def _body(plan: DocumentPlan, static: Static, slots: Slots) -> list[Ctx]:
    """Each section's title, level and rendered items (numbers as slots), for one format."""
    graph = plan.graph
    sections = []
    for section, title in zip(plan.sections, static.titles, strict=True):
        body: list[str] = []
        for item in section.items:
            if isinstance(item, Para):
                body.append(static.prose[id(item)])
            elif isinstance(item, Known):
                value = f" ${graph[item.node].symbol} = {slots.text(item.node)}$."
                body.append(static.prose[id(item)] + value)
            elif static.fmt == "md":
                body.append(md_equation(_segments(plan, slots, item)))
            else:
                body.append(tex_equation(_segments(plan, slots, item), slots.visible, slots.row_visible))
        sections.append(Ctx(title=title, level=section.level, body=body))
    return sections


def _rounding(decimals: int) -> str:
    return (
        f"Working by hand, every computed value is rounded to {decimals} decimal places "
        "(more where that would leave fewer than 3 significant figures) before it is used in a "
        "later step; an updated parameter keeps as many places as its step needs."
    )


def _context(
    spec: Spec,
    plan: DocumentPlan,
    fmt: str,
    numbers: Numbers | Slots,
    sections: list[Ctx],
    asked: Sequence[str],
    precision: Mapping[str, str],
    student: str,
    exact_mode: bool,
) -> dict[str, Any]:
    """The templates' context for one format (``numbers`` real, or slots when compiling)."""
    static = _static(plan, fmt)
    escape = md_escape if fmt == "md" else latex_escape
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
        "table": [
            Ctx(
                id=pid,
                symbol=graph[pid].symbol,
                value=numbers.text(pid),
                gradient=numbers.text(f"dL_d{pid}"),
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
        "diagram": "network.svg" if fmt == "md" else tikz(plan, numbers),  # type: ignore[arg-type]
        "lr": numbers.text("lr"),
    }
