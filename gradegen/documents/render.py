"""Documents from an evaluated graph: the worked solution, the worksheet, the answer sheet and key.

Each file comes from a format of :mod:`gradegen.documents.formats`, given a
:class:`~gradegen.documents.page.Page`: one variant's numbers, precisions and student. There are
two ways to fill a page. The reference (:func:`_reference`) renders every template with the
variant's own numbers; user templates are always rendered so. The package's own templates are
compiled once per graph with slot markers instead (:mod:`gradegen.documents.compiled`) and filled
per variant, byte-identical to the reference and much faster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from gradegen.core.graph import Graph, Kind, Values
from gradegen.core.key import make_key
from gradegen.core.network import fixed_quantities
from gradegen.core.spec import Spec
from gradegen.documents.answerkey import bounds
from gradegen.documents.compiled import Block, BlockNumbers, Compiled
from gradegen.documents.environment import environment
from gradegen.documents.formats import FILES, FORMATS, files_for, spec_options
from gradegen.documents.items import DocumentPlan
from gradegen.documents.notes import dead_units
from gradegen.documents.numbers import Numbers, Slots, precision_text, slot
from gradegen.documents.page import Format, Page, PracticeFinder
from gradegen.documents.plan import build_plan

# --------------------------------------------------------------------------- plans

_PLANS: dict[tuple[Any, ...], tuple[Graph, DocumentPlan]] = {}


def plan_for(
    spec: Spec, graph: Graph, zero: frozenset[str] = frozenset(), dead: frozenset[str] = frozenset()
) -> DocumentPlan:
    """The graph's :class:`DocumentPlan` (``zero``: the quantities that are 0 in every variant;
    ``dead``: the ReLU units dead in every variant), built on first use and reused for every variant."""
    key = (id(graph), zero, dead, spec.documents, spec.steps)  # the plan follows the documents' choices
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is graph:
        return hit[1]
    plan = build_plan(spec, graph, zero, dead)
    if len(_PLANS) >= 16:  # a few graphs at a time; keep memory bounded in long sessions
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[key] = (graph, plan)
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
    practice: PracticeFinder | None = None,
) -> dict[str, str]:
    """Every file of one variant (``index`` of an evaluated batch): file name → text.

    ``student`` is the id pre-filled in answers.yaml; the documents show ``name (student)``.
    ``files`` selects some of :data:`FILES` (default all, and network-values.svg when the spec
    asks for the values diagram). ``compiled=False`` renders the
    templates for this variant alone: the reference the compiled documents are tested against.

    Pure: reads values only, so a batch evaluated once renders any number of variants.
    """
    render = Renderer(
        spec, graph, exact, hand, asked, exact_mode=exact_mode, templates=templates, files=files,
        compiled=compiled, practice=practice,
    )  # fmt: skip
    return {f: data.decode() for f, data in render(index, student, name).items()}


class Renderer:
    """Renders any variant of an evaluated batch as :func:`render_documents` does, each file as
    the UTF-8 bytes to write; :meth:`block` prepares many for a worker process."""

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
        practice: PracticeFinder | None = None,
    ) -> None:
        self.spec, self.graph, self.exact, self.hand = spec, graph, exact, hand
        zero = fixed_quantities(spec, graph, exact.arrays).zero
        self.plan = plan_for(spec, graph, zero, dead_units(spec, graph, (exact, hand)))
        self.exact_mode = exact_mode
        self.env = environment(templates)
        wanted = set(FILES if files is None else files)
        if files is None:  # and what the spec's documents ask for (the values diagram)
            wanted.update(files_for(spec_options(spec)))
        self.wanted = tuple(f for fmt in FORMATS for f in fmt.files if f in wanted)
        self._finder = practice
        self._practice: Callable[[int], Mapping[str, Any]] | None = None
        formats = [fmt for fmt in FORMATS if wanted.intersection(fmt.files)]
        # Compiling is valid for the package's templates only (tested byte-identical to the
        # reference): user templates may compute with the numbers, so they get the real ones.
        compiles = compiled and templates is None
        self.compiled = tuple(fmt for fmt in formats if compiles and fmt.compiles)
        self.reference = tuple(fmt for fmt in formats if fmt not in self.compiled)
        self.asked = (
            tuple(asked)
            if asked is not None
            else tuple(n.id for n in graph.nodes if n.kind is not Kind.GIVEN)
        )

    @property
    def compiles(self) -> bool:
        """Whether every file is compiled: then :meth:`block` can hand variants to workers."""
        return not self.reference

    def __call__(self, index: int, student: str | None = None, name: str | None = None) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        if self.compiled:
            out.update(next(self.block(index, [(student, name)]).render()))
        if self.reference:
            texts = _reference(
                self.spec, self.plan, self.exact, self.hand, index, self.asked, self.exact_mode,
                self.env, _shown(student, name), student, self.reference, self._practice_of(index),
            )  # fmt: skip
            out.update((f, texts[f].encode()) for f in self.wanted if f in texts)
        return {f: out[f] for f in self.wanted}

    def _practice_of(self, index: int) -> Callable[[], Mapping[str, Any]] | None:
        """Variant ``index``'s practice data, worked out for the whole batch on first use."""
        finder = self._finder
        if finder is None:
            return None

        def data() -> Mapping[str, Any]:
            if self._practice is None:
                self._practice = finder(self.spec, self.graph, self.exact, self.hand, self.asked)
            return self._practice(index)

        return data

    def block(self, lo: int, students: Sequence[tuple[str | None, str | None]]) -> Block:
        """The compiled files of variants ``lo`` on, one per student (an (id, name) pair)."""
        hi = lo + len(students)
        if not 0 <= lo < hi <= self.exact.batch:
            raise ValueError(f"variants {lo} to {hi - 1} of a batch of {self.exact.batch}")
        rows = []
        documents: dict[tuple[str, ...], Compiled] = {}
        for student, name in students:
            shown = _shown(student, name)
            texts = {f"student:{fmt.name}": fmt.student(shown, student) for fmt in self.compiled}
            named = tuple(fmt.name for fmt in self.compiled if texts[f"student:{fmt.name}"])
            if named not in documents:
                documents[named] = self._compile(named)
            rows.append((named, texts))
        keys = dict.fromkeys(k for doc in documents.values() for k in doc.slot_keys())
        values = self.exact if self.exact_mode else self.hand
        given = bounds(self.spec, self.graph, self.exact, self.hand, keys, lo, hi)
        numbers = BlockNumbers.of(keys, values, self.exact_mode, lo, hi, given)
        return Block(documents, numbers, tuple(rows))

    def _compile(self, named: tuple[str, ...]) -> Compiled:
        """The compiled files, for students whom the formats ``named`` name (cached per graph)."""
        spec, plan = self.spec, self.plan
        # the spec's, as printed (its points beside the questions)
        text = (spec.title, spec.course, spec.instructions, spec.decimals, tuple(spec.points.items()))
        key: tuple[Any, ...] = (id(plan), self.exact_mode, self.asked, self.wanted, named, *text)
        hit = _COMPILED.get(key)
        if hit is not None and hit[0] is plan:
            return hit[1]
        page = Page(
            spec=spec,
            plan=plan,
            asked=self.asked,
            exact_mode=self.exact_mode,
            env=self.env,
            numbers=Slots(plan.graph, self.exact_mode),
            precision={q: precision_text(plan.graph, q, self.exact_mode) for q in self.asked},
            students={fmt.name: slot(f"student:{fmt.name}") if fmt.name in named else "" for fmt in FORMATS},
        )
        texts = _render_page(page, self.compiled)
        compiled = Compiled.of({f: texts[f] for f in self.wanted if f in texts})
        if len(_COMPILED) >= 16:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = (plan, compiled)  # holding the plan keeps its id from being reused
        return compiled


_COMPILED: dict[tuple[Any, ...], tuple[DocumentPlan, Compiled]] = {}


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
    env: jinja2.Environment,
    shown: str | None,
    student: str | None,
    formats: Sequence[Format] = FORMATS,
    practice: Callable[[], Mapping[str, Any]] | None = None,
) -> dict[str, str]:
    """Every file of one variant, its templates rendered with its own numbers."""
    numbers = Numbers(exact if exact_mode else hand, index, exact_mode)
    precision = {q: precision_text(plan.graph, q, exact_mode) for q in asked}
    page = Page(
        spec=spec,
        plan=plan,
        asked=tuple(asked),
        exact_mode=exact_mode,
        env=env,
        numbers=numbers,
        precision=precision,
        students={fmt.name: fmt.student(shown, student) for fmt in formats},
        key=lambda: make_key(spec, plan.graph, exact, hand, asked, index),
        practice=practice,
    )
    return _render_page(page, formats)


def _render_page(page: Page, formats: Sequence[Format]) -> dict[str, str]:
    files: dict[str, str] = {}
    for fmt in formats:
        files.update(fmt.render(page))
    return files


__all__ = ["FILES", "Renderer", "plan_for", "render_documents"]
