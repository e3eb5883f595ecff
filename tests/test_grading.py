"""Grading: reading answers, tolerance rules, verdicts, follow-through and the handout's own answers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.core.key import Key, solve_key
from gradegen.core.spec import Spec, Tolerance, ToleranceMode
from gradegen.grading.compare import is_close
from gradegen.grading.grade import grade
from gradegen.grading.keys import KeySet, key_from_spec
from gradegen.grading.parse import Status, parse_answer, parse_column
from gradegen.grading.results import StudentResult, Verdict
from gradegen.grading.submissions import Submissions


def grade_one(key: Key | KeySet | Spec, answers: dict[str, Any], **options: Any) -> StudentResult:
    table = Submissions()
    table.add_record("ana", "ana.yaml", answers, [])
    results = grade(key, table, **options)
    assert len(results) == 1
    return results.student(0)


# --------------------------------------------------------------------------- reading answers


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("0.0822", 0.0822),
        (".0822", 0.0822),
        ("0,0822", 0.0822),
        ("−0.0015", -0.0015),
        ("–0.0015", -0.0015),
        ("-0.0015", -0.0015),
        ("+0.5", 0.5),
        ("8.22e-2", 0.0822),
        ("8.22E-2", 0.0822),
        ("8.22 × 10^-2", 0.0822),
        ("8.22 x 10^-2", 0.0822),
        ("8.22*10**-2", 0.0822),
        ("8.22·10^-2", 0.0822),
        ("8.22 × 10^(−2)", 0.0822),
        ("1/2", 0.5),
        ("−1 / 4", -0.25),
        ("  0.0822  ", 0.0822),
        ("5.", 5.0),
        (3, 3.0),
        (0.0822, 0.0822),
    ],
)
def test_parse_answer_forms(cell: Any, value: float) -> None:
    """Every accepted form of a number reads as that number."""
    parsed = parse_answer(cell)
    assert parsed.status is Status.OK
    assert parsed.value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("cell", [None, "", "   "])
def test_parse_answer_missing(cell: Any) -> None:
    """An empty or absent answer is missing."""
    assert parse_answer(cell).status is Status.MISSING


@pytest.mark.parametrize(
    "cell",
    ["abc", "1/0", "nan", "inf", "0.1.2", "1,000,000", "__import__('os').system('x')", "2**10", True, [1]],
)
def test_parse_answer_unparseable_keeps_raw(cell: Any) -> None:
    """Anything else is unparseable, and the raw text is kept (nothing is evaluated)."""
    parsed = parse_answer(cell)
    assert parsed.status is Status.UNPARSEABLE
    assert parsed.value is None
    assert parsed.raw


def test_parse_column_fast_and_slow_paths_agree() -> None:
    """A column of plain numbers and a mixed column give the same values as cell-by-cell parsing."""
    plain = ["0.1", "0.25", "-3"]
    values, status, raws = parse_column(plain)
    assert values.tolist() == [0.1, 0.25, -3.0] and status.tolist() == [0, 0, 0] and raws == plain
    mixed = ["0.1", "", "x", "1/2", "nan", None]
    values, status, raws = parse_column(mixed)
    assert status.tolist() == [0, 1, 2, 0, 2, 1]
    assert values[0] == 0.1 and values[3] == 0.5 and np.isnan(values[2])
    assert raws[2] == "x"


# --------------------------------------------------------------------------- tolerance rules


def test_comparators() -> None:
    """Each comparison mode as a pure function."""
    assert is_close(1.009, 1.0, Tolerance(mode=ToleranceMode.REL, value=0.01))
    assert not is_close(1.011, 1.0, Tolerance(mode=ToleranceMode.REL, value=0.01))
    assert is_close(1.05, 1.0, Tolerance(mode=ToleranceMode.ABS, value=0.05))
    assert not is_close(1.06, 1.0, Tolerance(mode=ToleranceMode.ABS, value=0.05))
    assert is_close(0.0822, 0.082167, Tolerance(mode=ToleranceMode.SIGFIG, value=3))
    assert not is_close(0.0825, 0.082167, Tolerance(mode=ToleranceMode.SIGFIG, value=3))
    assert is_close(0.082, 0.082167, Tolerance(mode=ToleranceMode.DECIMALS, value=3))
    assert not is_close(0.081, 0.082167, Tolerance(mode=ToleranceMode.DECIMALS, value=3))


# ∂L/∂w5: exact 0.0821670…, hand 0.0822. Intervals below are hand-derived from those two numbers.
@pytest.mark.parametrize(
    ("tolerance", "answer", "right"),
    [
        (Tolerance(mode=ToleranceMode.REL, value=0.01), 0.0830, True),  # hand + 1% = 0.083022
        (Tolerance(mode=ToleranceMode.REL, value=0.01), 0.0831, False),
        (Tolerance(mode=ToleranceMode.REL, value=0.01), 0.0814, True),  # exact − 1% = 0.081345
        (Tolerance(mode=ToleranceMode.REL, value=0.01), 0.0813, False),
        (Tolerance(mode=ToleranceMode.ABS, value=0.001), 0.0832, True),  # hand + 0.001
        (Tolerance(mode=ToleranceMode.ABS, value=0.001), 0.0833, False),
        (Tolerance(mode=ToleranceMode.SIGFIG, value=2), 0.082, True),  # ±0.00051 around 0.0822
        (Tolerance(mode=ToleranceMode.SIGFIG, value=2), 0.083, False),
        (Tolerance(mode=ToleranceMode.DECIMALS, value=3), 0.082, True),
        (Tolerance(mode=ToleranceMode.DECIMALS, value=3), 0.081, False),
    ],
)
def test_tolerance_rules_per_id(handout: Spec, tolerance: Tolerance, answer: float, right: bool) -> None:
    """A per-ID tolerance from the spec is carried into the key and applied to that item."""
    spec = handout.model_copy(update={"tolerances": {"dL_dw5": tolerance}})
    item = grade_one(spec, {"dL_dw5": answer}).items["dL_dw5"]
    assert (item.verdict is Verdict.CORRECT) is right
    lo, hi = item.accepted
    assert (lo <= answer <= hi) is right


def test_global_tolerances_override_the_key(handout: Spec) -> None:
    """--rtol/--atol replace every item's rule (|x − e| ≤ atol + rtol·|e|)."""
    key = key_from_spec(handout)
    assert grade_one(key, {"dL_dw5": 0.09}).items["dL_dw5"].verdict is Verdict.INCORRECT
    assert grade_one(key, {"dL_dw5": 0.09}, rtol=0.1).items["dL_dw5"].verdict is Verdict.CORRECT
    assert grade_one(key, {"dL_dw5": 0.0823}, rtol=0.0, atol=1e-4).items["dL_dw5"].verdict is Verdict.CORRECT
    assert (
        grade_one(key, {"dL_dw5": 0.0825}, rtol=0.0, atol=1e-4).items["dL_dw5"].verdict is Verdict.INCORRECT
    )


@pytest.mark.parametrize(
    ("answer", "right"),
    [(0.3999918, True), (0.39999178, True), (0.399927, False), (0.4000, False), (0.40, False)],
)
def test_updates_judged_by_their_step(handout: Spec, answer: float, right: bool) -> None:
    """w5_new is judged by w5 − answer against η·∂L/∂w5 = 0.0001 × 0.0822 = 0.00000822 (asked by
    its ID: the handout's worksheet, and so its spec as a key, asks the steps instead)."""
    item = grade_one(solve_key(handout, ("w5_new",)), {"w5_new": answer}).items["w5_new"]
    assert (item.verdict is Verdict.CORRECT) is right
    lo, hi = item.accepted
    # the accepted interval is that of answers whose step is within 1% of 8.2167e-6 (or 8.22e-6)
    assert lo == pytest.approx(0.40 - 8.22e-6 * 1.01, abs=1e-12)
    assert hi == pytest.approx(0.40 - 8.216704e-6 * 0.99, abs=1e-12)
    assert (lo <= answer <= hi) is right


# --------------------------------------------------------------------------- verdicts


def test_verdicts_and_points(handout: Spec) -> None:
    """correct, incorrect, missing and unparseable each get their verdict and points."""
    spec = handout.model_copy(update={"points": {"dL_dw5": 3.0}})
    student = grade_one(spec, {"dL_dw5": "8.22 × 10^-2", "a_h1": 0.7, "z_h1": "", "loss": "about 0.27"})
    items = student.items
    assert items["dL_dw5"].verdict is Verdict.CORRECT and items["dL_dw5"].points == 3.0
    assert items["a_h1"].verdict is Verdict.INCORRECT and items["a_h1"].points == 0.0
    assert items["z_h1"].verdict is Verdict.MISSING and items["z_h1"].raw is None
    assert items["z_out"].verdict is Verdict.MISSING
    assert items["loss"].verdict is Verdict.UNPARSEABLE and items["loss"].raw == "about 0.27"
    assert student.score == 3.0
    assert student.max == 3.0 + (len(items) - 1)


def test_handout_stated_answers(handout: Spec) -> None:
    """The handout's own answers: its new w5, new w6 and ∂L/∂w4 are wrong (the last a sign error)."""
    stated = {
        "z_h1": 0.3775,
        "z_h2": 0.3925,
        "a_h1": 0.5933,
        "a_h2": 0.5969,
        "z_out": 1.1059,
        "a_out": 0.7514,
        "loss": 0.2748,
        "dL_da_out": 0.7414,
        "da_out_dz_out": 0.1868,
        "dL_dw5": 0.0822,
        "dL_dw6": 0.0827,
        "da_h1_dz_h1": 0.2413,
        "dL_dw1": 0.00067,
        "dL_dw2": 0.00135,
        "dL_dw3": 0.00075,
        "dL_db2": 0.1385,
        "dL_db1": 0.0284,
        "w5_new": 0.399927,
        "w6_new": 0.4499,
        "dL_dw4": "−0.00150",
    }
    items = grade_one(solve_key(handout, tuple(stated)), stated).items
    wrong = {q for q in stated if items[q].verdict is not Verdict.CORRECT}
    assert wrong == {"w5_new", "w6_new", "dL_dw4"}
    assert items["dL_dw4"].diagnosis is not None and items["dL_dw4"].diagnosis.value == "sign_error"
    assert items["w5_new"].verdict is Verdict.INCORRECT


# --------------------------------------------------------------------------- follow-through


def _with_wrong_a_h1(a_h1: float) -> dict[str, float]:
    """A wrong a_h1, with z_out and ŷ worked out correctly from it (by hand, from the spec's numbers)."""
    z_out = a_h1 * 0.40 + 0.5969 * 0.45 + 0.60
    a_out = 1.0 / (1.0 + np.exp(-z_out))
    return {"a_h1": a_h1, "z_out": round(z_out, 4), "a_out": round(float(a_out), 4)}


def test_follow_through(handout: Spec) -> None:
    """A wrong a_h1 loses only its own mark: z_out and ŷ computed from it earn follow-through."""
    items = grade_one(handout, _with_wrong_a_h1(0.7)).items
    assert [items[q].verdict for q in ("a_h1", "z_out", "a_out")] == [
        Verdict.INCORRECT,
        Verdict.FOLLOW_THROUGH,
        Verdict.FOLLOW_THROUGH,
    ]
    assert items["z_out"].points == 1.0
    assert items["z_out"].follow == pytest.approx(0.7 * 0.40 + 0.596884378 * 0.45 + 0.60, rel=1e-6)


def test_follow_through_credit_share(handout: Spec) -> None:
    """--ecf-credit sets the share of points a follow-through answer earns."""
    items = grade_one(handout, _with_wrong_a_h1(0.7), ecf_credit=0.5).items
    assert items["z_out"].verdict is Verdict.FOLLOW_THROUGH and items["z_out"].points == 0.5


def test_no_follow_through_from_zero(handout: Spec) -> None:
    """Follow-through from an upstream answer of 0 earns nothing."""
    items = grade_one(handout, _with_wrong_a_h1(0.0)).items
    assert items["a_h1"].verdict is Verdict.INCORRECT
    assert items["z_out"].verdict is Verdict.INCORRECT
    assert items["z_out"].points == 0.0
    assert items["a_out"].verdict is Verdict.FOLLOW_THROUGH  # from the (wrong, non-zero) z_out


def test_no_follow_through_without_an_upstream_mistake(handout: Spec) -> None:
    """With every upstream answer right, a wrong answer is simply wrong (nothing to follow)."""
    items = grade_one(handout, {"a_h1": 0.5933, "z_out": 1.2}).items
    assert items["z_out"].verdict is Verdict.INCORRECT


# --------------------------------------------------------------------------- per-student keys


def test_keys_json_grades_each_student_against_their_key(handout: Spec) -> None:
    """With per-student keys, each submission is graded against its own student's key."""
    other = handout.model_copy(update={"inputs": (0.10, 0.20)})
    keys = KeySet({"ana": key_from_spec(handout), "bo": key_from_spec(other)})
    # z_h1 = x1·w1 + x2·w2 + b1: 0.3775 for ana, 0.10·0.15 + 0.20·0.20 + 0.35 = 0.405 for bo
    table = Submissions()
    table.add_record("ana", "a.yaml", {"z_h1": 0.3775}, [])
    table.add_record("bo", "b.yaml", {"z_h1": 0.405}, [])
    table.add_record("cy", "c.yaml", {"z_h1": 0.405}, [])
    table.add_record("dee", "d.yaml", {"z_h1": 0.3775}, [])
    results = grade(KeySet({**keys.keys, "dee": keys.keys["bo"]}), table)
    verdicts = {s.student: s.items["z_h1"].verdict for s in results.students}
    assert verdicts == {"ana": Verdict.CORRECT, "bo": Verdict.CORRECT, "dee": Verdict.INCORRECT}
    assert any("cy" in e.message for e in results.errors)


def test_keys_with_different_structures_are_graded_apart(handout: Spec, mazur: Spec) -> None:
    """Keys of different networks can share one keys.json; each group is graded with its own graph."""
    keys = KeySet({"ana": key_from_spec(handout), "bo": key_from_spec(mazur)})
    table = Submissions()
    table.add_record("ana", "a.yaml", {"z_h1": 0.3775}, [])
    table.add_record("bo", "b.yaml", {"z_o2": 1.2249214}, [])  # the 2-2-2 walkthrough's net_o2
    results = grade(keys, table)
    assert results.student(0).items["z_h1"].verdict is Verdict.CORRECT
    assert results.student(1).items["z_o2"].verdict is Verdict.CORRECT
    assert len(results.groups) == 2


def test_bad_options_raise(handout: Spec) -> None:
    """Negative tolerances or a credit outside [0, 1] are refused."""
    from gradegen.errors import GradegenError

    with pytest.raises(GradegenError, match="rtol"):
        grade(handout, Submissions(), rtol=-1)
    with pytest.raises(GradegenError, match="ecf-credit"):
        grade(handout, Submissions(), ecf_credit=2)


def test_parse_column_agrees_with_parse_answer() -> None:
    """The column reader gives, cell by cell, exactly what parse_answer gives (values and status)."""
    rng = np.random.default_rng(3)
    numbers = rng.random(3000) * 10.0 ** rng.integers(-7, 5, 3000) * rng.choice([-1, 1], 3000)
    forms = [
        lambda x: f"{x:.{rng.integers(0, 12)}f}",
        lambda x: f"{x:.3e}",
        lambda x: f"{x:.4g}".replace("-", "−"),
        lambda x: f" {x:.5f} ",
        lambda x: f"{x:.4f}".replace(".", ","),
        lambda x: "",
        lambda x: "n/a",
        lambda x: f"{x:.2f} × 10^-3",
        lambda x: "1234567890123456789",
    ]
    cells = [forms[rng.integers(0, len(forms))](x) for x in numbers]
    assert_reads_as_parse_answer(cells, parse_column(cells))


def assert_reads_as_parse_answer(cells: list[str], column: tuple[Any, Any, Any]) -> None:
    """Each cell of a parse_column result holds what parse_answer gives for it (−0 stays −0)."""
    values, status, raws = column
    for cell, value, code, raw in zip(cells, values.tolist(), status.tolist(), raws, strict=True):
        parsed = parse_answer(cell)
        assert code == [Status.OK, Status.MISSING, Status.UNPARSEABLE].index(parsed.status)
        assert (raw or None) == parsed.raw
        if parsed.value is None:
            assert np.isnan(value)
        else:
            assert value == parsed.value
            assert math.copysign(1, value) == math.copysign(1, parsed.value)


# Plain decimals as students type them: a sign, digits, a point, digits (up to 20 digits in all,
# past the 15 that the column reader takes itself).
_DECIMALS = st.builds(
    lambda sign, whole, point, fraction: sign + whole + point + fraction,
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", max_size=10),
    st.sampled_from(["", "."]),
    st.text("0123456789", max_size=10),
)
# Near misses: the same characters and a few that look alike (a Unicode minus, a dotless i whose
# code point ends in the byte of "1", an Arabic-Indic three), in any order.
_NEAR_MISSES = st.text("0123456789.+-e, −ı٣", max_size=12)


@given(st.lists(_DECIMALS | _NEAR_MISSES, min_size=1, max_size=30))
def test_parse_column_reads_what_float_reads(cells: list[str]) -> None:
    """A CSV column (a numpy text array) reads cell by cell as parse_answer reads it, and every
    plain decimal as exactly the float that float() gives."""
    column = parse_column(np.array(cells))
    assert_reads_as_parse_answer(cells, column)
    for cell, value in zip(cells, column[0].tolist(), strict=True):
        try:
            expected = float(cell)
        except ValueError:
            continue
        if math.isfinite(expected):
            assert value == expected


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("123456789012345", 123456789012345.0),  # 15 digits: the column reader's own
        ("0.12345678901234567", 0.12345678901234567),  # 17 digits: numpy's reader
        ("-0", -0.0),
        ("5.", 5.0),
        ("-.5", -0.5),
        ("007", 7.0),
    ],
)
def test_parse_column_decimal_edges(cell: str, value: float) -> None:
    """Long mantissas, a signed zero, a bare point and leading zeros read as float() reads them."""
    values, status, _ = parse_column(np.array([cell, "1"]))
    assert status.tolist() == [0, 0]
    assert values[0] == value and math.copysign(1, values[0]) == math.copysign(1, value)


@pytest.mark.parametrize("cell", ["1\x002", "ı", "1ı", "--1", "1-", "+", ".", "-.", "1.2.3", " "])
def test_parse_column_rejects_what_only_looks_plain(cell: str) -> None:
    """A NUL inside a cell, a character whose low byte is a digit, stray signs and points are not
    read as numbers by the column reader (a blank cell is missing)."""
    values, status, _ = parse_column(np.array([cell, "0.5"]))
    assert np.isnan(values[0]) and values[1] == 0.5
    assert status[0] == (1 if not cell.strip() else 2)


@pytest.mark.parametrize("fixture", ["handout", "mazur", "deep_softmax"])
def test_key_values_are_right_for_every_network(fixture: str, request: pytest.FixtureRequest) -> None:
    """The key's own exact and hand values (as text) are right for every quantity of every network."""
    spec: Spec = request.getfixturevalue(fixture)
    key = key_from_spec(spec)
    for which in ("exact", "hand"):
        answers = {q: repr(getattr(key.values[q], which)) for q in key.asked}
        student = grade_one(key, answers)
        wrong = {q: item.verdict for q, item in student.items.items() if item.verdict is not Verdict.CORRECT}
        assert not wrong, which
        assert student.score == student.max == len(key.asked)


def test_parse_column_with_a_huge_cell() -> None:
    """One enormous cell is unparseable and does not make the column reader allocate per its width."""
    cells = ["0.5"] * 1000 + ["9" * 5_000_000, "8.22 × 10^-2" + " " * 30]
    values, status, raws = parse_column(cells)
    assert status[:1000].tolist() == [0] * 1000 and values[0] == 0.5
    assert status[1000] == 2 and raws[1000] == cells[1000]
    assert status[1001] == 0 and values[1001] == pytest.approx(0.0822)


@pytest.mark.parametrize(
    ("item", "cell"),
    [
        ("dL_dw5", "0.0822"),
        ("dL_dw5", ".0822"),
        ("dL_dw5", "0,0822"),
        ("dL_dw5", "8.22e-2"),
        ("dL_dw5", "8.22 × 10^-2"),
        ("dL_dw5", "8.22 x 10^-2"),
        ("dL_dw5", "8.22*10**-2"),
        ("dL_dw5", "8.22·10^-2"),
        ("dL_dw5", "  0.0822 "),
        ("dL_dw5", 0.0822),
        ("dL_dw1", "67/100000"),
        ("dL_dw1", "6.7 × 10^(−4)"),
        ("z_h1", 0.3775),
    ],
)
def test_answer_forms_on_the_handout(handout: Spec, item: str, cell: Any) -> None:
    """Each accepted way of writing a right answer is graded correct on the handout network."""
    assert grade_one(handout, {item: cell}).items[item].verdict is Verdict.CORRECT


@pytest.mark.parametrize("cell", ["−0.0015", "–0.0015", "-0.0015"])
def test_minus_signs_on_the_handout(handout: Spec, cell: str) -> None:
    """A Unicode minus or a dash reads as a minus: the handout's ∂L/∂w4 = −0.0015 is a sign error."""
    item = grade_one(handout, {"dL_dw4": cell}).items["dL_dw4"]
    assert item.value == -0.0015
    assert item.verdict is Verdict.INCORRECT and item.diagnosis is not None
    assert item.diagnosis.value == "sign_error"
