"""How the documents print a value, and the slot markers that stand in for values while compiling.

One function formats numbers (:func:`printed`), for one variant (:class:`Numbers`, what the
reference renderer and user templates get) and for a block of variants at once (the compiled
documents). :class:`Slots` stands in for :class:`Numbers` while documents are laid out or
compiled: a marker for every number, in one of the forms below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import NoReturn

from gradegen.core.graph import Graph, Kind, Values
from gradegen.core.rounding import round_to, shortest

MARK = "\x00"
_SLOT = re.compile("\x00([^\x00]*)\x00")


def slot(key: str) -> str:
    """The marker for ``key`` in a compiled text."""
    return f"{MARK}{key}{MARK}"


def fill(text: str, value: Callable[[str], str]) -> str:
    """``text`` with every slot replaced by ``value(key)``."""
    return _SLOT.sub(lambda m: value(m.group(1)), text)


def math_number(text: str) -> str:
    """A printed value in LaTeX math: an ASCII minus (math mode typesets it as a minus sign)."""
    return text.replace("−", "-")


def operand(text: str) -> str:
    """A substituted number: negatives in parentheses, so 0.4 - (-0.2) reads unambiguously."""
    return _parenthesized(math_number(text))


def _parenthesized(text: str) -> str:
    """A number in math form as an operand."""
    return f"({text})" if text.startswith("-") else text


def _diagram(text: str) -> str:
    """As the SVG diagram prints a number: with a real minus sign."""
    return text.replace("-", "−")


def _plain(text: str) -> str:
    return text


def _short(text: str) -> str:
    """A value that is exactly what it shows (a ReLU's 0 or 1, a leaky slope): no trailing zeros."""
    return text.rstrip("0").rstrip(".") if "." in text else text


# A slot key is "<form>:<id>". Forms: "t" a node's printed value, "o" the same as an operand, "v"
# as the SVG diagram prints it, "s" an update's step η·∂L/∂p as an operand, "i" a value that is
# exact (a ReLU's derivative) without trailing zeros; "p" the precision an
# answer is asked to. Compiled documents also hold "student:<format>", the student as it is named.
FORMS: dict[str, Callable[[str], str]] = {
    "t": _plain,
    "o": _parenthesized,
    "v": _diagram,
    "s": _parenthesized,
    "i": _short,
}
"""Each number form, from the number's printed text (math form)."""


def number_of(key: str) -> str:
    """The number a number slot shows: ``t:n`` (node n's value) for t, o and v; ``s:u`` itself."""
    form, node = key.split(":", 1)
    return key if form == "s" else f"t:{node}"


# --------------------------------------------------------------------------- formatting


def printed(xs: Sequence[float], places: Sequence[int] | None) -> list[str]:
    """Each value as the documents print it (math form): to its places, as
    :func:`~gradegen.core.rounding.format_number` writes it but with an ASCII minus; or in full
    (shortest), as given."""
    if places is None:
        return [math_number(shortest(x + 0.0)) for x in xs]  # + 0.0: −0.0 prints as 0
    # "%.*f" takes the places as an argument: a third cheaper than an f-string's nested spec
    texts = ["%.*f" % (p, x) for x, p in zip(xs, places, strict=True)]  # noqa: UP031
    return [text[1:] if text[:2] == "-0" and float(text) == 0 else text for text in texts]  # no −0.00


Column = tuple[list[float], list[int] | None]
"""A number over a block of variants: the values, and the places each is printed to (None: in full)."""


def column(values: Values, number: str, lo: int, hi: int, exact: bool) -> Column:
    """Number ``t:n`` (node n's value) or ``s:u`` (update u's step) for variants lo … hi − 1."""
    form, node = number.split(":", 1)
    places = None if exact or values.places is None else values.places.get(node)
    if form == "s":
        # η·∂L/∂p as the hand rounding computes it: rounded to the update's places (or exact)
        _, lr, grad = values.graph[node].parents
        xs = values[lr][lo:hi] * values[grad][lo:hi]
        if places is not None:
            xs = round_to(xs, places[lo:hi])
    else:
        xs = values[node][lo:hi]
    return xs.tolist(), None if places is None else places[lo:hi].tolist()


@lru_cache(maxsize=64)
def precision_text(places: int | None) -> str:
    """How an answer's precision is asked for: "4 decimal places", or "full precision"."""
    if places is None:
        return "full precision"
    return f"{places} decimal place" + ("" if places == 1 else "s")


def asked_places(hand: Values, node_id: str, lo: int, hi: int, exact: bool) -> list[int | None]:
    """The places variants lo … hi − 1 are asked to give ``node_id`` to (None: full precision)."""
    if exact:
        return [None] * (hi - lo)
    if hand.places is None or node_id not in hand.places:  # not computed: as the key says, 0
        return [0] * (hi - lo)
    places: list[int | None] = hand.places[node_id][lo:hi].tolist()
    return places


# --------------------------------------------------------------------------- one variant


class Numbers:
    """One variant's values as printed (math form), hand or exact; each text computed once."""

    __slots__ = ("_texts", "exact", "index", "values")

    def __init__(self, values: Values, index: int, exact: bool) -> None:
        self.values = values
        self.index = index
        self.exact = exact
        self._texts: dict[str, str] = {}

    def _printed(self, number: str) -> str:
        text = self._texts.get(number)
        if text is None:
            text = printed(*column(self.values, number, self.index, self.index + 1, self.exact))[0]
            self._texts[number] = text
        return text

    def text(self, node_id: str) -> str:
        return self._printed(f"t:{node_id}")

    def operand(self, node_id: str) -> str:
        return operand(self.text(node_id))

    def short(self, node_id: str) -> str:
        return _short(self.text(node_id))

    def step_operand(self, update_id: str) -> str:
        return operand(self._printed(f"s:{update_id}"))

    def slot(self, key: str) -> str:
        """What number slot ``key`` shows for this variant."""
        return FORMS[key.split(":", 1)[0]](self._printed(number_of(key)))

    def place(self, text: str) -> str:
        """``text`` (laid out with :class:`Slots`) with this variant's numbers in its slots."""
        return fill(text, self.slot)

    def floats(self) -> dict[str, float]:
        """Every node's value as a float (what user templates compute with)."""
        return self.values.scalars(self.index)

    def for_svg(self) -> Numbers:
        """The numbers for the SVG diagram, which puts in real minus signs itself."""
        return self


class Slots:
    """Stands in for :class:`Numbers` when a text is laid out or compiled: markers, not numbers.

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

    def short(self, node_id: str) -> str:
        return slot(f"i:{node_id}")

    def step_operand(self, update_id: str) -> str:
        return slot(f"s:{update_id}")

    def place(self, text: str) -> str:
        """``text`` as it is: compiled documents keep their markers."""
        return text

    def floats(self) -> Mapping[str, float]:
        return _NoFloats()

    def for_svg(self) -> Slots:
        """Markers for the SVG diagram: their texts come with real minus signs ("v" slots)."""
        return Slots(self.graph, self.exact, "v")

    def nominal(self, key: str) -> str:
        """A stand-in text of slot ``key``'s nominal width."""
        node = self.graph[key.split(":", 1)[1]]
        if node.kind is Kind.GIVEN:
            return "0.00"
        if self.exact:
            return "0." + "0" * 18
        return "0." + "0" * (self.graph.decimals + (2 if node.kind is Kind.UPDATE else 0))


class _NoFloats(Mapping[str, float]):
    """Compiled documents have no numbers to compute with: only user templates (rendered with
    real numbers) may use ``values``; the package's templates print texts."""

    def __getitem__(self, key: str) -> NoReturn:
        raise RuntimeError(f"values[{key!r}] in a compiled template: the package's templates print texts")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
