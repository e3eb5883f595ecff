"""Small specs shared by the tests: the handout network, the 2-2-2 walkthrough, a deeper softmax net."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from gradegen.core.spec import Spec, parse_spec, preset

# CI runs the same examples every time (a red build always means the code changed); set
# HYPOTHESIS_PROFILE=explore locally to search fresh examples.
settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def deep_softmax_data() -> dict[str, Any]:
    """A 2-3-2-3 network: two hidden layers (tanh, relu) and a softmax output with cross-entropy."""
    return {
        "title": "Two hidden layers and a softmax",
        "inputs": [0.5, -0.2],
        "targets": [0.2, 0.5, 0.3],
        "layers": [
            {
                "activation": "tanh",
                "weights": [[0.1, -0.3], [0.4, 0.2], [-0.5, 0.6]],
                "bias": [0.1, -0.1, 0.05],
            },
            {"activation": "relu", "weights": [[0.3, -0.2, 0.5], [0.6, 0.1, -0.4]], "bias": 0.2},
            {
                "activation": "softmax",
                "weights": [[0.2, -0.1], [0.4, 0.3], [-0.3, 0.5]],
                "bias": [0.0, 0.1, -0.1],
            },
        ],
        "loss": "cross_entropy",
        "learning_rate": 0.1,
    }


@pytest.fixture
def handout() -> Spec:
    return preset("handout")


@pytest.fixture
def mazur() -> Spec:
    return preset("mazur")


@pytest.fixture
def deep_softmax() -> Spec:
    return parse_spec(deep_softmax_data())


@pytest.fixture
def write(tmp_path: Path) -> Any:
    """Write text to a file under tmp_path and return its path."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write
