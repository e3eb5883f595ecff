"""Safe, unique folder and file names for student ids: no id ever names a path outside its folder."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from gradegen.errors import GradegenError

MAX_FOLDER_BYTES = 64
"""A folder name's readable part is cut to this many UTF-8 bytes (file systems allow 255)."""

RESERVED_FILES = frozenset(
    {"keys.json", "keys.md", "keys.tex", "keys.pdf", "worksheets.pdf", "solutions.pdf"}
    | {"keys", "solutions", "practices"}
)
"""Files (and the folders of HTML pages holding answers) a class run writes beside the student
folders; no student folder may take these names."""

_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)
_UNSAFE = re.compile(r"[^\w.@+-]")  # \w is Unicode-aware: letters, digits, underscore
_PLAIN = re.compile(r"[A-Za-z0-9_@+-]([A-Za-z0-9_.@+-]*[A-Za-z0-9_@+-])?")  # ASCII names kept as they are


def safe_folder_name(student: str) -> str:
    """A readable folder name for one id: a slug, plus a short hash when the slug had to change.

    The slug keeps letters, digits and ``_ . @ + -``; anything else (separators, control
    characters, spaces) becomes ``_``. Leading and trailing dots are removed (no ``.``, ``..`` or
    hidden folders), Windows device names (``CON``, ``nul.txt``) get a leading ``_``, and long ids
    are cut. Whenever the slug differs from the id, ``-`` and 8 hex digits of the id's SHA-256
    follow, so altered ids stay distinct.
    """
    if _PLAIN.fullmatch(student) and len(student) <= MAX_FOLDER_BYTES:
        slug = student if student.split(".")[0].upper() not in _WINDOWS_RESERVED else "_" + student
    else:
        slug = _slug(student)
    if slug == student and slug.casefold() not in RESERVED_FILES:
        return slug
    return f"{slug}-{_digest(student)[:8]}"


def _slug(student: str) -> str:
    slug = unicodedata.normalize("NFC", student)
    slug = _UNSAFE.sub("_", slug).strip(". ")
    if slug.split(".")[0].upper() in _WINDOWS_RESERVED:
        slug = "_" + slug
    return _cut(slug) or "student"


def folder_names(ids: Iterable[str]) -> tuple[str, ...]:
    """Safe, unique folder names for a roster's ids, in order.

    Each is :func:`safe_folder_name`; names equal ignoring case (which clash on macOS and
    Windows) all get a longer hash suffix instead. A name depends only on its own id unless it
    clashes with another's, so the same roster always gives the same names.
    """
    ids = list(ids)
    names = [safe_folder_name(s) for s in ids]
    for length in (12, 24, 64):
        folded = [n.casefold() for n in names]
        seen = Counter(folded)
        clashes = [k for k, n in enumerate(folded) if seen[n] > 1]
        if not clashes:
            return tuple(names)
        for k in clashes:
            names[k] = f"{_slug(ids[k])}-{_digest(ids[k])[:length]}"
    raise GradegenError("could not give the roster's students distinct folder names")  # pragma: no cover


def _cut(text: str) -> str:
    data = text.encode("utf-8")[:MAX_FOLDER_BYTES]
    return data.decode("utf-8", errors="ignore").rstrip(". ")


def _digest(student: str) -> str:
    return hashlib.sha256(student.encode("utf-8", errors="surrogatepass")).hexdigest()
