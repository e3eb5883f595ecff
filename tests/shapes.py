"""Networks of the shapes the diagram and page-layout tests draw: 2-3-2, 3-4-3-3 and the
benchmarks' 4-8-8-3 (read from benchmarks/deep.yaml, so the test draws what the benchmark runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gradegen.core.spec import Spec, parse_spec, preset

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "deep.yaml"


def two_three_two() -> dict[str, Any]:
    """A 2-3-2 sigmoid network with a bias per unit (the issue's "w10 on b3" collision)."""
    return {
        "title": "A 2-3-2 network",
        "inputs": [0.5, -0.3],
        "targets": [1.0, 0.0],
        "layers": [
            {
                "activation": "sigmoid",
                "weights": [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.25]],
                "bias": [0.1, -0.2, -0.05],
            },
            {
                "activation": "sigmoid",
                "weights": [[0.2, -0.3, 0.15], [-0.4, 0.35, 0.5]],
                "bias": [0.05, -0.1],
            },
        ],
        "loss": "half_mse",
        "learning_rate": 0.5,
    }


def three_four_three_three() -> dict[str, Any]:
    """A 3-4-3-3 network: tanh, relu with a shared bias, softmax; twelve edges between 3 and 4."""
    return {
        "title": "A 3-4-3-3 network",
        "inputs": [0.4, -0.7, 0.2],
        "targets": [0.0, 1.0, 0.0],
        "layers": [
            {
                "activation": "tanh",
                "weights": [[0.1, -0.3, 0.2], [0.4, 0.2, -0.1], [-0.5, 0.6, 0.3], [0.25, -0.15, 0.45]],
                "bias": [0.1, -0.1, 0.05, 0.2],
            },
            {
                "activation": "relu",
                "weights": [[0.3, -0.2, 0.5, 0.1], [0.6, 0.1, -0.4, 0.2], [-0.3, 0.45, 0.2, -0.1]],
                "bias": 0.1,
            },
            {
                "activation": "softmax",
                "weights": [[0.2, -0.1, 0.3], [0.4, 0.3, -0.2], [-0.3, 0.5, 0.1]],
                "bias": [0.0, 0.1, -0.1],
            },
        ],
        "loss": "cross_entropy",
        "learning_rate": 0.1,
    }


def long_values() -> dict[str, Any]:
    """The 2-3-2 with weights and biases of many digits: labels wider than the usual two places."""
    data = two_three_two()
    data["layers"][0]["weights"][0] = [-0.123456, 0.654321]
    data["layers"][1]["bias"] = [-0.0012345, 0.25]
    return data


def shape(name: str) -> Spec:
    """The network called ``name``: handout, 2-3-2, 3-4-3-3, 4-8-8-3 or long-values."""
    if name == "handout":
        return preset("handout")
    if name == "4-8-8-3":
        return parse_spec(yaml.safe_load(BENCHMARK.read_text(encoding="utf-8")))
    return parse_spec(
        {"2-3-2": two_three_two, "3-4-3-3": three_four_three_three, "long-values": long_values}[name]()
    )
