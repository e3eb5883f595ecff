"""Per-student variants: the spec's network with each student's own numbers, drawn reproducibly.

How a variant is made:

1. **Numbers.** Each group (inputs, targets, weights, biases, learning rate) is drawn as the spec's
   ``randomize:`` section says, or by :func:`~gradegen.variants.defaults.default_randomize` (the
   handout's style).
2. **Randomness** (:mod:`gradegen.variants.streams`). A student's numbers depend only on the
   spec's network, the assignment seed and the student id, through a counter-based stream keyed
   by an HMAC of the id under the seed: adding students changes nobody else's numbers, and one
   student alone gets exactly what the whole class run gives them.
3. **Constraints.** All variants are evaluated in one batched pass of the graph and checked at once
   (no saturated unit, every asked gradient visible, no two weights of a layer equal, a loss not
   about zero); only the failing ones are drawn again (draw 2, 3, … of their own stream), up to
   ``max_draws`` times, after which a :class:`SpecError` names the constraint that could not be met.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.classkeys import ClassKeys, with_givens
from gradegen.core.graph import Array, Graph, Kind, Role, Values
from gradegen.core.key import Key, make_key, resolve_ask
from gradegen.core.network import build_graph, fixed_quantities
from gradegen.core.spec import Activation, Draw, Loss, Randomize, Spec
from gradegen.errors import GradegenError, SpecError
from gradegen.names import folder_names
from gradegen.variants.defaults import default_randomize
from gradegen.variants.roster import MAX_STUDENTS
from gradegen.variants.streams import distribution, indices, new_seed, student_keys, uniforms

# --------------------------------------------------------------------------- what is drawn


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
            values = distribution(block, d.decimals or 0)
        elif d.choices is not None:
            choices = np.asarray(d.choices, dtype=np.float64)
            values = choices[indices(block, len(choices), slot.distinct)]
        else:
            assert d.low is not None and d.high is not None
            places = 2 if d.decimals is None else d.decimals
            scale = 10.0**places
            lo = math.ceil(d.low * scale - 1e-9)
            hi = math.floor(d.high * scale + 1e-9)
            values = (lo + indices(block, hi - lo + 1, slot.distinct)) / scale  # as if typed
        for j, gid in enumerate(slot.ids):
            out[gid] = np.ascontiguousarray(values[:, j])
    return out


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
        elif node.kind is Kind.STEP and hand is not None:
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
        return with_givens(self.spec, list(self.givens_for(i).values()))

    def class_keys(self, asked: Iterable[str] | None = None) -> ClassKeys:
        """The class's keys: the spec (without ``randomize:``), asked ids and every student's givens."""
        table = np.stack([self.givens[gid] for gid in self.graph.givens], axis=1)
        return ClassKeys(
            self.spec.model_copy(update={"randomize": None}),
            self.asked if asked is None else tuple(asked),
            self.graph.givens,
            self.ids,
            table,
            self.seed,
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
    if len(ids) > MAX_STUDENTS:
        raise GradegenError(f"{len(ids):,} students: one class run makes at most {MAX_STUDENTS:,}")
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
    # what the spec's own givens fix (a target 0 that the draws keep) is asked of nobody
    fixed = fixed_quantities(spec, graph, graph.defaults).all
    questions = resolve_ask(graph, asked, fixed, spec.documents.level)
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
    """The class's ``keys.json`` as plain data (:meth:`ClassKeys.to_data`), students in roster order.

    The seed is always a string (it is the HMAC key's text), so that keys.json round-trips it.
    """
    return variants.class_keys(asked).to_data()


def keys_json(variants: VariantSet, asked: Iterable[str] | None = None) -> str:
    """The class's ``keys.json`` text: the shared spec and asked ids once, a line of givens per student."""
    return variants.class_keys(asked).to_json()
