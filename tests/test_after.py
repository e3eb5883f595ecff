"""After the update: the forward pass with the new parameters, the new loss and its decrease."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import deep_softmax_data
from tests_support import flat_parameters, numeric_gradient, reference_loss

from gradegen.core.classkeys import ClassKeys
from gradegen.core.graph import Group, Kind, Role
from gradegen.core.key import default_questions, resolve_ask, solve_key
from gradegen.core.network import fixed_quantities
from gradegen.core.options import Style, with_documents
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.core.steps import shown_steps
from gradegen.core.training import evaluate_spec
from gradegen.documents.render import render_documents
from gradegen.errors import GradegenError
from gradegen.grading.grade import grade
from gradegen.grading.results import Verdict
from gradegen.grading.submissions import Submissions
from gradegen.variants.draw import keys_document, make_variants

MAZUR_AFTER = 0.291027924
"""Matt Mazur's published total error after the first round of backpropagation."""

MAZUR_BEFORE = 0.298371109
"""His total error before it."""


def _new_flat(spec: Spec) -> np.ndarray:
    """The parameters after one step, from the engine's exact gradients (w1…, b1…)."""
    graph, exact, _ = evaluate_spec(spec)
    flat = flat_parameters(spec)
    ids = graph.parameters
    updates = graph.updates
    return np.array([exact[updates[p]][0] if p in updates else flat[k] for k, p in enumerate(ids)])


def test_mazur_loss_after_one_update_is_his_published_figure() -> None:
    """On Mazur's 2-2-2 network the loss before and after one update are his figures to the 6
    decimals they agree to in float64 (his 0.291027924 is 1.5e-7 above the exact 0.2910277737,
    which his own rounded weights give too); by hand at 4 decimals the documents print 0.2910."""
    spec = preset("mazur")
    _, exact, hand = evaluate_spec(spec)
    assert round(float(exact["loss"][0]), 9) == MAZUR_BEFORE
    assert abs(float(exact["loss_after"][0]) - MAZUR_AFTER) < 2e-7
    assert round(float(exact["loss_after"][0]), 6) == round(MAZUR_AFTER, 6)
    assert hand.text("loss_after") == f"{MAZUR_AFTER:.4f}" == "0.2910"
    assert hand.text("loss_decrease") == "0.0074"
    solution = render_documents(spec, *evaluate_spec(spec))["solution.md"]
    assert "The loss went from $L = 0.2984$ to $L^{\\text{new}} = 0.2910$" in solution
    exact_solution = render_documents(spec, *evaluate_spec(spec), exact_mode=True)["solution.md"]
    assert "L^{\\text{new}} = 0.2910277737" in exact_solution


@pytest.mark.parametrize("name", ["handout", "mazur", "deep_softmax"])
def test_exact_values_after_the_update_equal_an_independent_forward_pass(name: str) -> None:
    """The exact loss and weighted sums after the update equal plain matrix numpy's on the
    updated parameters."""
    spec = parse_spec(deep_softmax_data()) if name == "deep_softmax" else preset(name)
    graph, exact, _ = evaluate_spec(spec)
    loss, zs = reference_loss(spec, _new_flat(spec))
    assert float(exact["loss_after"][0]) == pytest.approx(loss, rel=1e-12)
    assert float(exact["loss_decrease"][0]) == pytest.approx(float(exact["loss"][0]) - loss, rel=1e-9)
    after_zs = [n.id for n in graph if n.role is not None and n.role.value == "after_weighted_sum"]
    assert [float(exact[z][0]) for z in after_zs] == pytest.approx(np.concatenate(zs).tolist(), rel=1e-12)


def test_hand_values_after_the_update_use_the_hand_rounded_new_parameters() -> None:
    """By hand, z after the update is the sum over the printed new weights, rounded to the spec's
    decimals, as a student working from the update lines gets it."""
    spec = preset("mazur")
    _, _, hand = evaluate_spec(spec)
    x1, x2 = spec.inputs
    z = x1 * float(hand["w1_new"][0]) + x2 * float(hand["w2_new"][0]) + 0.35
    assert hand.text("z_h1_after") == f"{z:.4f}"
    a = 1 / (1 + np.exp(-float(hand["z_h1_after"][0])))
    assert hand.text("a_h1_after") == f"{a:.4f}"


def test_after_update_is_a_group_never_asked_by_default() -> None:
    """The default questions, and the key solve_key writes, are those of before (no after-update
    quantity); --ask after_update asks them all, in graph order."""
    spec = preset("mazur")
    graph, exact, _ = evaluate_spec(spec)
    fixed = fixed_quantities(spec, graph, exact.arrays).all
    assert not any(graph[q].kind is Kind.AFTER for q in default_questions(graph, fixed))
    assert not any(graph[q].kind is Kind.AFTER for q in solve_key(spec).asked)
    asked = resolve_ask(graph, "after_update", fixed)
    assert asked == tuple(n.id for n in graph if n.group is Group.AFTER_UPDATE)
    assert asked[-2:] == ("loss_after", "loss_decrease")


def test_a_cross_entropy_term_with_target_0_is_fixed_after_the_update_too() -> None:
    """A cross-entropy term whose target is 0 is 0 after the update as well: not asked."""
    data = deep_softmax_data()
    data["targets"] = [0.0, 1.0, 0.0]
    spec = parse_spec(data)
    graph, exact, _ = evaluate_spec(spec)
    zero = fixed_quantities(spec, graph, exact.arrays).zero
    terms = [n.id for n in graph if n.role is not None and n.role.value == "after_loss_term"]
    assert 0 in spec.targets
    for term, y in zip(terms, spec.targets, strict=True):
        assert (term in zero) == (y == 0)


@pytest.mark.parametrize("style", list(Style))
def test_every_style_ends_with_the_section(style: Style) -> None:
    """Whatever the style, the solution's last section before the summary is after the update."""
    spec = with_documents(preset("mazur"), style=style)
    solution = render_documents(spec, *evaluate_spec(spec))["solution.md"]
    headings = re.findall(r"^## (.+)$", solution, flags=re.MULTILINE)
    assert "After the update" in headings
    assert "\\Delta L = L - L^{\\text{new}} = 0.2984 - 0.2910 = 0.0074" in solution


@pytest.mark.parametrize("exact_mode", [False, True])
def test_compiled_after_update_documents_equal_the_reference(exact_mode: bool) -> None:
    """With the after-update questions asked, compiled files equal the reference render."""
    variants = make_variants(preset("mazur"), ["a", "b", "c"], seed="after", asked="after_update,loss")
    for i in range(len(variants)):
        args = (variants.spec_for(i), variants.graph, variants.exact, variants.hand, i, variants.asked)
        compiled = render_documents(*args, exact_mode=exact_mode)
        assert compiled == render_documents(*args, exact_mode=exact_mode, compiled=False)


def test_an_after_update_answer_is_graded_from_a_class_key() -> None:
    """keys.json holds the after-update values when they are asked, and grading marks each
    student's right answers correct and a slip in the new loss not correct."""
    variants = make_variants(preset("mazur"), ["s1", "s2"], seed="after", asked="updates,after_update")
    keys = ClassKeys.from_data(keys_document(variants))
    table = Submissions()
    for i, student in enumerate(variants.ids):
        answers = {q: float(variants.hand[q][i]) for q in variants.asked}
        if i == 1:
            answers["loss_after"] += 0.05
        table.add_record(student, f"{student}.yaml", answers, [])
    results = grade(keys, table)
    first, second = results.student(0), results.student(1)
    assert "loss_after" in first.items and "z_h1_after" in first.items
    assert {item.verdict for item in first.items.values()} == {Verdict.CORRECT}
    assert second.items["loss_after"].verdict is not Verdict.CORRECT
    assert second.items["z_o1_after"].verdict is Verdict.CORRECT


# --------------------------------------------------------------------------- several steps


def _independent_training(spec: Spec, steps: int) -> tuple[list[float], np.ndarray]:
    """Losses after 0 … steps updates and the final parameters: gradient descent with central
    differences of the plain numpy network's loss, no graph involved."""
    flat = flat_parameters(spec)
    nw = sum(layer.size * len(layer.weights[0]) for layer in spec.layers)
    losses = [reference_loss(spec, flat)[0]]
    for _ in range(steps):
        grad = numeric_gradient(spec, flat, h=1e-7)
        if not spec.update_biases:
            grad[nw:] = 0.0
        flat = flat - spec.learning_rate * grad
        losses.append(reference_loss(spec, flat)[0])
    return losses, flat


def test_the_steps_nodes_equal_an_independent_training_loop() -> None:
    """With steps: 4 on Mazur's network, the loss after each step and the final parameters equal
    a loop of finite-difference gradient descent on the plain numpy network; one step has none."""
    spec = with_documents(preset("mazur"), steps=4)
    graph, exact, _ = evaluate_spec(spec)
    losses, flat = _independent_training(spec, 4)
    shown = [float(exact["loss"][0]), float(exact["loss_after"][0])]
    shown += [float(exact[n.id][0]) for n in graph.with_role(Role.STEP_LOSS)]
    assert shown == pytest.approx(losses, rel=1e-7)
    finals = [float(exact[n.id][0]) for n in graph.with_role(Role.FINAL_PARAMETER)]
    assert finals == pytest.approx(flat.tolist(), rel=1e-7)
    assert not evaluate_spec(preset("mazur"))[0].with_role(Role.STEP_LOSS)


def test_many_steps_show_a_sample_ending_at_the_last() -> None:
    """Past 20 steps the loss is a node at a sample of steps: 2 first, N last, at most 20."""
    assert shown_steps(3) == (2, 3)
    sample = shown_steps(1000)
    assert sample[0] == 2 and sample[-1] == 1000 and len(sample) <= 20
    assert list(sample) == sorted(set(sample))


def test_the_appendix_prints_each_steps_loss_and_compiles_like_the_reference() -> None:
    """The solution's appendix prints the steps' values at decimals + 2 (float64, rounded once),
    and the compiled files with the steps asked equal the reference render."""
    spec = with_documents(preset("mazur"), steps=3)
    _, exact, _ = evaluate_spec(spec)
    solution = render_documents(spec, *evaluate_spec(spec))["solution.md"]
    assert "## Appendix: 3 steps of training" in solution
    assert f"| $3$ | ${float(exact['loss_step3'][0]):.6f}$ |" in solution  # the table of losses
    assert f"| $w_{{1}}$ | ${float(exact['w1_final'][0]):.6f}$ |" in solution  # and of parameters
    variants = make_variants(spec, ["a", "b"], seed="steps", asked="steps,loss")
    for i in range(len(variants)):
        args = (variants.spec_for(i), variants.graph, variants.exact, variants.hand, i, variants.asked)
        assert render_documents(*args) == render_documents(*args, compiled=False)


def test_a_steps_answer_is_graded_from_a_class_key() -> None:
    """keys.json holds the steps' values when asked; a right loss after 3 steps is correct and
    the default questions stay those of one step."""
    spec = with_documents(preset("mazur"), steps=3)
    graph = evaluate_spec(spec)[0]
    assert not any(graph[q].group is Group.STEPS for q in solve_key(spec).asked)
    variants = make_variants(spec, ["s1", "s2"], seed="steps", asked="steps")
    keys = ClassKeys.from_data(keys_document(variants))
    table = Submissions()
    for i, student in enumerate(variants.ids):
        answers = {q: float(variants.hand[q][i]) for q in variants.asked}
        answers["loss_step3"] += 0.01 * i
        table.add_record(student, f"{student}.yaml", answers, [])
    results = grade(keys, table)
    assert results.student(0).items["loss_step3"].verdict is Verdict.CORRECT
    assert results.student(0).items["w8_final"].verdict is Verdict.CORRECT
    assert results.student(1).items["loss_step3"].verdict is not Verdict.CORRECT


def test_outside_the_full_style_the_layers_after_the_update_are_values_only() -> None:
    """In the compact and matrix styles each layer's values after the update are given in one
    paragraph (the work is as in the forward pass); the loss and its decrease are worked out."""
    spec = with_documents(parse_spec(deep_softmax_data()), style=Style.COMPACT)
    _, _, hand = evaluate_spec(spec)
    solution = render_documents(spec, *evaluate_spec(spec))["solution.md"]
    after = solution[solution.index("## After the update") :]
    assert f"$a_{{h1,1}}^{{\\text{{new}}}} = {hand.text('a_h1_1_after')}$" in after
    assert "$$a_{h1,1}^{\\text{new}}" not in after
    assert "$$z_{o1}^{\\text{new}}" not in after and "$$\\Delta L" in after


def test_asking_the_steps_of_a_single_step_is_refused() -> None:
    """--ask steps on a spec of one step asks nothing: refused with the reason, not an empty key."""
    spec = preset("mazur")
    graph = evaluate_spec(spec)[0]
    with pytest.raises(GradegenError, match=r"asks no quantity.*steps: N > 1"):
        resolve_ask(graph, "steps")
