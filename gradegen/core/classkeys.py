"""A class's ``keys.json``: what every student shares once, and per student only their givens.

Version 2, what ``generate --roster/--variants`` writes::

    {"format": "gradegen-keys", "version": 2, "seed": "…",
     "spec": {…the network, its decimals, tolerances and points; its numbers are the base spec's…},
     "asked": [ids in question order], "givens": [x1, …, y, w1, …, b1, …, lr],
     "students": {student id: [that student's givens, in the order of "givens"], …}}

A student's values are not stored: grading rebuilds every student's exact and hand values with
one batched evaluation of the graph. Version 1, ``{"seed", "keys": {student id: key.json object}}``,
is still read (:class:`KeySet`); its stored values are what is graded against.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Array, Role
from gradegen.core.key import Key, askable, solve_key
from gradegen.core.network import build_graph
from gradegen.core.reading import parse_text, read_text
from gradegen.core.spec import Spec, parse_spec
from gradegen.errors import GradegenError, quoted

FORMAT = "gradegen-keys"
VERSION = 2

MAX_KEYS_BYTES = 200_000_000
"""A keys.json for a large class is big; beyond this it is refused."""


def spec_givens(spec: Spec) -> list[float]:
    """The givens of ``spec`` in graph order: inputs, targets, weights (row by row), biases, η."""
    weights = [w for layer in spec.layers for row in layer.weights for w in row]
    biases = [b for layer in spec.layers for b in layer.biases()]
    return [*spec.inputs, *spec.targets, *weights, *biases, spec.learning_rate]


def with_givens(spec: Spec, values: Sequence[float]) -> Spec:
    """``spec`` with its givens replaced by ``values`` (graph order, as :func:`spec_givens` lists them)."""
    at = iter(values)

    def take(count: int) -> tuple[float, ...]:
        return tuple(float(next(at)) for _ in range(count))

    inputs = take(len(spec.inputs))
    targets = take(len(spec.targets))
    rows = [tuple(take(len(row)) for row in layer.weights) for layer in spec.layers]
    layers = []
    for layer, weights in zip(spec.layers, rows, strict=True):
        biases = take(len(layer.biases()))
        bias: float | tuple[float, ...] = biases[0] if layer.shared_bias else biases
        layers.append(layer.model_copy(update={"weights": weights, "bias": bias}))
    rate = take(1)[0]
    return spec.model_copy(
        update={
            "inputs": inputs,
            "targets": targets,
            "layers": tuple(layers),
            "learning_rate": rate,
            "randomize": None,
        }
    )


@dataclass(frozen=True, eq=False)
class ClassKeys:
    """A class's keys (version 2): one shared spec and asked ids, a row of givens per student.

    ``table[i]`` holds ``students[i]``'s givens in graph order (``givens`` names the columns).
    """

    spec: Spec
    asked: tuple[str, ...]
    givens: tuple[str, ...]
    students: tuple[str, ...]
    table: NDArray[np.float64]
    seed: str | None = None
    source: str = "keys"  # where they were read from, for messages
    _positions: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions", {s: i for i, s in enumerate(self.students)})
        if self.table.shape != (len(self.students), len(self.givens)):  # pragma: no cover
            raise GradegenError("internal: keys table does not match the students and givens")

    def __len__(self) -> int:
        return len(self.students)

    def position(self, student: str) -> int | None:
        """The row of a student, or None when the class has no key for them."""
        return self._positions.get(student)

    def rows_of(self, students: Sequence[str]) -> NDArray[np.intp]:
        """Each student's row, −1 for a student the class has no key for."""
        get = self._positions.get
        return np.fromiter((get(s, -1) for s in students), np.intp, len(students))

    def columns(self, rows: NDArray[np.intp] | None = None) -> dict[str, Array]:
        """Each given's values over some students' rows (all by default), ready for ``evaluate``."""
        table = self.table if rows is None else self.table[rows]
        return {gid: np.ascontiguousarray(table[:, j]) for j, gid in enumerate(self.givens)}

    def spec_for(self, student: str) -> Spec:
        """A student's own spec: the shared one with their numbers."""
        return with_givens(self.spec, self.table[self._row(student)].tolist())

    def key_for(self, student: str) -> Key:
        """A student's full key, as a single ``key.json`` holds it (their spec solved alone)."""
        return solve_key(self.spec_for(student), self.asked, source=f"{self.source}: students.{student}")

    def _row(self, student: str) -> int:
        row = self.position(student)
        if row is None:
            close = _close(student, self.students)
            raise GradegenError(f"no student {student!r} in these keys{close}")
        return row

    def to_data(self) -> dict[str, Any]:
        """The keys.json shape as plain data."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "seed": self.seed,
            "spec": self.spec.to_data(),
            "asked": list(self.asked),
            "givens": list(self.givens),
            "students": dict(zip(self.students, self.table.tolist(), strict=True)),
        }

    def to_json(self) -> str:
        """keys.json text: the shared part indented, then one line per student (numbers as repr)."""
        head = self.to_data()
        del head["students"]
        text = json.dumps(head, indent=2, ensure_ascii=False, allow_nan=False)
        encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
        lines = [
            f"    {encode(s)}: {encode(row)}"
            for s, row in zip(self.students, self.table.tolist(), strict=True)
        ]
        return text[:-2] + ',\n  "students": {\n' + ",\n".join(lines) + "\n  }\n}\n"

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, source: str = "keys") -> ClassKeys:
        """Validate version-2 data: the spec once, then each student's row (count, finite numbers)."""
        version = data.get("version")
        if version != VERSION:
            raise GradegenError(
                f"{source}: version {quoted(version)} of the {FORMAT} format is not one this gradegen reads "
                f"(it reads {VERSION}, and the older {{seed, keys}} files)"
            )
        missing = [k for k in ("spec", "asked", "givens", "students") if k not in data]
        if missing:
            raise GradegenError(f"{source}: missing {', '.join(missing)}")
        spec = parse_spec(data["spec"], source=f"{source}: spec")
        graph = build_graph(spec)
        if data["givens"] != list(graph.givens):
            raise GradegenError(
                f"{source}: givens: expected {list(graph.givens)} for this spec, got {quoted(data['givens'])}"
            )
        asked = _asked(data["asked"], askable(graph), source)
        seed = data.get("seed")
        if seed is not None and not isinstance(seed, str):
            raise GradegenError(f"{source}: seed: expected a string, got {quoted(seed)}")
        students = data["students"]
        if not isinstance(students, dict) or not students:
            raise GradegenError(f"{source}: students: expected a mapping of student ids to their givens")
        ids = tuple(students)
        rows = list(students.values())
        table = _table(
            ids, rows, graph.givens, graph.givens.index(graph.node_of(Role.LEARNING_RATE).id), source
        )
        spec = spec.model_copy(update={"randomize": None})
        return cls(spec, asked, graph.givens, ids, table, seed, source)


def _asked(asked: Any, allowed: Sequence[str], source: str) -> tuple[str, ...]:
    if not isinstance(asked, list) or not asked:
        raise GradegenError(f"{source}: asked: expected a list of quantity ids")
    known = set(allowed)
    for qid in asked:
        if not isinstance(qid, str) or qid not in known:
            close = _close(str(qid), allowed)
            raise GradegenError(f"{source}: asked: {quoted(qid)} is not a quantity of this network{close}")
    if len(set(asked)) != len(asked):
        raise GradegenError(f"{source}: asked: an id is listed twice")
    return tuple(asked)


def _table(
    ids: Sequence[str], rows: list[Any], givens: Sequence[str], rate: int, source: str
) -> NDArray[np.float64]:
    """The students' rows as one float64 table; a bad row is named, with what is wrong with it.

    The common case is checked in bulk (every row a list of floats or ints, all the same length);
    only when that fails is each row looked at, to name the first bad one.
    """
    width = len(givens)
    plain = {type(row) for row in rows} == {list} and {len(row) for row in rows} == {width}
    if plain and {type(x) for row in rows for x in row} <= {float, int}:
        try:
            table = np.array(rows, dtype=np.float64)
        except OverflowError:
            table = None
        if table is not None and np.isfinite(table).all() and (table[:, rate] > 0).all():
            return table
    for student, row in zip(ids, rows, strict=True):
        where = f"{source}: students.{student}"
        if not isinstance(row, list) or len(row) != width:
            got = f"{len(row)} numbers" if isinstance(row, list) else quoted(row)
            raise GradegenError(f"{where}: expected {width} numbers ({', '.join(givens)}), got {got}")
        for gid, x in zip(givens, row, strict=True):
            if type(x) not in (float, int) or not _finite(x):
                raise GradegenError(f"{where}: {gid}: expected a finite number, got {quoted(x)}")
        if row[rate] <= 0:
            raise GradegenError(
                f"{where}: {givens[rate]}: the learning rate must be greater than 0, got {quoted(row[rate])}"
            )
    raise GradegenError(f"{source}: students: not a table of numbers")  # pragma: no cover


def _finite(x: float) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:  # an integer too large for a float
        return False


@dataclass(frozen=True)
class KeySet:
    """Per-student keys of the version-1 format, ``{"seed", "keys": {student id: key}}``: each
    student's full key (values included, and authoritative), possibly of different networks."""

    keys: Mapping[str, Key]
    seed: Any = None

    def key_for(self, student: str) -> Key:
        """A student's key, as stored."""
        key = self.keys.get(student)
        if key is None:
            raise GradegenError(f"no student {student!r} in these keys{_close(student, list(self.keys))}")
        return key


def is_class_keys(data: Any) -> bool:
    """Whether parsed data is a class's keys.json (either version) rather than one key or a spec."""
    return isinstance(data, dict) and ("keys" in data or data.get("format") == FORMAT)


def keys_from_data(data: Any, *, source: str = "keys") -> ClassKeys | KeySet:
    """A class's keys from parsed keys.json data: version 2, or version 1 read as it stands."""
    if not isinstance(data, dict):
        raise GradegenError(f"{source}: not a class's keys (expected a mapping)")
    if "format" in data:
        if data["format"] != FORMAT:
            raise GradegenError(f"{source}: format {quoted(data['format'])} is not {FORMAT!r}")
        return ClassKeys.from_data(data, source=source)
    if "keys" not in data:
        raise GradegenError(f"{source}: not a class's keys (expected format {FORMAT!r})")
    keys = data["keys"]
    if not isinstance(keys, dict) or not keys:
        raise GradegenError(f"{source}: keys must map student ids to keys, got {type(keys).__name__}")
    parsed = {
        str(student): Key.from_dict(entry, source=f"{source}: keys.{student}")
        for student, entry in keys.items()
    }
    return KeySet(parsed, data.get("seed"))


def load_keys(path: str | Path) -> ClassKeys | KeySet:
    """Read a class's keys.json (version 2, or version 1)."""
    path = Path(path)
    text = read_text(path, what="keys", limit=MAX_KEYS_BYTES)
    data = parse_text(text, fmt="json", source=str(path))
    if not is_class_keys(data):
        raise GradegenError(
            f"{path}: not a class's keys.json (a single key.json or a spec has no students to look up)"
        )
    return keys_from_data(data, source=str(path))


def student_key(keys: ClassKeys | KeySet | str | Path, student: str) -> Key:
    """One student's full key from a class's keys (or a keys.json path), as a ``key.json`` holds it."""
    if isinstance(keys, str | Path):
        keys = load_keys(keys)
    return keys.key_for(student)


def _close(word: str, choices: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
