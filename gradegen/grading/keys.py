"""The answer keys grading reads (a key.json, a class's keys.json, or a spec), as columns over keys.

Grading works on :class:`KeyColumns`: a batch of keys sharing one structure, each given, expected
value and point count an array over the keys. A version-2 keys.json becomes one batch whose values
are rebuilt by one batched evaluation of the graph; version-1 keys (and single keys) keep the
values they store, grouped by structure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gradegen.core.classkeys import (
    MAX_KEYS_BYTES,
    ClassKeys,
    KeySet,
    is_class_keys,
    keys_from_data,
    spec_givens,
)
from gradegen.core.graph import Array, Graph, Values
from gradegen.core.key import Key, solve_key
from gradegen.core.levels import points_of
from gradegen.core.network import build_graph
from gradegen.core.reading import format_of, parse_text, read_text
from gradegen.core.spec import Spec, Tolerance, parse_spec
from gradegen.core.training import check_finite

__all__ = [
    "KeyColumns",
    "KeyGroup",
    "KeyLike",
    "KeySet",
    "has_key",
    "key_from_spec",
    "key_groups",
    "load_answer_key",
]

MAX_KEY_BYTES = MAX_KEYS_BYTES
"""A keys.json for a large class is big; beyond this it is refused."""

KeyLike = Key | KeySet | ClassKeys | Spec | str | Path


def key_from_spec(spec: Spec, *, source: str = "spec") -> Key:
    """A key asking every quantity but the givens (``source`` names the spec in errors)."""
    return solve_key(spec, source=source)


def load_answer_key(path: str | Path) -> Key | KeySet | ClassKeys:
    """Read KEY: a ``key.json``, a class's ``keys.json`` (either version), or a spec (YAML/JSON/TOML)."""
    path = Path(path)
    text = read_text(path, what="key", limit=MAX_KEY_BYTES)
    data = parse_text(text, fmt=format_of(path), source=str(path))
    if is_class_keys(data):
        return keys_from_data(data, source=str(path))
    if isinstance(data, dict) and {"asked", "values"} <= set(data):
        return Key.from_dict(data, source=str(path))
    if isinstance(data, dict) and "title" not in data:
        data = {"title": path.stem, **data}
    return key_from_spec(parse_spec(data, source=str(path)), source=str(path))


def _resolve_key(key: KeyLike) -> Key | KeySet | ClassKeys:
    if isinstance(key, str | Path):
        return load_answer_key(key)
    if isinstance(key, Spec):
        return key_from_spec(key)
    return key


@dataclass(frozen=True)
class KeyColumns:
    """Keys of one structure, column-wise: what grading compares a group of students against.

    ``exact``/``hand`` are every node evaluated over the keys (follow-through and diagnosis work
    from them); ``expected_exact``/``expected_hand`` are what each asked id is graded against
    (the evaluated values, or a version-1 key's stored ones); ``points`` per asked id per key.
    """

    spec: Spec  # the first key's: the structure, decimals and loss all keys share
    graph: Graph
    asked: tuple[str, ...]
    exact: Values
    hand: Values
    expected_exact: Mapping[str, Array]
    expected_hand: Mapping[str, Array]
    tolerance: Mapping[str, Tolerance]
    points: Mapping[str, Array]

    def __len__(self) -> int:
        return self.exact.batch


def _evaluate(graph: Graph, givens: Mapping[str, Array], batch: int) -> tuple[Values, Values]:
    """Every node exactly and by hand, in one batched evaluation each."""
    return graph.evaluate(givens, batch=batch), graph.evaluate(givens, hand=True, batch=batch)


def class_columns(keys: ClassKeys, rows: NDArray[np.intp] | None = None) -> KeyColumns:
    """Some students' keys of a version-2 keys.json (all by default), rebuilt from their givens."""
    spec, graph = keys.spec, build_graph(keys.spec)
    givens = keys.columns(rows)
    n = len(keys) if rows is None else len(rows)
    exact, hand = _evaluate(graph, givens, n)
    students = keys.students if rows is None else [keys.students[r] for r in rows]
    for values in (exact, hand):  # a hand-edited student's numbers may overflow
        check_finite(values, source=keys.source, variants=students)
    asked = keys.asked
    return KeyColumns(
        spec=spec,
        graph=graph,
        asked=asked,
        exact=exact,
        hand=hand,
        expected_exact={q: exact[q] for q in asked},
        expected_hand={q: hand[q] for q in asked},
        tolerance={q: spec.tolerances.get(q, spec.tolerance) for q in asked},
        points={q: np.full(n, points_of(spec, graph, q)) for q in asked},
    )


def key_columns(keys: Sequence[Key]) -> KeyColumns:
    """Keys that share one structure (single keys, version-1 keys), with the values they store."""
    first = keys[0]
    graph = build_graph(first.spec)
    first.check_asked(graph)  # the keys of a batch share their asked ids
    table = np.array([spec_givens(k.spec) for k in keys], dtype=np.float64).reshape(len(keys), -1)
    givens = {gid: np.ascontiguousarray(table[:, j]) for j, gid in enumerate(graph.givens)}
    exact, hand = _evaluate(graph, givens, len(keys))
    asked = first.asked

    def column(field: str, q: str) -> Array:
        return np.fromiter((getattr(k.values[q], field) for k in keys), np.float64, len(keys))

    return KeyColumns(
        spec=first.spec,
        graph=graph,
        asked=asked,
        exact=exact,
        hand=hand,
        expected_exact={q: column("exact", q) for q in asked},
        expected_hand={q: column("hand", q) for q in asked},
        tolerance={q: first.values[q].tolerance for q in asked},
        points={q: column("points", q) for q in asked},
    )


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


def has_key(key: Key | KeySet | ClassKeys, student: str) -> bool:
    """Whether ``key`` grades ``student``: a single key grades anyone, a class's keys their own."""
    if isinstance(key, ClassKeys):
        return key.position(student) is not None
    return isinstance(key, Key) or student in key.keys


@dataclass(frozen=True)
class KeyGroup:
    """Submission rows graded against one batch of keys: ``key_index[j]`` is row ``rows[j]``'s key."""

    keys: KeyColumns
    rows: NDArray[np.intp]
    key_index: NDArray[np.intp]


def key_groups(key: Key | KeySet | ClassKeys, students: Sequence[str]) -> tuple[list[KeyGroup], list[int]]:
    """Which keys each submission is graded against, in batches of one structure; and the rows of
    students without a key. Only the keys of students who handed something in are built."""
    n = len(students)
    if isinstance(key, Key):
        return ([KeyGroup(key_columns([key]), np.arange(n), np.zeros(n, dtype=np.intp))] if n else []), []
    if isinstance(key, ClassKeys):
        found = key.rows_of(students)
        rows = np.flatnonzero(found >= 0)
        missing = np.flatnonzero(found < 0).tolist()
        if not rows.size:
            return [], missing
        used, index = np.unique(found[rows], return_inverse=True)
        every = used.size == len(key) and bool((used == np.arange(len(key))).all())
        columns = class_columns(key, None if every else used)
        return [KeyGroup(columns, rows, index.astype(np.intp))], missing
    by_structure: dict[str, int] = {}
    position: dict[int, tuple[int, int]] = {}  # id(key) → (group, position in that group's keys)
    members: list[list[int]] = []
    distinct: list[list[Key]] = []
    index_of: list[list[int]] = []
    missing = []
    for i, student in enumerate(students):
        k = key.keys.get(student)
        if k is None:
            missing.append(i)
            continue
        if id(k) not in position:
            g = by_structure.setdefault(_structure(k), len(by_structure))
            if g == len(members):
                members.append([])
                distinct.append([])
                index_of.append([])
            position[id(k)] = (g, len(distinct[g]))
            distinct[g].append(k)
        g, at = position[id(k)]
        members[g].append(i)
        index_of[g].append(at)
    groups = [
        KeyGroup(
            key_columns(distinct[g]),
            np.array(members[g], dtype=np.intp),
            np.array(index_of[g], dtype=np.intp),
        )
        for g in range(len(members))
    ]
    return groups, missing
