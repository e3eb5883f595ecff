"""The answer keys grading reads: a key.json, a keys.json of per-student keys, or a spec."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradegen.core.key import Key, askable, make_key
from gradegen.core.network import build_graph
from gradegen.core.reading import format_of, parse_text, read_text
from gradegen.core.spec import Spec, parse_spec
from gradegen.errors import GradegenError

MAX_KEY_BYTES = 200_000_000
"""A keys.json for a large class is big; beyond this it is refused."""


@dataclass(frozen=True)
class KeySet:
    """Per-student keys (``keys.json`` of the variants issue): student id → that student's key."""

    keys: Mapping[str, Key]
    seed: Any = None


KeyLike = Key | KeySet | Spec | str | Path


def key_from_spec(spec: Spec) -> Key:
    """A key asking every quantity but the givens."""
    graph = build_graph(spec)
    return make_key(spec, graph, graph.evaluate(), graph.evaluate(hand=True), askable(graph))


def load_answer_key(path: str | Path) -> Key | KeySet:
    """Read KEY: a ``key.json``, a ``keys.json`` of per-student keys, or a spec (YAML/JSON/TOML)."""
    path = Path(path)
    text = read_text(path, what="key", limit=MAX_KEY_BYTES)
    fmt = format_of(path)
    data = parse_text(text, fmt=fmt, source=str(path))
    if isinstance(data, dict) and "keys" in data:
        keys = data["keys"]
        if not isinstance(keys, dict) or not keys:
            raise GradegenError(f"{path}: keys must map student ids to keys, got {type(keys).__name__}")
        parsed = {
            str(student): Key.from_dict(entry, source=f"{path}: keys.{student}")
            for student, entry in keys.items()
        }
        return KeySet(parsed, data.get("seed"))
    if isinstance(data, dict) and {"asked", "values"} <= set(data):
        return Key.from_dict(data, source=str(path))
    if isinstance(data, dict) and "title" not in data:
        data = {"title": path.stem, **data}
    return key_from_spec(parse_spec(data, source=str(path)))


def _resolve_key(key: KeyLike) -> Key | KeySet:
    if isinstance(key, str | Path):
        return load_answer_key(key)
    if isinstance(key, Spec):
        return key_from_spec(key)
    return key


def _spec_values(spec: Spec) -> list[float]:
    """The givens of ``spec`` in graph order: inputs, targets, weights, biases, learning rate."""
    weights = [w for layer in spec.layers for row in layer.weights for w in row]
    biases = [b for layer in spec.layers for b in layer.biases()]
    return [*spec.inputs, *spec.targets, *weights, *biases, spec.learning_rate]


def _structure(key: Key) -> str:
    """What keys must share to be graded in one batch: everything but the given numbers."""
    data = key.spec.to_data()
    for name in ("title", "course", "instructions", "inputs", "targets", "learning_rate"):
        data.pop(name, None)
    for layer in data["layers"]:
        layer["weights"] = [len(row) for row in layer["weights"]]
        layer["bias"] = len(layer["bias"]) if isinstance(layer["bias"], list) else None
    answers = {q: (a.tolerance.model_dump(mode="json"), a.points) for q, a in key.values.items()}
    return json.dumps([data, key.asked, answers], sort_keys=True)
