"""Compiled documents, checked against the plain one-variant way.

(keys.json no longer has a fast path of its own: its tests are in test_classkeys.py.)"""

from __future__ import annotations

import pytest
from conftest import deep_softmax_data
from shapes import shape

from gradegen.core.options import Style, with_documents
from gradegen.core.rounding import format_number, round_to
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.compiled import Template
from gradegen.documents.formats import FILES
from gradegen.documents.numbers import math_number, printed, slot
from gradegen.documents.render import render_documents
from gradegen.variants.draw import VariantSet, make_variants

NAMES = ["Ann O'Neil", "50% #1 {x}_y", "Zoë", "v004", "*bold* $x$", "Bo"]


def _spec(name: str) -> Spec:
    return parse_spec(deep_softmax_data()) if name == "deep_softmax" else preset(name)


def _class(name: str, ask: str | None = None, style: Style = Style.FULL) -> VariantSet:
    ids = [f"s{k}" for k in range(len(NAMES))]
    return make_variants(with_documents(_spec(name), style=style), ids, seed="compiled", asked=ask)


@pytest.mark.parametrize("style", [Style.FULL, Style.MATRIX])
@pytest.mark.parametrize("name", ["handout", "mazur", "deep_softmax"])
@pytest.mark.parametrize("exact_mode", [False, True])
def test_compiled_documents_equal_the_reference_render(name: str, exact_mode: bool, style: Style) -> None:
    """For several variants, in each style, filling the compiled documents gives every file the
    reference render (templates rendered with that variant's own numbers) gives, byte for byte."""
    variants = _class(name, style=style)
    for i, student in enumerate(variants.ids):
        args = (variants.spec_for(i), variants.graph, variants.exact, variants.hand, i, variants.asked)
        kwargs = {"exact_mode": exact_mode, "student": student, "name": NAMES[i]}
        compiled = render_documents(*args, **kwargs)  # type: ignore[arg-type]
        reference = render_documents(*args, **kwargs, compiled=False)  # type: ignore[arg-type]
        assert tuple(compiled) == FILES
        for file in FILES:
            assert compiled[file] == reference[file], (name, student, file)


@pytest.mark.parametrize("name", ["handout", "3-4-3-3"])
@pytest.mark.parametrize("exact_mode", [False, True])
def test_compact_documents_compile_to_the_reference_render(name: str, exact_mode: bool) -> None:
    """The compact style's tables go through the slots: for several variants every file,
    the HTML solution's tables too, is the reference render's, byte for byte."""
    spec = with_documents(preset("handout") if name == "handout" else shape(name), style="compact")
    variants = make_variants(spec, [f"s{k}" for k in range(3)], seed="compiled")
    files = (*FILES, "solution.html")
    for i, student in enumerate(variants.ids):
        args = (variants.spec_for(i), variants.graph, variants.exact, variants.hand, i, variants.asked)
        kwargs = {"exact_mode": exact_mode, "student": student, "name": NAMES[i], "files": files}
        compiled = render_documents(*args, **kwargs)  # type: ignore[arg-type]
        assert compiled == render_documents(*args, **kwargs, compiled=False)  # type: ignore[arg-type]
        assert "<table>" in compiled["solution.html"] and "longtable" in compiled["solution.tex"]


def test_compiled_documents_follow_the_questions_asked_and_an_anonymous_student() -> None:
    """Asking some questions, and no student at all, compile to the reference's files too."""
    variants = _class("mazur", "loss,updates")
    for i in range(len(variants)):
        args = (variants.spec, variants.graph, variants.exact, variants.hand, i, variants.asked)
        files = ("worksheet.md", "worksheet.tex", "answers.yaml")
        compiled = render_documents(*args, files=files)
        assert compiled == render_documents(*args, files=files, compiled=False)


def test_files_selects_what_is_rendered() -> None:
    """``files=`` returns just those files, in the order of FILES."""
    variants = _class("handout")
    args = (variants.spec, variants.graph, variants.exact, variants.hand, 1, variants.asked)
    files = render_documents(*args, files=["network.svg", "solution.md"])
    assert tuple(files) == ("solution.md", "network.svg")
    assert tuple(render_documents(*args, files=["key.json"])) == ("key.json",)


def test_template_fills_slots_and_keeps_literal_text() -> None:
    """Slots take their texts by key, in order; %, braces and non-ASCII text survive as UTF-8."""
    template = Template(f"a {slot('t:x')} 50% {{b}} {slot('student:latex')} {slot('o:y')} σ {slot('t:x')}.")
    assert template.keys == ("t:x", "student:latex", "o:y", "t:x")
    texts = {"t:x": b"1", "o:y": b"(-2)", "student:latex": "Zoë".encode()}
    assert template.fill(texts) == "a 1 50% {b} Zoë (-2) σ 1.".encode()
    assert Template(f"one {slot('t:x')}").fill({"t:x": b"7"}) == b"one 7"
    assert Template("none").fill({}) == b"none"


def test_a_block_renders_the_same_after_pickling() -> None:
    """A block of students (what a worker process is sent) pickles, and renders after the round
    trip what rendering each student alone gives."""
    import pickle

    from gradegen.documents.generate import CLASS_FILES
    from gradegen.documents.render import Renderer

    variants = _class("deep_softmax", "loss,output_gradients")
    args = (variants.spec, variants.graph, variants.exact, variants.hand, variants.asked)
    renderer = Renderer(*args, files=CLASS_FILES)
    students = [(student, NAMES[i]) for i, student in enumerate(variants.ids)]
    block = pickle.loads(pickle.dumps(renderer.block(2, students[2:5])))
    for i, files in enumerate(block.render(), start=2):
        assert files == renderer(i, *students[i])
    one = Template(f"x {slot('t:a')}")
    assert pickle.loads(pickle.dumps(one)).fill({"t:a": b"1"}) == b"x 1"


def test_a_student_whose_name_escapes_to_nothing_is_compiled_like_the_reference() -> None:
    """A student shown as blank space gets no "Student:" line in either way of rendering, while
    answers.yaml still carries the id."""
    variants = _class("handout")
    args = (variants.spec, variants.graph, variants.exact, variants.hand, 0, variants.asked)
    compiled = render_documents(*args, student="  ")
    assert compiled == render_documents(*args, student="  ", compiled=False)
    assert "Student:" not in compiled["solution.md"]
    assert 'student: "  "' in compiled["answers.yaml"]


@pytest.mark.parametrize("seed", range(5))
def test_printed_numbers_are_format_number_of_rounded_values(seed: int) -> None:
    """The one number formatter prints a value rounded to its places as format_number does (with
    an ASCII minus), negatives and zeros of either sign included; without places, as given."""
    import numpy as np

    rng = np.random.default_rng(seed)
    places = rng.integers(0, 11, 500)
    xs = round_to(rng.normal(0, 10.0 ** -rng.integers(0, 6, 500)), places)
    xs[:6] = [0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5]
    expected = [math_number(format_number(x, p)) for x, p in zip(xs.tolist(), places.tolist(), strict=True)]
    assert printed(xs.tolist(), places.tolist()) == expected
    assert printed([0.37, -0.25, 1e-7], None) == ["0.37", "-0.25", "0.0000001"]
