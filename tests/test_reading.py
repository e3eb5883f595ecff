"""Reading the files gradegen takes: regular files only, sizes checked first, encodings, odd values."""

from __future__ import annotations

import codecs
import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.reading import decode, parse_text, path_text, read_text
from gradegen.core.spec import load_spec, preset_text
from gradegen.errors import SpecError
from gradegen.grading.keys import load_answer_key
from gradegen.variants.roster import RosterError, read_roster


def _in_thread(call: object, seconds: float = 5.0) -> BaseException | None:
    """Run ``call`` in a thread and fail the test if it does not return in time (a hang)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()  # type: ignore[operator]
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, "the reader hung"
    return outcome[0]


@pytest.mark.parametrize(
    ("reader", "what"),
    [
        (lambda p: load_spec(p), "spec"),
        (lambda p: load_answer_key(p), "key"),
        (lambda p: read_roster(p), "roster"),
    ],
)
def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path, reader: object, what: str) -> None:
    """A named pipe given as spec, key or roster is refused at once (it used to hang forever)."""
    fifo = tmp_path / "input.yaml"
    os.mkfifo(fifo)
    error = _in_thread(lambda: reader(fifo))  # type: ignore[operator]
    assert isinstance(error, SpecError | RosterError)
    assert "not a regular file" in str(error) and str(fifo) in str(error)


def test_devices_are_refused(tmp_path: Path) -> None:
    """/dev/zero (endless) and /dev/null are not regular files: refused before any reading."""
    for device in ("/dev/zero", "/dev/null"):
        with pytest.raises(SpecError, match="not a regular file"):
            read_text(Path(device))


def test_cli_names_a_pipe_in_one_line(tmp_path: Path) -> None:
    """`gradegen solve spec.yaml` on a named pipe exits 2 with one line, without waiting."""
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    holder: list[object] = []
    assert _in_thread(lambda: holder.append(CliRunner().invoke(app, ["solve", str(fifo)]))) is None
    result = holder[0]
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "not a regular file" in result.output and len(result.output.strip().splitlines()) == 1  # type: ignore[attr-defined]


def test_the_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    """A file over the limit is refused by its size: a sparse 4 GB file is not read into memory."""
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(4 << 30)
    with pytest.raises(SpecError, match="larger than 1,000 bytes"):
        read_text(path, limit=1000)


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (b"", "utf-8"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_encodings_announced_by_a_byte_order_mark(bom: bytes, encoding: str) -> None:
    """UTF-8 with or without a BOM, and UTF-16 LE or BE after one, all read as the same text."""
    text = "student;z_h1\r\nJosé;0,3775\r\n"
    assert decode(bom + text.encode(encoding)) == text


def test_binary_and_broken_utf16_are_named() -> None:
    """NUL bytes without a BOM are binary; UTF-16 that holds NULs or an odd byte is refused."""
    with pytest.raises(SpecError, match="binary content"):
        decode(b"\x89PNG\x00\x00")
    with pytest.raises(SpecError, match="binary content"):
        decode(codecs.BOM_UTF16_LE + "a\x00b".encode("utf-16-le"))
    with pytest.raises(SpecError, match="not a UTF-16 text file"):
        decode(codecs.BOM_UTF16_LE + b"a\x00b")


def test_non_utf8_file_names_become_printable_text() -> None:
    """A file name with bytes that are not UTF-8 is shown with them escaped, encodable as UTF-8."""
    name = os.fsdecode(b"subs/bad\xff\xfe.yaml")
    shown = path_text(Path(name))
    assert shown == "subs/bad\\xff\\xfe.yaml"
    shown.encode("utf-8")  # no surrogates left
    assert path_text("plain/José.yaml") == "plain/José.yaml"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("digits", [400, 5000])
def test_very_long_integers_do_not_raise(fmt: str, digits: int) -> None:
    """An integer of 400 digits reads as an int; one past Python's 4,300-digit limit as its text
    in YAML and in a JSON document read with fields as text (an answers file), and in other JSON
    (a spec, a key) as one line saying so."""
    literal = "9" * digits
    text = f"a: {literal}\n" if fmt == "yaml" else f'{{"a": {literal}, "b": [{literal}]}}'
    expected = int(literal) if digits <= 4300 else literal
    assert parse_text(text, fmt=fmt, as_text=("student",))["a"] == expected
    if fmt == "json":
        assert parse_text(text, fmt=fmt, as_text=("student",))["b"] == [expected]
    if fmt == "json" and digits > 4300:
        with pytest.raises(SpecError, match="a whole number of more than 4,300 digits"):
            parse_text(text, fmt=fmt)
    else:
        assert parse_text(text, fmt=fmt)["a"] == expected


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_spec_with_a_very_long_integer_is_one_line(tmp_path: Path, digits: int) -> None:
    """A spec with a 400- or 5,000-digit input is refused in one line naming the field."""
    path = tmp_path / "net.yaml"
    path.write_text(preset_text("handout").replace("[0.05, 0.10]", f"[{'9' * digits}, 0.1]"), "utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert "inputs[0]" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["dL_dw5: &a [*a]\n", "a: &a {b: *a}\n", "a: &a [1, [2, *a]]\n"],
)
def test_a_recursive_alias_is_refused(text: str) -> None:
    """A value holding itself through an alias is an error naming its line, not a recursive object."""
    with pytest.raises(SpecError, match=r"line 1: a value that holds itself"):
        parse_text(text, source="a.yaml")


def test_shared_aliases_still_read() -> None:
    """An anchor used twice (not inside itself) is fine."""
    assert parse_text("a: &x [1, 2]\nb: [*x, *x]\n") == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.parametrize(
    ("text", "fmt", "student"),
    [
        ("student: 0123\n", "yaml", "0123"),
        ("student: 12:30\n", "yaml", "12:30"),
        ("student: 1e3\n", "yaml", "1e3"),
        ("student: no\n", "yaml", "no"),
        ("student: 1.50\n", "yaml", "1.50"),
        ("student: 0x1F\n", "yaml", "0x1F"),
        ("student: '0123'\n", "yaml", "0123"),
        ('{"student": 1e3}', "json", "1e3"),
        ('{"student": 1.50}', "json", "1.50"),
        ('{"student": 0}', "json", "0"),
    ],
)
def test_fields_read_as_text_keep_what_was_typed(text: str, fmt: str, student: str) -> None:
    """A key read as text keeps the scalar's source text; the other numbers stay numbers."""
    data = parse_text(
        text.rstrip("}\n") + (', "z": 0.5, "l": [1, 2.5]}' if fmt == "json" else "\nz: 0.5\nl: [1, 2.5]\n"),
        fmt=fmt,
        as_text=("student",),
    )
    assert data == {"student": student, "z": 0.5, "l": [1, 2.5]}
    assert type(data["l"][0]) is int and type(data["z"]) is float


def test_an_anchored_value_read_as_text_stays_a_number_elsewhere() -> None:
    """Only the field read as text changes: the same anchored scalar elsewhere is still a number."""
    data = parse_text("z: &n 0123\nstudent: *n\n", as_text=("student",))
    assert data == {"z": 83, "student": "0123"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!int \n", "cannot read '' as int"),
        ("a: !!float \n", "cannot read '' as float"),
        ("a: !!float abc\n", "cannot read 'abc' as float"),
        ("a: 2001-13-45\n", "cannot read '2001-13-45' as timestamp"),
        ("a: !!timestamp x\n", "cannot read 'x' as timestamp"),
        ("a: \x01\n", "line 1: a control character (#x01)"),
    ],
)
def test_values_that_do_not_fit_their_yaml_tag_are_yaml_errors(text: str, message: str) -> None:
    """A scalar its tag cannot read (or a control character) is one SpecError naming the place."""
    with pytest.raises(SpecError, match="invalid YAML") as caught:
        parse_text(text, source="a.yaml")
    assert message in str(caught.value) and "\n" not in str(caught.value)
