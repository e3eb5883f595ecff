"""Comparing: how far from the expected value an answer may be under each tolerance mode."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

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


_HALF_WIDTH = {
    ToleranceMode.REL: rel_half_width,
    ToleranceMode.ABS: abs_half_width,
    ToleranceMode.SIGFIG: sigfig_half_width,
    ToleranceMode.DECIMALS: decimals_half_width,
}


@dataclass(frozen=True)
class Rule:
    """How close an answer must be: a key's :class:`Tolerance`, or ``--rtol``/``--atol``.

    With command-line tolerances an answer passes when |x − e| ≤ atol + rtol·|e| (numpy's
    ``isclose``), for every item, whatever the key says.
    """

    tolerance: Tolerance | None = None
    rtol: float = 0.0
    atol: float = 0.0

    def half_width(self, expected: ArrayLike) -> Array:
        e = np.asarray(expected, dtype=np.float64)
        if self.tolerance is None:
            width: Array = self.atol + self.rtol * np.abs(e)
        else:
            width = _HALF_WIDTH[self.tolerance.mode](e, self.tolerance.value)
        return width + SLACK * (np.abs(e) + width)

    def describe(self) -> str:
        if self.tolerance is None:
            parts = [f"rtol {self.rtol:g}" if self.rtol else "", f"atol {self.atol:g}" if self.atol else ""]
            return " + ".join(p for p in parts if p) or "exact"
        mode, value = self.tolerance.mode, self.tolerance.value
        if mode is ToleranceMode.REL:
            return f"within {value * 100:g}%"
        if mode is ToleranceMode.ABS:
            return f"within ±{value:g}"
        if mode is ToleranceMode.SIGFIG:
            return f"to {round(value)} significant figures"
        return f"to {round(value)} decimal places"


def half_width(expected: ArrayLike, tolerance: Tolerance) -> Array:
    """How far from ``expected`` an answer may be under ``tolerance`` (element-wise)."""
    return Rule(tolerance).half_width(expected)


def is_close(answer: ArrayLike, expected: ArrayLike, tolerance: Tolerance) -> NDArray[np.bool_]:
    """Whether ``answer`` matches ``expected`` under ``tolerance`` (element-wise)."""
    x = np.asarray(answer, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    result: NDArray[np.bool_] = np.abs(x - e) <= half_width(e, tolerance)
    return result


def _match(x: Array, ref: Array, rule: Rule, keys: NDArray[np.intp] | None = None) -> NDArray[np.bool_]:
    """Whether each x is within the rule's half-width of its reference; with ``keys``, ``ref`` is
    per key and ``keys`` gives each x's key (the half-widths are then worked out once per key)."""
    with np.errstate(invalid="ignore"):
        if keys is None:
            out: NDArray[np.bool_] = np.abs(x - ref) <= rule.half_width(ref)
        else:
            out = np.abs(x - ref[keys]) <= rule.half_width(ref)[keys]
    return out
