"""How a variant's values are printed in the documents, and the slot markers that stand in for them.

:class:`Numbers` gives one variant's values as printed; :class:`Slots` stands in for it when a
document is compiled, with a marker for every number (filled per variant).
"""

from __future__ import annotations

from gradegen.core.graph import Graph, Kind, Values
from gradegen.core.rounding import format_number, round_to, shortest
from gradegen.documents.latex import _visible
from gradegen.documents.slots import fill, slot


def math_number(text: str) -> str:
    """A printed value in LaTeX math: an ASCII minus (math mode typesets it as a minus sign)."""
    return text.replace("−", "-")


def operand(text: str) -> str:
    """A substituted number: negatives in parentheses, so 0.4 - (-0.2) reads unambiguously."""
    text = math_number(text)
    return f"({text})" if text.startswith("-") else text


class Numbers:
    """One variant's values as printed (math form), hand or exact; each text computed once."""

    __slots__ = ("_texts", "exact", "index", "values")

    def __init__(self, values: Values, index: int, exact: bool) -> None:
        self.values = values
        self.index = index
        self.exact = exact
        self._texts: dict[str, str] = {}

    def text(self, node_id: str) -> str:
        text = self._texts.get(node_id)
        if text is None:
            if self.exact:
                text = math_number(shortest(float(self.values[node_id][self.index])))
            else:
                text = math_number(self.values.text(node_id, self.index))
            self._texts[node_id] = text
        return text

    def operand(self, node_id: str) -> str:
        return operand(self.text(node_id))

    def step_operand(self, update_id: str) -> str:
        return operand(self.step(update_id))

    def places(self, node_id: str) -> int | None:
        places = self.values.places
        if self.exact or places is None or node_id not in places:
            return None
        return int(places[node_id][self.index])

    def step(self, update_id: str) -> str:
        """η·∂L/∂p of an update, as the hand rounding computes it (or exactly)."""
        _, lr, grad = self.values.graph[update_id].parents
        step = float(self.values[lr][self.index] * self.values[grad][self.index])
        places = self.places(update_id)
        if places is None:
            return math_number(shortest(step))
        return math_number(format_number(float(round_to(step, places)), places))


class Slots:
    """Stands in for :class:`Numbers` when a text is compiled: slot markers instead of numbers.

    Line breaks are decided on nominal widths, the same for every variant of a graph (and for
    any spec with the same network): a given counts as 0.00; a computed value as 0.0000 at the
    hand precision, two places more for an update and its step (they keep the step's places),
    and 20 characters at full precision.
    """

    def __init__(self, graph: Graph, exact: bool, kind: str = "t") -> None:
        self.graph = graph
        self.exact = exact
        self.kind = kind  # "t": math text; "v": as the SVG diagram prints it

    def text(self, node_id: str) -> str:
        return slot(f"{self.kind}:{node_id}")

    def operand(self, node_id: str) -> str:
        return slot(f"o:{node_id}")

    def step_operand(self, update_id: str) -> str:
        return slot(f"s:{update_id}")

    def nominal(self, key: str) -> str:
        """A stand-in text of slot ``key``'s nominal width."""
        node = self.graph[key.split(":", 1)[1]]
        if node.kind is Kind.GIVEN:
            return "0.00"
        if self.exact:
            return "0." + "0" * 18
        return "0." + "0" * (self.graph.decimals + (2 if node.kind is Kind.UPDATE else 0))

    def visible(self, latex: str) -> int:
        """Visible width of a compiled equation, each slot counted at its nominal width."""
        return _visible(fill(latex, self.nominal))

    def row_visible(self, latex: str) -> int:
        """Visible width of a row of a broken sum, each operand counted as a negative one:
        rows of many terms are where the parentheses of negatives add up."""
        return _visible(
            fill(latex, lambda key: f"(-{self.nominal(key)})" if key[0] in "os" else self.nominal(key))
        )


def slot_value(numbers: Numbers, key: str) -> str:
    """What a ``t:``, ``o:``, ``s:`` or ``v:`` slot shows for one variant's ``numbers``."""
    kind, node = key.split(":", 1)
    if kind == "t":
        return numbers.text(node)
    if kind == "o":
        return numbers.operand(node)
    if kind == "s":
        return numbers.step_operand(node)
    if kind == "v":
        return numbers.text(node).replace("-", "−")
    raise KeyError(key)
