"""How far from the expected value an answer may be under each tolerance mode, and the interval
of accepted answers (what grading compares with and what the printed answer key shows)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from gradegen.core.graph import Array
from gradegen.core.spec import Tolerance, ToleranceMode

SLACK = 1e-12
"""Relative room added to every interval so that a boundary case is not lost to float rounding."""


def rel_half_width(expected: ArrayLike, value: float) -> Array:
    """``rel``: |x − e| ≤ value·|e|."""
    return value * np.abs(np.asarray(expected, dtype=np.float64))


def abs_half_width(expected: ArrayLike, value: float) -> Array:
    """``abs``: |x − e| ≤ value."""
    return np.full(np.shape(expected), float(value))


def sigfig_half_width(expected: ArrayLike, digits: float) -> Array:
    """``sigfig``: agrees with e to ``digits`` significant figures (PrairieLearn: 0.51 of a unit in
    the last significant place, so that e rounded to that many figures is accepted)."""
    e = np.abs(np.asarray(expected, dtype=np.float64))
    with np.errstate(divide="ignore"):
        magnitude = np.where(e > 0, np.floor(np.log10(np.where(e > 0, e, 1.0))), 0.0)
    out: Array = 0.51 * 10.0 ** (magnitude - round(digits) + 1)
    return out


def decimals_half_width(expected: ArrayLike, places: float) -> Array:
    """``decimals``: agrees with e to ``places`` decimal places (0.51 of a unit in the last place)."""
    return np.full(np.shape(expected), 0.51 * 10.0 ** -round(places))


HALF_WIDTH = {
    ToleranceMode.REL: rel_half_width,
    ToleranceMode.ABS: abs_half_width,
    ToleranceMode.SIGFIG: sigfig_half_width,
    ToleranceMode.DECIMALS: decimals_half_width,
}


def tolerance_width(tolerance: Tolerance) -> Callable[[Array], Array]:
    """The half-width of ``tolerance`` around an expected value, slack included."""

    def width(expected: Array) -> Array:
        e = np.asarray(expected, dtype=np.float64)
        w = HALF_WIDTH[tolerance.mode](e, tolerance.value)
        return with_slack(e, w)

    return width


def with_slack(expected: Array, width: Array) -> Array:
    """A half-width with :data:`SLACK` added."""
    out: Array = width + SLACK * (np.abs(expected) + width)
    return out


def accepted(exact: Array, hand: Array, width: Callable[[Array], Array]) -> tuple[Array, Array]:
    """The accepted interval: the hull of the intervals ``width`` gives around the exact value and
    around the hand value (in comparison space: an update's step)."""
    lo = np.minimum(exact - width(exact), hand - width(hand))
    hi = np.maximum(exact + width(exact), hand + width(hand))
    return lo, hi


def describe(tolerance: Tolerance) -> str:
    """The rule in words: "within 1%", "within ±0.001", "to 3 significant figures"."""
    mode, value = tolerance.mode, tolerance.value
    if mode is ToleranceMode.REL:
        return f"within {value * 100:g}%"
    if mode is ToleranceMode.ABS:
        return f"within ±{value:g}"
    if mode is ToleranceMode.SIGFIG:
        return f"to {round(value)} significant figures"
    return f"to {round(value)} decimal places"
