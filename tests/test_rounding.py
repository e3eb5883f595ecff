"""Hand rounding: half away from zero, by the question's rule; steps and updates exact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.core.rounding import (
    Precision,
    Rule,
    decimals_of,
    exact_step,
    exact_update,
    format_number,
    hand_round,
    places_for,
    round_to,
    shortest,
    tiny_learning_rate,
)

FOUR = Precision(Rule.DECIMALS, 4)
THREE_FIGURES = Precision(Rule.FIGURES, 3, scientific=True)


@pytest.mark.parametrize(
    ("value", "precision", "rounded", "text"),
    [
        (0.13849856, FOUR, 0.1385, "0.1385"),
        (0.74136507, FOUR, 0.7414, "0.7414"),
        (1.10590597, FOUR, 1.1059, "1.1059"),
        (0.000668396, FOUR, 0.0007, "0.0007"),  # the rule is the question's, not the value's
        (-0.0014996, FOUR, -0.0015, "−0.0015"),
        (0.0, FOUR, 0.0, "0.0000"),
        (0.12345, FOUR, 0.1235, "0.1235"),  # a half rounds up, as on paper (banker's gives 0.1234)
        (0.1385 * 0.5, FOUR, 0.0693, "0.0693"),  # float gives 0.069249999…; paper gives 0.06925
        (0.06924999, FOUR, 0.0692, "0.0692"),
        (-0.12345, FOUR, -0.1235, "−0.1235"),
        (1234.5, Precision(Rule.DECIMALS, 0), 1235.0, "1235"),
        (0.000668396, THREE_FIGURES, 0.000668, "6.68 × 10⁻⁴"),
        (0.0134 * 0.05, THREE_FIGURES, 0.00067, "6.70 × 10⁻⁴"),  # the handout's ∂L/∂w1
        (-0.0014996, THREE_FIGURES, -0.0015, "−1.50 × 10⁻³"),
        (0.000999999, THREE_FIGURES, 0.001, "1.00 × 10⁻³"),  # the carry takes a place away
        (0.0554 * 0.2413, THREE_FIGURES, 0.0134, "1.34 × 10⁻²"),
        (2.5, THREE_FIGURES, 2.5, "2.50"),  # no power of ten for 10⁰
        (1234.5, THREE_FIGURES, 1235.0, "1.235 × 10³"),  # never rounded left of the point
        (0.0, THREE_FIGURES, 0.0, "0"),
    ],
)
def test_hand_round_table(value: float, precision: Precision, rounded: float, text: str) -> None:
    """Each value rounds by its question's rule, and prints with the places it was given."""
    result, places = hand_round(np.array([value]), precision)
    assert result[0] == rounded
    assert format_number(result[0], int(places[0]), precision.scientific) == text


@pytest.mark.parametrize(
    ("lr", "grad", "grad_places", "step", "text"),
    [
        (0.0001, 0.1385, 4, 0.00001385, "0.00001385"),  # exact, not 0.0000139
        (0.0001, 0.00067, 6, 6.7e-8, "0.0000000670"),  # 6.70 × 10⁻⁴ keeps its three figures
        (0.5, 0.0822, 4, 0.0411, "0.0411"),  # 0.04110: the zero is 5 × 2, not a figure of g
        (0.5, 0.0827, 4, 0.04135, "0.04135"),
        (0.37, -0.0226, 4, -0.008362, "−0.008362"),
    ],
)
def test_a_step_is_the_exact_product(
    lr: float, grad: float, grad_places: int, step: float, text: str
) -> None:
    """η·g is the exact decimal product of η as given and the rounded g, with g's figures."""
    value, places = exact_step(np.array([lr]), np.array([grad]), np.array([grad_places]))
    assert value[0] == step and format_number(value[0], int(places[0])) == text


def test_an_update_is_the_exact_difference() -> None:
    """w − step exactly, without trailing zeros: 0.40 − 0.00000822 = 0.39999178, 0.4 − 0.0411 =
    0.3589, 0.15 − 0.0000000670 = 0.149999933."""
    for w, step, step_places, text in [
        (0.40, 8.22e-6, 8, "0.39999178"),
        (0.4, 0.0411, 4, "0.3589"),
        (0.15, 6.7e-8, 10, "0.149999933"),
        (0.6, 0.00001385, 8, "0.59998615"),
    ]:
        new, places = exact_update(np.array([w]), np.array([step]), np.array([step_places]))
        assert format_number(new[0], int(places[0])) == text and new[0] == float(text)


def test_decimals_of_counts_the_places_as_typed() -> None:
    """0.0001 has 4 places, 0.15 two, 2 none; a float with no short decimal gets 15."""
    assert decimals_of(np.array([0.0001, 0.15, 2.0, -0.37, 1 / 3])).tolist() == [4, 2, 0, 2, 15]


def test_a_tiny_learning_rate_is_below_ten_to_two_minus_the_decimals() -> None:
    """At 4 places η = 0.0001 is tiny (steps asked) and 0.5 or 0.01 is not."""
    assert tiny_learning_rate(0.0001, 4) and tiny_learning_rate(0.009, 4)
    assert not tiny_learning_rate(0.01, 4) and not tiny_learning_rate(0.5, 4)


@given(st.floats(-1e3, 1e3, allow_nan=False), st.integers(0, 8))
def test_rounding_is_nearest(value: float, places: int) -> None:
    """round_to gives a value within half a unit in the last place."""
    result = round_to(np.array([value]), places)[0]
    assert abs(result - value) <= 0.5 * 10.0**-places + 1e-14 * max(abs(value), 1.0)


def test_places_for_small_numbers() -> None:
    """Small magnitudes need more places for three significant figures."""
    assert places_for(np.array([0.5, 0.05, 0.0005, 0.0, 25.0]), 4).tolist() == [4, 4, 6, 4, 4]


def test_shortest_prints_givens_as_written() -> None:
    """Givens print in their shortest form, with a real minus sign and no exponent."""
    assert [shortest(v) for v in (0.05, 0.1, 2.0, -0.3, 1e-05)] == ["0.05", "0.1", "2", "−0.3", "0.00001"]


def _plain_places_for(x: np.ndarray, decimals: int) -> np.ndarray:
    """places_for as first written (the reference for the faster one)."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.where(a > 0, a, 1.0)))
    needed = np.where(a > 0, 2 - magnitude, 0)
    needed = np.where(np.isfinite(needed), needed, 0)
    return np.clip(np.maximum(needed, decimals), 0, 15).astype(np.int64)


def _plain_round_to(x: np.ndarray, places: np.ndarray) -> np.ndarray:
    """round_to as first written, with np.power (the reference for the table of powers)."""
    v = np.asarray(x, dtype=np.float64)
    scale = np.power(10.0, np.asarray(places, dtype=np.float64))
    scaled = np.abs(v) * scale
    rounded = np.floor(scaled * (1.0 + 16 * float(np.finfo(np.float64).eps)) + 0.5)
    out = np.copysign(rounded / scale, v)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(scaled), out, v)


def test_rounding_has_the_plain_formulas_bits() -> None:
    """places_for and round_to (powers of ten looked up, fewer passes) give the bits of the plain
    formulas: on powers of ten and their neighbours, halves, zeros, subnormals, non-finite values,
    and places given as integers, floats or out of the table's range (changed: faster)."""
    rng = np.random.default_rng(11)
    powers = 10.0 ** np.arange(-12, 13)
    special = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1e300, -1e300, 0.12345, 0.06925, 2.5]
    x = np.concatenate(
        [
            powers,
            np.nextafter(powers, 0),
            np.nextafter(powers, np.inf),
            -powers,
            special,
            rng.normal(0, 1, 20_000) * 10.0 ** rng.integers(-10, 6, 20_000),
            np.round(rng.uniform(-1, 1, 5_000), 4) / 2,
        ]
    )
    for decimals in (-1, 0, 2, 4, 10):
        assert np.array_equal(places_for(x, decimals), _plain_places_for(x, decimals))
    with np.errstate(invalid="ignore", over="ignore"):
        for places in (
            places_for(x, 4),
            rng.integers(0, 16, x.size),
            rng.integers(-3, 20, x.size),
            rng.integers(0, 16, x.size).astype(np.float64),
            np.int64(3),
            7,
        ):
            got, want = round_to(x, places), _plain_round_to(x, places)
            assert got.view(np.int64).tolist() == want.view(np.int64).tolist()
    assert round_to(np.array([], dtype=np.float64), np.array([], dtype=np.int64)).size == 0
