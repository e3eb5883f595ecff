"""Making user text inert where it is printed: LaTeX, Markdown, spreadsheet cells and terminals."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # Symbols our own phrases and users write, set as math (pdflatex prints them too).
    "−": r"\ensuremath{-}",
    "×": r"\ensuremath{\times}",
    "·": r"\ensuremath{\cdot}",
    "…": r"\ldots{}",
    "∂": r"\ensuremath{\partial}",
    "²": r"\ensuremath{^2}",
    # LuaTeX takes U+FFFD in its input for a broken UTF-8 sequence and stops: typed as a code
    # (in a group, so the number ends before the next space), "?" under pdflatex.
    "\ufffd": r'{\ifdefined\directlua\char"FFFD\else?\fi}',
}
# Letters that are symbols when they stand alone (σ(z), η = 0.5) and text inside a word
# (Σωκράτης, Ελένη, the Welsh tŷ), which the Unicode fonts print.
_LATEX_SYMBOL_LETTERS = {
    "ŷ": r"\ensuremath{\hat{y}}",
    "σ": r"\ensuremath{\sigma}",
    "η": r"\ensuremath{\eta}",
    "λ": r"\ensuremath{\lambda}",
    "Σ": r"\ensuremath{\Sigma}",
}
_LATEX_RE = re.compile(
    "|".join(re.escape(k) for k in _LATEX_SPECIAL)
    + rf"|(?<![^\W\d_])[{''.join(_LATEX_SYMBOL_LETTERS)}](?![^\W\d_])"
)
# Unprintable text becomes a visible U+FFFD, as a glyph no font has does: control characters
# (TeX refuses them), lone surrogates (undecodable file names), and the private characters of
# planes 15 and 16 (luaotfload numbers the glyphs a font leaves unnamed there, so they would
# print some accent or ligature).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f\ud800-\udfff\U000f0000-\U0010ffff]")


def latex_escape(text: object) -> str:
    """``text`` as literal LaTeX text: NFC, specials escaped, blank lines kept as paragraphs."""
    return _latex_escape(str(text))


@lru_cache(maxsize=8192)  # the same titles and phrases recur in every variant
def _latex_escape(text: str) -> str:
    # NFC: a name typed on a Mac (José as e + combining accent) prints as one accented letter
    text = _UNPRINTABLE.sub("\ufffd", unicodedata.normalize("NFC", text))
    value = _LATEX_RE.sub(_latex_special, text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", value.strip())]
    return "\n\n".join(p for p in paragraphs if p)


def _latex_special(match: re.Match[str]) -> str:
    char = match.group()
    return _LATEX_SPECIAL.get(char) or _LATEX_SYMBOL_LETTERS[char]


# Markdown specials: a backslash escape is valid for any ASCII punctuation in CommonMark and pandoc.
_MD_RE = re.compile(r"([\\`*_{}\[\]<>#+\-!|$~^&])")


def md_escape(text: object) -> str:
    """``text`` as literal Markdown: specials (and ``$``) escaped, blank lines kept as paragraphs."""
    return _md_escape(str(text))


@lru_cache(maxsize=8192)
def _md_escape(text: str) -> str:
    paragraphs = []
    for para in re.split(r"\n\s*\n", str(text).strip()):
        line = _MD_RE.sub(r"\\\1", " ".join(para.split()))
        paragraphs.append(re.sub(r"^(\d+)\.", r"\1\\.", line))  # "1. " would start a list
    return "\n\n".join(p for p in paragraphs if p)


def md_inline(text: object) -> str:
    """``text`` as literal Markdown on one line (a table cell, a list item, a heading)."""
    return md_escape(" ".join(str(text).split()))


_MD_UNSAFE = re.compile(r"[\s\\`*_{}\[\]<>#+\-!|$~^&]|^\d+\.")


def md_plain(text: str) -> bool:
    """Whether :func:`md_inline` leaves ``text`` as it is (checked without escaping it)."""
    return _MD_UNSAFE.search(text) is None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: prefixed with ``'`` when it starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is not a number."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


# C0 controls, DEL and C1 controls (ESC starts terminal sequences; C1 CSI and OSC do on some
# terminals), the Unicode line and paragraph separators, and the bidi controls that reorder what
# a terminal shows (the "Trojan Source" characters).
_TERMINAL_UNSAFE = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_TERMINAL_ESCAPES = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" for c in _TERMINAL_UNSAFE}
_TERMINAL_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _TERMINAL_UNSAFE) + "]")


def terminal_safe(text: object) -> str:
    """``text`` made inert for a terminal: every control character (C0, DEL, C1), line separator
    and bidi control shown as a visible escape (``\\x1b``, ``\\u202e``), so it is one line that
    moves no cursor, sets no title and reorders nothing."""
    value = str(text)
    if _TERMINAL_RE.search(value) is None:  # the usual case: nothing to replace
        return value
    return value.translate(_TERMINAL_ESCAPES)


_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in _TERMINAL_UNSAFE if c >= 0x7F}  # JSON escapes C0 itself
_JSON_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _JSON_ESCAPES) + "]")


def json_terminal_safe(text: str) -> str:
    """JSON text with what :func:`terminal_safe` escapes written as JSON ``\\u`` escapes: the same
    data, inert on a terminal (JSON already escapes the C0 controls)."""
    if text.isascii():  # known without a scan: then only DEL can be there (a fast search)
        return text.replace("\x7f", "\\u007f") if "\x7f" in text else text
    if _JSON_RE.search(text) is None:
        return text
    return text.translate(_JSON_ESCAPES)
