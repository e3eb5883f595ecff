"""Escaping user text: the quick plainness check agrees with the escaper it stands in for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gradegen.escape import md_inline, md_plain

IDS = st.text(alphabet=st.sampled_from("ab1.-_+ $#*[]()<>=@\\ü\t\n9"), max_size=12)


@given(IDS)
def test_md_plain_iff_md_inline_changes_nothing(text: str) -> None:
    """md_plain(t) is True exactly when md_inline leaves t unchanged (so the fast path is safe)."""
    assert md_plain(text) == (md_inline(text) == text)
