"""Reading text files that gradegen takes: size and encoding checks, then YAML, JSON or TOML to data.

Every problem is one :class:`SpecError` naming the file (and, for YAML, the line and column).
Only regular files are read (a pipe or a device would hang or never end), and the size limit is
checked before reading. Text is UTF-8 (with or without a byte order mark) or UTF-16 with one (what
Excel saves as "Unicode text"). YAML is read with a safe loader only; a document that would expand
past :data:`MAX_YAML_NODES` values (an alias bomb) or that holds itself (a recursive alias) is
refused before it is built. A YAML integer too long for Python to convert is kept as its text (a
spec's field then names it; an answer is unparseable), as is a JSON one in a field read as text.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from gradegen.errors import SpecError

MAX_FILE_BYTES = 1_000_000
MAX_YAML_NODES = 100_000
"""A document expands to at most this many YAML values, so an alias bomb is refused, not built."""


class _Loader(yaml.SafeLoader):
    """Safe YAML that also reads ``1e-4`` as a number, as every other format does."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


_DIGITS = re.compile(r"[-+]?[0-9_]+")


def _scalar(kind: str) -> Any:
    """The safe loader's constructor for a ``!!kind`` scalar, with a value that does not fit its
    tag (``!!float abc``, ``!!int`` with nothing, 2001-13-45) as a YAML error naming its place."""
    construct = yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{kind}"]

    def run(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, IndexError, AttributeError, OverflowError):
            if kind == "int" and _DIGITS.fullmatch(node.value):
                return node.value  # more digits than Python converts (4,300): kept as text
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value[:40]!r} as {kind}", node.start_mark
            ) from None

    return run


for _kind in ("int", "float", "timestamp", "binary"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_kind}", _scalar(_kind))

_STR_TAG = "tag:yaml.org,2002:str"

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
"""Byte order marks read, and the encoding each announces (the mark itself is dropped)."""


def path_text(path: str | Path) -> str:
    """A path as printable text: bytes of a file name that are not UTF-8 (zip downloads from Windows
    give such names) become ``\\xNN`` escapes, so the name can be written to JSON and terminals."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _yaml_size(node: yaml.Node, memo: dict[int, int], source: str) -> int:
    """How many values ``node`` expands to, counting each alias use (memoised, so bombs are cheap)."""
    key = id(node)
    if key in memo:
        if memo[key] == 0:  # still being counted: the node holds itself
            line = node.start_mark.line + 1
            raise SpecError(
                f"invalid YAML at line {line}: a value that holds itself (recursive alias)", source=source
            )
        return memo[key]
    memo[key] = 0
    total = 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    line = k.start_mark.line + 1
                    raise SpecError(f"duplicate key {k.value!r} at line {line}", source=source)
                seen.add(k.value)
            total += _yaml_size(k, memo, source) + _yaml_size(v, memo, source)
    elif isinstance(node, yaml.SequenceNode):
        total += sum(_yaml_size(v, memo, source) for v in node.value)
    if total > MAX_YAML_NODES:
        raise SpecError(
            f"the document expands to more than {MAX_YAML_NODES:,} values (an alias bomb?)",
            source=source,
        )
    memo[key] = total
    return total


def _as_text(node: yaml.Node, keys: Collection[str]) -> None:
    """The scalar values of ``keys`` in a top-level mapping are read as the text written there."""
    if not keys or not isinstance(node, yaml.MappingNode):
        return
    for i, (key, value) in enumerate(node.value):
        if isinstance(key, yaml.ScalarNode) and key.value in keys and isinstance(value, yaml.ScalarNode):
            # A new node: an anchored value used elsewhere keeps its own type there.
            text = yaml.ScalarNode(_STR_TAG, value.value, value.start_mark, value.end_mark, value.style)
            node.value[i] = (key, text)


def _load_yaml(text: str, source: str, as_text: Collection[str]) -> Any:
    try:
        loader = _Loader(text)  # refuses control characters at once
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise SpecError(
            f"invalid YAML at line {line}: a control character (#x{exc.character:02x})", source=source
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _yaml_size(node, {}, source)
        _as_text(node, as_text)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"invalid YAML{where}: {exc.problem or exc.context}", source=source) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", source=source) from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", source=source) from None
    finally:
        loader.dispose()


class _NumberText(str):
    """A JSON number's literal text, while a document is read with some keys kept as text."""


def _json_int(text: str) -> int | str:
    """A JSON integer, or its text when it has more digits than Python converts."""
    try:
        return int(text)
    except ValueError:
        return text


def _json_numbers(value: Any) -> Any:
    """``value`` with every :class:`_NumberText` made a number again."""
    if isinstance(value, _NumberText):
        return float(value) if any(c in value for c in ".eE") else _json_int(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


class _Duplicate(dict[str, Any]):
    """An object that repeated ``key`` (JSON keeps the last silently; gradegen refuses, as for YAML)."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def _duplicate_at(data: Any, path: str = "") -> tuple[str, str] | None:
    """The path of the first object (depth first) that repeated a key, and the key."""
    if isinstance(data, _Duplicate):
        return path, data.key
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        found = _duplicate_at(v, f"{path}[{k}]" if isinstance(k, int) else f"{path}.{k}" if path else k)
        if found is not None:
            return found
    return None


def _load_json(text: str, source: str, as_text: Collection[str]) -> Any:
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        repeated = True
        seen: set[str] = set()
        key = next(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return _Duplicate(items, key)

    try:
        if as_text:  # every number as its text, made a number again below but for those keys
            data = json.loads(text, object_pairs_hook=pairs, parse_int=_NumberText, parse_float=_NumberText)
        else:
            data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source
        ) from None
    except RecursionError:
        raise SpecError("invalid JSON: nested too deeply", source=source) from None
    except ValueError:  # an integer of more digits than Python converts
        limit = sys.get_int_max_str_digits()
        raise SpecError(
            f"invalid JSON: a whole number of more than {limit:,} digits", source=source
        ) from None
    if repeated:
        path, key = _duplicate_at(data) or ("", "")
        where = f"in {path}" if path else "at the top level"
        raise SpecError(f"invalid JSON: duplicate key {key!r} {where}", source=source)
    if not as_text:
        return data
    if not isinstance(data, dict):
        return _json_numbers(data)
    return {
        k: str(v) if k in as_text and isinstance(v, _NumberText) else _json_numbers(v)
        for k, v in data.items()
    }


def parse_text(text: str, *, fmt: str = "yaml", source: str = "spec", as_text: Collection[str] = ()) -> Any:
    """Parse spec text in ``fmt`` (yaml, json or toml) into plain data.

    A top-level key named in ``as_text`` whose value is a YAML scalar or a JSON number has it as
    the text written (``student: 0123`` gives ``"0123"``, not 83).
    """
    if fmt == "json":
        try:
            return _load_json(text, source, as_text)
        except RecursionError:  # converting the numbers back, in a document nested very deeply
            raise SpecError("invalid JSON: nested too deeply", source=source) from None
    if fmt == "toml":
        import tomllib  # only TOML files need it

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"invalid TOML: {exc}", source=source) from None
    return _load_yaml(text, source, as_text)


def _expected(what: str) -> str:
    """The end of a message saying what kind of file was wanted: ``expected an answers file``."""
    return f"expected {'an' if what[:1] in 'aeiou' else 'a'} {what} file"


def read_bytes(path: Path, *, what: str = "spec", limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit`` of them, or a one-line SpecError saying why not."""
    source = path_text(path)
    expected = _expected(what)
    try:
        # Non-blocking, so that opening a named pipe returns at once (and is then refused).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise SpecError(f"no such {what} file", source=source) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", source=source) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError(f"is a folder, {expected}", source=source)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(f"not a regular file (a pipe or a device), {expected}", source=source)
        too_large = SpecError(f"{what} file is larger than {limit:,} bytes", source=source)
        if info.st_size > limit:
            raise too_large
        try:
            # Its size (a buffer of the limit's size is not allocated), then whatever the file
            # gained meanwhile or holds beyond a size of 0 (/proc), still within the limit.
            raw = handle.read(info.st_size + 1)
            if len(raw) > info.st_size:
                raw += handle.read(limit + 1 - len(raw))
        except OSError as exc:
            raise SpecError(f"cannot read: {exc.strerror}", source=source) from None
        if len(raw) > limit:
            raise too_large
    return raw


def decode(raw: bytes, *, what: str = "spec", source: str = "spec") -> str:
    """Bytes as text: UTF-8, or UTF-8 or UTF-16 after a byte order mark (which is dropped)."""
    expected = _expected(what)
    encoding = "utf-8"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom) :], name
            break
    binary = SpecError(f"not a text file (binary content), {expected}", source=source)
    if encoding == "utf-8" and b"\x00" in raw:
        raise binary  # said first: a binary file is rarely valid UTF-8 either
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        label = "UTF-8" if encoding == "utf-8" else "UTF-16"
        raise SpecError(f"not a {label} text file, {expected}", source=source) from None
    if "\x00" in text:
        raise binary
    return text


def read_text(path: Path, *, what: str = "spec", limit: int = MAX_FILE_BYTES) -> str:
    """A text file's contents, or a one-line SpecError saying why it is not readable text."""
    return decode(read_bytes(path, what=what, limit=limit), what=what, source=path_text(path))


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".json": "json", ".toml": "toml"}.get(suffix, "yaml")
