"""LaTeX documents: display equations (long ones broken over lines) and the diagram in TikZ.

They need only amsmath, amssymb, array, booktabs, longtable, geometry and tikz.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import ClassVar

from gradegen.documents.context import DocumentFormat
from gradegen.documents.diagram import tikz, tikz_values
from gradegen.documents.equations import terms
from gradegen.documents.items import DocumentPlan
from gradegen.documents.numbers import Numbers, Slots, fill
from gradegen.escape import latex_escape


class Latex(DocumentFormat):
    """solution.tex and worksheet.tex, from templates/*.tex.j2."""

    name = "latex"
    suffix = "tex"
    dash = "--"  # ASCII: an ASCII source needs no fallback fonts
    filters: ClassVar[Mapping[str, Callable[[str], str]]] = {"latex_escape": latex_escape}

    def escape(self, text: str) -> str:
        return latex_escape(text)

    def equation(self, segments: Sequence[str], slots: Slots) -> str:
        """Broken where it is too wide with every number at its nominal width (the same lines
        for every variant); a row of a broken sum counts each operand as a negative one (rows of
        many terms are where the parentheses of negatives add up)."""

        def visible(latex: str) -> int:
            return _visible(fill(latex, slots.nominal))

        def row_visible(latex: str) -> int:
            return _visible(
                fill(latex, lambda key: f"(-{slots.nominal(key)})" if key[0] == "o" else slots.nominal(key))
            )

        return tex_equation(segments, visible, row_visible)

    def matrix_equation(self, segments: Sequence[str], slots: Slots) -> str:
        """On one line if it fits, else one row per segment or two; a row still too wide is set
        in a smaller size (widths at nominal numbers: the same layout for every variant)."""
        return matrix_display(segments, lambda latex: matrix_visible(fill(latex, slots.nominal)))

    def diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        return tikz(plan, numbers)  # type: ignore[arg-type]

    def values_diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        return tikz_values(plan, numbers)  # type: ignore[arg-type]

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], slots: Slots, intro: str = ""
    ) -> str:
        """Longtables (they break across pages, their heading repeated), a size smaller than the
        text, after their sentence: a long one narrow enough (every number at its nominal width)
        runs two rows abreast; one too wide for the page is split into tables of some of its
        columns, each naming the row."""
        widths = [
            max((_cell_width(fill(row[k], slots.nominal)) for row in rows), default=0)
            for k in range(len(header))
        ]
        groups: list[list[int]] = [[]]
        for k in range(1, len(header)):
            if groups[-1] and widths[0] + sum(widths[j] for j in groups[-1]) + widths[k] > _FITS:
                groups.append([])
            groups[-1].append(k)
        tables = [_longtable([header[0], *(header[k] for k in g)], [[r[0], *(r[k] for k in g)] for r in rows],
                             widths[0] + sum(widths[k] for k in g)) for g in groups]  # fmt: skip
        # the sentence starts a page of its own unless the heading and a few rows fit below it
        # (what needspace does): longtable may break the page right before it starts
        keep = "\\par\\begingroup\\dimen0=6\\baselineskip\\dimen2=\\pagegoal\\advance\\dimen2 by -\\pagetotal"
        keep += "\\ifdim\\dimen0>\\dimen2 \\ifdim\\dimen2>0pt \\vfil\\fi\\break\\fi\\endgroup"
        return "\n\n".join([keep + "\n" + intro, *tables] if intro else tables)


def _longtable(header: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    """One longtable of the cells, two rows abreast when long and narrow."""
    across = 2 if len(rows) > _SHORT and width <= _ABREAST else 1
    spec = "@{\\quad}".join(["l" + "r" * (len(header) - 1)] * across)
    size = "\\footnotesize" if across == 2 or width > _WIDE else "\\small"
    blank = [""] * len(header)
    head = " & ".join(list(header) * across) + r" \\"
    lines = [f"{{{size}\\setlength{{\\tabcolsep}}{{2pt}}\\begin{{longtable}}{{{spec}}}", "\\toprule", head]
    lines += ["\\midrule", "\\endhead"]
    half = -(-len(rows) // across)  # down the first half, then the second: reading order
    for k in range(half):
        row = list(rows[k])
        if across == 2:
            row += rows[k + half] if k + half < len(rows) else blank
        lines.append(" & ".join(row) + r" \\")
    lines += ["\\bottomrule", "\\end{longtable}}"]
    return "\n".join(lines)


LATEX = Latex()

_SHORT = 12  # rows a table keeps one a line, however narrow
_ABREAST = 55  # characters of a row (numbers at nominal width) that fit twice abreast, set smaller
_FITS = 100  # characters of a row that fit across the page, set smaller
_WIDE = 88  # characters of a row beyond which a table is set smaller
_WIDTH = 64  # characters of (roughly) visible math per line before a LaTeX equation is broken


@lru_cache(maxsize=16384)
def _visible(latex: str) -> int:
    return len(re.sub(r"\\(?:left|right|partial|frac|tfrac|hat|text|cdot|times)|[{}\\ ]", "", latex))


def _cell_width(latex: str) -> int:
    """A table cell's width in characters, each operator counted with the space around it."""
    return _visible(latex) + 2 * len(re.findall(r"\\times|\\cdot| [-+=] ", latex)) + 2


def _split_sum(latex: str, visible: Callable[[str], int] = _visible) -> list[str]:
    """Break a long expression at top-level + signs into pieces that fit a line."""
    lines: list[str] = []
    for piece in terms(latex):
        if lines and visible(lines[-1]) + visible(piece) < _WIDTH:
            lines[-1] += " + " + piece
        else:
            lines.append(piece)
    return lines


def tex_equation(
    segments: Sequence[str],
    visible: Callable[[str], int] = _visible,
    row_visible: Callable[[str], int] | None = None,
) -> str:
    """A display equation; long ones become an ``align*`` with one step per row, long sums broken.

    ``visible`` measures a line; ``row_visible`` (default the same) a row of a broken sum.
    """
    joined = " = ".join(segments)
    if visible(joined) <= _WIDTH:
        return rf"\[ {joined} \]"
    row_visible = row_visible or visible
    rows: list[str] = []
    for k, segment in enumerate(segments[1:]):
        lines = _split_sum(segment, row_visible) if row_visible(segment) > _WIDTH else [segment]
        lead = f"{segments[0]} &= " if k == 0 else "&= "
        rows.append(lead + lines[0])
        rows.extend(rf"&\quad + {line}" for line in lines[1:])
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


BMATRIX = re.compile(r"\\begin\{bmatrix\} (.*?) \\end\{bmatrix\}")
_MATRIX_WIDTH = 84  # a matrix's columns sit closer than the characters of a line of sums
_SIZES = ((1.0, ""), (0.91, r"\small"), (0.82, r"\footnotesize"), (0.75, r"\scriptsize"), (0.55, r"\tiny"))
"""Font sizes for a row of matrices too wide at the text's, each with the width it takes relative to
the text's (more than the type's ratio: exponents stop shrinking at 5pt)."""


def matrix_visible(latex: str) -> int:
    """Visible width of math with matrices: a matrix as wide as its widest entry per column."""
    total = 0

    def width(match: re.Match[str]) -> str:
        nonlocal total
        rows = [row.split(" & ") for row in match.group(1).split(r" \\ ")]
        columns = max(len(row) for row in rows)
        widths = [max(_entry_visible(row[j]) for row in rows if j < len(row)) for j in range(columns)]
        total += sum(widths) + 3 * columns
        return ""

    return _visible(BMATRIX.sub(width, latex)) + total


def _entry_visible(latex: str) -> int:
    """A matrix entry's width; a × 10 with spaces around it is wider than its characters."""
    return _visible(latex) + 3 * latex.count(r"\times")


def matrix_columns(latex: str) -> int:
    """The most columns of any matrix in ``latex``."""
    return max((m.group(1).split(r" \\ ")[0].count(" & ") + 1 for m in BMATRIX.finditer(latex)), default=0)


def matrix_display(segments: Sequence[str], visible: Callable[[str], int], sized: bool = True) -> str:
    """A display of matrices: one line, or an ``align*`` whose rows pack segments while they fit;
    ``sized`` (LaTeX, not MathML): a row wider than the line is set small enough to fit (down to
    ``\\tiny``), and matrices of more than 10 columns or of fractions get room."""
    widths = [visible(segment) for segment in segments]
    wide = max(matrix_columns(segment) for segment in segments)
    counter = rf"\setcounter{{MaxMatrixCols}}{{{wide}}} " if wide > 10 and sized else ""  # amsmath's: 10
    if sized and any("frac{" in m.group(1) for m in BMATRIX.finditer(" ".join(segments))):
        counter += r"\renewcommand{\arraystretch}{2.2} "  # rows of fractions apart (the display's group)
    limit = _MATRIX_WIDTH if sized else _WIDTH  # a page's MathML is set a little larger
    if sum(widths) + 2 * len(widths) <= limit:
        return rf"\[ {counter}{' = '.join(segments)} \]"
    rows: list[tuple[list[str], int]] = [([], widths[0])]
    for segment, width in zip(segments[1:], widths[1:], strict=True):
        if rows[-1][0] and rows[-1][1] + width + 2 > limit:
            rows.append(([], 0))
        rows[-1][0].append(segment)
        rows[-1] = (rows[-1][0], rows[-1][1] + width + 2)
    lines = []
    for k, (row, width) in enumerate(rows):
        # a segment too wide for its row alone is broken between its matrices: W, then − η ∂L/∂W
        parts = _between_matrices(row[0]) if len(row) == 1 and width > limit else [row[0]]
        pieces = [" = ".join(row)] if len(parts) == 1 else parts
        for j, piece in enumerate(pieces):
            fits = [name for factor, name in _SIZES if (visible(piece) + 2) * factor <= limit]
            size = (fits[0] if fits else _SIZES[-1][1]) if sized else ""
            if size:  # the columns' gaps shrink with the type (a fixed 5pt would dominate a small matrix)
                piece = rf"\text{{{size} \arraycolsep=0.3em ${piece}$}}"
            lead = (f"{segments[0]} &= " if k == 0 else "&= ") if j == 0 else r"&\quad "
            lines.append(lead + counter + piece)  # each cell is a group: the settings in each
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


_TOP = re.compile(r"\\begin\{bmatrix\}|\\end\{bmatrix\}|[{}]| [-+] ")


def _between_matrices(latex: str) -> list[str]:
    """A segment split before each + or − that joins its matrices (outside every matrix and brace)."""
    pieces, depth, start = [], 0, 0
    for m in _TOP.finditer(latex):
        token = m.group(0)
        if token in ("{", r"\begin{bmatrix}"):
            depth += 1
        elif token in ("}", r"\end{bmatrix}"):
            depth -= 1
        elif depth == 0 and m.start() > start:
            pieces.append(latex[start : m.start()])
            start = m.start() + 1
    return [*pieces, latex[start:]]
