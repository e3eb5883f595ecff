"""Compiled documents, checked against the plain one-variant way.

(keys.json no longer has a fast path of its own: its tests are in test_classkeys.py.)"""

from __future__ import annotations

import pytest
from conftest import deep_softmax_data

from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.render import FILES, render_documents
from gradegen.documents.slots import Template, slot
from gradegen.variants.draw import VariantSet, make_variants

NAMES = ["Ann O'Neil", "50% #1 {x}_y", "Zoë", "v004", "*bold* $x$", "Bo"]


def _spec(name: str) -> Spec:
    return parse_spec(deep_softmax_data()) if name == "deep_softmax" else preset(name)


def _class(name: str, ask: str | None = None) -> VariantSet:
    ids = [f"s{k}" for k in range(len(NAMES))]
    return make_variants(_spec(name), ids, seed="compiled", asked=ask)


@pytest.mark.parametrize("name", ["handout", "mazur", "deep_softmax"])
@pytest.mark.parametrize("exact_mode", [False, True])
def test_compiled_documents_equal_the_reference_render(name: str, exact_mode: bool) -> None:
    """For several variants, filling the compiled documents gives every file the reference
    render (templates rendered with that variant's own numbers) gives, byte for byte."""
    variants = _class(name)
    for i, student in enumerate(variants.ids):
        args = (variants.spec_for(i), variants.graph, variants.exact, variants.hand, i, variants.asked)
        kwargs = {"exact_mode": exact_mode, "student": student, "name": NAMES[i]}
        compiled = render_documents(*args, **kwargs)  # type: ignore[arg-type]
        reference = render_documents(*args, **kwargs, compiled=False)  # type: ignore[arg-type]
        assert tuple(compiled) == FILES
        for file in FILES:
            assert compiled[file] == reference[file], (name, student, file)


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
    """Slots take their values in order; %, braces and the student marker survive as text."""
    template = Template(f"a {slot('t:x')} 50% {{b}} {slot('student')} {slot('o:y')}.")
    assert template.keys == ("t:x", "o:y")
    rows = template.rows({"t:x": [b"1"], "o:y": [b"(-2)"]}, 0, 1)
    assert template.fill(rows, b"Ann") == b"a 1 50% {b} Ann (-2)."
