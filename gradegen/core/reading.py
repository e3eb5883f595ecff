"""Reading text files that gradegen takes: size and encoding checks, then YAML, JSON or TOML to data.

Every problem is one :class:`SpecError` naming the file (and, for YAML, the line and column).
YAML is read with a safe loader only, and a document that would expand past
:data:`MAX_YAML_NODES` values (an alias bomb) is refused before it is built.
"""

from __future__ import annotations

import json
import re
import sys
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


def _yaml_size(node: yaml.Node, memo: dict[int, int], source: str) -> int:
    """How many values ``node`` expands to, counting each alias use (memoised, so bombs are cheap)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # breaks cycles from recursive aliases
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


def _load_yaml(text: str, source: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _yaml_size(node, {}, source)
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


def _load_json(text: str, source: str) -> Any:
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
    return data


def parse_text(text: str, *, fmt: str = "yaml", source: str = "spec") -> Any:
    """Parse spec text in ``fmt`` (yaml, json or toml) into plain data."""
    if fmt == "json":
        return _load_json(text, source)
    if fmt == "toml":
        import tomllib  # only TOML files need it

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"invalid TOML: {exc}", source=source) from None
    return _load_yaml(text, source)


def read_text(path: Path, *, what: str = "spec", limit: int = MAX_FILE_BYTES) -> str:
    """A text file's contents, or a one-line SpecError saying why it is not readable text."""
    source = str(path)
    article = "an" if what[:1] in "aeiou" else "a"
    try:
        if path.is_dir():
            raise SpecError(f"is a folder, expected {article} {what} file", source=source)
        if path.stat().st_size > limit:
            raise SpecError(f"{what} file is larger than {limit:,} bytes", source=source)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"no such {what} file", source=source) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", source=source) from None
    if b"\x00" in raw:
        raise SpecError(f"not a text file (binary content), expected {article} {what} file", source=source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"not a UTF-8 text file, expected {article} {what} file", source=source) from None


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".json": "json", ".toml": "toml"}.get(suffix, "yaml")
