"""The documents' content: every printed line checkable, the handout's values, no leaks, escaping."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import deep_softmax_data
from hypothesis import given, settings
from hypothesis import strategies as st
from shapes import shape

from gradegen.core.graph import Graph, Kind, Node, Role
from gradegen.core.key import asks_steps, make_key, resolve_ask
from gradegen.core.network import build_graph, fixed_quantities
from gradegen.core.options import Style, with_documents
from gradegen.core.rounding import shortest
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.latex import tex_equation
from gradegen.documents.numbers import operand
from gradegen.documents.plain import key_json
from gradegen.documents.render import FILES, render_documents
from gradegen.escape import latex_escape, md_escape

# --------------------------------------------------------------------------- an independent checker
# A small parser for the arithmetic the solutions print. It knows nothing of gradegen: it reads
# the printed numbers, recomputes each line in float64 and compares with the printed result.


class SymbolicError(Exception):
    """The segment is symbolic (names quantities), not numbers."""


_ALLOWED = {
    r"\frac",
    r"\dfrac",
    r"\odot",
    r"\mat",
    r"\tfrac",
    r"\times",
    r"\cdot",
    r"\sigma",
    r"\tanh",
    r"\ln",
    r"\max",
    r"\left",
    r"\right",
}
_NAMES = {r"\partial", r"\hat", r"\eta", r"\lambda", r"\text", r"\delta", r"\top", r"\mathrm", r"\Delta"}
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\\[A-Za-z]+|IF|ELSE|[A-Za-z]|[-+(){}\[\]^,>_'])")


def _tokens(text: str) -> list[str]:
    text = text.replace(r"\text{ if }", " IF ").replace(r"\text{ else }", " ELSE ")
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read {text[pos:]!r}")
        tok = m.group(1)
        pos = m.end()
        if tok in (r"\left", r"\right"):
            continue
        if tok in _NAMES:
            raise SymbolicError(tok)
        if tok.startswith("\\") and tok not in _ALLOWED:
            raise ValueError(f"unknown command {tok}")
        tokens.append(tok)
    if "'" in tokens:  # a derivative's name: f'(z)
        raise SymbolicError("'")
    for i, tok in enumerate(tokens):
        if re.fullmatch("[A-Za-z_]", tok) and not (tok == "e" and tokens[i + 1 : i + 2] == ["^"]):
            raise SymbolicError(tok)
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"expected {expected!r} at token {self.i}, got {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> float:
        value = self.expr()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return value

    def expr(self) -> float:
        value = self.sum()
        if self.peek() == ">":
            self.take()
            value = 1.0 if value > self.sum() else 0.0
        if self.peek() == "IF":
            self.take()
            cond = self.expr()
            self.take("ELSE")
            other = self.sum()
            value = value if cond else other
        return value

    def sum(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def starts_atom(self) -> bool:
        tok = self.peek()
        return tok is not None and (
            tok[0].isdigit()
            or tok
            in ("(", "[", "{", "e", r"\frac", r"\tfrac", r"\dfrac", r"\sigma", r"\tanh", r"\ln", r"\max")
        )

    def term(self) -> float:
        value = self.unary()
        while True:
            if self.peek() in (r"\times", r"\cdot"):
                self.take()
                value *= self.unary()
            elif self.starts_atom():  # implicit product: 0.7514(1 - 0.7514), -0.2 \ln 0.2871
                value *= self.unary()
            else:
                return value

    def unary(self) -> float:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.power()

    def power(self) -> float:
        value = self.atom()
        if self.peek() == "^":
            self.take()
            value = value ** self.group()
        return value

    def group(self) -> float:
        self.take("{")
        value = self.expr()
        self.take("}")
        return value

    def atom(self) -> float:
        tok = self.take()
        if tok[0].isdigit():
            return float(tok)
        if tok in ("(", "[", "{"):
            value = self.expr()
            self.take({"(": ")", "[": "]", "{": "}"}[tok])
            return value
        if tok in (r"\frac", r"\tfrac", r"\dfrac"):
            return self.group() / self.group()
        if tok == "e":
            self.take("^")
            return math.exp(self.group())
        if tok == r"\sigma":
            self.take("(")
            z = self.expr()
            self.take(")")
            return 1.0 / (1.0 + math.exp(-z))
        if tok == r"\tanh":
            self.take("(")
            z = self.expr()
            self.take(")")
            return math.tanh(z)
        if tok == r"\ln":
            return math.log(self.power())
        if tok == r"\max":
            self.take("(")
            a = self.expr()
            self.take(",")
            b = self.expr()
            self.take(")")
            return max(a, b)
        raise ValueError(f"unexpected {tok!r}")


_CASES = re.compile(
    r"\\begin\{cases\} (.+?) & \\text\{if \} (.+?) > 0 \\\\ (.+?) & \\text\{if \} (.+?) \\le 0 \\end\{cases\}"
)


def evaluate(segment: str) -> float:
    """The value of a numeric segment; SymbolicError if it names quantities. A case distinction
    (one value if z > 0, another if z ≤ 0) is read as the value whose condition holds."""
    cases = _CASES.fullmatch(segment)
    if cases is not None:
        positive, z, otherwise, same_z = cases.groups()
        assert z == same_z, f"the two cases test different numbers: {segment}"
        return evaluate(positive) if evaluate(z) > 0 else evaluate(otherwise)
    return _Parser(_tokens(segment)).parse()


# Matrices: a bmatrix is read entry by entry with the scalar reader above; between matrices,
# juxtaposition is the matrix product (a number times a matrix scales it), \odot the entrywise
# product, + and - need equal shapes.
_BMATRIX = re.compile(r"\\begin\{bmatrix\} (.*?) \\end\{bmatrix\}")


def cells(body: str) -> list[list[str]]:
    """A bmatrix's entries, row by row."""
    return [row.split(" & ") for row in body.split(r" \\ ")]


class _MatrixParser(_Parser):
    def __init__(self, tokens: list[str], grids: list[np.ndarray]) -> None:
        super().__init__(tokens)
        self.grids = grids

    def starts_atom(self) -> bool:
        return self.peek() == r"\mat" or super().starts_atom()

    def atom(self) -> Any:
        if self.peek() == r"\mat":
            self.take()
            return self.grids[int(self.group())]
        return super().atom()

    def sum(self) -> Any:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            assert np.shape(value) == np.shape(right), f"{op} of shapes {np.shape(value)}, {np.shape(right)}"
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> Any:
        value = self.unary()
        while True:
            if self.peek() == r"\odot":
                self.take()
                right = self.unary()
                assert np.shape(value) == np.shape(right), "an entrywise product of different shapes"
                value = value * right
            elif self.peek() in (r"\times", r"\cdot") or self.starts_atom():
                if self.peek() in (r"\times", r"\cdot"):
                    self.take()
                right = self.unary()
                if np.ndim(value) == 2 and np.ndim(right) == 2:
                    assert value.shape[1] == right.shape[0], f"product of {value.shape} and {right.shape}"
                    value = value @ right
                else:
                    value = value * right
            else:
                return value


def evaluate_matrices(segment: str) -> Any:
    """A segment with matrices: a float or a 2-D array; SymbolicError if it names quantities."""
    grids: list[np.ndarray] = []

    def hold(match: re.Match[str]) -> str:
        grids.append(np.array([[evaluate(entry) for entry in row] for row in cells(match.group(1))]))
        return rf" \mat{{{len(grids) - 1}}} "

    return _MatrixParser(_tokens(_BMATRIX.sub(hold, segment)), grids).parse()


def _printed(text: str, line: str) -> tuple[float, float]:
    """A printed result and half a unit of its last place."""
    m = _RESULT.fullmatch(text)
    assert m, f"the result of a line must be a plain number (or one in scientific notation): {line}"
    exponent = int(m.group(3) or 0)
    places = len(m.group(2) or "") - exponent
    return float(f"{m.group(1)}e{exponent}"), 0.5 * 10.0**-places


def split_equals(line: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(line):
        depth += ch in "{(["
        depth -= ch in "})]"
        if depth == 0 and line.startswith(" = ", i):
            parts.append(line[start:i])
            start = i + 3
    parts.append(line[start:])
    return [p.strip() for p in parts]


_RESULT = re.compile(r"(-?\d+(?:\.(\d+))?)(?: \\times 10\^\{(-?\d+)\})?")


def check_equation(text: str, where: str) -> bool:
    """Check one equation (a display line's or a table cell's math): each numeric segment (a number
    or matrices) rounds to the last, entry by entry; returns whether it had arithmetic to check."""
    numeric: list[tuple[str, Any]] = []
    for segment in split_equals(text):
        try:
            numeric.append(
                (segment, evaluate_matrices(segment) if "bmatrix" in segment else evaluate(segment))
            )
        except SymbolicError:
            assert not numeric, f"a symbolic segment after numbers in: {where}"
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            pytest.fail(f"cannot parse {segment!r} in {where}: {exc}")
    if len(numeric) < 2:
        return False
    result_text = numeric[-1][0]
    grid = _BMATRIX.fullmatch(result_text)
    entries = cells(grid.group(1)) if grid else [[result_text]]
    printed = [[_printed(entry, where) for entry in row] for row in entries]
    result = np.array([[value for value, _ in row] for row in printed])
    half_unit = np.array([[half for _, half in row] for row in printed])
    for segment, value in numeric[:-1]:
        value = np.asarray(value) if grid else np.array([[value]])
        assert value.shape == result.shape, f"{segment} has shape {value.shape}, not {result.shape}: {where}"
        assert np.all(np.abs(value - result) <= half_unit * (1 + 1e-9) + 1e-15), (
            f"{segment} = {value!r} does not round to {result_text} in: {where}"
        )
    return True


def check_lines(markdown: str) -> list[str]:
    """Check every ``$$…$$`` line; returns the lines that had arithmetic to check."""
    checked = []
    display = [line for line in markdown.splitlines() if line.startswith("$$")]
    assert display, "no display equations found"
    for line in display:
        assert line.endswith("$$") and len(line) > 4, f"a display equation must be one line: {line}"
        if check_equation(line[2:-2], line):
            checked.append(line)
    return checked


def tables(markdown: str) -> list[list[list[str]]]:
    """The pipe tables of a Markdown text: each a list of rows (the heading first), each row its
    cells as written."""
    found: list[list[list[str]]] = []
    previous = ""
    for line in markdown.splitlines():
        if line.startswith("| ") and line.endswith(" |"):
            cells = [cell.strip() for cell in line[2:-2].split(" | ")]
            if not previous.startswith("| "):
                found.append([])
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):  # not the alignment row
                found[-1].append(cells)
        previous = line
    return found


def check_tables(markdown: str) -> list[str]:
    """Check every table cell that computes (math with " = ", as a line): it re-computes from its
    own printed numbers. Returns the cells checked."""
    checked = []
    for table in tables(markdown):
        for row in table[1:]:
            for cell in row:
                math = cell.startswith("$") and cell.endswith("$") and " = " in cell
                if math and check_equation(cell[1:-1], f"{cell} in the row {row}"):
                    checked.append(cell)
    return checked


# --------------------------------------------------------------------------- fixtures


@cache
def _documents(name: str, exact_mode: bool = False) -> tuple[Spec, dict[str, str]]:
    spec = {"deep_softmax": parse_spec(deep_softmax_data()), "mazur": preset("mazur")}.get(name) or shape(
        name
    )
    spec = with_documents(spec, style="full")  # these tests read the full style's lines
    graph = build_graph(spec)
    files = render_documents(
        spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, resolve_ask(graph), exact_mode=exact_mode
    )
    return spec, files


NETWORKS = ["handout", "mazur", "deep_softmax", "3-4-3-3"]


# --------------------------------------------------------------------------- the checker itself


@pytest.mark.parametrize(
    ("segment", "value"),
    [
        (r"0.05 \times 0.15 + 0.1 \times 0.2 + 0.35", 0.3775),
        (r"\sigma(0.3775)", 1 / (1 + math.exp(-0.3775))),
        (r"\tfrac{1}{2}(0.01 - 0.7514)^{2}", 0.5 * (0.01 - 0.7514) ** 2),
        (r"0.7514(1 - 0.7514)", 0.7514 * (1 - 0.7514)),
        (
            r"\frac{e^{(-0.0263)}}{e^{(-0.0263)} + e^{0.2744}}",
            math.exp(-0.0263) / (math.exp(-0.0263) + math.exp(0.2744)),
        ),
        (r"-0.2 \ln 0.2871", -0.2 * math.log(0.2871)),
        (r"1 - (-0.3095)^{2}", 1 - 0.3095**2),
        (r"[(-0.1) > 0]", 0.0),
        (r"\max(0, (-0.1))", 0.0),
        (r"(1 \text{ if } 0.2 > 0 \text{ else } 0.01)", 1.0),
        (r"\begin{cases} 1 & \text{if } -0.31 > 0 \\ 0.01 & \text{if } -0.31 \le 0 \end{cases}", 0.01),
        (r"\begin{cases} 1 & \text{if } 0.2 > 0 \\ 0 & \text{if } 0.2 \le 0 \end{cases}", 1.0),
        (r"\tfrac{2}{2}(0.7 - 0.1)", 0.6),
        (r"-\left[0.5 \ln 0.3 + (1 - 0.5) \ln(1 - 0.3)\right]", -(0.5 * math.log(0.3) + 0.5 * math.log(0.7))),
    ],
)
def test_checker_evaluates_the_notation(segment: str, value: float) -> None:
    """The independent checker reads every notation the solutions use and computes it right."""
    assert evaluate(segment) == pytest.approx(value, rel=1e-12, abs=1e-15)


def test_checker_rejects_a_wrong_line() -> None:
    """A line whose printed result is not what its printed numbers give fails the check."""
    with pytest.raises(AssertionError):
        check_lines("$$z = 0.05 \\times 0.15 + 0.35 = 0.3576$$")
    with pytest.raises(pytest.fail.Exception):
        check_lines("$$z = 0.05 \\times 0.15 + \\sqrt{2} = 0.3576$$")


def test_checker_reads_matrix_lines() -> None:
    """Matrix lines: a product of matrices, a sum, an entrywise product and a number times a
    matrix recompute entry by entry; a wrong entry or a mismatched shape fails the check."""
    good = [
        r"$$z = \begin{bmatrix} 0.15 & 0.2 \\ 0.25 & 0.3 \end{bmatrix}"
        r"\begin{bmatrix} 0.05 \\ 0.1 \end{bmatrix} + \begin{bmatrix} 0.35 \\ 0.35 \end{bmatrix}"
        r" = \begin{bmatrix} 0.3775 \\ 0.3925 \end{bmatrix}$$",
        r"$$\delta = \begin{bmatrix} 0.5 \\ -2 \end{bmatrix} \odot \begin{bmatrix} 0.25 \\ 0.1 \end{bmatrix}"
        r" = \begin{bmatrix} 1.25 \times 10^{-1} \\ -0.2 \end{bmatrix}$$",
        r"$$W = \begin{bmatrix} 0.4 & 0.45 \end{bmatrix} - 0.5 \begin{bmatrix} 0.1 & 0.2 \end{bmatrix}"
        r" = \begin{bmatrix} 0.35 & 0.35 \end{bmatrix}$$",
        r"$$a = \begin{bmatrix} \sigma(0) \\ \tanh(0) \end{bmatrix}"
        r" = \begin{bmatrix} 0.5 \\ 0 \end{bmatrix}$$",
    ]
    assert len(check_lines("\n".join(good))) == 4
    for bad in [good[0].replace("0.3925", "0.3926"), good[1].replace(r"\\ -2", "& -2")]:
        with pytest.raises(AssertionError):
            check_lines(bad)


# --------------------------------------------------------------------------- acceptance


def _line_symbol(graph: Graph, node: Node) -> str:
    """The symbol of the line that works ``node`` out: its own, but a step's is its update's line
    (w − η·g = w − step = new) unless η is tiny (then each step has a line of its own)."""
    if node.kind is Kind.STEP and not asks_steps(graph):
        return graph[graph.updates[node.param or ""]].symbol
    return node.symbol


@pytest.mark.parametrize("name", NETWORKS)
def test_every_arithmetic_line_recomputes_from_its_printed_numbers(name: str) -> None:
    """Hand mode: every line's result is what its own printed (rounded) operands give, and every
    computed quantity of the graph has such a line."""
    spec, files = _documents(name)
    checked = check_lines(files["solution.md"])
    graph = build_graph(spec)
    zero = fixed_quantities(spec, graph, graph.defaults).zero  # said to be 0, not computed
    given = (Role.AFTER_WEIGHTED_SUM, Role.AFTER_ACTIVATION) if spec.style is not Style.FULL else ()
    for node in graph.nodes:
        if (node.id in zero and node.formula is not None) or node.role in given:
            # said to be 0, or after the update outside the full style: the value, its work above
            assert f"${node.symbol} = " in files["solution.md"], node.id
        elif node.formula is not None:
            symbol = _line_symbol(graph, node)
            # a sum whose other terms are 0 is left with one: its line has nothing to recompute
            lines = checked if zero.isdisjoint(node.parents) else files["solution.md"].splitlines()
            assert any(line.startswith(f"$${symbol} = ") for line in lines), node.id
    steps = [line for line in checked if line.startswith(r"$$\eta \cdot ")]
    assert len(steps) == (len(graph.updates) if asks_steps(graph) else 0)


@pytest.mark.parametrize("name", NETWORKS)
def test_every_printed_result_is_the_engines_value(name: str) -> None:
    """Each quantity's line ends in the value the engine's hand evaluation gives it."""
    spec, files = _documents(name)
    graph = build_graph(spec)
    hand = graph.evaluate(hand=True)
    lines = {line[2:-2].split(" = ", 1)[0]: line for line in check_lines(files["solution.md"])}
    shown = 0
    for node in graph.nodes:
        line = lines.get(node.symbol)
        if line is None or node.formula is None:
            continue
        m = _RESULT.fullmatch(split_equals(line[2:-2])[-1])
        assert m is not None, line
        printed = float(f"{m.group(1)}e{m.group(3) or 0}")
        assert printed == pytest.approx(float(hand[node.id][0]), rel=1e-12, abs=1e-15), node.id
        shown += 1
    assert shown >= len(graph.nodes) // 2


# The handout's correct values, 4 places (the published oracle; its slips corrected as the issue says).
HANDOUT = {
    "z_{h1}": "0.3775",
    "z_{h2}": "0.3925",
    "a_{h1}": "0.5933",
    "a_{h2}": "0.5969",
    "z_{out}": "1.1059",
    r"\hat{y}": "0.7514",
    "L": "0.2748",
    r"\frac{\partial L}{\partial \hat{y}}": "0.7414",
    r"\frac{\partial \hat{y}}{\partial z_{out}}": "0.1868",
    r"\frac{\partial L}{\partial w_{5}}": "0.0822",
    r"\frac{\partial L}{\partial w_{6}}": "0.0827",
    r"\frac{\partial L}{\partial b_{2}}": "0.1385",
    # behind the hidden layer: 3 significant figures in scientific notation
    r"\frac{\partial L}{\partial b_{1}}": r"2.84 \times 10^{-2}",
    r"\frac{\partial L}{\partial w_{1}}": r"6.70 \times 10^{-4}",
    r"\frac{\partial L}{\partial w_{3}}": r"7.50 \times 10^{-4}",
    r"\frac{\partial L}{\partial w_{4}}": r"1.50 \times 10^{-3}",
    # steps: the exact products 0.0001 × 0.0822 and 0.0001 × 6.70 × 10⁻⁴; updates: exact differences
    r"\eta \cdot \frac{\partial L}{\partial w_{5}}": r"8.22 \times 10^{-6}",
    r"\eta \cdot \frac{\partial L}{\partial w_{1}}": r"6.70 \times 10^{-8}",
    r"\eta \cdot \frac{\partial L}{\partial b_{2}}": r"1.385 \times 10^{-5}",
    r"w_{5}^{\text{new}}": "0.39999178",
    r"w_{1}^{\text{new}}": "0.149999933",
    r"b_{2}^{\text{new}}": "0.59998615",
}


def test_handout_solution_shows_the_handout_values_without_its_slips() -> None:
    """The handout network's solution prints its correct values and none of its slips."""
    _, files = _documents("handout")
    solution = files["solution.md"]
    lines = solution.splitlines()
    for symbol, value in HANDOUT.items():
        assert any(line.startswith(f"$${symbol} = ") and line.endswith(f" = {value}$$") for line in lines), (
            symbol
        )
    assert "0.40 - 0.0001 \\times 0.0822" in solution.replace("0.4 -", "0.40 -")
    assert r"= 0.4 - 8.22 \times 10^{-6} = 0.39999178$$" in solution
    assert r"= 0.0001 \times 0.1385 = 1.385 \times 10^{-5}$$" in solution  # not rounded to 0.0000139
    assert "0.0000000670" not in solution and "0.0000139" not in solution
    for text in (files["solution.md"], files["solution.tex"]):
        assert "0.399927" not in text
        assert "-0.00150" not in text and "−0.00150" not in text
        assert "1 + (1 + e" not in text
        assert r"\sigma(z) = \frac{1}{1 + e^{-z}}" in text


def _forms(value: float, hand_text: str) -> set[str]:
    """The ways a value could be printed: its hand text, repr and shortest form, either minus sign."""
    forms = {hand_text, repr(value), shortest(value), hand_text.split(" × ")[0]}  # and a mantissa
    out = set()
    for form in forms:
        plain = form.replace("−", "-")
        out |= {plain, plain.lstrip("-")}
    return {f for f in out if not re.fullmatch(r"-?\d+(\.0+)?", f)}  # integers: question numbers etc.


@pytest.mark.parametrize(
    "name", [n for n in NETWORKS if n != "3-4-3-3"]
)  # its z_h1_2 is −0.1, a given's value
@pytest.mark.parametrize("ask", [None, "loss,dL_dw1,w1_new", "forward"])
def test_no_asked_value_appears_in_the_worksheet(name: str, ask: str | None) -> None:
    """No value of an asked quantity, in any printed form, is in the worksheet or answer sheet.

    Values that print as integers (a ReLU's 0 or 1) are left out: they are indistinguishable
    from question numbers and precisions.
    """
    spec = {"deep_softmax": parse_spec(deep_softmax_data()), "mazur": preset("mazur")}.get(name) or shape(
        name
    )
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    asked = resolve_ask(graph, ask)
    files = render_documents(spec, graph, exact, hand, 0, asked)
    for doc in ("worksheet.md", "worksheet.tex", "answers.yaml"):
        tokens = set(re.findall(r"\d+(?:\.\d+)?", files[doc]))
        for qid in asked:
            forms = _forms(float(exact[qid][0]), hand.text(qid)) | _forms(float(hand[qid][0]), hand.text(qid))
            leaked = {f for f in forms if f.lstrip("-") in tokens}
            assert not leaked, f"{qid} = {leaked} appears in {doc}"


def _handout_precision(qid: str) -> str:
    """What the handout's worksheet asks of ``qid``, by the rule per role (worked out by hand): 3
    figures behind the hidden layer, the exact product for a step, the exact difference for an
    update, 4 places for the rest."""
    hidden = {
        "dL_da_h1",
        "dL_dz_h1",
        "dL_da_h2",
        "dL_dz_h2",
        "dL_dw1",
        "dL_dw2",
        "dL_dw3",
        "dL_dw4",
        "dL_db1",
    }
    if qid in hidden:
        return "3 significant figures, in scientific notation"
    if qid.startswith("step_"):
        return "the exact product of the learning rate and your gradient, in scientific notation"
    if qid.endswith("_new"):
        return "the exact difference: the old value minus the learning rate times your gradient"
    return "4 decimal places"


def test_worksheet_numbers_questions_in_graph_order_with_ids_and_precision() -> None:
    """Questions are numbered in graph order, each naming its ID and the precision its kind asks."""
    spec = preset("handout")
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    asked = resolve_ask(graph, "loss,dL_dw5,dL_dw1,step_w1,w1_new")
    files = render_documents(spec, graph, exact, hand, 0, asked)
    md = files["worksheet.md"]
    positions = [md.index(f"(ID `{qid}`") for qid in asked]
    assert positions == sorted(positions)
    for number, qid in enumerate(asked, start=1):
        wanted = re.escape(_handout_precision(qid))
        assert re.search(rf"\*\*{number}\.\*\* .*\(ID `{qid}`; give {wanted}; 1 point\)", md)
        assert (
            f"\\texttt{{{qid.replace('_', chr(92) + '_')}}}; give {_handout_precision(qid)}"
            in files["worksheet.tex"]
        )
    assert "decimal places" in md and "significant figures" in md
    assert md.count("Answer:") == len(asked)
    assert "![Network diagram" in md and "network.svg" in md


def test_a_tiny_learning_rate_asks_the_steps() -> None:
    """With the handout's η = 0.0001 the worksheet asks each step η·∂L/∂p, not the new value (which
    would need 9 decimal places); with η = 0.5 it asks the new values."""
    handout = build_graph(preset("handout"))
    assert [q for q in resolve_ask(handout, "updates")] == [f"step_{p}" for p in handout.updates]
    assert "w1_new" not in resolve_ask(handout) and "step_w1" in resolve_ask(handout)
    mazur = build_graph(preset("mazur"))
    assert [q for q in resolve_ask(mazur, "updates")] == list(mazur.updates.values())


def test_key_json_is_the_key_module_format() -> None:
    """key.json is json.dumps(make_key(...).to_dict(), indent=2) plus a newline, and rebuilds."""
    spec = parse_spec(deep_softmax_data())
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    asked = resolve_ask(graph, "loss,updates")
    text = render_documents(spec, graph, exact, hand, 0, asked)["key.json"]
    key = make_key(spec, graph, exact, hand, asked)
    assert text == json.dumps(key.to_dict(), indent=2, sort_keys=False) + "\n"
    assert key_json(key) == text
    data = json.loads(text)
    assert data["asked"] == list(asked) and set(data["values"]) == set(asked)
    assert build_graph(parse_spec(data["spec"])).ids == graph.ids


def test_render_documents_returns_every_file() -> None:
    """One call returns all seven files, in a fixed order."""
    _, files = _documents("handout")
    assert tuple(files) == FILES


def test_exact_mode_prints_ten_significant_figures() -> None:
    """--exact prints every computed value to 10 significant figures (no float noise), in its own
    wording: z_h2 = 0.0125 + 0.03 + 0.35 is 0.39249999999999996 in float64, printed 0.3925000000;
    ∂L/∂w5 = 0.08216704056423078 is 0.08216704056; ∂L/∂w1 = 0.000669…, 6.698… × 10⁻⁴."""
    _, files = _documents("handout", True)
    solution, worksheet = files["solution.md"], files["worksheet.md"]
    assert r"\sigma(0.3925000000) = 0.5968843783$$" in solution
    assert "= 0.08216704056$$" in solution
    assert re.search(r"\\partial w_\{1\}\} = .* = 6\.\d{9} \\times 10\^\{-4\}\$\$", solution)
    for text in (solution, worksheet, files["solution.tex"], files["worksheet.tex"]):
        assert "0.39249999999999996" not in text and "0.19999986632079578" not in text
        assert "round every value" not in text and "rounded before the next" not in text
        assert "rounding each before" not in text and "Working by hand" not in text
        assert "values shown to 10 significant figures" in text
    assert "give 10 significant figures" in worksheet and "decimal places" not in worksheet


def test_a_batch_variant_renders_as_its_own_spec_does() -> None:
    """Rendering variant i of a batch gives the documents a spec with those givens gives."""
    import numpy as np

    spec = preset("handout")
    graph = build_graph(spec)
    w5 = np.array([0.4, 0.3, -0.25])
    exact, hand = graph.evaluate({"w5": w5}), graph.evaluate({"w5": w5}, hand=True)
    asked = resolve_ask(graph)
    batch = render_documents(spec, graph, exact, hand, 2, asked)
    data = spec.to_data()
    data["layers"][1]["weights"] = [[-0.25, 0.45]]
    single_spec = parse_spec(data)
    single_graph = build_graph(single_spec)
    single = render_documents(
        single_spec, single_graph, single_graph.evaluate(), single_graph.evaluate(hand=True), 0, asked
    )
    for name in ("solution.md", "solution.tex", "worksheet.md", "network.svg", "answers.yaml"):
        assert batch[name] == single[name], name
    check_lines(batch["solution.md"])


def test_rendering_a_variant_is_fast() -> None:
    """A variant of the handout network renders in a few milliseconds (generous bound for CI)."""
    import time

    import numpy as np

    spec = preset("handout")
    graph = build_graph(spec)
    w5 = np.linspace(0.1, 0.9, 60)
    exact, hand = graph.evaluate({"w5": w5}), graph.evaluate({"w5": w5}, hand=True)
    asked = resolve_ask(graph)
    render_documents(spec, graph, exact, hand, 0, asked)  # builds the plan and templates once
    start = time.perf_counter()
    for i in range(60):
        render_documents(spec, graph, exact, hand, i, asked)
    assert (time.perf_counter() - start) / 60 < 0.025


# --------------------------------------------------------------------------- Markdown and LaTeX


def _pandoc(markdown: str, to: str = "html") -> subprocess.CompletedProcess[str]:
    exe = shutil.which("pandoc")
    assert exe, "pandoc is required (Debian: apt-get install pandoc)"
    args = [exe, "-f", "markdown", "-t", to, "--fail-if-warnings"]
    if to == "html":
        args.append("--mathml")  # every formula must parse as TeX math, else pandoc warns
    return subprocess.run(args, input=markdown, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("doc", ["solution.md", "worksheet.md"])
def test_markdown_converts_with_pandoc_without_warnings(name: str, doc: str) -> None:
    """pandoc reads the Markdown and converts every formula to MathML with no warning."""
    _, files = _documents(name)
    run = _pandoc(files[doc])
    assert run.returncode == 0 and run.stderr == "", run.stderr


NASTY = [
    r"Week #3: 50% of $x_1 & y^2 \ {braces} ~ <tags> | *bold* _under_ `code` [link](x)",
    "1. not a list\n- nor this\n# nor a heading",
    "Ünïcödé — “quotes” … and ŷ − σ",
]


@pytest.mark.parametrize("text", NASTY)
def test_md_escape_keeps_text_literal(text: str) -> None:
    """Escaped user text reads back through pandoc as exactly the same words, with no markup."""
    run = _pandoc(md_escape(text), to="plain")
    assert run.returncode == 0, run.stderr
    assert " ".join(run.stdout.split()) == " ".join(text.split())


@given(st.text(alphabet=st.sampled_from("ab \\{}$&#^_%~<>|\n"), max_size=40))
def test_latex_escape_leaves_no_special_unescaped(text: str) -> None:
    """After escaping, every TeX special is inside an escape sequence (checked by removing them)."""
    escaped = latex_escape(text)
    stripped = re.sub(
        r"\\(textbackslash|textasciicircum|textasciitilde|textless|textgreater|textbar)\{\}|\\[{}$&#_%]",
        "",
        escaped,
    )
    assert not set(stripped) & set("\\{}$&#^_%~<>|")
    assert "\n\n\n" not in escaped


def test_operand_wraps_negatives() -> None:
    """Substituted negative numbers are parenthesised; positives are not."""
    assert operand("−0.25") == "(-0.25)"
    assert operand("0.25") == "0.25"


def test_long_equations_are_broken_in_latex() -> None:
    """A long sum is set as an align* with the sum broken over lines, not one overfull line."""
    terms = " + ".join(f"0.{k}1 \\times 0.{k}2" for k in range(1, 10))
    text = tex_equation(["z_{h1}", terms, "1.2345"])
    assert text.startswith("\\begin{align*}")
    assert "&\\quad + " in text and text.count("\\\\") >= 2
    short = tex_equation(["a", "0.1 + 0.2", "0.3000"])
    assert short == r"\[ a = 0.1 + 0.2 = 0.3000 \]"


def test_user_strings_are_escaped_in_both_formats() -> None:
    """Title, course and instructions are escaped for LaTeX and for Markdown."""
    data = preset("handout").to_data()
    data.update(title="50% & $5 #1", course="CS_101 {A}", instructions="Use *pen*.\n\nNo ~calculators~.")
    spec = parse_spec(data)
    graph = build_graph(spec)
    files = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)
    assert r"50\% \& \$5 \#1" in files["solution.tex"]
    assert r"CS\_101 \{A\}" in files["worksheet.tex"]
    assert r"No \textasciitilde{}calculators\textasciitilde{}." in files["worksheet.tex"]
    assert r"50% \& \$5 \#1" in files["solution.md"]
    assert r"Use \*pen\*." in files["worksheet.md"]
    assert "\n\nNo \\~calculators\\~." in files["worksheet.md"]


def _network(activation: str, loss: str, outputs: int, **extra: object) -> Spec:
    """A small two-hidden-layer network with the given hidden activation, loss and outputs."""
    out_act = "softmax" if loss == "cross_entropy" else ("sigmoid" if loss == "bce" else "linear")
    targets = [0.3, 0.7, 0.0][:outputs] if loss == "cross_entropy" else [0.2, 0.9, 0.4][:outputs]
    if loss == "cross_entropy" and outputs == 3:
        targets = [0.3, 0.5, 0.2]
    data = {
        "title": f"{activation} / {loss}",
        "inputs": [0.6, -0.4],
        "targets": targets,
        "layers": [
            {"activation": activation, "weights": [[0.3, -0.6], [-0.7, 0.2], [0.5, 0.4]], "bias": 0.1},
            {"activation": activation, "weights": [[0.2, -0.5, 0.4], [0.6, 0.3, -0.2]], "bias": [0.05, -0.3]},
            {
                "activation": out_act,
                "weights": [[0.7, -0.4], [-0.3, 0.8], [0.1, 0.2]][:outputs],
                "bias": [0.1, -0.2, 0.3][:outputs],
            },
        ],
        "loss": loss,
        "learning_rate": 0.5,
        **extra,
    }
    return parse_spec(data)


COMBOS = [
    ("sigmoid", "half_mse", 1, {}),
    ("tanh", "sse", 2, {"weight_decay": 0.01}),
    ("relu", "mse", 3, {}),
    ("leaky_relu", "bce", 2, {"update_biases": False}),
    ("linear", "bce", 1, {"decimals": 3}),
    ("sigmoid", "cross_entropy", 2, {}),
    ("tanh", "cross_entropy", 3, {"decimals": 5}),
]


@pytest.mark.parametrize(("activation", "loss", "outputs", "extra"), COMBOS)
def test_every_activation_and_loss_gives_checkable_lines(
    activation: str, loss: str, outputs: int, extra: dict[str, object]
) -> None:
    """For every activation and loss (softmax, weight decay, fixed biases too), each computed
    quantity has a line, each line recomputes from its printed numbers, and pandoc reads it."""
    spec = _network(activation, loss, outputs, **extra)
    graph = build_graph(spec)
    files = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)
    solution = files["solution.md"]
    check_lines(solution)
    for node in graph.nodes:
        if node.formula is not None:
            assert f"$${_line_symbol(graph, node)} = " in solution, node.id
    run = _pandoc(solution)
    assert run.returncode == 0 and run.stderr == "", run.stderr


def test_softmax_with_a_squared_loss_is_checkable() -> None:
    """A softmax output under a squared-error loss (its delta through the Jacobian) checks out."""
    data = deep_softmax_data()
    data["loss"] = "half_mse"
    spec = parse_spec(data)
    graph = build_graph(spec)
    files = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)
    check_lines(files["solution.md"])


_WEIGHT = st.integers(-9, 9).map(lambda k: k / 10)


@st.composite
def _specs(draw: st.DrawFn) -> Spec:
    """Small random networks: 1–2 hidden layers of 1–3 units, any activation, any valid loss."""
    n_in = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    loss = draw(st.sampled_from(["half_mse", "sse", "mse", "bce", "cross_entropy"]))
    n_out = draw(st.integers(2, 3)) if loss == "cross_entropy" else draw(st.integers(1, 2))
    if loss == "cross_entropy":
        out_act = "softmax"
        cut = draw(st.integers(0, 10))
        targets = [cut / 10, 1 - cut / 10, 0.0][:n_out]
    else:
        out_act = "sigmoid" if loss == "bce" else draw(st.sampled_from(["sigmoid", "tanh", "linear", "relu"]))
        targets = draw(st.lists(st.integers(0, 10).map(lambda k: k / 10), min_size=n_out, max_size=n_out))
    layers, fan_in = [], n_in
    for size in [*sizes, n_out]:
        is_out = len(layers) == len(sizes)
        act = (
            out_act if is_out else draw(st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu", "linear"]))
        )
        weights = draw(
            st.lists(st.lists(_WEIGHT, min_size=fan_in, max_size=fan_in), min_size=size, max_size=size)
        )
        shared = draw(st.booleans())
        bias = draw(_WEIGHT) if shared else draw(st.lists(_WEIGHT, min_size=size, max_size=size))
        layers.append({"activation": act, "weights": weights, "bias": bias})
        fan_in = size
    return parse_spec(
        {
            "inputs": draw(st.lists(_WEIGHT, min_size=n_in, max_size=n_in)),
            "targets": targets,
            "layers": layers,
            "loss": loss,
            "learning_rate": draw(st.sampled_from([0.5, 0.1, 0.01, 0.0001])),
            "decimals": draw(st.integers(2, 5)),
            "update_biases": draw(st.booleans()),
        }
    )


@settings(max_examples=40, deadline=None)
@given(_specs())
def test_random_networks_give_checkable_solutions(spec: Spec) -> None:
    """For random networks of every shape, activation and loss, each line recomputes from its
    printed numbers, and no asked value leaks into the worksheet's questions (the network's own
    description may define a constant such as a leaky ReLU's slope, which its derivative can be)."""
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    files = render_documents(spec, graph, exact, hand, 0, None)
    check_lines(files["solution.md"])
    questions = files["worksheet.md"].split("## Questions", 1)[1]
    tokens = set(re.findall(r"\d+(?:\.\d+)?", questions))
    for qid in resolve_ask(graph):
        forms = _forms(float(exact[qid][0]), hand.text(qid)) | _forms(float(hand[qid][0]), hand.text(qid))
        assert not {f.lstrip("-") for f in forms} & tokens, qid


# --------------------------------------------------------------------------- formats


def test_every_file_comes_from_one_registered_format() -> None:
    """The registry names each file once; by default the nine files of Markdown, LaTeX, the
    printable keys and the plain formats are written; of those the keys alone are kept out of
    students' folders, and of the HTML pages all but the worksheet (the others hold answers);
    network-values.svg, written only with the values diagram, goes beside solution.md."""
    from gradegen.documents.formats import ALL_FILES, FORMATS, PUBLIC_FILES, SECRET_FILES

    files = [file for fmt in FORMATS for file in fmt.files]
    assert files == list(ALL_FILES) and len(set(files)) == len(files) == 14
    assert len(FILES) == 9 and not {f for f in FILES if f.endswith(".html")}
    assert sorted(set(FILES) - set(PUBLIC_FILES)) == ["key.json", "key.md", "key.tex"]
    assert sorted(set(ALL_FILES) - set(FILES) - set(PUBLIC_FILES)) == sorted(SECRET_FILES)
    assert sorted(SECRET_FILES) == ["key.html", "practice.html", "solution.html"]
    assert "network-values.svg" in PUBLIC_FILES and "network-values.svg" not in FILES


def test_a_new_document_format_is_one_class_and_its_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document format added to the registry is rendered with nothing else changed: its files
    come from its own templates, given the same context, escaped and laid out its way."""
    from gradegen.documents import render
    from gradegen.documents.context import DocumentFormat
    from gradegen.documents.items import DocumentPlan
    from gradegen.documents.numbers import Numbers, Slots

    class Shouting(DocumentFormat):
        name = "shouting"
        suffix = "txt"

        def escape(self, text: str) -> str:
            return text.upper()

        def equation(self, segments: Sequence[str], slots: Slots) -> str:
            return " == ".join(segments)

        def diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
            return "(no picture)"

    shouting = Shouting()
    monkeypatch.setattr(render, "FORMATS", (*render.FORMATS, shouting))
    monkeypatch.setattr(render, "FILES", (*render.FILES, *shouting.files))
    folder = tmp_path / "tpl"
    folder.mkdir()
    for doc in ("solution", "worksheet"):
        (folder / f"{doc}.txt.j2").write_text(
            doc + ": {{ meta.title }} / {{ diagram }} / {{ sections[1].title }} / {{ sections[1].body[0] }}\n"
        )
    spec = preset("handout")
    graph = build_graph(spec)
    files = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, templates=folder)
    equation = (
        r"z_{h1} == x_{1} \cdot w_{1} + x_{2} \cdot w_{2} + b_{1}"
        r" == 0.05 \times 0.15 + 0.1 \times 0.2 + 0.35 == 0.3775"
    )
    title = "HIDDEN LAYER 1: $h_{1}$, $h_{2}$ (SIGMOID)"
    expected = f"solution: BACKPROPAGATION WORKED EXAMPLE / (no picture) / {title} / {equation}\n"
    assert files["solution.txt"] == expected
    assert files["worksheet.txt"].startswith("worksheet: BACKPROPAGATION")
    assert "solution.md" in files and "key.json" in files  # the other formats are still there
