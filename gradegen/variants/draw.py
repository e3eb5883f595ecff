"""Per-student variants: the spec's network with each student's own numbers, drawn reproducibly.

How a variant is made:

1. **Numbers.** Each group (inputs, targets, weights, biases, learning rate) is drawn as the spec's
   ``randomize:`` section says, or by :func:`default_randomize` (the handout's style).
2. **Randomness.** A student's numbers depend only on the spec's network, the assignment seed and
   the student id: the id is hashed with HMAC-SHA256 under the seed (with a fingerprint of the
   network and its ``randomize:`` section), and the digest keys a counter-based generator (the
   SplitMix64 mixer over (key, draw, position)). Without the seed, one student's id says nothing
   about another's numbers; adding students changes nobody else's; one student alone gets exactly
   what the whole class run gives them.
3. **Constraints.** All variants are evaluated in one batched pass of the graph and checked at once
   (no saturated unit, every asked gradient visible, no two weights of a layer equal, a loss not
   about zero); only the failing ones are drawn again (draw 2, 3, … of their own stream), up to
   ``max_draws`` times, after which a :class:`SpecError` names the constraint that could not be met.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Array, Graph, Kind, Role, Values
from gradegen.core.key import Key, make_key, resolve_ask
from gradegen.core.network import build_graph
from gradegen.core.spec import Activation, Draw, Layer, Loss, Randomize, Spec
from gradegen.documents.slots import MARK, Template, format_each
from gradegen.documents.slots import slot as mark
from gradegen.errors import GradegenError, SpecError
from gradegen.names import folder_names

VERSION = b"gradegen-variants-1"
"""Part of every hashed message: changing how numbers are drawn means changing this."""

WIDE_FAN_IN = 4
"""Layers fed by more units than this get symmetric default weights."""

COSMETIC_FIELDS = ("title", "course", "instructions", "tolerance", "tolerances", "points")
"""Spec fields left out of the fingerprint: fixing a typo in the title changes nobody's numbers."""


# --------------------------------------------------------------------------- what is drawn


def default_randomize(spec: Spec) -> Randomize:
    """The spec's ``randomize:`` section with every group not given filled in by the default.

    Defaults, in the handout's style (2 decimal places):

    * inputs uniform in [0.05, 0.95]; weights and biases in [0.10, 0.90]; each range becomes
      symmetric ([−0.95, 0.95], [−0.90, 0.90]) when the spec itself has a negative number in that
      group, and the weights' also when a layer is fed by more than 4 units (positive weights
      would saturate its sums); weights get 3 places when a layer has more weights than the
      range has 2-place numbers (they must differ); biases are kept when the spec's biases are
      all 0 (a network without biases);
    * targets: half_mse, sse and mse in [0.01, 0.99] ([−0.99, 0.99] if the spec has a negative
      target); bce targets are kept (they are labels); cross_entropy targets are a random
      distribution rounded to as many places as the spec's targets have (at most 2; one-hot
      targets stay one-hot, with a random class);
    * the learning rate is kept.
    """
    given = spec.randomize or Randomize()
    weights = [w for layer in spec.layers for row in layer.weights for w in row]
    biases = [b for layer in spec.layers for b in layer.biases()]

    def span(values: Sequence[float], low: float, high: float, *, symmetric: bool = False) -> Draw:
        return Draw(low=-high if symmetric or min(values) < 0 else low, high=high, decimals=2)

    wide = max(len(layer.weights[0]) for layer in spec.layers) > WIDE_FAN_IN
    weight_draw = span(weights, 0.10, 0.90, symmetric=wide)
    biggest = max(layer.size * len(layer.weights[0]) for layer in spec.layers)
    if biggest > round((weight_draw.high or 0) - (weight_draw.low or 0), 2) * 100 + 1:
        weight_draw = weight_draw.model_copy(update={"decimals": 3})  # room for distinct weights

    if spec.loss is Loss.CROSS_ENTROPY:
        one_hot = all(t in (0.0, 1.0) for t in spec.targets)
        places = 0 if one_hot else min(2, max(1, *(_places(t) for t in spec.targets)))
        targets = Draw(decimals=places)
    elif spec.loss is Loss.BCE:
        targets = Draw(keep=True)
    else:
        targets = span(spec.targets, 0.01, 0.99)
    defaults = {
        "inputs": span(spec.inputs, 0.05, 0.95),
        "targets": targets,
        "weights": weight_draw,
        "biases": Draw(keep=True) if not any(biases) else span(biases, 0.10, 0.90),
        "learning_rate": Draw(keep=True),
    }
    return given.model_copy(
        update={g: getattr(given, g) or defaults[g] for g in Randomize.GROUPS},
    )


def _places(x: float) -> int:
    text = repr(float(x))
    return 0 if "e" in text else len(text.split(".")[1].rstrip("0"))


@dataclass(frozen=True)
class _Slot:
    """Some givens drawn together: one uniform each (range, choices) or a whole distribution."""

    ids: tuple[str, ...]
    draw: Draw
    distribution: bool = False
    distinct: bool = False  # no two equal (one layer's weights): drawn without replacement

    @property
    def width(self) -> int:
        """How many uniforms one variant's draw of this slot uses."""
        return 0 if self.draw.keep else len(self.ids)


@dataclass(frozen=True)
class _Plan:
    randomize: Randomize
    slots: tuple[_Slot, ...]
    layer_weights: tuple[tuple[str, ...], ...]  # weight ids of each layer

    @property
    def width(self) -> int:
        return sum(s.width for s in self.slots)

    @property
    def limit(self) -> int:
        """Draws allowed per variant (one when nothing is drawn: every draw would be the same)."""
        return self.randomize.max_draws if self.width else 1


def _plan(spec: Spec, graph: Graph) -> _Plan:
    r = default_randomize(spec)
    inputs, targets = graph.ids_of(Role.INPUT), graph.ids_of(Role.TARGET)
    weights, biases = graph.ids_of(Role.WEIGHT), graph.ids_of(Role.BIAS)
    assert r.inputs and r.targets and r.weights and r.biases and r.learning_rate
    layers: list[tuple[str, ...]] = []
    start = 0
    for layer in spec.layers:
        count = layer.size * len(layer.weights[0])
        layers.append(weights[start : start + count])
        start += count
    slots = (
        _Slot(inputs, r.inputs),
        _Slot(targets, r.targets, distribution=spec.loss is Loss.CROSS_ENTROPY),
        *(_Slot(ids, r.weights, distinct=r.distinct_weights) for ids in layers),
        _Slot(biases, r.biases),
        _Slot((graph.node_of(Role.LEARNING_RATE).id,), r.learning_rate),
    )
    return _Plan(r, slots, tuple(layers))


# --------------------------------------------------------------------------- randomness


def new_seed() -> str:
    """A fresh random assignment seed (32 hex digits), for runs not given one."""
    return secrets.token_hex(16)


def fingerprint(spec: Spec) -> str:
    """SHA-256 of the normalised spec without its cosmetic fields (title, tolerances, …)."""
    data = {k: v for k, v in spec.to_data().items() if k not in COSMETIC_FIELDS}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def student_keys(seed: str, spec: Spec, ids: Sequence[str]) -> NDArray[np.uint64]:
    """Two 64-bit words per student from HMAC-SHA256(seed, version ‖ fingerprint ‖ id)."""
    key = seed.encode("utf-8", errors="surrogatepass")
    prefix = VERSION + b"\x00" + fingerprint(spec).encode() + b"\x00"
    base = hmac.new(key, prefix, hashlib.sha256)
    digests = bytearray()
    for student in ids:
        h = base.copy()
        h.update(student.encode("utf-8", errors="surrogatepass"))
        digests += h.digest()[:16]
    return np.frombuffer(bytes(digests), dtype="<u8").reshape(len(ids), 2).astype(np.uint64)


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijective 64-bit mixer."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def uniforms(
    keys: NDArray[np.uint64], draw: int, width: int, *, offset: NDArray[np.int64] | None = None
) -> Array:
    """``width`` uniforms in [0, 1) per student for draw number ``draw`` (0, 1, …): shape (n, width).

    Uniform j of draw d for a student keyed (k1, k2) is
    ``mix(mix(k1 + (d·width + j + 1)·γ) ^ k2) >> 11`` scaled by 2⁻⁵³: a counter-based generator,
    so any student's draw is computed without the others'. ``offset`` (one per student) replaces
    ``draw`` when students are at different draws.
    """
    d = np.full(len(keys), draw, dtype=np.uint64) if offset is None else offset.astype(np.uint64)
    counter = d[:, None] * np.uint64(width) + np.arange(1, width + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        state = keys[:, :1] + counter * _GAMMA
        bits = _mix(_mix(state) ^ keys[:, 1:])
    return (bits >> np.uint64(11)).astype(np.float64) * (2.0**-53)


def _draw(plan: _Plan, u: Array, defaults: Mapping[str, float]) -> dict[str, Array]:
    """The givens a row of uniforms gives, slot by slot."""
    out: dict[str, Array] = {}
    n = u.shape[0]
    col = 0
    for slot in plan.slots:
        d = slot.draw
        if d.keep:
            for gid in slot.ids:
                out[gid] = np.full(n, defaults[gid])
            continue
        block = u[:, col : col + slot.width]
        col += slot.width
        if slot.distribution:
            values = _distribution(block, d.decimals or 0)
        elif d.choices is not None:
            choices = np.asarray(d.choices, dtype=np.float64)
            values = choices[_indices(block, len(choices), slot.distinct)]
        else:
            assert d.low is not None and d.high is not None
            places = 2 if d.decimals is None else d.decimals
            scale = 10.0**places
            lo = math.ceil(d.low * scale - 1e-9)
            hi = math.floor(d.high * scale + 1e-9)
            values = (lo + _indices(block, hi - lo + 1, slot.distinct)) / scale  # as if typed
        for j, gid in enumerate(slot.ids):
            out[gid] = np.ascontiguousarray(values[:, j])
    return out


def _indices(u: Array, count: int, distinct: bool) -> NDArray[np.int64]:
    """Indices into ``count`` values, one per uniform; all different along a row when ``distinct``.

    Distinct indices are drawn one by one without replacement: uniform j picks the c-th of the
    values still unused (c uniform below count − j), by stepping c past each earlier pick at or
    below it, in ascending order. The earlier picks are kept sorted, column by column (every
    row's m-th smallest), so each step is a few vector operations over all rows. With fewer
    values than uniforms they repeat (and the distinct_weights constraint then reports it).
    """
    n, k = u.shape
    if not distinct or k > count or k == 1:
        return np.minimum((u * count).astype(np.int64), count - 1)
    dtype = np.int16 if count < 2**15 - 1 else np.int64  # narrow columns: far less memory traffic
    picks = np.empty((k, n), dtype=dtype)
    floor = np.full(n, -1, dtype=dtype)
    ceiling = np.full(n, count, dtype=dtype)
    ordered: list[NDArray[Any]] = []  # ordered[m]: every row's m-th smallest pick so far
    for j in range(k):
        a = np.minimum(u[:, j] * (count - j), count - j - 1).astype(dtype)
        for column in ordered:
            np.add(a, a >= column, out=a)
        picks[j] = a
        # insert a: the m-th smallest of (picks ∪ {a}) is min(old m-th, max(old (m−1)-th, a))
        below = [floor, *ordered]
        above = [*ordered, ceiling]
        ordered = [np.minimum(above[m], np.maximum(below[m], a)) for m in range(j + 1)]
    return picks.T.astype(np.int64)


def _distribution(u: Array, places: int) -> Array:
    """Rows summing to exactly 1 at ``places`` decimals: a flat Dirichlet, largest-remainder rounded.

    With 0 places this is a one-hot row with a uniformly random class.
    """
    e = -np.log1p(-u)
    p = e / e.sum(axis=1, keepdims=True)
    scale = 10**places
    v = p * scale
    counts = np.floor(v)
    deficit = scale - counts.sum(axis=1, keepdims=True)
    rank = np.argsort(np.argsort(-(v - counts), axis=1, kind="stable"), axis=1, kind="stable")
    counts += rank < deficit
    result: Array = counts / scale
    return result


# --------------------------------------------------------------------------- constraints


def _failures(
    plan: _Plan, spec: Spec, graph: Graph, exact: Values, hand: Values | None, asked: Sequence[str]
) -> dict[str, NDArray[np.bool_]]:
    """Each constraint's failures over the batch (True where a variant breaks it).

    Without ``hand`` only the checks on exact values run (the cheap pass used while drawing);
    with it, the hand values of asked gradients must be nonzero and hand updates must change
    their parameter too.
    """
    r = plan.randomize
    n = exact.batch
    fails: dict[str, NDArray[np.bool_]] = {}
    finite = np.ones(n, dtype=bool)
    for node in graph.nodes:
        finite &= np.isfinite(exact[node.id])
    fails["finite (every value a finite number)"] = ~finite
    zs = graph.ids_of(Role.WEIGHTED_SUM)
    z = np.abs(np.stack([exact[i] for i in zs], axis=1))
    fails[f"max_abs_z (no saturated unit: |z| ≤ {r.max_abs_z:g})"] = np.asarray(
        ~(z <= r.max_abs_z).all(axis=1)
    )
    loss = exact[graph.node_of(Role.LOSS).id]
    fails[f"min_loss (loss ≥ {r.min_loss:g})"] = np.asarray(~(loss >= r.min_loss))
    floor = min_magnitude(spec)
    seen = np.ones(n, dtype=bool)
    zero = always_zero(spec, graph)
    for qid in asked:
        node = graph[qid]
        if qid in zero:
            continue
        if node.kind in (Kind.GRADIENT, Kind.FACTOR):
            seen &= np.abs(exact[qid]) >= floor
            if hand is not None:
                seen &= hand[qid] != 0
        elif node.kind is Kind.UPDATE and node.param and hand is not None:
            seen &= hand[qid] != hand[node.param]
    fails[f"min_magnitude (every asked gradient visible: |value| ≥ {floor:g}, updates change)"] = ~seen
    if r.distinct_weights and not (r.weights and r.weights.keep):
        same = np.zeros(n, dtype=bool)
        for ids in plan.layer_weights:
            if len(ids) > 1:
                w = np.sort(np.stack([exact[i] for i in ids], axis=1), axis=1)
                same |= (np.diff(w, axis=1) == 0).any(axis=1)
        fails["distinct_weights (no two weights in a layer equal)"] = same
    return fails


def always_zero(spec: Spec, graph: Graph) -> frozenset[str]:
    """Quantities that are 0 in every variant, so exempt from the visibility constraint.

    A softmax is unchanged by adding one number to all its inputs, so the gradient of a bias
    shared by a whole softmax layer is always 0 (and its update leaves it unchanged).
    """
    out: set[str] = set()
    for bias in graph.with_role(Role.BIAS):
        layer = spec.layers[bias.layer or 0]
        if layer.shared_bias and layer.activation is Activation.SOFTMAX:
            found = (graph.find(role, param=bias.id) for role in (Role.BIAS_GRADIENT, Role.UPDATE))
            out.update(n.id for n in found if n is not None)
    return frozenset(out)


def min_magnitude(spec: Spec) -> float:
    """The smallest |value| an asked gradient or chain-rule factor may have: 10^-(decimals+2) by default."""
    r = spec.randomize
    if r is not None and r.min_magnitude is not None:
        return r.min_magnitude
    return float(10.0 ** -(spec.decimals + 2))


def _batches(max_draws: int) -> list[int]:
    """Draws tried per round for the variants still failing: 1, 1, 2, 4, 8, … up to ``max_draws``."""
    sizes: list[int] = []
    size = 1
    while sum(sizes) < max_draws:
        sizes.append(min(size, max_draws - sum(sizes)))
        size = size if len(sizes) < 2 else size * 2
    return sizes


def _accept(
    plan: _Plan,
    spec: Spec,
    graph: Graph,
    keys: NDArray[np.uint64],
    asked: Sequence[str],
    start: NDArray[np.int64],
    givens: dict[str, Array],
    draws: NDArray[np.int64],
    pending: NDArray[np.int64],
) -> None:
    """For each pending variant, the first draw from ``start`` on that passes the exact checks.

    Fills ``givens`` and ``draws`` (1-based draw number) in place. A variant's draw d depends
    only on its key and d, and the first passing d is taken, so batching never changes the result.
    """
    limit = plan.limit
    fails: dict[str, NDArray[np.bool_]] = {}
    for size in _batches(limit):
        if not len(pending):
            return
        first = start[pending]
        live = first < limit
        if not live.all():
            break
        k = min(size, int(limit - first.min()))
        # candidate c of variant p is draw first[p] + c; rows ordered variant by variant
        u = _block(keys[pending], first, k, plan)
        cand = _draw(plan, u, graph.defaults)
        exact = graph.evaluate(cand, batch=len(u))
        fails = {
            name: f.reshape(len(pending), k)
            for name, f in _failures(plan, spec, graph, exact, None, asked).items()
        }
        ok = np.ones((len(pending), k), dtype=bool)
        for f in fails.values():
            ok &= ~f
        ok &= (first[:, None] + np.arange(k)[None, :]) < limit
        found = ok.any(axis=1)
        pick = np.argmax(ok, axis=1)
        rows = np.flatnonzero(found) * k + pick[found]
        done = pending[found]
        for gid in givens:
            givens[gid][done] = cand[gid][rows]
        draws[done] = first[found] + pick[found] + 1
        start[done] = draws[done]
        start[pending[~found]] = first[~found] + k
        last_fails = {name: f[~found, -1] for name, f in fails.items()}
        pending = pending[~found]
        fails = last_fails
    if len(pending):
        _give_up(fails, len(pending), len(keys), limit)


def _block(keys: NDArray[np.uint64], first: NDArray[np.int64], k: int, plan: _Plan) -> Array:
    """Uniforms of draws first[p], …, first[p] + k − 1 of each variant p: shape (len(keys)·k, width)."""
    rows = [uniforms(keys, 0, plan.width, offset=first + c) for c in range(k)]
    return np.stack(rows, axis=1).reshape(len(keys) * k, plan.width)


def _give_up(fails: Mapping[str, NDArray[np.bool_]], failing: int, n: int, limit: int) -> None:
    broken = "; ".join(f"{name} for {int(f.sum())}" for name, f in fails.items() if f.any())
    raise SpecError(
        f"randomize: {failing} of {n} variants still break a constraint after {limit} draws: "
        f"{broken}. Widen the ranges or relax the constraint."
    )


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class VariantSet:
    """Every variant of one spec, solved in one batched evaluation (exact and by hand).

    ``givens`` holds each given's values over the batch (index ``i`` is ``ids[i]``'s);
    ``draws`` how many draws each variant needed to meet the constraints.
    """

    spec: Spec
    seed: str
    ids: tuple[str, ...]
    folders: tuple[str, ...]
    asked: tuple[str, ...]
    graph: Graph
    givens: Mapping[str, Array]
    exact: Values
    hand: Values
    draws: NDArray[np.int64]
    _positions: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions", {s: i for i, s in enumerate(self.ids)})

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, student: str) -> int:
        """The position of a student id in this set."""
        try:
            return self._positions[student]
        except KeyError:
            raise GradegenError(f"unknown student id {student!r}") from None

    def givens_for(self, i: int) -> dict[str, float]:
        """Variant ``i``'s givens as plain floats, in graph order."""
        return {gid: float(self.givens[gid][i]) for gid in self.graph.givens}

    def spec_for(self, i: int) -> Spec:
        """Variant ``i``'s own spec: the network with its numbers (and no ``randomize:`` section)."""
        g = self.givens_for(i)
        spec = self.spec
        w = iter(self.graph.with_role(Role.WEIGHT))  # in numbering order: row by row, layer by layer
        b = iter(self.graph.with_role(Role.BIAS))
        layers: list[Layer] = []
        for layer in spec.layers:
            rows = []
            for row in layer.weights:
                rows.append(tuple(g[next(w).id] for _ in row))
            count = len(layer.biases())
            biases = tuple(g[next(b).id] for _ in range(count))
            bias: float | tuple[float, ...] = biases[0] if layer.shared_bias else biases
            layers.append(layer.model_copy(update={"weights": tuple(rows), "bias": bias}))
        return spec.model_copy(
            update={
                "inputs": tuple(g[n.id] for n in self.graph.with_role(Role.INPUT)),
                "targets": tuple(g[n.id] for n in self.graph.with_role(Role.TARGET)),
                "layers": tuple(layers),
                "learning_rate": g[self.graph.node_of(Role.LEARNING_RATE).id],
                "randomize": None,
            }
        )

    def key_for(self, i: int, asked: Iterable[str] | None = None) -> Key:
        """Variant ``i``'s answer key (the same shape as a single ``key.json``)."""
        return make_key(
            self.spec_for(i),
            self.graph,
            self.exact,
            self.hand,
            self.asked if asked is None else tuple(asked),
            index=i,
        )


def make_variants(
    spec: Spec,
    ids: Sequence[str],
    *,
    seed: str | int | None = None,
    asked: str | Iterable[str] | None = None,
    only: Iterable[str] | None = None,
) -> VariantSet:
    """Draw, check and solve one variant per student id.

    ``seed`` is the assignment's secret (a string; an int is used as its decimal text); without
    one a fresh seed is drawn (:func:`new_seed`) and recorded in the result. ``asked`` chooses the
    questions (as ``--ask``; default all), which the visibility constraint checks. ``only`` keeps
    just those students of the roster ``ids`` (folder names still account for the whole roster), and
    their numbers are exactly those of the whole run.
    """
    ids = tuple(ids)
    if len(set(ids)) != len(ids):
        dup = next(s for k, s in enumerate(ids) if s in ids[:k])
        raise GradegenError(f"duplicate student id {dup!r}")
    if not ids:
        raise GradegenError("no students: expected at least one student id")
    folders = folder_names(ids)
    if only is not None:
        wanted = tuple(dict.fromkeys(only))
        known = set(ids)
        for s in wanted:
            if s not in known:
                raise GradegenError(f"--only: {s!r} is not a student of the roster")
        position = {s: k for k, s in enumerate(ids)}
        folders = tuple(folders[position[s]] for s in wanted)
        ids = wanted
    seed = new_seed() if seed is None else str(seed)
    if not seed:
        raise GradegenError("--seed: expected a non-empty seed")
    graph = build_graph(spec)
    questions = resolve_ask(graph, asked)
    plan = _plan(spec, graph)
    keys = student_keys(seed, spec, ids)
    n = len(ids)
    givens = {gid: np.full(n, value) for gid, value in graph.defaults.items()}
    draws = np.zeros(n, dtype=np.int64)
    start = np.zeros(n, dtype=np.int64)
    pending = np.arange(n)
    while True:
        _accept(plan, spec, graph, keys, questions, start, givens, draws, pending)
        exact = graph.evaluate(givens, batch=n)
        hand = graph.evaluate(givens, hand=True, batch=n)
        fails = _failures(plan, spec, graph, exact, hand, questions)
        bad = np.zeros(n, dtype=bool)
        for f in fails.values():
            bad |= f
        if not bad.any():
            break
        # Rare: a draw that passed on exact values fails by hand; go on from its next draw.
        if (start[bad] >= plan.limit).any():
            _give_up({k: f[bad] for k, f in fails.items()}, int(bad.sum()), n, plan.limit)
        pending = np.flatnonzero(bad)
    return VariantSet(spec, seed, ids, folders, questions, graph, givens, exact, hand, draws)


def keys_document(variants: VariantSet, asked: Iterable[str] | None = None) -> dict[str, Any]:
    """The class's ``keys.json``: ``{"seed": "…", "keys": {student id: key}}`` in roster order.

    The seed is always a string (it is the HMAC key's text), so that keys.json round-trips it.
    """
    wanted = None if asked is None else tuple(asked)
    return {
        "seed": variants.seed,
        "keys": {s: variants.key_for(i, wanted).to_dict() for i, s in enumerate(variants.ids)},
    }


def keys_json(variants: VariantSet, asked: Iterable[str] | None = None) -> str:
    """``json.dumps(keys_document(variants, asked), indent=2, ensure_ascii=False) + "\\n"``, fast.

    One student's key is written once with slots for its numbers (the same JSON layout for
    every student), then filled from each quantity's column of the batch.
    """
    questions = variants.asked if asked is None else tuple(asked)
    skeleton = variants.key_for(0, questions).to_dict()
    _mark_spec(variants, skeleton["spec"])
    for qid in questions:
        entry = skeleton["values"][qid]
        entry.update(exact=mark(f"e:{qid}"), hand=mark(f"h:{qid}"), places=mark(f"p:{qid}"))
    document = {"seed": variants.seed, "keys": {mark("id"): skeleton}}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    # json writes the marker character as \u0000 inside a string: make each slot bare again
    text = text.replace('"\\u0000', MARK).replace('\\u0000"', MARK)
    end = len("\n  }\n}\n")
    start = text.index(MARK + "id" + MARK)
    template = Template(text[start:-end])
    if text.count(MARK) != 2 * (len(template.keys)):  # a marker character in the user's text
        return json.dumps(keys_document(variants, asked), indent=2, ensure_ascii=False) + "\n"
    columns = _key_columns(variants, template.keys)
    rows = template.rows(columns, 0, len(variants))
    entries = b",\n    ".join([template.fill(rows) for _ in variants.ids])
    return text[:start] + entries.decode() + text[-end:]


def _mark_spec(variants: VariantSet, data: dict[str, Any]) -> None:
    """Slots in a key's spec data where each given's number goes (as :meth:`spec_for` puts it)."""
    spec, graph = variants.spec, variants.graph
    w = iter(graph.with_role(Role.WEIGHT))  # in numbering order, as spec_for reads them
    b = iter(graph.with_role(Role.BIAS))
    for layer, layer_data in zip(spec.layers, data["layers"], strict=True):
        rows = []
        for row in layer.weights:
            rows.append([mark(f"g:{next(w).id}") for _ in row])
        layer_data["weights"] = rows
        count = len(layer.biases())
        biases = [mark(f"g:{next(b).id}") for _ in range(count)]
        layer_data["bias"] = biases[0] if layer.shared_bias else biases
    data["inputs"] = [mark(f"g:{n.id}") for n in graph.with_role(Role.INPUT)]
    data["targets"] = [mark(f"g:{n.id}") for n in graph.with_role(Role.TARGET)]
    data["learning_rate"] = mark(f"g:{graph.node_of(Role.LEARNING_RATE).id}")


def _key_columns(variants: VariantSet, keys: Sequence[str]) -> dict[str, list[bytes]]:
    """Each slot's JSON text (UTF-8) for every student: ids, givens, exact and hand values, places."""
    hand_places = variants.hand.places or {}
    ids = [json.dumps(s, ensure_ascii=False) for s in variants.ids]
    columns: dict[str, list[bytes]] = {"id": [s.encode() for s in ids]}
    for key in keys:
        if key in columns:
            continue
        kind, node = key.split(":", 1)
        if kind == "p":
            places = hand_places[node].tolist() if node in hand_places else [0] * len(variants)
            columns[key] = format_each(b"%d\x01" * len(places), places)
            continue
        source = variants.givens if kind == "g" else variants.exact if kind == "e" else variants.hand
        array = source[node]
        values = array.tolist()
        if np.isfinite(array).all():  # json writes a finite float as its repr
            columns[key] = format_each(b"%r\x01" * len(values), values)
        else:
            columns[key] = [json.dumps(x).encode() for x in values]
    return columns
