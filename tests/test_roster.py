"""Rosters, anonymous ids and safe folder names for student ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradegen.errors import GradegenError
from gradegen.names import MAX_FOLDER_BYTES, folder_names, safe_folder_name
from gradegen.variants.roster import (
    MAX_STUDENTS,
    Roster,
    RosterError,
    anonymous_ids,
    parse_roster,
    read_roster,
)

HOSTILE = [
    "../x",
    "/abs",
    "a/b",
    "a\\b",
    "",
    ".",
    "..",
    "...",
    "CON",
    "con.txt",
    "nul",
    "LPT1.log",
    "keys.json",
    "Worksheets.pdf",
    "tab\there",
    "new\nline",
    "nul\x00byte",
    " spaced ",
    ".hidden",
    "trailing.",
    "Ünïcødé 学生",
    "x" * 300,
    "é" * 300,
    "a?b",
    "a*b",
    "a:b",
    "alice",
    "Alice",
    "ALICE",
]


def assert_safe(ids: list[str], out: Path) -> None:
    names = folder_names(ids)
    assert len(names) == len(ids)
    assert len({n.casefold() for n in names}) == len(names)
    root = out.resolve()
    for name in names:
        assert name and name not in (".", "..")
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert not any(ord(c) < 32 for c in name)
        assert len(name.encode("utf-8")) <= 255
        assert (out / name).resolve().parent == root


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("header", ["student", "id", "student_id", "email", "Student ID", "EMAIL", "ID"])
def test_id_column_headers_any_case(header: str) -> None:
    """The id column may be called student, id, student_id or email, in any case."""
    roster = parse_roster(f"{header},name\nalice,Alice A\nbob,\n")
    assert roster.ids == ("alice", "bob")
    assert roster.names == ("Alice A", None)


def test_preferred_id_column_when_several() -> None:
    """With both an id and an email column, the id column is used."""
    roster = parse_roster("email,id,name\na@x.org,17,Ann\nb@x.org,18,Ben\n")
    assert roster.ids == ("17", "18")
    assert roster.names == ("Ann", "Ben")


def test_semicolons_bom_blank_lines_and_spaces(write) -> None:
    """A spreadsheet export: BOM, semicolons, blank lines and padded cells all read cleanly."""
    path = write("roster.csv", "\ufeffName;Student\r\n\r\n Ann Lee ; s1 \r\nBen;s2\r\n\r\n")
    roster = read_roster(path)
    assert roster.ids == ("s1", "s2")
    assert roster.names == ("Ann Lee", "Ben")
    assert len(roster) == 2
    assert [s.id for s in roster] == ["s1", "s2"]


def test_quoted_cells_with_commas() -> None:
    """Quoted names with commas stay one cell."""
    roster = parse_roster('id,name\n1,"Lee, Ann"\n2,"Doe, Jo"\n')
    assert roster.names == ("Lee, Ann", "Doe, Jo")


def test_duplicate_id_names_both_rows() -> None:
    """A duplicate id is refused with the row it is on and the row it was first on."""
    with pytest.raises(RosterError, match=r"row 4: duplicate student id 'a' \(first on row 2\)"):
        parse_roster("id\na\nb\na\n", source="class.csv")


def test_empty_id_names_the_row() -> None:
    """An empty id cell is refused, naming the row."""
    with pytest.raises(RosterError, match=r"class.csv: row 3: empty student id"):
        parse_roster("id,name\na,Ann\n,Ben\n", source="class.csv")


def test_no_id_column() -> None:
    """A header without an id column lists the accepted names and what it found."""
    with pytest.raises(RosterError, match=r"no student id column; expected a header named one of"):
        parse_roster("name,score\nAnn,1\n")


def test_empty_roster() -> None:
    """An empty file is refused with a clear message."""
    with pytest.raises(RosterError, match="empty roster"):
        parse_roster("\n\n")


def test_header_only() -> None:
    """A header without students is refused."""
    with pytest.raises(RosterError, match="has a header but no students"):
        parse_roster("id,name\n")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    """Unreadable roster files give one-line GradegenErrors, not tracebacks."""
    with pytest.raises(GradegenError, match="no such roster file"):
        read_roster(tmp_path / "nope.csv")
    binary = tmp_path / "roster.csv"
    binary.write_bytes(b"id\x00\x01\x02")
    with pytest.raises(GradegenError, match="binary"):
        read_roster(binary)


# --------------------------------------------------------------------------- anonymous ids


def test_anonymous_ids_padding() -> None:
    """Anonymous variants are v001, v002, … padded to 3 digits, or more when needed."""
    assert anonymous_ids(3) == ("v001", "v002", "v003")
    assert anonymous_ids(1000)[-1] == "v1000"
    assert anonymous_ids(1000)[0] == "v0001"
    assert Roster.anonymous(2).ids == ("v001", "v002")
    with pytest.raises(GradegenError, match="at least 1 variant"):
        anonymous_ids(0)


# --------------------------------------------------------------------------- folder names


def test_hostile_ids_stay_inside(tmp_path: Path) -> None:
    """Traversal, absolute, reserved, control-character, long and look-alike ids stay inside `out`."""
    assert_safe(HOSTILE, tmp_path / "out")


def test_plain_ids_are_kept() -> None:
    """Ordinary ids and e-mail addresses are used as they are."""
    assert folder_names(["s001", "ann.lee@uni.edu", "jo_doe-2"]) == ("s001", "ann.lee@uni.edu", "jo_doe-2")


def test_altered_ids_are_readable_and_distinct() -> None:
    """An id that had to change keeps a readable slug and gets a hash suffix; similar ids differ."""
    a, b, c = folder_names(["a/b", "a?b", "a_b"])
    assert a.startswith("a_b-") and b.startswith("a_b-")
    assert c == "a_b"
    assert len({a, b, c}) == 3


def test_names_differing_in_case_do_not_clash() -> None:
    """alice and Alice would share a folder on macOS and Windows, so both get a suffix."""
    names = folder_names(["alice", "Alice", "bob"])
    assert names[2] == "bob"
    assert names[0].startswith("alice-") and names[1].startswith("Alice-")
    assert names[0].casefold() != names[1].casefold()


def test_reserved_and_dot_names() -> None:
    """Windows device names, the class files' names and dot names are never used as they are."""
    for student in ["CON", "con.txt", "keys.json", ".", "..", ""]:
        name = safe_folder_name(student)
        assert name != student
        assert name.split(".")[0].split("-")[0].upper() not in {"CON", "NUL"}
        assert not name.startswith(".")


def test_long_ids_are_cut() -> None:
    """A 300-character id becomes a short name (readable part at most 64 bytes plus a suffix)."""
    name = safe_folder_name("x" * 300)
    assert name.startswith("x" * 10)
    assert len(name.encode()) <= MAX_FOLDER_BYTES + 9


def test_folder_of_a_student_is_stable() -> None:
    """A student's folder does not depend on the other students (unless their names clash)."""
    assert folder_names(["a/b", "c"])[0] == folder_names(["z", "a/b"])[1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=12, unique=True))
def test_any_ids_give_safe_unique_names(tmp_path_factory: pytest.TempPathFactory, ids: list[str]) -> None:
    """Property: any distinct ids map to unique, non-empty names that stay inside the folder."""
    assert_safe(ids, tmp_path_factory.getbasetemp() / "out")


def test_unterminated_quote_is_an_error() -> None:
    """A quote left open is reported, rather than one id swallowing the rest of the roster."""
    with pytest.raises(RosterError, match=r"roster.csv: invalid CSV"):
        parse_roster('student,name\n"ann,Ann\nben,Ben\n', source="roster.csv")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_rosters_as_spreadsheets_save_them(tmp_path: Path, delimiter: str, encoding: str) -> None:
    """A roster in UTF-16 (Excel's "Unicode text", LE or BE with a BOM) or UTF-8, separated by
    commas, semicolons or tabs, reads the same (names with accents and CJK included)."""
    text = f"Student ID{delimiter}Name\r\ns1{delimiter}José Ñúñez\r\ns2{delimiter}王小明\r\n"
    bom = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}.get(encoding, "")
    path = tmp_path / "roster.txt"
    path.write_bytes((bom + text).encode(encoding))
    roster = read_roster(path)
    assert roster.ids == ("s1", "s2")
    assert roster.names == ("José Ñúñez", "王小明")


def test_a_bad_roster_row_is_named() -> None:
    """A roster row the csv module cannot read is refused naming its row, as an empty id is."""
    with pytest.raises(RosterError, match=r"^roster.csv: invalid CSV at row 3: text after a closing quote$"):
        parse_roster('id,name\ns1,Ann\ns2,"Ben"x\ns3,Cy\n', source="roster.csv")


def test_row_numbers_count_lines_of_the_file() -> None:
    """Rows are named by the line they start on, blank lines and multi-line names counted."""
    with pytest.raises(RosterError, match=r"row 6: duplicate student id 's1' \(first on row 3\)"):
        parse_roster('\nid,name\ns1,"Ann\nLee"\n\ns1,Bo\n')


@pytest.mark.parametrize("count", [MAX_STUDENTS + 1, 100_000_000, 10**30])
def test_anonymous_variants_are_bounded_before_any_id_is_made(count: int) -> None:
    """More than MAX_STUDENTS (200,000) anonymous variants is refused at once: 10^8 ids alone
    would take gigabytes."""
    import time

    started = time.process_time()
    with pytest.raises(GradegenError, match=r"--variants: at most 200,000 variants, got [\d,]+"):
        anonymous_ids(count)
    assert time.process_time() - started < 0.5
    assert len(anonymous_ids(MAX_STUDENTS)) == MAX_STUDENTS == 200_000
