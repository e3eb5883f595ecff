"""Expressions as a textbook writes them: n named, zero terms said rather than computed (and never
asked), ReLU derivatives as case distinctions printed 0 or 1, no −0 anywhere."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml
from test_render import check_lines
from tests_support import flat_parameters, reference_loss

from gradegen.core.key import resolve_ask
from gradegen.core.network import build_graph, fixed_quantities
from gradegen.core.spec import Spec, parse_spec
from gradegen.documents.render import render_documents
from gradegen.variants.draw import make_variants


def _spec(**changes: Any) -> Spec:
    data: dict[str, Any] = {
        "title": "t",
        "inputs": [0.5, -0.4],
        "targets": [0.2, 0.7],
        "layers": [
            {"activation": "relu", "weights": [[0.3, 0.8], [0.4, -0.2]], "bias": [0.1, -0.05]},
            {"activation": "leaky_relu", "weights": [[0.5, -0.3], [0.2, 0.6]], "bias": 0.1},
        ],
        "loss": "mse",
        "learning_rate": 0.1,
    }
    data.update(changes)
    return parse_spec(data)


ONE_HOT = {
    "targets": [0, 1, 0],
    "layers": [
        {"activation": "relu", "weights": [[0.3, 0.8], [0.4, -0.2]], "bias": [0.1, -0.05]},
        {"activation": "softmax", "weights": [[0.5, -0.3], [0.2, 0.6], [0.1, 0.1]], "bias": 0.1},
    ],
    "loss": "cross_entropy",
}
SIGMOID_ZERO = {
    "inputs": [0.5, 0.3],
    "targets": [0, 1],
    "layers": [
        {"activation": "tanh", "weights": [[0.3, 0.8], [0.4, -0.2]], "bias": [0.1, -0.05]},
        {"activation": "sigmoid", "weights": [[0.5, -0.3], [0.2, 0.6]], "bias": [0.1, 0.2]},
    ],
    "loss": "cross_entropy",
}


def _files(spec: Spec, exact_mode: bool = False) -> tuple[dict[str, str], tuple[str, ...]]:
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    asked = resolve_ask(graph, None, fixed_quantities(spec, graph, exact.arrays).all)
    return render_documents(spec, graph, exact, hand, 0, asked, exact_mode=exact_mode), asked


def test_mse_names_its_n() -> None:
    """Mean squared error over two outputs: the formulas say n, the loss line says n = 2, and the
    numbers put 2 in its place (∂L/∂ŷ₁ = 2/n (ŷ₁ − y₁) = 2/2 (…))."""
    solution = _files(_spec())[0]["solution.md"]
    assert (
        r"$L = \tfrac{1}{n}\sum_k (y_k - \hat{y}_k)^{2}$, where $n = 2$ is the number of outputs." in solution
    )
    assert r"= \tfrac{2}{n}(\hat{y}_{1} - y_{1}) = \tfrac{2}{2}(" in solution
    assert r"$$L = \tfrac{1}{n}(L_{o1} + L_{o2}) = \tfrac{1}{2}(" in solution
    check_lines(solution)


def test_relu_derivatives_are_case_distinctions_printed_as_0_and_1() -> None:
    """ReLU and leaky ReLU derivatives: 1 if z > 0, 0 (or the slope) if z ≤ 0, with z substituted
    (no parentheses), and the value printed as the exact 0, 1 or 0.01 it is, wherever it appears."""
    files, _ = _files(_spec())
    solution = files["solution.md"]
    # z_h1 = 0.5·0.3 − 0.4·0.8 + 0.1 = −0.07: the unit is off, its derivative 0
    assert (
        r"$$\frac{\partial a_{h1}}{\partial z_{h1}} = \begin{cases} 1 & \text{if } z_{h1} > 0 \\ "
        r"0 & \text{if } z_{h1} \le 0 \end{cases} = \begin{cases} 1 & \text{if } -0.0700 > 0 \\ "
        r"0 & \text{if } -0.0700 \le 0 \end{cases} = 0$$"
    ) in solution
    assert r"0.01 & \text{if } z_{o1} \le 0" in solution
    assert r"\frac{\partial a_{h1}}{\partial z_{h1}} = 0$." in solution  # recalled from above
    assert r"\times 1 = " in solution and r"\times 1.0000" not in solution
    assert "[" not in "".join(line for line in solution.splitlines() if line.startswith("$$"))
    check_lines(solution)


def test_no_negative_zero_is_printed() -> None:
    """A unit that is off makes exact −0.0 products (−0.2 × 0); no document prints −0."""
    spec = _spec()
    exact = build_graph(spec).evaluate()
    assert any(np.signbit(v[0]) and v[0] == 0 for v in exact.arrays.values())  # the case arises
    for exact_mode in (False, True):
        files, _ = _files(spec, exact_mode)
        for name in ("solution.md", "solution.tex", "key.md"):
            assert "(-0)" not in files[name] and "= -0$" not in files[name] and "-0 " not in files[name]


def test_a_cross_entropy_term_with_target_0_is_said_not_asked() -> None:
    """One-hot targets: the terms −y ln ŷ with y = 0 are 0 whatever ŷ is; the solution says so
    instead of "−0 ln 0.33 = 0", the sum leaves them out, and no question asks them."""
    spec = _spec(**ONE_HOT)
    files, asked = _files(spec)
    solution = files["solution.md"]
    assert "loss_o1" not in asked and "loss_o3" not in asked and "loss_o2" in asked and "loss" in asked
    assert r"$L_{o1} = -y_{1} \ln \hat{y}_{1} = 0$, since $y_{1} = 0$" in solution
    assert r"-0 \ln" not in solution
    loss = reference_loss(spec, flat_parameters(spec))[0]
    line = next(line for line in solution.splitlines() if line.startswith("$$L = "))
    assert line.startswith("$$L = L_{o1} + L_{o2} + L_{o3} = ")
    assert float(line.removesuffix("$$").rsplit(" = ", 1)[1]) == pytest.approx(loss, abs=1e-4)
    assert "loss_o1" not in yaml.safe_load(files["answers.yaml"])
    check_lines(solution)


def test_what_a_zero_target_makes_zero_is_never_asked() -> None:
    """Sigmoid outputs with cross-entropy and a target 0: ∂L/∂ŷ₁ = −y₁/ŷ₁, the delta, the
    gradients of the weights and bias into it are 0 and their updates leave them as they are: the
    solution says why, no worksheet or class asks them, and what remains still re-computes."""
    spec = _spec(**SIGMOID_ZERO)
    files, asked = _files(spec)
    zero = {"loss_o1", "dL_da_o1", "dL_dz_o1", "dL_dw5", "dL_dw6", "dL_db3", "w5_new", "w6_new", "b3_new"}
    assert not zero & set(asked)
    assert {"dL_dw7", "w7_new", "dL_dw1"} <= set(asked)
    solution = files["solution.md"]
    assert (
        r"$\frac{\partial L}{\partial \hat{y}_{1}} = -\frac{y_{1}}{\hat{y}_{1}} = 0$, since $y_{1} = 0$"
        in solution
    )
    said = r"Its gradient is 0, so $w_{5}$ stays as it is: $w_{5}^{\text{new}} = "
    assert float(solution.split(said, 1)[1].split("$", 1)[0]) == 0.5
    # ∂L/∂a_h1 sums over both outputs; the zero path through o1 is left out of the numbers
    line = next(s for s in solution.splitlines() if s.startswith(r"$$\frac{\partial L}{\partial a_{h1}} = "))
    assert (
        r"\frac{\partial L}{\partial z_{o1}} \cdot w_{5} + \frac{\partial L}{\partial z_{o2}} \cdot w_{7}"
        in line
    )
    # one product in the numbers (a value's own "× 10^k" is its scientific notation, not a product)
    assert line.count(r"\times") - line.count(r"\times 10^") == 1
    check_lines(solution)
    assert not zero & set(make_variants(spec, ["a", "b"], seed="s").asked)


def test_a_constant_derivative_is_not_asked() -> None:
    """A linear output's ∂ŷ/∂z is 1 whatever the numbers: it is shown, never asked."""
    layers = [{"activation": "sigmoid", "weights": [[0.3, 0.8]], "bias": 0.1},
              {"activation": "linear", "weights": [[0.5]], "bias": 0.2}]  # fmt: skip
    spec = _spec(inputs=[0.5, -0.4], targets=[0.3], layers=layers, loss="half_mse")
    files, asked = _files(spec)
    assert "da_out_dz_out" not in asked and "dL_dz_out" in asked
    assert r"$$\frac{\partial \hat{y}}{\partial z_{out}} = 1$$" in files["solution.md"]


def test_fixed_quantities_follow_zero_givens_only() -> None:
    """Only givens that are 0 in every variant make quantities fixed: a batch where one variant's
    target is not 0 fixes nothing of that target's."""
    spec = _spec(**SIGMOID_ZERO)
    graph = build_graph(spec)
    both_zero = fixed_quantities(spec, graph, {"y1": np.array([0.0, 0.0])})
    one_zero = fixed_quantities(spec, graph, {"y1": np.array([0.0, 0.4])})
    assert "dL_dw5" in both_zero.zero and "w5_new" in both_zero.constant
    assert "dL_dw5" not in one_zero.zero and not one_zero.constant - {"w5_new"} - both_zero.constant
