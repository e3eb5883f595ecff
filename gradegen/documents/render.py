"""Documents from an evaluated graph: the worked solution, the worksheet, the answer sheet and key.

Jinja2 templates (``templates/``, shipped as ``gradegen.templates``) give each document its
layout; equations are composed here from a :class:`~gradegen.documents.plan.DocumentPlan` built
once per graph. The documents are rendered once per graph with slots for the numbers
(:mod:`gradegen.documents.slots`) and filled per variant. Every user-provided string is escaped for
its format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from gradegen.core.graph import Graph, Kind, Values
from gradegen.core.key import make_key
from gradegen.core.spec import Spec
from gradegen.documents.compiled import _Compiled, _compiled
from gradegen.documents.context import _body, _context, _static
from gradegen.documents.diagram import svg
from gradegen.documents.environment import _render, environment
from gradegen.documents.numbers import Numbers, Slots, slot_value
from gradegen.documents.plain import answers_yaml, key_json
from gradegen.documents.plan import DocumentPlan, build_plan
from gradegen.documents.slots import fill, precision_text
from gradegen.escape import latex_escape, md_escape

DOCUMENTS = ("solution.md", "solution.tex", "worksheet.md", "worksheet.tex")
"""The templated documents; each is rendered from ``<name>.j2``."""

FILES = (*DOCUMENTS, "answers.yaml", "key.json", "network.svg")
"""Every file :func:`render_documents` returns, in the order they are written."""

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


__all__ = ["DOCUMENTS", "FILES", "Renderer", "plan_for", "render_documents"]
