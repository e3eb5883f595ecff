"""Escaping user text: the quick plainness check agrees with its escaper; terminal text is inert."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.escape import json_terminal_safe, md_inline, md_plain, terminal_safe

IDS = st.text(alphabet=st.sampled_from("ab1.-_+ $#*[]()<>=@\\ü\t\n9"), max_size=12)


@given(IDS)
def test_md_plain_iff_md_inline_changes_nothing(text: str) -> None:
    """md_plain(t) is True exactly when md_inline leaves t unchanged (so the fast path is safe)."""
    assert md_plain(text) == (md_inline(text) == text)


UNSAFE = [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F)]
UNSAFE += list(range(0x2066, 0x206A))


@pytest.mark.parametrize("code", UNSAFE)
def test_terminal_safe_shows_every_control_as_a_visible_escape(code: int) -> None:
    """Each C0/C1 control, DEL, line separator and bidi control becomes its \\x or \\u escape."""
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    assert terminal_safe(f"a{chr(code)}b") == f"a{escape}b"


def test_terminal_safe_defuses_a_title_setting_file_name() -> None:
    """The issue's sheet name: an OSC title, clear-screen and colour become plain text."""
    name = "x\x1b]0;TITLE\x07\x1b[2J\x1b[31m.yaml"
    assert terminal_safe(name) == "x\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[31m.yaml"


@given(st.text())
def test_terminal_safe_leaves_no_control_and_changes_nothing_else(text: str) -> None:
    """No unsafe character survives, and text without one is returned unchanged (accents, CJK, emoji)."""
    safe = terminal_safe(text)
    assert not any(ord(c) in UNSAFE for c in safe)
    if not any(ord(c) in UNSAFE for c in text):
        assert safe == text


@given(st.recursive(st.text() | st.floats(allow_nan=False) | st.none(), lambda s: st.lists(s, max_size=3)))
def test_json_terminal_safe_keeps_the_data(value: object) -> None:
    """JSON made terminal-safe parses to the same data and holds no unsafe character."""
    text = json_terminal_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert not any(ord(c) in UNSAFE for c in text)
