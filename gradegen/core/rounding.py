"""How a student on paper rounds: half away from zero, with enough places to keep the information.

The rule (documented in the README):

* a value is rounded to ``decimals`` places, or to more where that would leave fewer than
  three significant figures (0.000668 stays 0.000668, not 0.0007);
* an updated parameter ``w − η·g`` is rounded to as many places as the step ``η·g`` needs for
  three significant figures, so the step stays visible (0.40 − 0.00000822 = 0.39999178).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

SIGNIFICANT = 3
"""Significant figures a rounded value keeps, however small it is."""

MAX_PLACES = 15
"""Beyond this a float64 has no more decimal information worth printing."""

# A product of a few decimals carries a few ulps of noise (0.1385 * 0.5 * 1e4 == 692.4999999999999);
# nudging by 16 ulps before rounding makes exact decimal halves round the way paper does, while a
# value genuinely below the half by more than float noise still rounds down.
_NUDGE = 16 * float(np.finfo(np.float64).eps)

Floats = NDArray[np.float64]


def places_for(x: ArrayLike, decimals: int) -> NDArray[np.int64]:
    """Decimal places for ``x``: ``decimals``, or more to keep three significant figures."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    # a > 0 and finite; zero, NaN and ±inf need no extra places
    sized = (a > 0) & (a < np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.where(sized, a, 1.0)))
    needed = np.where(sized, SIGNIFICANT - 1 - magnitude, 0.0)
    return np.minimum(np.maximum(needed, max(decimals, 0)), MAX_PLACES).astype(np.int64)


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


def hand_round(x: ArrayLike, decimals: int) -> tuple[Floats, NDArray[np.int64]]:
    """Round as a student would; returns the values and the places each was given."""
    places = places_for(x, decimals)
    return round_to(x, places), places


def hand_update(w: ArrayLike, step: ArrayLike, decimals: int) -> tuple[Floats, NDArray[np.int64]]:
    """``w − step`` rounded so that the (hand-rounded) step stays visible."""
    s, places = hand_round(step, decimals)
    return round_to(np.asarray(w, dtype=np.float64) - s, places), places


def format_number(x: float, places: int) -> str:
    """Fixed-point text with exactly ``places`` decimals and a real minus sign for negatives."""
    text = f"{x:.{int(places)}f}"
    if text.startswith("-"):
        body = text[1:]
        return body if float(body) == 0 else "−" + body
    return text


_FIXED = [f".{places}f" for places in range(MAX_PLACES + 1)]


def format_numbers(xs: Sequence[float], places: Sequence[int]) -> list[str]:
    """:func:`format_number` of many numbers, each with its places (a hand-worked column's texts)."""
    fixed = _FIXED
    texts = [
        format(x, fixed[p] if 0 <= p <= MAX_PLACES else f".{p}f") for x, p in zip(xs, places, strict=True)
    ]
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
