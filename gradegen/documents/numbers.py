"""How the documents print a value, and the slot markers that stand in for values while compiling.

One function formats numbers (:func:`printed`), for one variant (:class:`Numbers`, what the
reference renderer and user templates get) and for a block of variants at once (the compiled
documents). :class:`Slots` stands in for :class:`Numbers` while documents are laid out or
compiled: a marker for every number, in one of the forms below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NoReturn

from gradegen.core.graph import Graph, Kind, Values
from gradegen.core.rounding import Rule, figure_places, scientific_parts, shortest

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


_SCIENTIFIC = re.compile(r"(\S+) \\times 10\^\{(-?)(\d+)\}")


def _parenthesized(text: str) -> str:
    """A number in math form as an operand."""
    return f"({text})" if text.startswith("-") else text


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def diagram_number(text: str) -> str:
    """As the SVG diagram prints a number: with a real minus sign, and 1.23 \\times 10^{-4} as
    1.23×10⁻⁴."""
    m = _SCIENTIFIC.fullmatch(text)
    if m is not None:
        text = f"{m.group(1)}×10{(m.group(2) + m.group(3)).translate(_SUPERSCRIPT)}"
    return text.replace("-", "−")


def is_zero(text: str) -> bool:
    """Whether a printed value is 0 (in any of its forms)."""
    return not any(c in "123456789" for c in text.split(" ", 1)[0])


DEAD_SVG = 'fill="#ececec" stroke="#8a8a8a" stroke-dasharray="4 3"'
LIVE_SVG = 'fill="#fdf3e7" stroke="#222"'
"""A unit's circle in the values diagram: a dead ReLU unit's (its derivative 0), and any other's."""
DEAD_EDGE_SVG = 'stroke="#a0a0a0" stroke-width="1.2" stroke-dasharray="4 3"'
LIVE_EDGE_SVG = 'stroke="#444" stroke-width="1.2"'
"""An edge into a unit in the values diagram: into a dead one, and into any other."""


def _unit_svg(text: str) -> str:
    return DEAD_SVG if is_zero(text) else LIVE_SVG


def _unit_tikz(text: str) -> str:
    return ", dead" if is_zero(text) else ""


def _edge_svg(text: str) -> str:
    return DEAD_EDGE_SVG if is_zero(text) else LIVE_EDGE_SVG


def _edge_tikz(text: str) -> str:
    return "[dead edge]" if is_zero(text) else ""


def _plain(text: str) -> str:
    return text


def _short(text: str) -> str:
    """A value that is exactly what it shows (a ReLU's 0 or 1, a leaky slope): no trailing zeros."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _mathml(text: str) -> str:
    """A number in math form as MathML (the HTML pages): with a real minus sign (kept in the
    number, as the text around it reads it), a value in scientific notation as mantissa × 10 to
    its power."""
    m = _SCIENTIFIC.fullmatch(text)
    if m is None:
        return f"<mn>{text.replace('-', '−')}</mn>"
    mantissa, power = m.group(1).replace("-", "−"), ("−" if m.group(2) else "") + m.group(3)
    return f"<mrow><mn>{mantissa}</mn><mo>×</mo><msup><mn>10</mn><mn>{power}</mn></msup></mrow>"


def _mathml_operand(text: str) -> str:
    inner = _mathml(text)
    return f"<mrow><mo>(</mo>{inner}<mo>)</mo></mrow>" if text.startswith("-") else inner


# A slot key is "<form>:<id>". Forms: "t" a node's printed value, "o" the same as an operand, "v"
# as the SVG diagram prints it, "i" a value that is exact (a ReLU's derivative) without trailing
# zeros; "m", "n" and "k" are "t", "o" and "i" as MathML; "d" and "e" a unit's look in the values
# diagram's SVG and TikZ, "D" and "E" an edge's into it, from the unit's activation's derivative
# (dashed and grey where it is 0: a dead ReLU).
# Compiled documents also hold "student:<format>", the student as it is named.
FORMS: dict[str, Callable[[str], str]] = {
    "t": _plain,
    "o": _parenthesized,
    "v": diagram_number,
    "i": _short,
    "m": _mathml,
    "n": _mathml_operand,
    "k": lambda text: _mathml(_short(text)),
    "d": _unit_svg,
    "e": _unit_tikz,
    "D": _edge_svg,
    "E": _edge_tikz,
}
"""Each number form, from the number's printed text (math form)."""


def number_of(key: str) -> str:
    """The number a number slot shows: ``t:n`` (node n's value) for every form."""
    return "t:" + key.split(":", 1)[1]


# --------------------------------------------------------------------------- formatting

EXACT_FIGURES = 10
"""Significant figures exact mode shows of every computed value (givens are shown as given)."""


def scientific_math(text: str) -> str:
    """A fixed-point text in LaTeX scientific notation with the same digits: 6.70 \\times 10^{-4}."""
    mantissa, exponent = scientific_parts(text)
    return mantissa if exponent == 0 else rf"{mantissa} \times 10^{{{exponent}}}"


def printed(xs: Sequence[float], places: Sequence[int] | None, scientific: bool = False) -> list[str]:
    """Each value as the documents print it (math form): to its places, as
    :func:`~gradegen.core.rounding.format_number` writes it but with an ASCII minus (and LaTeX's
    ``\\times 10^{-4}`` when ``scientific``); or in full (shortest), as given."""
    if places is None:
        return [math_number(shortest(x + 0.0)) for x in xs]  # + 0.0: −0.0 prints as 0
    # "%.*f" takes the places as an argument: a third cheaper than an f-string's nested spec
    texts = ["%.*f" % (p, x) for x, p in zip(xs, places, strict=True)]  # noqa: UP031
    texts = [text[1:] if text[:2] == "-0" and float(text) == 0 else text for text in texts]  # no −0.00
    return [scientific_math(text) for text in texts] if scientific else texts


Column = tuple[list[float], list[int] | None, bool]
"""A number over a block of variants: the values, the places each is printed to (None: in full, as
given) and whether in scientific notation."""


def column(values: Values, number: str, lo: int, hi: int, exact: bool) -> Column:
    """Number ``t:n`` (node n's value) for variants lo … hi − 1: a hand value to its places, an
    exact one to :data:`EXACT_FIGURES` significant figures, a given as given."""
    node = number.split(":", 1)[1]
    xs = values[node][lo:hi]
    if values.graph[node].kind is Kind.GIVEN:
        return xs.tolist(), None, False
    scientific = values.graph.precision_of(node).scientific
    if exact or values.places is None:
        places = figure_places(xs, EXACT_FIGURES, cap=40)
    else:
        places = values.places[node][lo:hi]
    return xs.tolist(), places.tolist(), scientific


def precision_text(graph: Graph, node_id: str, exact: bool) -> str:
    """How a question asks for its answer, the same for every variant: "4 decimal places", "3
    significant figures in scientific notation", or exactly (a step or an update)."""
    if exact:
        return f"{EXACT_FIGURES} significant figures"
    precision = graph.precision_of(node_id)
    node = graph[node_id]
    if precision.rule is Rule.DECIMALS:
        return f"{precision.digits} decimal place" + ("" if precision.digits == 1 else "s")
    if precision.rule is Rule.FIGURES:
        return f"{precision.digits} significant figures, in scientific notation"
    if node.kind is Kind.STEP:
        notation = ", in scientific notation" if precision.scientific else ""
        return f"the exact product of the learning rate and your gradient{notation}"
    return "the exact difference: the old value minus the learning rate times your gradient"


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
    hand precision, 0.00 × 10^{-4} in scientific notation, 0.0000000 for an update or a step,
    and 12 characters (and the power) at exact mode's figures.
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

    def slot(self, key: str) -> str:
        """The marker of number slot ``key`` (filled per variant as :meth:`Numbers.slot` fills it)."""
        return slot(key)

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
        power = r" \times 10^{-4}" if self.graph.precision_of(node.id).scientific else ""
        if self.exact:
            return "0." + "0" * EXACT_FIGURES + power
        if power:
            return "0.00" + power
        return "0." + "0" * (self.graph.decimals + (3 if node.kind in (Kind.STEP, Kind.UPDATE) else 0))


class _NoFloats(Mapping[str, float]):
    """Compiled documents have no numbers to compute with: only user templates (rendered with
    real numbers) may use ``values``; the package's templates print texts."""

    def __getitem__(self, key: str) -> NoReturn:
        raise RuntimeError(f"values[{key!r}] in a compiled template: the package's templates print texts")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
