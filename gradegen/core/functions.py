"""Activations and losses: each function beside its derivative and how both are written.

Templates name their operands ``{z}``, ``{a}``, ``{y}`` and the product sign ``{mul}``;
:mod:`gradegen.core.network` renames the operands to node positions. Literal braces are doubled,
since :class:`gradegen.core.graph.Formula` formats the result once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradegen.core.graph import Array
from gradegen.core.spec import Activation, Loss


@dataclass(frozen=True)
class ActivationRule:
    """a = f(z) and da/dz, which is written in terms of ``a`` or of ``z`` (``uses``)."""

    f: Callable[[Array], Array]
    df: Callable[[Array], Array]  # of the value named by ``uses``
    uses: str  # "a", "z" or "" (a constant derivative)
    latex: str
    text: str
    d_latex: str
    d_text: str
    name: str


def _sigmoid(z: Array) -> Array:
    # exp(−log(1 + e^−z)) never overflows, unlike 1 / (1 + e^−z) for very negative z.
    out: Array = np.exp(-np.logaddexp(0.0, -z))
    return out


def _cases(positive: str, otherwise: str) -> str:
    """A piecewise derivative as a textbook writes it: one value for z > 0, another for z ≤ 0."""
    return (
        r"\begin{{cases}} " + positive + r" & \text{{if }} {z} > 0 \\ "
        + otherwise + r" & \text{{if }} {z} \le 0 \end{{cases}}"
    )  # fmt: skip


def activation_rule(activation: Activation, slope: float = 0.01) -> ActivationRule:
    """The rule for a per-unit activation (softmax is handled by the network, not here)."""
    match activation:
        case Activation.SIGMOID:
            return ActivationRule(
                _sigmoid,
                lambda a: a * (1.0 - a),
                "a",
                r"\sigma({z})",
                "σ({z})",
                r"{a}(1 - {a})",
                "{a}·(1 − {a})",
                "sigmoid",
            )
        case Activation.TANH:
            return ActivationRule(
                np.tanh,
                lambda a: 1.0 - a * a,
                "a",
                r"\tanh({z})",
                "tanh({z})",
                r"1 - {a}^{{2}}",
                "1 − {a}²",
                "tanh",
            )
        case Activation.RELU:
            return ActivationRule(
                lambda z: np.maximum(z, 0.0),
                lambda z: (z > 0).astype(np.float64),
                "z",
                r"\max(0, {z})",
                "max(0, {z})",
                _cases("1", "0"),
                "(1 if {z} > 0, else 0)",
                "ReLU",
            )
        case Activation.LEAKY_RELU:
            s = float(slope)
            return ActivationRule(
                lambda z: np.where(z > 0, z, s * z),
                lambda z: np.where(z > 0, 1.0, s),
                "z",
                r"\max(S{mul}{z}, {z})".replace("S", f"{s:g}"),
                "max(S·{z}, {z})".replace("S", f"{s:g}"),
                _cases("1", f"{s:g}"),
                f"(1 if {{z}} > 0, else {s:g})",
                "leaky ReLU",
            )
        case Activation.LINEAR:
            return ActivationRule(
                lambda z: z.copy(),
                lambda z: np.ones_like(z),
                "",
                "{z}",
                "{z}",
                "1",
                "1",
                "identity",
            )
    raise ValueError(f"{activation} is not a per-unit activation")


def softmax(zs: tuple[Array, ...], k: int) -> Array:
    """The k-th output of softmax over a layer's pre-activations (shifted for stability)."""
    top = np.maximum.reduce(zs)
    exps = [np.exp(z - top) for z in zs]
    out: Array = exps[k] / np.add.reduce(exps)
    return out


@dataclass(frozen=True)
class LossRule:
    """One output's loss term, how terms combine, and ∂L/∂ŷ_k (``n`` is the number of outputs)."""

    term: Callable[[Array, Array], Array]  # (a, y)
    mean: bool  # the total is the mean of the terms (else their sum)
    grad: Callable[[Array, Array], Array]  # (a, y)
    latex: str
    text: str
    d_latex: str
    d_text: str
    name: str


def loss_rule(loss: Loss, outputs: int) -> LossRule:
    """The rule for a loss over ``outputs`` output units; templates already carry 1/n."""
    n = outputs
    # {n} is the number of outputs: "n" in the formula, its value where numbers are substituted
    inv = "" if n == 1 else r"\tfrac{{1}}{{{n}}}"
    inv_text = "" if n == 1 else f"(1/{n})·"
    match loss:
        case Loss.HALF_MSE:
            return LossRule(
                lambda a, y: 0.5 * (y - a) ** 2,
                False,
                lambda a, y: a - y,
                r"\tfrac{{1}}{{2}}({y} - {a})^{{2}}",
                "½·({y} − {a})²",
                "{a} - {y}",
                "{a} − {y}",
                "half squared error",
            )
        case Loss.SSE:
            return LossRule(
                lambda a, y: (y - a) ** 2,
                False,
                lambda a, y: 2.0 * (a - y),
                "({y} - {a})^{{2}}",
                "({y} − {a})²",
                "2({a} - {y})",
                "2·({a} − {y})",
                "sum of squared errors",
            )
        case Loss.MSE:
            two = "2" if n == 1 else r"\tfrac{{2}}{{{n}}}"
            return LossRule(
                lambda a, y: (y - a) ** 2,
                True,
                lambda a, y: 2.0 / n * (a - y),
                "({y} - {a})^{{2}}",
                "({y} − {a})²",
                two + "({a} - {y})",
                ("2" if n == 1 else f"(2/{n})") + "·({a} − {y})",
                "mean squared error",
            )
        case Loss.BCE:
            return LossRule(
                lambda a, y: -(y * np.log(a) + (1.0 - y) * np.log1p(-a)),
                True,
                lambda a, y: (a - y) / (a * (1.0 - a)) / n,
                r"-\left[{y} \ln {a} + (1 - {y}) \ln(1 - {a})\right]",
                "−[{y}·ln {a} + (1 − {y})·ln(1 − {a})]",
                inv + r"\frac{{{a} - {y}}}{{{a}(1 - {a})}}",
                inv_text + "({a} − {y}) / ({a}·(1 − {a}))",
                "binary cross-entropy",
            )
        case Loss.CROSS_ENTROPY:
            return LossRule(
                lambda a, y: -y * np.log(a),
                False,
                lambda a, y: -y / a,
                r"-{y} \ln {a}",
                "−{y}·ln {a}",
                r"-\frac{{{y}}}{{{a}}}",
                "−{y} / {a}",
                "cross-entropy",
            )
    raise ValueError(f"unknown loss {loss}")
