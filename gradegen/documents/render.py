"""Documents from an evaluated graph: the worked solution, the worksheet, the answer sheet and key.

Jinja2 templates (``templates/``, shipped as ``gradegen.templates``) give each document its
layout; equations are composed here from a :class:`~gradegen.documents.plan.DocumentPlan` built
once per graph. The documents are rendered once per graph with slots for the numbers
(:mod:`gradegen.documents.slots`) and filled per variant. Every user-provided string is escaped for
its format.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2

from gradegen.core.graph import Graph, Kind, Role, Values
from gradegen.core.key import Key, make_key
from gradegen.core.rounding import format_number, round_to, shortest
from gradegen.core.spec import Spec
from gradegen.documents.diagram import svg, tikz
from gradegen.documents.plan import ChainEq, DocumentPlan, Known, LocalEq, NodeEq, Para, Prose, build_plan
from gradegen.documents.slots import Columns, Template, fill, precision_text, slot
from gradegen.errors import GradegenError
from gradegen.escape import latex_escape, md_escape

Ctx = SimpleNamespace  # template context records: attribute access is Jinja's fast path (dicts are not)

DOCUMENTS = ("solution.md", "solution.tex", "worksheet.md", "worksheet.tex")
"""The templated documents; each is rendered from ``<name>.j2``."""

FILES = (*DOCUMENTS, "answers.yaml", "key.json", "network.svg")
"""Every file :func:`render_documents` returns, in the order they are written."""


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


# --------------------------------------------------------------------------- numbers


def math_number(text: str) -> str:
    """A printed value in LaTeX math: an ASCII minus (math mode typesets it as a minus sign)."""
    return text.replace("−", "-")


def operand(text: str) -> str:
    """A substituted number: negatives in parentheses, so 0.4 - (-0.2) reads unambiguously."""
    text = math_number(text)
    return f"({text})" if text.startswith("-") else text


class Numbers:
    """One variant's values as printed (math form), hand or exact; each text computed once."""

    __slots__ = ("_texts", "exact", "index", "values")

    def __init__(self, values: Values, index: int, exact: bool) -> None:
        self.values = values
        self.index = index
        self.exact = exact
        self._texts: dict[str, str] = {}

    def text(self, node_id: str) -> str:
        text = self._texts.get(node_id)
        if text is None:
            if self.exact:
                text = math_number(shortest(float(self.values[node_id][self.index])))
            else:
                text = math_number(self.values.text(node_id, self.index))
            self._texts[node_id] = text
        return text

    def operand(self, node_id: str) -> str:
        return operand(self.text(node_id))

    def step_operand(self, update_id: str) -> str:
        return operand(self.step(update_id))

    def places(self, node_id: str) -> int | None:
        places = self.values.places
        if self.exact or places is None or node_id not in places:
            return None
        return int(places[node_id][self.index])

    def step(self, update_id: str) -> str:
        """η·∂L/∂p of an update, as the hand rounding computes it (or exactly)."""
        _, lr, grad = self.values.graph[update_id].parents
        step = float(self.values[lr][self.index] * self.values[grad][self.index])
        places = self.places(update_id)
        if places is None:
            return math_number(shortest(step))
        return math_number(format_number(float(round_to(step, places)), places))


class Slots:
    """Stands in for :class:`Numbers` when a text is compiled: slot markers instead of numbers.

    Line breaks are decided on nominal widths, the same for every variant of a graph (and for
    any spec with the same network): a given counts as 0.00; a computed value as 0.0000 at the
    hand precision, two places more for an update and its step (they keep the step's places),
    and 20 characters at full precision.
    """

    def __init__(self, graph: Graph, exact: bool, kind: str = "t") -> None:
        self.graph = graph
        self.exact = exact
        self.kind = kind  # "t": math text; "v": as the SVG diagram prints it

    def text(self, node_id: str) -> str:
        return slot(f"{self.kind}:{node_id}")

    def operand(self, node_id: str) -> str:
        return slot(f"o:{node_id}")

    def step_operand(self, update_id: str) -> str:
        return slot(f"s:{update_id}")

    def nominal(self, key: str) -> str:
        """A stand-in text of slot ``key``'s nominal width."""
        node = self.graph[key.split(":", 1)[1]]
        if node.kind is Kind.GIVEN:
            return "0.00"
        if self.exact:
            return "0." + "0" * 18
        return "0." + "0" * (self.graph.decimals + (2 if node.kind is Kind.UPDATE else 0))

    def visible(self, latex: str) -> int:
        """Visible width of a compiled equation, each slot counted at its nominal width."""
        return _visible(fill(latex, self.nominal))

    def row_visible(self, latex: str) -> int:
        """Visible width of a row of a broken sum, each operand counted as a negative one:
        rows of many terms are where the parentheses of negatives add up."""
        return _visible(
            fill(latex, lambda key: f"(-{self.nominal(key)})" if key[0] in "os" else self.nominal(key))
        )


def slot_value(numbers: Numbers, key: str) -> str:
    """What a ``t:``, ``o:``, ``s:`` or ``v:`` slot shows for one variant's ``numbers``."""
    kind, node = key.split(":", 1)
    if kind == "t":
        return numbers.text(node)
    if kind == "o":
        return numbers.operand(node)
    if kind == "s":
        return numbers.step_operand(node)
    if kind == "v":
        return numbers.text(node).replace("-", "−")
    raise KeyError(key)


# --------------------------------------------------------------------------- equations

_BARE = re.compile(r"\{\d+\}")  # a formula that is just one of its parents (a = z)
_PLACE = re.compile(r"\{(\d+)\}")


@functools.cache
def _delimited(latex: str) -> frozenset[int]:
    """Parent positions that only ever stand alone inside brackets: σ({0}), max(0, {0}), e^{{{0}}}.

    Those need no parentheses around a negative number; tanh((−1.08)) would read as a typo.
    """
    alone: dict[int, bool] = {}
    for match in _PLACE.finditer(latex):
        before, after = latex[: match.start()], latex[match.end() :]
        inside = before.endswith(("(", ", ", "{{")) and after.startswith((")", ",", "}}"))
        position = int(match.group(1))
        alone[position] = alone.get(position, True) and inside
    return frozenset(p for p, ok in alone.items() if ok)


def equation(plan: DocumentPlan, numbers: Numbers | Slots, node_id: str) -> list[str]:
    """A node's line as segments: symbol, formula, numbers substituted, (step), value.

    The substituted line is shown whenever it has an operation in it, whatever the numbers,
    so every variant of a graph has the same lines.
    """
    node = plan.graph[node_id]
    value = numbers.text(node_id)
    segments = [node.symbol]
    if node.formula is None:
        return [*segments, value]
    segments.append(plan.symbolic[node_id])
    if node.parents and not _BARE.fullmatch(node.formula.latex):
        alone = _delimited(node.formula.latex)
        args = [numbers.text(p) if i in alone else numbers.operand(p) for i, p in enumerate(node.parents)]
        segments.append(node.formula.render(args, numbers=True))
    if node.kind is Kind.UPDATE:
        segments.append(f"{numbers.operand(node.parents[0])} - {numbers.step_operand(node_id)}")
    segments.append(value)
    return segments


def local_equation(graph: Graph, numbers: Numbers | Slots, item: LocalEq) -> list[str]:
    if item.equals is None:
        return [item.symbol, "1"]
    return [item.symbol, graph[item.equals].symbol, numbers.text(item.equals)]


def md_equation(segments: Sequence[str]) -> str:
    """One display equation per line: easy to read and to check mechanically."""
    return "$$" + " = ".join(segments) + "$$"


_WIDTH = 64  # characters of (roughly) visible math per line before a LaTeX equation is broken


@lru_cache(maxsize=16384)
def _visible(latex: str) -> int:
    return len(re.sub(r"\\(?:left|right|partial|frac|tfrac|hat|text|cdot|times)|[{}\\ ]", "", latex))


def _split_sum(latex: str, visible: Callable[[str], int] = _visible) -> list[str]:
    """Break a long expression at top-level + signs into pieces that fit a line."""
    pieces: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(latex):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0 and latex.startswith(" + ", i) and i > start:
            pieces.append(latex[start:i])
            start = i + 3
    pieces.append(latex[start:])
    lines: list[str] = []
    for piece in pieces:
        if lines and visible(lines[-1]) + visible(piece) < _WIDTH:
            lines[-1] += " + " + piece
        else:
            lines.append(piece)
    return lines


def tex_equation(
    segments: Sequence[str],
    visible: Callable[[str], int] = _visible,
    row_visible: Callable[[str], int] | None = None,
) -> str:
    """A display equation; long ones become an ``align*`` with one step per row, long sums broken.

    ``visible`` measures a line; ``row_visible`` (default the same) a row of a broken sum.
    """
    joined = " = ".join(segments)
    if visible(joined) <= _WIDTH:
        return rf"\[ {joined} \]"
    row_visible = row_visible or visible
    rows: list[str] = []
    for k, segment in enumerate(segments[1:]):
        lines = _split_sum(segment, row_visible) if row_visible(segment) > _WIDTH else [segment]
        lead = f"{segments[0]} &= " if k == 0 else "&= "
        rows.append(lead + lines[0])
        rows.extend(rf"&\quad + {line}" for line in lines[1:])
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


# --------------------------------------------------------------------------- templates


class _PackageLoader(jinja2.BaseLoader):
    """Templates shipped inside the package (works from a wheel and an editable install)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        path = resources.files("gradegen.templates").joinpath(template)
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        text = path.read_text("utf-8")
        return text, f"gradegen/templates/{template}", lambda: True


def _environment(templates: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        folder = Path(templates)
        if not folder.is_dir():
            raise GradegenError(f"--templates: {folder} is not a readable folder")
        try:
            next(folder.iterdir(), None)
        except OSError as exc:
            raise GradegenError(f"--templates: cannot read {folder}: {exc.strerror}") from None
        loaders.append(jinja2.FileSystemLoader(str(folder)))
    loaders.append(_PackageLoader())
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # LaTeX and Markdown, not HTML: strings are escaped explicitly below
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["latex_escape"] = latex_escape
    env.filters["md_escape"] = md_escape
    return env


_ENVIRONMENTS: dict[str | None, jinja2.Environment] = {}


def environment(templates: Path | str | None = None) -> jinja2.Environment:
    """The Jinja2 environment for a templates folder (user's first, then packaged), cached."""
    key = None if templates is None else str(Path(templates).resolve())
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = _environment(None if templates is None else Path(templates))
        _ENVIRONMENTS[key] = env
    return env


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    template_name = f"{name}.j2"
    try:
        return env.get_template(template_name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or template_name
        raise GradegenError(f"template {where}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise GradegenError(f"template {template_name}: {exc.message or exc}") from None


# --------------------------------------------------------------------------- plans

_PLANS: dict[int, tuple[Graph, DocumentPlan]] = {}


def plan_for(spec: Spec, graph: Graph) -> DocumentPlan:
    """The graph's :class:`DocumentPlan`, built on first use and reused for every variant."""
    hit = _PLANS.get(id(graph))
    if hit is not None and hit[0] is graph:
        return hit[1]
    plan = build_plan(spec, graph)
    if len(_PLANS) >= 16:  # a few graphs at a time; keep memory bounded in long sessions
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[id(graph)] = (graph, plan)
    return plan


# --------------------------------------------------------------------------- documents


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


def key_json(key: Key) -> str:
    """key.json's text: the key as JSON, indented, with a final newline."""
    return json.dumps(key.to_dict(), indent=2) + "\n"


def render_documents(
    spec: Spec,
    graph: Graph,
    exact: Values,
    hand: Values,
    index: int = 0,
    asked: Sequence[str] | None = None,
    *,
    exact_mode: bool = False,
    templates: Path | str | None = None,
    student: str | None = None,
    name: str | None = None,
    files: Iterable[str] | None = None,
    compiled: bool = True,
) -> dict[str, str]:
    """Every file of one variant (``index`` of an evaluated batch): file name → text.

    ``student`` is the id pre-filled in answers.yaml; the documents show ``name (student)``.
    ``files`` selects some of :data:`FILES` (default all). ``compiled=False`` renders the
    templates for this variant alone: the reference the compiled documents are tested against.

    Pure: reads values only, so a batch evaluated once renders any number of variants.
    """
    render = Renderer(
        spec, graph, exact, hand, asked, exact_mode=exact_mode, templates=templates, files=files,
        compiled=compiled,
    )  # fmt: skip
    return {f: data.decode() for f, data in render(index, student, name).items()}


class Renderer:
    """Renders any variant of an evaluated batch as :func:`render_documents` does, each file as
    the UTF-8 bytes to write: a class run makes one and calls it for every student."""

    def __init__(
        self,
        spec: Spec,
        graph: Graph,
        exact: Values,
        hand: Values,
        asked: Sequence[str] | None = None,
        *,
        exact_mode: bool = False,
        templates: Path | str | None = None,
        files: Iterable[str] | None = None,
        compiled: bool = True,
    ) -> None:
        self.spec, self.graph, self.exact, self.hand = spec, graph, exact, hand
        self.plan = plan_for(spec, graph)
        self.exact_mode, self.templates, self.compiled = exact_mode, templates, compiled
        self.wanted = FILES if files is None else tuple(f for f in FILES if f in set(files))
        self.documents = [f for f in self.wanted if f != "key.json"]
        self.asked = (
            tuple(asked)
            if asked is not None
            else tuple(n.id for n in graph.nodes if n.kind is not Kind.GIVEN)
        )

    def __call__(self, index: int, student: str | None = None, name: str | None = None) -> dict[str, bytes]:
        shown = _shown(student, name)
        out: dict[str, bytes] = {}
        if self.documents:
            doc = self._compiled(shown)
            if doc is not None:
                out = doc.render(self.exact, self.hand, index, shown, student, self.documents)
            else:
                texts = _reference(
                    self.spec, self.plan, self.exact, self.hand, index, self.asked, self.exact_mode,
                    self.templates, shown, student,
                )  # fmt: skip
                out = {f: texts[f].encode() for f in self.documents}
        if "key.json" in self.wanted:
            key = make_key(self.spec, self.graph, self.exact, self.hand, self.asked, index)
            out["key.json"] = key_json(key).encode()
        return {f: out[f] for f in self.wanted}

    def prepare(self, student: str | None = None, name: str | None = None) -> None:
        """Compile the documents such a student gets and stack the batch's numbers for them,
        without rendering any (forked workers then share all that)."""
        doc = self._compiled(_shown(student, name)) if self.documents else None
        if doc is not None:
            doc.columns(self.exact, self.hand)

    def _compiled(self, shown: str | None) -> _Compiled | None:
        """The compiled documents for a student shown so, or None where the reference renders."""
        # a name that escapes to nothing drops the "Student:" line: the reference decides that
        if not self.compiled or (shown and not (md_escape(shown) and latex_escape(shown))):
            return None
        return _compiled(self.spec, self.plan, self.templates, self.exact_mode, self.asked, bool(shown))


def _shown(student: str | None, name: str | None) -> str | None:
    """How the documents name a student: ``name (student)``, or whichever is given."""
    return f"{name} ({student})" if name and student and name != student else (name or student)


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
    gradients = graph.gradients
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
                gradient=numbers.text(gradients[pid]),
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
        "lr": numbers.text(graph.node_of(Role.LEARNING_RATE).id),
    }


def _reference(
    spec: Spec,
    plan: DocumentPlan,
    exact: Values,
    hand: Values,
    index: int,
    asked: Sequence[str],
    exact_mode: bool,
    templates: Path | str | None,
    shown: str | None,
    student: str | None,
) -> dict[str, str]:
    """Every document of one variant, its templates rendered with its own numbers."""
    env = environment(templates)
    numbers = Numbers(exact if exact_mode else hand, index, exact_mode)
    slots = Slots(plan.graph, exact_mode)
    places = hand.places or {}
    precision = {
        q: precision_text(None if exact_mode else int(places[q][index]) if q in places else 0) for q in asked
    }
    files: dict[str, str] = {}
    for fmt in ("md", "tex"):
        escape = md_escape if fmt == "md" else latex_escape
        sections = _body(plan, _static(plan, fmt), slots)
        for section in sections:  # equations are laid out once per graph, then given numbers
            section.body = [fill(item, lambda key: slot_value(numbers, key)) for item in section.body]
        context = _context(
            spec, plan, fmt, numbers, sections, asked, precision, escape(shown) if shown else "", exact_mode
        )
        for doc in ("solution", "worksheet"):
            files[f"{doc}.{fmt}"] = _render(env, f"{doc}.{fmt}", context)
    files["answers.yaml"] = answers_yaml(spec, asked, precision, student)
    files["network.svg"] = svg(plan, Numbers(hand, index, False))
    return files


class _Compiled:
    """One graph's documents rendered once with slots, then filled for each variant."""

    def __init__(
        self,
        spec: Spec,
        plan: DocumentPlan,
        templates: Path | str | None,
        exact_mode: bool,
        asked: Sequence[str],
        has_student: bool,
    ) -> None:
        self.exact_mode = exact_mode
        env = environment(templates)
        slots = Slots(plan.graph, exact_mode)
        precision = {q: slot(f"p:{q}") for q in asked}
        student = slot("student") if has_student else ""
        texts: dict[str, str] = {}
        for fmt in ("md", "tex"):
            sections = _body(plan, _static(plan, fmt), slots)
            context = _context(spec, plan, fmt, slots, sections, asked, precision, student, exact_mode)
            for doc in ("solution", "worksheet"):
                texts[f"{doc}.{fmt}"] = _render(env, f"{doc}.{fmt}", context)
        texts["answers.yaml"] = _answers(spec, asked, precision, slot("student"))
        texts["network.svg"] = svg(plan, Slots(plan.graph, exact_mode, "v"))  # type: ignore[arg-type]
        self.templates = {name: Template(text) for name, text in texts.items()}
        self._columns: tuple[Values, Values, Columns] | None = None
        self._block: tuple[Columns, int, int, dict[str, list[bytes]]] | None = None
        self._rows: dict[str, tuple[int, Iterator[tuple[bytes, ...]]]] = {}  # file → next index, parts

    def columns(self, exact: Values, hand: Values) -> Columns:
        """The slots' numbers for this batch (stacked on first use)."""
        if self._columns is None or self._columns[0] is not exact or self._columns[1] is not hand:
            keys = dict.fromkeys(k for t in self.templates.values() for k in t.keys)
            self._columns = (exact, hand, Columns(keys, exact, hand, self.exact_mode))
        return self._columns[2]

    def render(
        self,
        exact: Values,
        hand: Values,
        index: int,
        shown: str | None,
        student: str | None,
        files: Sequence[str],
    ) -> dict[str, bytes]:
        columns = self.columns(exact, hand)
        block = self._block
        if block is None or block[0] is not columns or not block[1] <= index < block[2]:
            # numbers are formatted for a block of variants at once: a class run asks in order
            lo = index - index % BLOCK
            hi = min(lo + BLOCK, exact.batch)
            block = self._block = (columns, lo, hi, columns.block(lo, hi))
            self._rows = {}
        lo, hi, texts = block[1], block[2], block[3]
        student_text = {
            "md": md_escape(shown).encode() if shown else b"",
            "tex": latex_escape(shown).encode() if shown else b"",
            "yaml": json.dumps(student or "", ensure_ascii=False).encode(),
            "svg": b"",
        }
        out: dict[str, bytes] = {}
        for name in files:
            template = self.templates[name]
            rows = self._rows.get(name)
            if rows is None or rows[0] != index:  # a class run asks in order: this is the first
                rows = (index, template.rows(texts, index - lo, hi - index))
            self._rows[name] = (index + 1, rows[1])
            out[name] = template.fill(rows[1], student_text[name.rsplit(".", 1)[1]])
        return out


BLOCK = 128
"""Variants whose numbers are formatted together (in one bytes % a kind of number)."""


_COMPILED: dict[tuple[Any, ...], tuple[DocumentPlan, _Compiled]] = {}


def _compiled(
    spec: Spec,
    plan: DocumentPlan,
    templates: Path | str | None,
    exact_mode: bool,
    asked: tuple[str, ...],
    has_student: bool,
) -> _Compiled:
    """The compiled documents for this graph, templates, mode and questions (built once)."""
    folder = None if templates is None else str(Path(templates).resolve())
    text = (spec.title, spec.course, spec.instructions, spec.decimals)  # the spec's, as printed
    key: tuple[Any, ...] = (id(plan), folder, exact_mode, asked, has_student, *text)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is plan:
        return hit[1]
    compiled = _Compiled(spec, plan, templates, exact_mode, asked, has_student)
    if len(_COMPILED) >= 16:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = (plan, compiled)  # holding the plan keeps its id from being reused
    return compiled


def answers_yaml(spec: Spec, asked: Sequence[str], precision: Mapping[str, str], student: str | None) -> str:
    """The blank answer sheet: ``student:`` then one key per asked id, commented with its question."""
    return _answers(spec, asked, precision, json.dumps(student or "", ensure_ascii=False))


def _answers(spec: Spec, asked: Sequence[str], precision: Mapping[str, str], student: str) -> str:
    title = " ".join(spec.title.split())
    lines = [
        f"# Answer sheet: {title}",
        "# Write each answer after its colon, as a number. Keep the IDs as they are.",
        f"student: {student}",
    ]
    width = max((len(q) for q in asked), default=0) + 2
    for number, qid in enumerate(asked, start=1):
        lines.append(f"{qid + ':':<{width}}# question {number}, {precision[qid]}")
    return "\n".join(lines) + "\n"


__all__ = [
    "DOCUMENTS",
    "FILES",
    "Numbers",
    "Renderer",
    "answers_yaml",
    "environment",
    "equation",
    "key_json",
    "math_number",
    "md_equation",
    "operand",
    "plan_for",
    "render_documents",
    "tex_equation",
]
