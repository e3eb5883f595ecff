"""Several training steps: losses and parameters against an independent gradient-descent loop."""

from __future__ import annotations

import numpy as np
import pytest
from tests_support import flat_parameters, numeric_gradient, reference_loss

from gradegen.core.spec import Spec
from gradegen.core.training import solve


def test_three_steps_match_plain_gradient_descent(mazur: Spec) -> None:
    """Each step's loss and the final parameters match descent with finite-difference gradients."""
    solution = solve(mazur, steps=3)
    flat = flat_parameters(mazur)
    n_weights = 8
    losses = []
    for _ in range(3):
        losses.append(reference_loss(mazur, flat)[0])
        grad = numeric_gradient(mazur, flat)
        grad[n_weights:] = 0.0  # the walkthrough does not update biases
        flat = flat - mazur.learning_rate * grad
    assert solution.history == pytest.approx(losses, rel=1e-9)
    final = [solution.final[f"w{k}"] for k in range(1, 9)] + [solution.final["b1"], solution.final["b2"]]
    assert final == pytest.approx(list(flat), rel=1e-8)
    assert solution.history[2] < solution.history[1] < solution.history[0]


def test_one_step_reports_the_first_step(handout: Spec) -> None:
    """With one step the history is the loss before it, and final holds the updated parameters."""
    solution = solve(handout)
    assert solution.history == (pytest.approx(0.2748110832, abs=1e-10),)
    assert solution.final["w5"] == pytest.approx(0.4 - 0.0001 * 0.0821670406, abs=1e-12)
    data = solution.to_dict()
    assert set(data) == {"quantities", "hand", "history", "final"}
    assert data["hand"]["w5_new"] == 0.39999178


def test_steps_from_the_spec(handout: Spec) -> None:
    """A spec's own `steps` is used when none is asked for."""
    assert len(solve(handout.model_copy(update={"steps": 4})).history) == 4


def test_numeric_helper_is_sound(handout: Spec) -> None:
    """The test oracle itself gives finite gradients for the handout network."""
    flat = flat_parameters(handout)
    assert np.all(np.isfinite(numeric_gradient(handout, flat)))


def test_rows_are_what_solve_prints(handout: Spec) -> None:
    """Each row is id, symbol, formula over the parents' symbols and the value (the handout's numbers)."""
    solution = solve(handout)
    hand = {row[0]: row for row in solution.rows()}
    assert list(hand) == [n.id for n in solution.graph.nodes]
    assert hand["z_h1"] == ("z_h1", "z_h1", "x1·w1 + x2·w2 + b1", "0.3775")
    assert hand["dL_dw5"] == ("dL_dw5", "∂L/∂w5", "∂L/∂z_out·a_h1", "0.0822")
    assert hand["w5_new"] == ("w5_new", "new w5", "w5 − η·∂L/∂w5", "0.39999178")
    assert hand["x1"] == ("x1", "x1", "", "0.05")  # a given has no formula
    exact = {row[0]: row for row in solution.rows(exact=True)}
    assert float(exact["w5_new"][3]) == pytest.approx(0.40 - 0.0001 * 0.08216704, abs=1e-12)
