"""An independent oracle for the tests: the network in plain matrix numpy, no graph involved."""

from __future__ import annotations

import numpy as np

from gradegen.core.spec import Spec
from gradegen.grading.results import GradingResults


def _act(name: str, z: np.ndarray, slope: float) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "linear":
        return z
    e = np.exp(z - z.max())
    return e / e.sum()


def reference_loss(spec: Spec, flat: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Loss of ``spec``'s network with parameters ``flat`` (w1…, b1…), in plain matrix numpy."""
    a = np.array(spec.inputs)
    pos = sum(layer.size * len(layer.weights[0]) for layer in spec.layers)
    wpos, zs = 0, []
    for layer in spec.layers:
        rows, cols = layer.size, len(layer.weights[0])
        w = flat[wpos : wpos + rows * cols].reshape(rows, cols)
        wpos += rows * cols
        nb = len(layer.biases())
        b = flat[pos : pos + nb]
        pos += nb
        z = w @ a + (b if nb == rows else b[0])
        zs.append(z)
        a = _act(layer.activation.value, z, layer.slope)
    y = np.array(spec.targets)
    n = len(y)
    loss = {
        "half_mse": lambda: 0.5 * np.sum((y - a) ** 2),
        "sse": lambda: np.sum((y - a) ** 2),
        "mse": lambda: np.mean((y - a) ** 2),
        "bce": lambda: -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / n,
        "cross_entropy": lambda: -np.sum(y * np.log(a)),
    }[spec.loss.value]()
    return float(loss), zs


def flat_parameters(spec: Spec) -> np.ndarray:
    weights = [w for layer in spec.layers for row in layer.weights for w in row]
    biases = [b for layer in spec.layers for b in layer.biases()]
    return np.array(weights + biases, dtype=float)


def numeric_gradient(spec: Spec, flat: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the reference loss in every parameter (no weight decay)."""
    grad = np.zeros_like(flat)
    for k in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (reference_loss(spec, up)[0] - reference_loss(spec, down)[0]) / (2 * h)
    return grad


def verdicts(results: GradingResults) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Each student's (verdict, diagnosis) per quantity id, as plain strings to compare with."""
    return {
        s.student: {
            q: (i.verdict.value, i.diagnosis.value if i.diagnosis else None) for q, i in s.items.items()
        }
        for s in results.students
    }
