"""A graph of named quantities, each with its symbol, formula, parents and function.

Every value is a float64 array with a leading batch axis, so one pass evaluates many variants
(or many students' answers) at once. Nodes are kept in topological order.
"""

from __future__ import annotations

import dataclasses
import difflib
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gradegen.core.rounding import (
    Precision,
    Rule,
    exact_step,
    exact_update,
    format_number,
    hand_round,
    shortest,
)
from gradegen.errors import GradegenError, SpecError

if TYPE_CHECKING:
    from gradegen.core.spec import Spec

Array = NDArray[np.float64]
Fn = Callable[..., Array]


class Kind(StrEnum):
    """What a quantity is; decides how it is rounded by hand."""

    GIVEN = "given"
    FORWARD = "forward"
    LOSS = "loss"
    FACTOR = "factor"
    GRADIENT = "gradient"
    STEP = "step"
    UPDATE = "update"
    AFTER = "after"  # the forward pass and loss again, with the updated parameters


class Role(StrEnum):
    """What a node is in the network: the closed set of quantities a training step has.

    Other modules ask a node its role (and layer, unit, parameter) instead of reading its id.
    """

    INPUT = "input"
    TARGET = "target"
    WEIGHT = "weight"
    BIAS = "bias"
    LEARNING_RATE = "learning_rate"
    WEIGHTED_SUM = "weighted_sum"  # z
    ACTIVATION = "activation"  # a (ŷ on the output layer)
    LOSS_TERM = "loss_term"  # one output's share of the loss (several outputs only)
    LOSS = "loss"
    DL_DA = "dL_da"  # ∂L/∂a of a unit
    DA_DZ = "da_dz"  # the activation's derivative at a unit
    DELTA = "delta"  # ∂L/∂z of a unit
    WEIGHT_GRADIENT = "weight_gradient"
    BIAS_GRADIENT = "bias_gradient"
    STEP = "step"  # η·∂L/∂p, what the update subtracts
    UPDATE = "update"  # a parameter after the step
    # the forward pass again with the updated parameters (own roles: lookups of z, a, L unchanged)
    AFTER_WEIGHTED_SUM = "after_weighted_sum"
    AFTER_ACTIVATION = "after_activation"
    AFTER_LOSS_TERM = "after_loss_term"
    AFTER_LOSS = "after_loss"
    LOSS_DECREASE = "loss_decrease"  # the loss before the update minus after it
    STEP_LOSS = "step_loss"  # with several steps: the loss after k of them
    FINAL_PARAMETER = "final_parameter"  # a parameter after the last of several steps

    @property
    def kind(self) -> Kind:
        """The rounding category of a node with this role."""
        return _KIND_OF[self]


_KIND_OF = {
    Role.INPUT: Kind.GIVEN,
    Role.TARGET: Kind.GIVEN,
    Role.WEIGHT: Kind.GIVEN,
    Role.BIAS: Kind.GIVEN,
    Role.LEARNING_RATE: Kind.GIVEN,
    Role.WEIGHTED_SUM: Kind.FORWARD,
    Role.ACTIVATION: Kind.FORWARD,
    Role.LOSS_TERM: Kind.LOSS,
    Role.LOSS: Kind.LOSS,
    Role.DL_DA: Kind.FACTOR,
    Role.DA_DZ: Kind.FACTOR,
    Role.DELTA: Kind.FACTOR,
    Role.WEIGHT_GRADIENT: Kind.GRADIENT,
    Role.BIAS_GRADIENT: Kind.GRADIENT,
    Role.STEP: Kind.STEP,
    Role.UPDATE: Kind.UPDATE,
    Role.AFTER_WEIGHTED_SUM: Kind.AFTER,
    Role.AFTER_ACTIVATION: Kind.AFTER,
    Role.AFTER_LOSS_TERM: Kind.AFTER,
    Role.AFTER_LOSS: Kind.AFTER,
    Role.LOSS_DECREASE: Kind.AFTER,
    Role.STEP_LOSS: Kind.AFTER,
    Role.FINAL_PARAMETER: Kind.AFTER,
}

AFTER_OF = {
    Role.WEIGHTED_SUM: Role.AFTER_WEIGHTED_SUM,
    Role.ACTIVATION: Role.AFTER_ACTIVATION,
    Role.LOSS_TERM: Role.AFTER_LOSS_TERM,
    Role.LOSS: Role.AFTER_LOSS,
}
"""Each forward or loss role, and the role of its copy computed after the update."""


class Group(StrEnum):
    """Question groups a worksheet can ask for (``--ask``)."""

    GIVENS = "givens"
    FORWARD = "forward"
    LOSS = "loss"
    OUTPUT_GRADIENTS = "output_gradients"
    HIDDEN_GRADIENTS = "hidden_gradients"
    UPDATES = "updates"
    AFTER_UPDATE = "after_update"  # not asked by default (see core.key.default_questions)
    STEPS = "steps"  # with several steps (spec.steps > 1); not asked by default either


@dataclass(frozen=True)
class Formula:
    """A formula over a node's parents: ``{0}``, ``{1}``… stand for them, ``{mul}`` for ×, ``{n}``
    for the number of outputs (written n, or its value with numbers).

    One template renders both symbolically (parents' symbols) and with numbers substituted.
    """

    latex: str
    text: str
    n: int = 1  # what ``{n}`` stands for (the number of outputs) where numbers are substituted

    def render(self, args: Sequence[str], *, latex: bool = True, numbers: bool = False) -> str:
        mul = (r" \times " if numbers else r" \cdot ") if latex else (" × " if numbers else "·")
        return (self.latex if latex else self.text).format(*args, mul=mul, n=self.n if numbers else "n")


@dataclass(frozen=True)
class Node:
    """One named quantity: how it is written, what it depends on and how it is computed.

    ``role``, ``layer``, ``unit`` and ``param`` say what the quantity is, so that no module but
    :mod:`gradegen.core.network` (which names them) needs to read an id: ``layer`` indexes the
    spec's layers (None for inputs, targets, η and the loss); ``unit`` is the unit a node belongs
    to (an input is its own unit; a weight or target belongs to the unit it feeds or is the
    target of; a bias shared by a layer to none); ``param`` is the weight or bias a given is,
    or a gradient or update is about.
    """

    id: str
    kind: Kind
    group: Group
    symbol: str  # LaTeX
    label: str  # plain text, for terminals
    meaning: str  # a short phrase: what this quantity is
    parents: tuple[str, ...] = ()
    fn: Fn | None = None
    formula: Formula | None = None
    unit: str | None = None  # the unit (x1, h1, out, …) this node belongs to
    param: str | None = None  # the parameter this is (a given) or is about (gradient, update)
    role: Role | None = None  # None only in hand-built graphs (tests, scripts)
    layer: int | None = None
    precision: Precision | None = None  # how it is rounded by hand (None: to the graph's decimals)

    def compute(self, args: Sequence[Array]) -> Array:
        if self.fn is None:
            raise GradegenError(f"{self.id} is a given; it has no formula to compute")
        return self.fn(*args)


@dataclass(frozen=True)
class Graph:
    """Nodes in topological order, the spec's values for the givens, and the hand precision."""

    nodes: tuple[Node, ...]
    defaults: Mapping[str, float]
    decimals: int = 4
    _index: dict[str, Node] = field(init=False, repr=False, compare=False)
    _roles: _RoleIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {node.id: node for node in self.nodes}
        if len(index) != len(self.nodes):
            raise GradegenError("duplicate node ids in graph")
        seen: set[str] = set()
        for node in self.nodes:
            for parent in node.parents:
                if parent not in seen:
                    problem = "a later" if parent in index else "an unknown"
                    raise GradegenError(f"{node.id} depends on {problem} node {parent}")
            seen.add(node.id)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_roles", _RoleIndex.of(self.nodes))

    def __getitem__(self, node_id: str) -> Node:
        try:
            return self._index[node_id]
        except KeyError:
            raise KeyError(f"unknown quantity id {node_id!r}") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._index

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(node.id for node in self.nodes)

    def select(self, *kinds: Kind, groups: Iterable[Group] = ()) -> tuple[Node, ...]:
        """Nodes of the given kinds and/or groups, in graph order."""
        wanted = set(groups)
        return tuple(n for n in self.nodes if n.kind in kinds or n.group in wanted)

    def with_role(self, *roles: Role, layer: int | None = None) -> tuple[Node, ...]:
        """The nodes with any of ``roles`` (in ``layer`` if given), in graph order."""
        if len(roles) == 1:
            found = self._roles.by_role.get(roles[0], ())
        else:
            wanted = set(roles)
            found = tuple(n for n in self.nodes if n.role in wanted)
        return found if layer is None else tuple(n for n in found if n.layer == layer)

    def ids_of(self, *roles: Role, layer: int | None = None) -> tuple[str, ...]:
        """The ids of :meth:`with_role`'s nodes."""
        return tuple(n.id for n in self.with_role(*roles, layer=layer))

    def find(self, role: Role, *, unit: str | None = None, param: str | None = None) -> Node | None:
        """The node with ``role`` for ``param`` and/or ``unit``, or None.

        With only a unit (or neither), the first such node in graph order: a unit has one node of
        each of its roles, but several weights, weight gradients and updates.
        """
        if param is not None:
            node = self._roles.by_param.get((role, param))
            return node if node is None or unit is None or node.unit == unit else None
        if unit is not None:
            return self._roles.by_unit.get((role, unit))
        found = self._roles.by_role.get(role, ())
        return found[0] if found else None

    def node_of(self, role: Role, unit: str | None = None, *, param: str | None = None) -> Node:
        """Like :meth:`find`, but a missing node is an error (``graph.node_of(Role.DELTA, "h1")``)."""
        node = self.find(role, unit=unit, param=param)
        if node is None:
            what = ", ".join(f"{k} {v}" for k, v in (("unit", unit), ("parameter", param)) if v)
            raise KeyError(f"no {role} node" + (f" for {what}" if what else ""))
        return node

    @property
    def givens(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes if n.kind is Kind.GIVEN)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The weights and biases, in numbering order (w1…, then b1…)."""
        return tuple(n.id for n in self.nodes if n.kind is Kind.GIVEN and n.param)

    @property
    def gradients(self) -> dict[str, str]:
        """Each parameter's id mapped to its gradient's id (w1 → dL_dw1)."""
        return {n.param: n.id for n in self.nodes if n.kind is Kind.GRADIENT and n.param}

    @property
    def updates(self) -> dict[str, str]:
        """Each updated parameter's id mapped to its update node's id (w1 → w1_new)."""
        return {n.param: n.id for n in self.nodes if n.kind is Kind.UPDATE and n.param}

    def children(self, node_id: str) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes if node_id in n.parents)

    def downstream(self, node_ids: Iterable[str]) -> set[str]:
        """Every node that depends, directly or not, on any of ``node_ids`` (not themselves)."""
        reached = set(node_ids)
        out: set[str] = set()
        for node in self.nodes:
            if reached.intersection(node.parents):
                reached.add(node.id)
                out.add(node.id)
        return out

    def replace(self, *nodes: Node) -> Graph:
        """A variant graph with some nodes swapped (same ids), re-sorted topologically.

        A swapped node may depend on nodes that came later (say a hidden gradient computed
        from an already-updated weight); the order is repaired, keeping it stable otherwise.
        """
        swap = {n.id: n for n in nodes}
        unknown = set(swap) - set(self._index)
        if unknown:
            raise KeyError(f"unknown quantity ids {sorted(unknown)}")
        merged = [swap.get(n.id, n) for n in self.nodes]
        return dataclasses.replace(self, nodes=_toposort(merged))

    def evaluate(
        self,
        givens: Mapping[str, ArrayLike] | None = None,
        *,
        overrides: Mapping[str, ArrayLike] | None = None,
        hand: bool = False,
        batch: int | None = None,
    ) -> Values:
        """Evaluate every node over a batch.

        ``givens`` replace the spec's values (arrays of shape (batch,) or scalars);
        ``overrides`` fix any node's value so that everything downstream follows from it;
        ``hand`` rounds each computed value as a student would before it is used downstream.
        """
        givens = givens or {}
        overrides = overrides or {}
        for name in givens:
            if name not in self._index or self._index[name].kind is not Kind.GIVEN:
                raise KeyError(f"{name!r} is not a given of this network")
        n = batch or _batch_size([*givens.values(), *overrides.values()])
        values: dict[str, Array] = {}
        places: dict[str, NDArray[np.int64]] = {}
        with np.errstate(all="ignore"):
            for node in self.nodes:
                if node.id in overrides:
                    values[node.id] = _column(overrides[node.id], n)
                    continue
                if node.kind is Kind.GIVEN:
                    values[node.id] = _column(givens.get(node.id, self.defaults[node.id]), n)
                    continue
                args = [values[p] for p in node.parents]
                value = _column(node.compute(args), n)
                if hand:
                    value, places[node.id] = self._hand(node, args, value, places)
                values[node.id] = value
        return Values(self, values, places if hand else None, n)

    def precision_of(self, node_id: str) -> Precision:
        """How ``node_id`` is rounded by hand (a node without its own rule: the graph's decimals)."""
        precision = self[node_id].precision
        return precision if precision is not None else Precision(Rule.DECIMALS, self.decimals)

    def _hand(
        self, node: Node, args: Sequence[Array], value: Array, places: Mapping[str, NDArray[np.int64]]
    ) -> tuple[Array, NDArray[np.int64]]:
        """A computed value rounded as a student rounds it, and the places it keeps."""
        precision = self.precision_of(node.id)
        if precision.rule is not Rule.EXACT:
            return hand_round(value, precision)
        # a step η·g, or an update w − η·g: exact decimals of η, w as given and the rounded g
        lr, grad = (args[1], args[2]) if node.kind is Kind.UPDATE else (args[0], args[1])
        step, step_places = exact_step(lr, grad, places[node.parents[-1]])
        if node.kind is Kind.UPDATE:
            return exact_update(args[0], step, step_places)
        return step, step_places

    def recompute(self, values: Mapping[str, ArrayLike]) -> dict[str, Array]:
        """Each computed node from its parents' values as given (no propagation).

        With students' answers as ``values`` this is what each answer should have been,
        given the student's own upstream answers: the basis of follow-through credit.
        """
        n = _batch_size(list(values.values()))
        columns = {k: _column(v, n) for k, v in values.items()}
        out: dict[str, Array] = {}
        with np.errstate(all="ignore"):
            for node in self.nodes:
                if node.kind is Kind.GIVEN or not all(p in columns for p in node.parents):
                    continue
                out[node.id] = _column(node.compute([columns[p] for p in node.parents]), n)
        return out


@dataclass(frozen=True)
class _RoleIndex:
    """The graph's nodes by role, by (role, unit) and by (role, parameter), for lookups."""

    by_role: dict[Role, tuple[Node, ...]]
    by_unit: dict[tuple[Role, str], Node]
    by_param: dict[tuple[Role, str], Node]

    @classmethod
    def of(cls, nodes: Iterable[Node]) -> _RoleIndex:
        by_role: dict[Role, list[Node]] = {}
        by_unit: dict[tuple[Role, str], Node] = {}
        by_param: dict[tuple[Role, str], Node] = {}
        for node in nodes:
            if node.role is None:
                continue
            by_role.setdefault(node.role, []).append(node)
            if node.unit is not None:
                by_unit.setdefault((node.role, node.unit), node)
            if node.param is not None:
                by_param.setdefault((node.role, node.param), node)
        return cls({r: tuple(ns) for r, ns in by_role.items()}, by_unit, by_param)


@dataclass(frozen=True)
class Values:
    """The value of every node over a batch; hand evaluations also know each value's places."""

    graph: Graph
    arrays: Mapping[str, Array]
    places: Mapping[str, NDArray[np.int64]] | None
    batch: int

    @property
    def hand(self) -> bool:
        return self.places is not None

    def __getitem__(self, node_id: str) -> Array:
        return self.arrays[node_id]

    def scalars(self, index: int = 0) -> dict[str, float]:
        """One variant's values as plain floats, in graph order."""
        return {k: float(v[index]) for k, v in self.arrays.items()}

    def text(self, node_id: str, index: int = 0) -> str:
        """A value as a student would write it: hand values with their places, givens as given."""
        value = float(self.arrays[node_id][index])
        if self.places is not None and node_id in self.places:
            scientific = self.graph.precision_of(node_id).scientific
            return format_number(value, int(self.places[node_id][index]), scientific)
        if self.graph[node_id].kind is Kind.GIVEN or self.places is not None:
            return shortest(value)
        return repr(value)


def _batch_size(arrays: Sequence[ArrayLike]) -> int:
    sizes = {np.size(a) for a in arrays if np.ndim(a) > 0}
    sizes.discard(1)
    if len(sizes) > 1:
        raise GradegenError(f"batch sizes disagree: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def _column(value: ArrayLike, n: int) -> Array:
    array = np.asarray(value, dtype=np.float64)
    if array.shape == (n,):
        return array
    return np.broadcast_to(array.reshape(-1) if array.ndim else array, (n,)).copy()


def _toposort(nodes: list[Node]) -> tuple[Node, ...]:
    """Stable topological order (Kahn's algorithm): ties keep their old order."""
    position = {node.id: i for i, node in enumerate(nodes)}
    waiting = {node.id: len(set(node.parents)) for node in nodes}
    children: dict[str, list[str]] = {node.id: [] for node in nodes}
    for node in nodes:
        for parent in set(node.parents):
            children[parent].append(node.id)
    ready = [position[n.id] for n in nodes if waiting[n.id] == 0]
    heapq.heapify(ready)
    ordered: list[Node] = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        ordered.append(node)
        for child in children[node.id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, position[child])
    if len(ordered) != len(nodes):
        stuck = next(n.id for n in nodes if waiting[n.id] > 0)
        raise GradegenError(f"the graph has a cycle through {stuck}")
    return tuple(ordered)


def check_ids(spec: Spec, graph: Graph, *, source: str = "spec") -> None:
    """Per-id settings (tolerances, points) must name quantities of this network."""
    for setting in ("tolerances", "points"):
        for qid in getattr(spec, setting):
            if qid not in graph:
                close = difflib.get_close_matches(qid, graph.ids, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SpecError(f"{setting}.{qid}: unknown quantity id{hint}", source=source)
