"""How a student on paper rounds: half away from zero, by a rule fixed per question.

The rule (documented in the README, "Exact and hand values") is a :class:`Precision` per quantity,
decided by what the quantity is (:mod:`gradegen.core.network` says which), never by its size:

* ``decimals``: rounded to the spec's ``decimals`` places (the forward pass, the loss, the output
  layer's chain-rule factors and gradients, every activation's derivative);
* ``figures``: rounded to :data:`SIGNIFICANT` significant figures and written in scientific
  notation (the backward pass behind a hidden layer, far below the working precision: 6.70 × 10⁻⁴);
* ``exact``: the exact decimal result of the rounded values: a step η·g is the product of η as
  given and the rounded gradient (0.0001 × 0.1385 = 0.00001385), with g's significant figures; an
  updated parameter is w minus that step, without trailing zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

SIGNIFICANT = 3
"""Significant figures of a quantity rounded by ``figures``."""

MAX_PLACES = 15
"""Beyond this a float64 has no more decimal information worth printing."""

# A product of a few decimals carries a few ulps of noise (0.1385 * 0.5 * 1e4 == 692.4999999999999);
# nudging by 16 ulps before rounding makes exact decimal halves round the way paper does, while a
# value genuinely below the half by more than float noise still rounds down.
_NUDGE = 16 * float(np.finfo(np.float64).eps)

Floats = NDArray[np.float64]
Places = NDArray[np.int64]


class Rule(StrEnum):
    """How a quantity is rounded by hand (and so how a worksheet asks for it)."""

    DECIMALS = "decimals"
    FIGURES = "figures"
    EXACT = "exact"


@dataclass(frozen=True)
class Precision:
    """A quantity's rounding rule: ``digits`` places or figures (unused when exact), and whether
    it is written in scientific notation."""

    rule: Rule
    digits: int = 0
    scientific: bool = False


def tiny_learning_rate(lr: float, decimals: int) -> bool:
    """Whether η is so small that a step η·g would vanish at the working precision: below
    10^(2 − decimals) (0.01 at 4 places). Worksheets then ask for the steps, not the new values."""
    return lr < 10.0 ** (2 - decimals)


def magnitude(x: ArrayLike) -> NDArray[np.float64]:
    """⌊log₁₀|x|⌋, and 0 where x is 0 or not finite."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    sized = (a > 0) & (a < np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sized, np.floor(np.log10(np.where(sized, a, 1.0))), 0.0)


def places_for(x: ArrayLike, decimals: int) -> Places:
    """Decimal places for ``x``: ``decimals``, or more to keep three significant figures (what
    ``early_rounding`` in grading tries as a student's too-coarse rounding)."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    needed = np.where((a > 0) & (a < np.inf), SIGNIFICANT - 1 - magnitude(a), 0.0)
    return np.minimum(np.maximum(needed, max(decimals, 0)), MAX_PLACES).astype(np.int64)


def figure_places(x: ArrayLike, figures: int, cap: int = MAX_PLACES) -> Places:
    """The decimal places that show ``x`` to ``figures`` significant figures (0 at least, ``cap``
    at most; 0 for zero)."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    needed = np.where((a > 0) & (a < np.inf), figures - 1 - magnitude(a), 0.0)
    return np.clip(needed, 0, cap).astype(np.int64)


_POWERS = np.array([10.0**k for k in range(MAX_PLACES + 1)])
"""10⁰ … 10¹⁵, each exactly a float64 (as np.power gives them): looked up rather than computed,
which makes hand evaluation, most of whose time is rounding, about a quarter faster."""


def round_to(x: ArrayLike, places: ArrayLike) -> Floats:
    """Round half away from zero to ``places`` decimals (element-wise)."""
    v = np.asarray(x, dtype=np.float64)
    p = np.asarray(places)
    if p.dtype.kind in "iu" and p.size and p.min() >= 0 and p.max() <= MAX_PLACES:
        scale = _POWERS[p]
    else:
        scale = np.power(10.0, p.astype(np.float64))
    scaled = np.abs(v) * scale
    rounded = np.floor(scaled * (1.0 + _NUDGE) + 0.5)
    out: Floats = np.copysign(rounded / scale, v)
    # Very large or non-finite values have nothing to round.
    return np.where(np.isfinite(scaled), out, v)


def decimals_of(x: ArrayLike) -> Places:
    """The fewest decimal places that write ``x`` exactly (as typed: 0.0001 has 4), at most 15."""
    v = np.asarray(x, dtype=np.float64)
    # each distinct value once (a class's η is one value, its givens a few), and each pass only
    # over the values not yet written exactly: hand evaluation asks this of every step and update
    distinct, inverse = np.unique(v.ravel(), return_inverse=True)
    found = np.full(distinct.shape, MAX_PLACES, dtype=np.int64)
    todo = np.arange(distinct.size)
    for k in range(MAX_PLACES):
        left = distinct[todo]
        hit = round_to(left, k) == left
        found[todo[hit]] = k
        todo = todo[~hit]
        if not todo.size:
            break
    return found[inverse].reshape(v.shape)


def hand_round(x: ArrayLike, precision: Precision) -> tuple[Floats, Places]:
    """Round by a ``decimals`` or ``figures`` rule; returns the values and the places each kept."""
    v = np.asarray(x, dtype=np.float64)
    if precision.rule is Rule.DECIMALS:
        places = np.full(v.shape, precision.digits, dtype=np.int64)
        return round_to(v, places), places
    places = figure_places(v, precision.digits)
    rounded = round_to(v, places)
    # 0.000999999 at 3 figures is 0.00100: one place fewer once the rounding carried over
    carried = (magnitude(rounded) > magnitude(v)) & (places > 0)
    places = places - carried
    return round_to(v, places), places


def exact_step(lr: ArrayLike, grad: ArrayLike, grad_places: ArrayLike) -> tuple[Floats, Places]:
    """η·g as the exact decimal product of η (as given) and the rounded g, written with as many
    significant figures as g shows (0.0001 × 0.000670 = 0.0000000670; 0.5 × 0.0822 = 0.0411)."""
    g_places = np.asarray(grad_places, dtype=np.int64)
    places = np.minimum(decimals_of(lr) + g_places, MAX_PLACES)
    product = round_to(np.asarray(lr, dtype=np.float64) * np.asarray(grad, dtype=np.float64), places)
    figures = g_places + magnitude(grad).astype(np.int64) + 1
    kept = np.maximum(decimals_of(product), figures - 1 - magnitude(product).astype(np.int64))
    return product, np.clip(kept, 0, places)


def exact_update(w: ArrayLike, step: ArrayLike, step_places: ArrayLike) -> tuple[Floats, Places]:
    """w − step as the exact decimal difference of w (as given) and the step, without trailing zeros."""
    places = np.maximum(decimals_of(w), np.asarray(step_places, dtype=np.int64))
    new = round_to(np.asarray(w, dtype=np.float64) - np.asarray(step, dtype=np.float64), places)
    return new, np.minimum(decimals_of(new), places)


def _fixed(x: float, places: int) -> str:
    text = "%.*f" % (places, x)  # noqa: UP031 - "%.*f" takes the places as an argument
    return text[1:] if text[:2] == "-0" and float(text) == 0 else text  # no −0.00


def scientific_parts(fixed: str) -> tuple[str, int]:
    """A fixed-point text ("-0.000670") as the mantissa ("-6.70") and exponent (-4) that write the
    same digits in scientific notation; ("0", 0) for zero."""
    sign = "-" if fixed.startswith("-") else ""
    body = fixed.lstrip("-")
    whole, _, frac = body.partition(".")
    digits = whole + frac
    first = next((i for i, c in enumerate(digits) if c != "0"), None)
    if first is None:
        return "0", 0
    exponent = len(whole) - 1 - first
    rest = digits[first + 1 :]
    return sign + digits[first] + ("." + rest if rest else ""), exponent


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_number(x: float, places: int, scientific: bool = False) -> str:
    """``x`` with exactly ``places`` decimals (or the same digits as ``6.70 × 10⁻⁴`` when
    ``scientific``), with a real minus sign for negatives."""
    text = _fixed(x, int(places))
    if scientific:
        mantissa, exponent = scientific_parts(text)
        text = mantissa if exponent == 0 else f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)}"
    return "−" + text[1:] if text.startswith("-") else text


def format_numbers(xs: Sequence[float], places: Sequence[int], scientific: bool = False) -> list[str]:
    """:func:`format_number` of many numbers, each with its places (a hand-worked column's texts)."""
    if scientific:
        return [format_number(x, p, True) for x, p in zip(xs, places, strict=True)]
    texts = ["%.*f" % (p, x) for x, p in zip(xs, places, strict=True)]  # noqa: UP031
    for i, text in enumerate(texts):
        if text.startswith("-"):
            body = text[1:]
            texts[i] = body if float(body) == 0 else "−" + body
    return texts


def shortest(x: float) -> str:
    """The shortest text that reads back as ``x`` (for givens, printed as given)."""
    text = repr(float(x))
    if "e" in text or "E" in text:
        text = np.format_float_positional(float(x), trim="-")
    if text.endswith(".0"):
        text = text[:-2]
    return "−" + text[1:] if text.startswith("-") else text
