"""Hand rounding: half away from zero, three significant figures kept, update steps visible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.core.rounding import format_number, hand_round, hand_update, places_for, round_to, shortest


@pytest.mark.parametrize(
    ("value", "decimals", "rounded", "text"),
    [
        (0.13849856, 4, 0.1385, "0.1385"),
        (0.000668396, 4, 0.000668, "0.000668"),
        (0.0013497, 4, 0.00135, "0.00135"),
        (0.74136507, 4, 0.7414, "0.7414"),
        (1.10590597, 4, 1.1059, "1.1059"),
        (-0.0014996, 4, -0.0015, "−0.00150"),
        (123.4567, 2, 123.46, "123.46"),
        (0.0, 4, 0.0, "0.0000"),
        (0.00135, 4, 0.00135, "0.00135"),
        (0.12345, 4, 0.1235, "0.1235"),  # a half rounds up, as on paper (banker's gives 0.1234)
        (0.1385 * 0.5, 4, 0.0693, "0.0693"),  # float gives 0.069249999…; paper gives 0.06925
        (0.06924999, 4, 0.0692, "0.0692"),
        (-0.12345, 4, -0.1235, "−0.1235"),
        (1234.5, 0, 1235.0, "1235"),
        (2.5, 0, 2.5, "2.50"),  # three significant figures win over 0 places
    ],
)
def test_hand_round_table(value: float, decimals: int, rounded: float, text: str) -> None:
    """Each value rounds as a student would, and prints with the places it was given."""
    result, places = hand_round(np.array([value]), decimals)
    assert result[0] == rounded
    assert format_number(result[0], int(places[0])) == text


def test_update_keeps_the_step_visible() -> None:
    """0.40 − 0.0001 × 0.0822 rounds to 0.39999178, not 0.4000."""
    new, places = hand_update(np.array([0.40]), np.array([0.0001 * 0.0822]), 4)
    assert format_number(new[0], int(places[0])) == "0.39999178"
    new, places = hand_update(np.array([0.40]), np.array([0.5 * 0.0822]), 4)
    assert format_number(new[0], int(places[0])) == "0.3589"


@given(st.floats(1e-9, 1e6), st.integers(0, 6))
def test_three_significant_figures_survive(value: float, decimals: int) -> None:
    """Whatever the magnitude, a hand value keeps at least three significant figures."""
    result, _ = hand_round(np.array([value]), decimals)
    assert abs(result[0] - value) <= 0.005 * value + 0.5 * 10.0**-decimals


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
