"""What a worked solution is made of: its items, sections and plan, shared by every style.

A :class:`DocumentPlan` says which equations the solution shows, in which order, with which
phrases; it holds no numbers. Rendering a variant only substitutes that variant's values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from gradegen.core.graph import Graph
from gradegen.documents.prose import Prose


@dataclass(frozen=True)
class NodeEq:
    """A node's computation: symbol = formula = numbers substituted (= step) = value."""

    node: str
    bare: bool = False  # without the formula: the text states it once for many lines


@dataclass(frozen=True)
class LocalEq:
    """A local derivative of a weighted sum that is not a node: ∂z/∂w = a, ∂z/∂a = w, ∂z/∂b = 1."""

    symbol: str  # LaTeX of the partial derivative
    equals: str | None  # the node it equals (None: the constant 1)
    z: str = ""  # LaTeX of the weighted sum and of the variable, for the phrase
    var: str = ""


@dataclass(frozen=True)
class ChainEq:
    """A symbolic line with no numbers, e.g. the chain rule written out."""

    latex: str


@dataclass(frozen=True)
class Para:
    """A paragraph of prose (``node``: the quantity it gives, when it says what one is; ``states``:
    those whose values it lists; ``exact``: its wording in exact mode, where nothing is rounded)."""

    text: Prose
    node: str = ""
    exact: Prose | None = None
    states: tuple[str, ...] = ()


@dataclass(frozen=True)
class Known:
    """A factor already computed above: its symbol, phrase and (per variant) value (``computed``:
    given here for the first time, as an update that leaves its parameter as it is)."""

    node: str
    text: Prose
    computed: bool = False


class Entry(StrEnum):
    """How a matrix writes each of its quantities."""

    VALUE = "value"  # its printed value
    SYMBOL = "symbol"  # its symbol (z_{h_1})
    FORMULA = "formula"  # its formula over symbols (\hat{y} - y)
    WORKED = "worked"  # its formula with the numbers substituted (\sigma(0.3775))
    NUMBER = "number"  # one quantity's value as an operand, no brackets (η in η ∂L/∂W)


@dataclass(frozen=True)
class Grid:
    """A matrix of quantities (node ids, row by row), written as ``entry`` says."""

    rows: tuple[tuple[str, ...], ...]
    entry: Entry = Entry.VALUE

    def ids(self) -> Iterator[str]:
        return (node for row in self.rows for node in row)


@dataclass(frozen=True)
class MatrixEq:
    """A line in vector form: symbol = segment = … , each segment LaTeX and matrices; the last
    segment's matrices are what the line computes (``computes`` False: givens, only written out)."""

    symbol: str
    segments: tuple[tuple[str | Grid, ...], ...]
    computes: bool = True

    def results(self) -> Iterator[str]:
        for piece in self.segments[-1]:
            if isinstance(piece, Grid):
                yield from piece.ids()


@dataclass(frozen=True)
class Cell:
    """A table cell: a quantity's value (after the last ``work`` forms of its numbers substituted,
    "0.1385 × 0.5933 = 0.0822", or the first ``-work``), or ``latex`` (a symbol, or the 0 a
    quantity said to be 0 is)."""

    latex: str = ""
    node: str = ""
    work: int = 0
    computed: bool = False  # worked out here, not recalled: Section.shows() yields it


@dataclass(frozen=True)
class Table:
    """Rows of quantities, a column per kind (``header``: each column's heading; ``intro``: the
    sentence that introduces it, kept on its page)."""

    header: tuple[Prose, ...]
    rows: tuple[tuple[Cell, ...], ...]
    intro: Prose | None = None


Item = NodeEq | LocalEq | ChainEq | Para | Known | MatrixEq | Table


def shown_by(item: Item) -> Iterator[str]:
    """The quantities an item computes or says (not those it recalls from above)."""
    match item:
        case NodeEq():
            yield item.node
        case Para():
            if item.node:
                yield item.node
            yield from item.states
        case Known() if item.computed:
            yield item.node
        case MatrixEq() if item.computes:
            yield from item.results()
        case Table():
            yield from (cell.node for row in item.rows for cell in row if cell.computed)


@dataclass(frozen=True)
class Section:
    """A headed part of the solution (level 2: a phase, level 3: one layer or one parameter)."""

    title: Prose
    level: int
    items: tuple[Item, ...]

    def shows(self) -> Iterator[str]:
        """The quantities this section computes or says (not those it recalls from above)."""
        for item in self.items:
            yield from shown_by(item)


@dataclass(frozen=True)
class Layer:
    """One layer of units as the documents describe it."""

    index: int
    kind: str  # "input", "hidden" or "output"
    units: tuple[str, ...]
    activation: str | None  # as a textbook names it, e.g. "sigmoid", "leaky ReLU"
    definition: str | None  # LaTeX definition, e.g. \sigma(z) = \frac{1}{1 + e^{-z}}


@dataclass(frozen=True)
class DocumentPlan:
    """Everything structural about a network's documents: built once per graph."""

    graph: Graph
    layers: tuple[Layer, ...]
    sections: tuple[Section, ...]
    givens: tuple[str, ...]  # ids in graph order
    parameters: tuple[str, ...]
    updates: dict[str, str] = field(default_factory=dict)
    loss_definition: str = ""
    loss_name: str = ""
    mean_over: int = 0  # n, when the loss is a mean over the n outputs (its formulas name n)
    symbolic: dict[str, str] = field(default_factory=dict)  # node id → formula over symbols
    nouns: dict[str, Prose] = field(default_factory=dict)  # node id → what it is ("the weighted sum …")
    descriptions: dict[str, Prose] = field(default_factory=dict)  # given id → its line in the givens table
    zero: frozenset[str] = frozenset()  # 0 in every variant, whatever is computed: said, not computed
    chains: dict[str, int] = field(default_factory=dict)  # gradient id → factors of its chain rule
    whole: frozenset[str] = frozenset()  # exact by nature (a ReLU's 0 or 1): printed without trailing zeros
