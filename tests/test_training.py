"""Several training steps: losses and parameters against an independent gradient-descent loop."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from tests_support import flat_parameters, numeric_gradient, reference_loss

from gradegen.core.spec import MAX_STEPS, Spec, load_spec, parse_spec
from gradegen.core.training import solve
from gradegen.errors import GradegenError, SpecError


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


def _first_overflow_of_step(spec: Spec) -> str | None:
    """The first weighted sum of the handout network that overflows, by plain float64 arithmetic
    (z_h1, z_h2, then z_out over the sigmoids of the first two), or None."""
    (x1, x2), b1, b2 = spec.inputs, spec.layers[0].bias, spec.layers[1].bias
    (w1, w2), (w3, w4) = spec.layers[0].weights
    ((w5, w6),) = spec.layers[1].weights
    assert isinstance(b1, float) and isinstance(b2, float)
    with np.errstate(all="ignore"):
        z_h1 = np.float64(x1) * w1 + np.float64(x2) * w2 + b1
        z_h2 = np.float64(x1) * w3 + np.float64(x2) * w4 + b1
        z_out = w5 / (1 + np.exp(-z_h1)) + w6 / (1 + np.exp(-z_h2)) + np.float64(b2)
    return next(
        (name for name, z in (("z_h1", z_h1), ("z_h2", z_h2), ("z_out", z_out)) if not np.isfinite(z)), None
    )


@pytest.mark.parametrize(
    ("change", "first"),
    [
        (
            lambda d: (
                d.update(inputs=[10.0, 10.0]) or d["layers"][0].update(weights=[[1e308, 1e308], [0.2, 0.3]])
            ),
            "z_h1",
        ),
        (
            lambda d: (
                d.update(inputs=[10.0, 10.0]) or d["layers"][0].update(weights=[[0.1, 0.2], [1e308, 1e308]])
            ),
            "z_h2",
        ),
        (lambda d: d["layers"][1].update(weights=[[1.7e308, 1.7e308]]), "z_out"),
    ],
)
def test_a_spec_whose_step_overflows_is_refused_naming_the_first_quantity(
    write: Any, handout: Spec, change: Any, first: str
) -> None:
    """A spec whose forward pass leaves float64 is refused on loading, naming the first quantity in
    graph order that overflows (worked out here by plain float64 arithmetic), on one line."""
    data = handout.to_data()
    change(data)
    assert _first_overflow_of_step(parse_spec(data)) == first
    path = write("net.json", json.dumps(data))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {first} (weighted sum into ")
    assert "overflows to +inf" in message and "\n" not in message
    with pytest.raises(SpecError, match=f"^spec: {first} "):
        solve(parse_spec(data))  # a spec made in Python is checked when it is solved


def test_an_update_that_overflows_is_named() -> None:
    """When only η·∂L/∂w leaves float64, the forward pass and gradients being finite, the step is
    named: z = x·w = 1e150, ∂L/∂w = z·x = 1e300, η·∂L/∂w = 1e310 (while ∂L/∂b·η = 1e160)."""
    import math

    x, w, rate = 1e150, 1.0, 1e10
    assert math.isfinite(x * w * x) and not math.isfinite(w - rate * (x * w * x))
    assert math.isfinite(0.0 - rate * (x * w))
    data = {"inputs": [x], "targets": [0.0], "learning_rate": rate,
            "layers": [{"activation": "linear", "weights": [[w]], "bias": 0.0}]}  # fmt: skip
    with pytest.raises(SpecError, match=r"^spec: step_w1 \(.*\) overflows to \+inf"):
        solve(parse_spec(data))


def test_nan_is_named_as_not_a_number(handout: Spec) -> None:
    """inf − inf gives NaN, which is reported as not a number, naming where it first appears."""
    spec = handout.model_copy(update={"inputs": (1e308, 1e308)})
    layers = list(spec.layers)
    layers[0] = layers[0].model_copy(update={"weights": ((10.0, -10.0), (0.25, 0.30))})
    with pytest.raises(SpecError, match=r"^spec: z_h1 \(weighted sum into h1\) is not a number \(NaN\)"):
        solve(spec.model_copy(update={"layers": tuple(layers)}))


def test_a_diverging_run_is_refused_at_the_step_that_overflows() -> None:
    """Several steps of a run that diverges stop at the first step whose values overflow, naming the
    step and quantity, as a plain gradient-descent loop finds them (x = 1, y = 0: z = w + b,
    L = ½z², ∂L/∂w = ∂L/∂b = z)."""
    import math

    data = {"inputs": [1.0], "targets": [0.0], "learning_rate": 1e10, "steps": 1,
            "layers": [{"activation": "linear", "weights": [[1.0]], "bias": 0.0}]}  # fmt: skip
    w, b, step = 1.0, 0.0, 0
    while True:
        step += 1
        z = w + b
        order = (("z_out", z), ("loss", 0.5 * z * z), ("w1_new", w - 1e10 * z), ("b1_new", b - 1e10 * z))
        first = next((name for name, value in order if not math.isfinite(value)), None)
        if first is not None:
            break
        w, b = w - 1e10 * z, b - 1e10 * z
    spec = parse_spec(data)
    assert len(solve(spec, steps=step - 1).history) == step - 1
    with pytest.raises(SpecError, match=f"^spec: step {step}: {first} "):
        solve(spec, steps=step)


@pytest.mark.parametrize("steps", [0, -1, 10_001, 10**22, True])
def test_steps_are_bounded(handout: Spec, steps: int) -> None:
    """The number of steps is 1 to MAX_STEPS, checked before any work (10^22 returns at once)."""
    with pytest.raises(GradegenError, match="--steps: expected a whole number from 1 to 10,000"):
        solve(handout, steps=steps)


def test_the_step_bound_is_the_specs() -> None:
    """solve --steps and the spec's own steps share one bound."""
    assert MAX_STEPS == Spec.model_fields["steps"].metadata[-1].le == 10_000
