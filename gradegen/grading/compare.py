"""Comparing: how far from the expected value an answer may be under each tolerance mode."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gradegen.core.graph import Array
from gradegen.core.spec import Tolerance
from gradegen.core.tolerance import (  # re-exported: grading's comparators
    HALF_WIDTH,
    SLACK,
    abs_half_width,
    decimals_half_width,
    describe,
    rel_half_width,
    sigfig_half_width,
    with_slack,
)

__all__ = [
    "SLACK",
    "Rule",
    "abs_half_width",
    "decimals_half_width",
    "half_width",
    "is_close",
    "rel_half_width",
    "sigfig_half_width",
]


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
            width = HALF_WIDTH[self.tolerance.mode](e, self.tolerance.value)
        return with_slack(e, width)

    def describe(self) -> str:
        if self.tolerance is None:
            parts = [f"rtol {self.rtol:g}" if self.rtol else "", f"atol {self.atol:g}" if self.atol else ""]
            return " + ".join(p for p in parts if p) or "exact"
        return describe(self.tolerance)


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
