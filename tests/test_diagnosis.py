"""Diagnosis: each mistake, carried by a submission built from the handout (or 2-2-2) network.

Every mistaken value is derived by hand in the test from the network's numbers (or from the
2-2-2 walkthrough's published values), never from gradegen's own output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradegen.core.key import askable, solve_key
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec
from gradegen.grading.diagnosis import EXPLANATIONS, PRECEDENCE, Mistake, variant_graphs
from gradegen.grading.grade import grade
from gradegen.grading.results import Verdict
from gradegen.grading.submissions import Submissions

# The handout's hand values (its worked solution)
Z_H1, A_H1, A_H2, Z_OUT, A_OUT = 0.3775, 0.5933, 0.5969, 1.1059, 0.7514
DL_DA_OUT, SIG_OUT, DL_DZ_OUT, DL_DW5 = 0.7414, 0.1868, 0.1385, 0.0822
LR, W5 = 0.0001, 0.40


def diagnose(spec: Spec, answers: dict[str, Any]) -> dict[str, tuple[Verdict, str | None]]:
    """The verdict and diagnosis of each answer, against a key of the spec asking every quantity."""
    table = Submissions()
    table.add_record("ana", "ana.yaml", answers, [])
    student = grade(solve_key(spec, askable(build_graph(spec))), table).student(0)
    return {
        q: (item.verdict, item.diagnosis.value if item.diagnosis else None)
        for q, item in student.items.items()
        if q in answers
    }


def sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


HANDOUT_CASES: list[tuple[Mistake, str, float]] = [
    (Mistake.SIGN_ERROR, "dL_dw5", -DL_DW5),
    (Mistake.ADDED_GRADIENT, "w5_new", W5 + LR * DL_DW5),
    (Mistake.MISSING_LEARNING_RATE, "w5_new", W5 - DL_DW5),
    # the chain without σ′: ∂L/∂ŷ · a_h1
    (Mistake.MISSING_ACTIVATION_DERIVATIVE, "dL_dw5", DL_DA_OUT * A_H1),
    (Mistake.MISSING_ACTIVATION_DERIVATIVE, "da_out_dz_out", 1.0),
    # σ′ as z(1 − z), and as σ(z)(1 − z)
    (Mistake.WRONG_ACTIVATION_DERIVATIVE, "da_out_dz_out", Z_OUT * (1 - Z_OUT)),
    (Mistake.WRONG_ACTIVATION_DERIVATIVE, "da_h1_dz_h1", A_H1 * (1 - Z_H1)),
    (Mistake.WRONG_ACTIVATION_DERIVATIVE, "dL_dw5", DL_DA_OUT * A_OUT * (1 - Z_OUT) * A_H1),
    # z where a belongs: in a gradient, in the loss, in the output's sum
    (Mistake.USED_PREACTIVATION, "dL_dw5", DL_DZ_OUT * Z_H1),
    (Mistake.USED_PREACTIVATION, "loss", 0.5 * (0.01 - Z_OUT) ** 2),
    (Mistake.USED_PREACTIVATION, "dL_da_out", Z_OUT - 0.01),
    (Mistake.USED_PREACTIVATION, "z_out", Z_H1 * 0.40 + 0.3925 * 0.45 + 0.60),
    # ∂L/∂b1 from h1 only: the handout's own 0.0134
    (Mistake.BIAS_NOT_SUMMED, "dL_db1", DL_DZ_OUT * 0.40 * 0.2413),
    (Mistake.BIAS_NOT_SUMMED, "dL_db1", DL_DZ_OUT * 0.45 * 0.2406),
    # the ½ lost, or doubled
    (Mistake.LOSS_FACTOR, "loss", (0.01 - A_OUT) ** 2),
    (Mistake.LOSS_FACTOR, "loss", 0.25 * (0.01 - A_OUT) ** 2),
    (Mistake.LOSS_FACTOR, "dL_da_out", 2 * (A_OUT - 0.01)),
    (Mistake.DECIMAL_SLIP, "dL_dw5", 0.822),
    (Mistake.DECIMAL_SLIP, "dL_dw1", 0.0067),
    # every intermediate rounded to 2 places: z_h1 0.38 → a_h1 0.59, a_h2 0.60, z_out 1.11 → ŷ 0.75,
    # ∂L/∂ŷ 0.74, σ′ 0.19, δ_out 0.14, ∂L/∂a_h1 0.06, σ′_h1 0.24, δ_h1 0.01, so ∂L/∂w1 = 0.01 × 0.05
    (Mistake.EARLY_ROUNDING, "dL_dw1", 0.01 * 0.05),
]


@pytest.mark.parametrize(("code", "item", "answer"), HANDOUT_CASES)
def test_each_mistake_on_the_handout(handout: Spec, code: Mistake, item: str, answer: float) -> None:
    """A submission carrying exactly one mistake gets that mistake's code."""
    assert diagnose(handout, {item: answer})[item] == (Verdict.INCORRECT, code.value)


def test_used_updated_weight_on_the_222_network(mazur: Spec) -> None:
    """∂L/∂a_h1 computed with the updated w5 and w7 (η = 0.5), from the walkthrough's published values."""
    delta_o1, delta_o2 = 0.138498562, -0.038098236
    w5_new, w7_new = 0.35891648, 0.511301270
    right = delta_o1 * 0.40 + delta_o2 * 0.50
    mistaken = delta_o1 * w5_new + delta_o2 * w7_new
    result = diagnose(mazur, {"dL_da_h1": mistaken, "dL_dw5": 0.082167041})
    assert result["dL_da_h1"] == (Verdict.INCORRECT, "used_updated_weight")
    assert diagnose(mazur, {"dL_da_h1": right})["dL_da_h1"] == (Verdict.CORRECT, None)


def test_unexplained_mistake_has_no_diagnosis(handout: Spec) -> None:
    """A wrong answer that no mistake explains is incorrect with diagnosis null."""
    assert diagnose(handout, {"dL_dw5": 0.05})["dL_dw5"] == (Verdict.INCORRECT, None)


def test_precedence_and_explanations() -> None:
    """Every code has a one-sentence explanation and a place in the precedence order."""
    assert set(PRECEDENCE) == set(Mistake)
    for code in Mistake:
        text = EXPLANATIONS[code]
        assert text.endswith(".") and text.count(". ") == 0


def test_precedence_decides_between_matches(handout: Spec) -> None:
    """An update that is both w + η·g and a step of the wrong sign is reported as added_gradient."""
    assert diagnose(handout, {"w5_new": W5 + LR * DL_DW5})["w5_new"][1] == "added_gradient"


def test_variants_are_graphs_with_the_same_ids(handout: Spec, deep_softmax: Spec) -> None:
    """Each structural mistake is a variant graph over the same quantity ids, for any network."""
    for spec in (handout, deep_softmax):
        graph = build_graph(spec)
        variants = variant_graphs(graph, spec)
        assert variants
        for variant in variants:
            assert set(variant.graph.ids) == set(graph.ids)
            assert variant.swapped and set(variant.swapped) <= set(graph.ids)
            values = variant.graph.evaluate()
            assert set(values.arrays) == set(graph.ids)


def test_diagnosis_is_batched(handout: Spec) -> None:
    """Many students with different mistakes are diagnosed in one run, each with their own code."""
    table = Submissions()
    answers = [-DL_DW5, 0.822, DL_DZ_OUT * Z_H1, DL_DW5, 0.05]
    for i, value in enumerate(answers):
        table.add_record(f"s{i}", f"s{i}.yaml", {"dL_dw5": value}, [])
    results = grade(handout, table)
    codes = [results.student(i).items["dL_dw5"].diagnosis for i in range(len(answers))]
    assert [c.value if c else None for c in codes] == [
        "sign_error",
        "decimal_slip",
        "used_preactivation",
        None,
        None,
    ]


def test_no_diagnosis_from_a_mistake_the_student_did_not_make(handout: Spec) -> None:
    """A variant whose mistake lies upstream, where the student answered right, does not explain a
    downstream slip: ∂L/∂w1 written as 0.0007 (too coarsely rounded) by a student whose z_out and ŷ
    are right is not `used_preactivation`, although that variant happens to give 0.000693."""
    answers = {"z_out": Z_OUT, "a_out": A_OUT, "dL_dw1": 0.0007}
    verdict, code = diagnose(handout, answers)["dL_dw1"]
    assert verdict is Verdict.INCORRECT and code != "used_preactivation"


def test_missing_derivative_in_the_chain_with_sigma_prime_right(handout: Spec) -> None:
    """σ′ computed right but left out of the chain: ∂L/∂w5 = ∂L/∂ŷ · a_h1 is still diagnosed."""
    answers = {"da_out_dz_out": SIG_OUT, "dL_dw5": DL_DA_OUT * A_H1}
    assert diagnose(handout, answers)["dL_dw5"] == (Verdict.INCORRECT, "missing_activation_derivative")
