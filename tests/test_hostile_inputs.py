"""Random hostile inputs (bytes, Unicode, YAML/JSON structures) as answer files, CSV cells and spec
fields: never a traceback, and every other student is still graded."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradegen.core.spec import Spec, load_spec, preset, preset_text
from gradegen.errors import GradegenError
from gradegen.grading.grade import grade
from gradegen.grading.keys import key_from_spec
from gradegen.grading.results import Verdict
from gradegen.reports.write import write_reports

HANDOUT = key_from_spec(preset("handout"))

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**500)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["0.3775", "−0.5", "\u20100.5", "1e999", "8.22 × 10^-2", "1/0", "0,5", "nan", "\x1b[2J"]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_IDS = st.sampled_from(["z_h1", "dL_dw5", "w5_new", "student", "answers", "name", "x"]) | st.text(max_size=8)


def _yaml_or_json(data: Any, as_json: bool) -> str:
    """``data`` written as JSON or YAML (YAML cannot write every float key or string: then JSON)."""
    if not as_json:
        try:
            return yaml.safe_dump(data, allow_unicode=True)
        except yaml.YAMLError:
            pass
    return json.dumps(data, ensure_ascii=False, default=str)


_YAML_PIECES = st.lists(
    st.sampled_from(
        [
            "student: ",
            "z_h1: ",
            "&a ",
            "*a",
            "[",
            "]",
            "{",
            "}",
            ": ",
            "\n",
            "- ",
            "!!int ",
            "!!float ",
            "!!binary ",
            "!!timestamp ",
            "2001-13-45",
            "0o7",
            ".inf",
            "~",
            "'",
            '"',
            "? ",
            "99999999999999999999",
            ",",
            "---\n",
            "\t",
            "<<: *a\n",
        ]
    ),
    max_size=30,
).map("".join)
"""Pieces of YAML (tags, anchors, aliases, merges, odd scalars) put together at random."""

_ANSWER_FILES = st.one_of(
    st.binary(max_size=300),
    _YAML_PIECES.map(str.encode),
    st.text(max_size=300).map(str.encode),
    st.tuples(st.dictionaries(_IDS, _VALUES, max_size=6), st.booleans()).map(
        lambda pair: _yaml_or_json(pair[0], pair[1]).encode("utf-8", "surrogatepass")
    ),
    st.tuples(_VALUES, st.booleans()).map(
        lambda pair: _yaml_or_json(pair[0], pair[1]).encode("utf-8", "surrogatepass")
    ),
)

_CELLS = st.text(max_size=20) | st.sampled_from(['"', '"open', 'a"b', "\r", "\n", ";", "\t", "9" * 200])


def _grade_beside_a_good_student(files: dict[str, bytes]) -> None:
    """Grade ``files`` with one good sheet beside them: no exception, the good student correct,
    and the reports written."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        subs = root / "subs"
        subs.mkdir()
        for name, content in files.items():
            (subs / name).write_bytes(content)
        (subs / "zzzz_good.yaml").write_text("student: zzzz-good\nz_h1: 0.3775\n", "utf-8")
        results = grade(HANDOUT, [subs])
        good = results.ids.index("zzzz-good")
        assert results.student(good).items["z_h1"].verdict is Verdict.CORRECT
        write_reports(results, root / "grades", feedback="zip")
        json.loads((root / "grades" / "results.json").read_text("utf-8"))


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from([".yaml", ".json", ".csv"]), _ANSWER_FILES), min_size=1, max_size=3)
)
def test_random_answer_files_never_stop_the_class(files: list[tuple[str, bytes]]) -> None:
    """Random bytes, Unicode and YAML/JSON structures as answer files (and as CSV files): each is at
    most its own error, and the other student is graded."""
    _grade_beside_a_good_student({f"f{i}{suffix}": content for i, (suffix, content) in enumerate(files)})


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_CELLS, min_size=1, max_size=4), max_size=6),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_random_csv_cells_never_stop_the_class(rows: list[list[str]], delimiter: str, encoding: str) -> None:
    """Random cells (quotes, line breaks, delimiters, long cells) in a CSV export: the students on
    rows that can be read are graded, and the good student in another file always is."""
    text = "student" + delimiter + "z_h1" + delimiter + "a_h1\n"
    text += "".join(delimiter.join([f"s{i}", *row]) + "\n" for i, row in enumerate(rows))
    _grade_beside_a_good_student({"class.csv": text.encode(encoding, "surrogatepass")})


_SPEC_FIELDS = [
    "inputs",
    "targets",
    "learning_rate",
    "decimals",
    "loss",
    "title",
    "layers",
    "steps",
    "tolerance",
]


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SPEC_FIELDS), _VALUES, st.booleans())
def test_random_spec_fields_give_a_spec_or_one_line(field: str, value: Any, as_json: bool) -> None:
    """Any value in a spec field gives a spec or a GradegenError (one line unless the value holds a
    line break), never a traceback."""
    data = yaml.safe_load(preset_text("handout"))
    data[field] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("net.json" if as_json else "net.yaml")
        path.write_bytes(_yaml_or_json(data, as_json).encode("utf-8", "surrogatepass"))
        try:
            spec = load_spec(path)
        except GradegenError as exc:
            # One line except where the field's own name or value holds a line break (spec.py's
            # validation messages quote them as they are; left to the owner of those messages).
            assert str(exc).count("\n") <= repr(value).count("\\n")
        else:
            assert isinstance(spec, Spec)


def test_a_bad_row_beside_the_good_student(tmp_path: Path) -> None:
    """The kind of row the random cells make (a quote left open) costs that row; the rest is graded."""
    path = tmp_path / "class.csv"
    path.write_text('student,z_h1\ns0,"open\ns1,0.3775\n', "utf-8")
    results = grade(HANDOUT, [path])
    assert results.ids == ("s1",) and "quote is left open" in results.errors[0].message
