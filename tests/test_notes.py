"""The notes: each once, before the first line that needs it, only on networks that need it, off with
--no-notes; and their formulas are right (checked by finite differences, not by the code's own)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from shapes import shape
from test_render import evaluate, split_equals
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.functions import activation_rule
from gradegen.core.graph import Graph
from gradegen.core.key import resolve_ask
from gradegen.core.network import build_graph, fixed_quantities
from gradegen.core.options import Style, with_documents
from gradegen.core.spec import Activation, Spec, parse_spec, preset
from gradegen.documents.items import ChainEq, Para
from gradegen.documents.notes import Note, dead_units, notes
from gradegen.documents.plan import build_plan
from gradegen.documents.render import render_documents
from gradegen.escape import md_escape

H = 1e-6


def _spec(name: str) -> Spec:
    return preset(name) if name in ("handout", "mazur") else shape(name)


def _custom(
    output: str, loss: str, targets: list[float], hidden: str = "sigmoid", slope: float = 0.01
) -> Spec:
    """A 2-2-k network with the given hidden and output activations and loss (no ReLU unit dead)."""
    k = len(targets)
    return parse_spec(
        {
            "title": "t",
            "inputs": [0.5, -0.4],
            "targets": targets,
            "layers": [
                {
                    "activation": hidden,
                    "weights": [[0.3, -0.8], [0.4, -0.2]],
                    "bias": [0.1, -0.05],
                    "slope": slope,
                },
                {"activation": output, "weights": [[0.5, -0.3], [0.2, 0.6], [-0.4, 0.1]][:k], "bias": 0.1},
            ],
            "loss": loss,
            "learning_rate": 0.1,
        }
    )


def _solution(spec: Spec) -> str:
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    asked = resolve_ask(graph, None, fixed_quantities(spec, graph, exact.arrays).all)
    return render_documents(spec, graph, exact, hand, 0, asked, files=["solution.md"])["solution.md"]


def _note_text(note: Note) -> str:
    """A stretch of the note's first paragraph as Markdown prints it (no math, no escapes)."""
    first = note.items[0]
    assert isinstance(first, Para)
    return md_escape(max(first.text.parts[0::2], key=len).strip()[:40])


def _first_line(solution: str, graph: Graph, ids: frozenset[str]) -> int:
    """Where the first display line working out one of ``ids`` starts."""
    found = [solution.find(f"$${graph[i].symbol} = ") for i in ids]
    assert any(p >= 0 for p in found), sorted(ids)
    return min(p for p in found if p >= 0)


NETWORKS = {
    "handout": {"loss", "derivative:sigmoid", "delta", "vanishing", "sign"},
    "mazur": {"loss", "derivative:sigmoid", "delta", "vanishing", "sign"},
    "3-4-3-3": {
        "delta", "softmax_cross_entropy", "derivative:relu", "derivative:tanh", "dead:h2_3", "sign",
    },
    "2-3-2": {"loss", "derivative:sigmoid", "delta", "vanishing", "sign"},
}  # fmt: skip


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_each_note_appears_once_before_the_first_line_that_needs_it(name: str, style: Style) -> None:
    """On each network and in each style, the notes it needs (and only those) each appear exactly
    once in the solution; in the full style, before the first line working out what it explains."""
    spec = with_documents(_spec(name), style=style)
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    found = notes(spec, graph, dead_units(spec, graph, (exact, hand)))
    assert {n.key for n in found} == NETWORKS[name]
    solution = _solution(spec)
    for note in found:
        text = _note_text(note)
        assert solution.count(text) == 1, (note.key, text)
        if style is Style.FULL:  # the other styles work quantities out in tables and matrices
            assert solution.index(text) < _first_line(solution, graph, note.needs), note.key


@pytest.mark.parametrize("name", ["handout", "3-4-3-3"])
def test_the_word_delta_is_first_used_where_the_delta_is_defined(name: str) -> None:
    """ "delta" is never used before the note that defines it (the issue's complaint)."""
    solution = _solution(_spec(name))
    assert solution.lower().index("delta") == solution.index("The delta (or error signal) of a unit") + 4


def test_no_dead_relu_remark_without_a_unit_dead_in_every_variant() -> None:
    """A ReLU unit gets its remark only when z ≤ 0 in every variant; with z > 0 in one, none."""
    spec = shape("3-4-3-3")
    graph = build_graph(spec)
    exact = graph.evaluate()
    assert dead_units(spec, graph, (exact, graph.evaluate(hand=True))) == {"h2_3"}
    both = graph.evaluate({"w21": [-0.3, 3.0]})  # z into h2_3 is positive in the second variant
    assert float(both["z_h2_3"][1]) > 0 and dead_units(spec, graph, (both,)) == frozenset()
    alive = _custom("sigmoid", "half_mse", [0.3], hidden="relu")
    assert not any(n.key.startswith("dead") for n in notes(alive, build_graph(alive)))
    assert "dead ReLU" not in _solution(alive) and "dead ReLU" in _solution(spec)


def test_the_notes_are_only_added_and_no_notes_removes_them_all() -> None:
    """With notes off the plan is the style's own; with notes on it is the same plus the notes' items."""
    spec = shape("3-4-3-3")
    graph = build_graph(spec)
    dead = frozenset({"h2_3"})
    plain = build_plan(with_documents(spec, notes=False), graph, dead=dead).sections
    noted = build_plan(spec, graph, dead=dead).sections
    extra = [item for note in notes(spec, graph, dead) for item in note.items]
    assert [tuple(i for i in s.items if i not in extra) for s in noted] == [s.items for s in plain]
    assert sum(len(s.items) for s in noted) > sum(len(s.items) for s in plain)


def test_generate_no_notes_leaves_out_every_note(tmp_path: Path) -> None:
    """`generate --no-notes` writes no note; `generate` (notes on by default) writes every one."""
    spec = shape("3-4-3-3")
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec.to_data()), encoding="utf-8")
    texts = [_note_text(n) for n in notes(spec, build_graph(spec), frozenset({"h2_3"}))]
    runner = CliRunner()
    for flag, present in (("--notes", True), ("--no-notes", False)):
        out = tmp_path / flag
        result = runner.invoke(app, ["generate", str(path), flag, "--out", str(out)])
        assert result.exit_code == 0, result.output
        solution = (out / "solution.md").read_text(encoding="utf-8")
        assert [t in solution for t in texts] == [present] * len(texts), flag


# --------------------------------------------------------------------------- the formulas are right


def _at(latex: str, values: dict[str, float]) -> float:
    """A note's symbolic expression evaluated at ``values`` (ŷ, y, a, z, n; k-subscripted or not)
    by the independent checker of tests/test_render.py."""
    text = re.sub(r"\\hat\{y\}(_k)?", "YH", latex)
    for name, value in values.items():
        text = re.sub(rf"(?<![A-Za-z\\]){name}(_k)?(?![A-Za-z])", f"({float(value)!r})", text)
    return evaluate(text.replace("YH", f"({float(values['YH'])!r})"))


def _line(spec: Spec, key: str) -> list[str]:
    """The segments of a note's symbolic line, after its left-hand side."""
    note = next(n for n in notes(spec, build_graph(spec)) if n.key == key)
    line = next(i for i in note.items if isinstance(i, ChainEq))
    return split_equals(line.latex)[1:]


def _loss_fn(loss: str, y: np.ndarray) -> Any:
    """Each loss as its textbook definition, over the predictions (not gradegen's functions)."""
    n = len(y)
    return {
        "half_mse": lambda p: 0.5 * np.sum((y - p) ** 2),
        "sse": lambda p: np.sum((y - p) ** 2),
        "mse": lambda p: np.sum((y - p) ** 2) / n,
        "bce": lambda p: -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / n,
        "cross_entropy": lambda p: -np.sum(y * np.log(p)),
    }[loss]


@pytest.mark.parametrize(
    ("loss", "targets"),
    [("half_mse", [0.2]), ("sse", [0.2, 0.9]), ("mse", [0.2, 0.9, 0.4]), ("mse", [0.3]), ("bce", [0.2, 0.9]),
     ("cross_entropy", [0.3, 0.7])],
)  # fmt: skip
def test_the_loss_derivative_is_the_loss_differentiated(loss: str, targets: list[float]) -> None:
    """Every step of the note's ∂L/∂ŷ equals the central difference of the loss's definition."""
    spec = _custom("sigmoid", loss, targets)
    y = np.array(targets)
    preds = np.array([0.7, 0.35, 0.6])[: len(y)]
    f = _loss_fn(loss, y)
    for k in range(len(y)):
        up, down = preds.copy(), preds.copy()
        up[k] += H
        down[k] -= H
        numeric = (f(up) - f(down)) / (2 * H)
        for segment in _line(spec, "loss"):
            assert _at(segment, {"YH": preds[k], "y": y[k], "n": len(y)}) == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_the_activation_derivative_is_the_activation_differentiated(activation: str) -> None:
    """Every step of the sigmoid's and tanh's derivative equals the central difference of the function."""
    spec = _custom("sigmoid", "half_mse", [0.3], hidden=activation)
    f = {"sigmoid": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh}[activation]
    for z in (-2.0, -0.3, 0.0, 0.8):
        numeric = (f(z + H) - f(z - H)) / (2 * H)
        for segment in _line(spec, f"derivative:{activation}"):
            assert _at(segment, {"z": z, "a": f(z), "YH": 0.0}) == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize(("activation", "below"), [(Activation.RELU, 0.0), (Activation.LEAKY_RELU, 0.2)])
def test_relu_slopes_are_one_above_zero_and_the_note_value_below_and_at_zero(
    activation: Activation, below: float
) -> None:
    """ReLU's (leaky ReLU's) derivative: 1 for z > 0, 0 (the slope) for z < 0 by differences, and
    at z = 0 the value the note says is taken is the one the graph computes."""
    rule = activation_rule(activation, 0.2)
    for z, slope in ((0.5, 1.0), (-0.5, below)):
        numeric = (rule.f(np.array([z + H])) - rule.f(np.array([z - H]))) / (2 * H)
        assert float(numeric[0]) == pytest.approx(slope)
    assert float(rule.df(np.array([0.0]))[0]) == below
    spec = _custom("sigmoid", "half_mse", [0.3], hidden=activation.value, slope=0.2)
    note = next(
        n for n in notes(spec, build_graph(spec)) if n.key.startswith(f"derivative:{activation.value}")
    )
    text = "".join(note.items[0].text.parts)  # type: ignore[union-attr]
    assert f"{below:g}" in text and "z = 0" in text


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return np.asarray(e / e.sum())


def test_softmax_with_cross_entropy_gives_prediction_minus_target() -> None:
    """∂L/∂z_k of the cross-entropy of a softmax is ŷ_k − y_k (targets summing to 1), by differences."""
    spec = shape("3-4-3-3")
    z, y = np.array([0.2, -0.5, 0.9]), np.array([0.1, 0.6, 0.3])
    p = _softmax(z)
    for k in range(3):
        dz = np.eye(3)[k] * H
        numeric = (-np.sum(y * np.log(_softmax(z + dz))) + np.sum(y * np.log(_softmax(z - dz)))) / (2 * H)
        assert _at(_line(spec, "softmax_cross_entropy")[-1], {"YH": p[k], "y": y[k]}) == pytest.approx(
            numeric
        )


def test_the_softmax_delta_is_the_loss_through_the_softmax() -> None:
    """δ_j = ŷ_j(∂L/∂ŷ_j − Σ_k ŷ_k ∂L/∂ŷ_k), the note's line, equals the central difference of a
    squared loss through the softmax, and the note's line is that formula."""
    spec = _custom("softmax", "half_mse", [0.2, 0.5, 0.3])
    assert _line(spec, "softmax") == [
        r"\hat{y}_j\left(\frac{\partial L}{\partial \hat{y}_j}"
        r" - \sum_k \hat{y}_k \frac{\partial L}{\partial \hat{y}_k}\right)"
    ]
    z, y = np.array([0.2, -0.5, 0.9]), np.array([0.2, 0.5, 0.3])
    p = _softmax(z)
    g = p - y  # ∂L/∂ŷ of the half squared error
    for j in range(3):
        dz = np.eye(3)[j] * H
        numeric = (0.5 * np.sum((y - _softmax(z + dz)) ** 2) - 0.5 * np.sum((y - _softmax(z - dz)) ** 2)) / (
            2 * H
        )
        assert p[j] * (g[j] - np.dot(p, g)) == pytest.approx(numeric, rel=1e-6)


def test_sigmoid_with_binary_cross_entropy_gives_prediction_minus_target_over_n() -> None:
    """With a sigmoid output and the binary cross-entropy, every step of the note's δ equals the
    central difference of the loss with respect to z_k."""
    spec = _custom("sigmoid", "bce", [0.2, 0.9])
    z, y = np.array([0.4, -1.1]), np.array([0.2, 0.9])
    f = _loss_fn("bce", y)

    def sig(v: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-v)))

    for k in range(2):
        dz = np.eye(2)[k] * H
        numeric = (f(sig(z + dz)) - f(sig(z - dz))) / (2 * H)
        for segment in _line(spec, "sigmoid_bce"):
            assert _at(segment, {"YH": sig(z)[k], "y": y[k], "n": 2}) == pytest.approx(numeric, rel=1e-6)


def test_the_sigmoid_derivative_is_at_most_a_quarter() -> None:
    """a(1 − a) = 1/4 − (a − 1/2)² ≤ 1/4 over (0, 1), with 1/4 at z = 0 (the vanishing-gradient note)."""
    a = np.linspace(1e-6, 1 - 1e-6, 100001)
    assert np.allclose(a * (1 - a), 0.25 - (a - 0.5) ** 2)
    assert float(np.max(a * (1 - a))) <= 0.25
    spec = preset("handout")
    text = "".join(
        next(n for n in notes(spec, build_graph(spec)) if n.key == "vanishing").items[0].text.parts
    )  # type: ignore[union-attr]
    assert r"a(1 - a) = \tfrac{1}{4} - (a - \tfrac{1}{2})^{2}" in text
