"""The answer key: which quantities are asked, their exact and hand values and tolerances.

``key.json`` is what ``generate`` writes and ``grade`` reads::

    {"spec": {...normalised spec...}, "asked": [ids in question order],
     "values": {id: {"exact": x, "hand": y, "places": p, "tolerance": {"mode": "rel", "value": 0.01},
                     "points": 1.0}}}
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gradegen.core.graph import Graph, Group, Kind, Role, Values
from gradegen.core.levels import level_questions, points_of
from gradegen.core.network import fixed_quantities
from gradegen.core.options import Level
from gradegen.core.reading import parse_text, read_text
from gradegen.core.rounding import MAX_PLACES, tiny_learning_rate
from gradegen.core.spec import Number, Points, Spec, Tolerance, describe_error, parse_spec
from gradegen.core.training import evaluate_spec
from gradegen.errors import GradegenError, quoted

GROUPS = tuple(g.value for g in Group if g is not Group.GIVENS)
"""Question groups ``--ask`` accepts, in the order a worksheet asks them."""


def askable(graph: Graph) -> tuple[str, ...]:
    """Every quantity a worksheet can ask for (all but the givens), in graph order."""
    return tuple(n.id for n in graph.nodes if n.kind is not Kind.GIVEN)


def asks_steps(graph: Graph) -> bool:
    """Whether η is tiny (:func:`~gradegen.core.rounding.tiny_learning_rate`): then worksheets ask
    the steps η·∂L/∂p (the new values follow from them) and solutions work each step out on its
    own line; otherwise they ask the new values, whose lines show the step."""
    lr = graph.find(Role.LEARNING_RATE)
    return lr is not None and tiny_learning_rate(graph.defaults[lr.id], graph.decimals)


def _unasked_kind(graph: Graph) -> Kind:
    """The form of an update a worksheet does not ask by default (see :func:`asks_steps`)."""
    return Kind.UPDATE if asks_steps(graph) else Kind.STEP


def default_questions(
    graph: Graph, fixed: Collection[str] = (), level: Level = Level.STANDARD
) -> tuple[str, ...]:
    """What a worksheet asks when ``--ask`` is not given: every quantity but the givens, those
    ``fixed`` by them and those after the update, each update as its step or as its new value (see
    :func:`_unasked_kind`); fewer at another ``level`` (:func:`~gradegen.core.levels.level_questions`)."""
    skip = _unasked_kind(graph)
    standard = tuple(
        qid for qid in askable(graph) if graph[qid].kind not in (skip, Kind.AFTER) and qid not in fixed
    )
    return level_questions(graph, level, standard, fixed, skip)


def resolve_ask(
    graph: Graph,
    ask: str | Iterable[str] | None = None,
    fixed: Collection[str] = (),
    level: Level = Level.STANDARD,
) -> tuple[str, ...]:
    """Turn ``--ask`` (groups and/or ids, comma-separated) into ids in graph order (the
    ``updates`` group, and no ``--ask``, ask each update in one form: :func:`default_questions`,
    which the ``level`` decides; ``--ask`` overrides the level's choice of questions).

    The quantities ``fixed`` by the givens alone (:func:`~gradegen.core.network.fixed_quantities`)
    are left out of the default and of groups; an id asked by name is asked.
    """
    if ask is None:
        return default_questions(graph, fixed, level)
    items = [a.strip() for a in (ask.split(",") if isinstance(ask, str) else ask)]
    items = [a for a in items if a]
    if not items:
        raise GradegenError("--ask: expected group names or quantity ids, got nothing")
    allowed = set(askable(graph))
    if len(items) > len(GROUPS) + len(allowed):
        raise GradegenError(
            f"--ask: {len(items):,} items, more than this network's {len(allowed):,} quantities "
            f"and {len(GROUPS)} groups together"
        )
    wanted: set[str] = set()
    skip = _unasked_kind(graph)
    for item in items:
        if item in GROUPS:
            wanted.update(
                n.id for n in graph.nodes if n.group == item and n.kind is not skip and n.id not in fixed
            )
        elif item in allowed:
            wanted.add(item)
        else:
            close = difflib.get_close_matches(item, [*GROUPS, *allowed], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise GradegenError(
                f"--ask: {item!r} is neither a group ({', '.join(GROUPS)}) "
                f"nor a quantity id of this network{hint}"
            )
    if not wanted:  # say so now: a key asking nothing cannot be graded
        hint = " (the steps group needs steps: N > 1)" if "steps" in items else ""
        raise GradegenError(f"--ask: {', '.join(items)} asks no quantity of this network{hint}")
    return tuple(i for i in askable(graph) if i in wanted)


@dataclass(frozen=True)
class Answer:
    """The key's entry for one asked quantity."""

    exact: float
    hand: float
    places: int
    tolerance: Tolerance
    points: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "exact": self.exact,
            "hand": self.hand,
            "places": self.places,
            "tolerance": self.tolerance.model_dump(mode="json"),
            "points": self.points,
        }


@dataclass(frozen=True)
class Key:
    """Everything grading needs for one version of an assignment."""

    spec: Spec
    asked: tuple[str, ...]
    values: Mapping[str, Answer]
    source: str = field(default="key", compare=False)  # where it was read from, for messages

    def check_asked(self, graph: Graph) -> None:
        """Refuse asked ids that are not askable quantities of ``graph``, the key's network (a
        hand-edited key.json; checked where grading builds the graph anyway)."""
        allowed = askable(graph)
        known = set(allowed)
        for qid in self.asked:
            if qid not in known:
                close = difflib.get_close_matches(qid, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise GradegenError(
                    f"{self.source}: asked: {quoted(qid)} is not a quantity of this network{hint}"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_data(),
            "asked": list(self.asked),
            "values": {qid: self.values[qid].to_dict() for qid in self.asked},
        }

    def to_json(self) -> str:
        """The ``key.json`` text (what ``generate`` writes)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "key") -> Key:
        """Validate a key's data (a hand-edited key.json): every problem is one line naming the field."""
        if not isinstance(data, dict) or not {"spec", "asked", "values"} <= set(data):
            raise GradegenError(f"{source}: not a gradegen key (expected spec, asked and values)")
        spec = parse_spec(data["spec"], source=f"{source}: spec")
        asked = data["asked"]
        values = data["values"]
        if not isinstance(asked, list) or not isinstance(values, dict):
            raise GradegenError(f"{source}: asked must be a list and values a mapping")
        if not asked:
            raise GradegenError(f"{source}: asked: expected at least one quantity id")
        answers: dict[str, Answer] = {}
        for qid in asked:
            if not isinstance(qid, str):
                raise GradegenError(f"{source}: asked: expected quantity ids, got {quoted(qid)}")
            if qid in answers:
                raise GradegenError(f"{source}: asked: {qid!r} is listed twice")
            entry = values.get(qid)
            if not isinstance(entry, dict):
                raise GradegenError(f"{source}: values.{qid}: missing or not a mapping")
            try:
                checked = _Entry.model_validate({"places": spec.decimals, **entry})
            except ValidationError as exc:
                raise GradegenError(f"{source}: values.{qid}.{describe_error(exc, _Entry)}") from None
            answers[qid] = Answer(
                checked.exact, checked.hand, checked.places, checked.tolerance, checked.points
            )
        return cls(spec, tuple(asked), answers, source)


class _Entry(BaseModel):
    """What one of a key.json's values must hold: finite numbers, places a float64 has, points in
    bounds (:data:`~gradegen.core.spec.MAX_POINTS`) and a valid tolerance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exact: Number
    hand: Number
    places: Annotated[int, Field(strict=True, ge=0, le=MAX_PLACES)]
    tolerance: Tolerance = Tolerance()
    points: Points = 1.0


def make_key(
    spec: Spec, graph: Graph, exact: Values, hand: Values, asked: Iterable[str], index: int = 0
) -> Key:
    """The key for variant ``index`` of an evaluated batch (one spec's values: index 0)."""
    answers = {
        qid: Answer(
            exact=float(exact[qid][index]),
            hand=float(hand[qid][index]),
            places=int(hand.places[qid][index]) if hand.places and qid in hand.places else 0,
            tolerance=spec.tolerances.get(qid, spec.tolerance),
            points=points_of(spec, graph, qid),
        )
        for qid in asked
    }
    return Key(spec, tuple(asked), answers)


def solve_key(spec: Spec, asked: Iterable[str] | None = None, *, source: str = "spec") -> Key:
    """The key of one spec solved alone, asking what its worksheet asks by default (unless
    ``asked`` says), so answers to that worksheet grade against it; a spec whose step overflows is
    refused (a SpecError naming ``source``)."""
    graph, exact, hand = evaluate_spec(spec, source=source)
    if asked is None:
        fixed = fixed_quantities(spec, graph, graph.defaults).all
        questions = default_questions(graph, fixed, spec.documents.level)
    else:
        questions = tuple(asked)
    return make_key(spec, graph, exact, hand, questions)


def load_key(path: Path) -> Key:
    """Read a ``key.json`` file."""
    data = parse_text(read_text(path, what="key"), fmt="json", source=str(path))
    return Key.from_dict(data, source=str(path))
