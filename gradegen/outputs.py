"""Output folders: what ``generate`` and ``grade`` may write into, and how they replace it.

Every output folder holds a manifest, ``.gradegen.json``, naming its kind and every file gradegen
wrote there. A target may be new, empty, or an earlier output folder of the same kind (one with
the manifest, or with the kind's marker file for folders written before the manifest existed);
anything else is refused unless forced. Even forced, only gradegen's own files are replaced:
files gradegen did not write stay where they are.

The files are written into a hidden staging folder beside the target (inside it when the target
is the current folder, a folder the user is inside or a mount point), locked while a process
owns it: a run that is killed leaves one, and the next run for that target removes it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gradegen.errors import GradegenError
from gradegen.files import cannot_write, held_interrupts

MANIFEST = ".gradegen.json"
"""The manifest's file name, in every output folder gradegen writes."""

FORMAT = "gradegen-output"
MAX_MANIFEST_BYTES = 256_000_000

Tree = dict[str, frozenset[str] | None]
"""An output folder's files: each top-level name, with None for a file or the files in a folder
(gradegen writes files and folders of files, nothing deeper)."""


@dataclass(frozen=True)
class Layout:
    """What gradegen writes into an output folder of one kind, to recognise folders written
    before the manifest existed (by their marker file) and the files in them that are its own."""

    kind: str
    marker: str
    files: frozenset[str]
    in_folder: Callable[[str, str], bool] = lambda folder, name: False


def read_manifest(folder: Path) -> tuple[str, Tree] | None:
    """The kind and files an output folder's manifest lists, or None when it has none (or a
    manifest that is not one: then the folder is treated as one gradegen did not write)."""
    path = folder / MANIFEST
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        data = json.loads(path.read_bytes())
        kind, tree = data["kind"], Tree()
        if data.get("format") != FORMAT or not isinstance(kind, str):
            return None
        for name in data["files"]:
            tree[_plain(name)] = None
        for group in data["folders"]:
            files = frozenset(_plain(name) for name in group["files"])
            tree.update(dict.fromkeys((_plain(name) for name in group["names"]), files))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return kind, tree


def _plain(name: object) -> str:
    """A manifest entry must be one plain name: a manifest cannot reach outside its folder."""
    if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def manifest_bytes(kind: str, tree: Tree) -> bytes:
    """The manifest for ``tree``, sorted (the same files give the same bytes), folders that hold
    the same files listed together (a class's student folders are one group)."""
    groups: dict[frozenset[str], list[str]] = {}
    for name, inner in tree.items():
        if inner is not None:
            groups.setdefault(inner, []).append(name)
    folders = [{"files": sorted(inner), "names": sorted(names)} for inner, names in groups.items()]
    folders.sort(key=lambda group: (group["files"], group["names"]))
    files = sorted(name for name, inner in tree.items() if inner is None)
    data = {"format": FORMAT, "version": 1, "kind": kind, "files": files, "folders": folders}
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def written_names(folder: Path) -> list[str]:
    """The top-level names the manifest of ``folder`` lists, sorted (what the last run wrote)."""
    manifest = read_manifest(folder)
    return sorted(manifest[1]) if manifest is not None else []


_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "results.json": (b'"gradegen-results"', b'{"students":'),
    "keys.json": (b'"gradegen-keys"', b'"keys":'),
    "key.json": (b'{\n  "spec": {',),
    "gradebook.csv": (b"student,score,max,percent",),
    "gradebook-canvas.csv": (b"Student,ID,SIS User ID,SIS Login ID,Section,",),
    "gradebook-moodle.csv": (b"Email address,", b"ID number,"),
    "gradebook-brightspace.csv": (b"OrgDefinedId,",),
    "gradebook-blackboard.csv": (b'"Username",',),
}
"""How the first bytes of the files gradegen writes under these names look (in every version)."""


def is_gradegen_file(path: Path) -> bool:
    """Whether ``path`` is gradegen's results, keys or gradebook (by its name and first bytes)."""
    signatures = _SIGNATURES.get(path.name)
    if signatures is None or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(256)
    except OSError:
        return False
    return any(signature in head for signature in signatures)


_OLD_GRADES = ("results.json", "gradebook.csv")


def is_output_folder(folder: Path, names: Collection[str] | None = None) -> bool:
    """Whether gradegen wrote ``folder``: it has the manifest, or it is a grades folder from before
    the manifest (gradegen's results.json and gradebook.csv). A key or keys file alone does not
    make one: instructors keep those beside the answers. ``names``, the folder's entries when
    the caller has listed them, spares a look at the disk for every other folder."""
    if names is not None and MANIFEST not in names and not all(name in names for name in _OLD_GRADES):
        return False
    if (folder / MANIFEST).is_file():
        return True
    return all(is_gradegen_file(folder / name) for name in _OLD_GRADES)


# Staging folders: ``.<target>.gradegen-XXXXXXXX.tmp`` beside the target, ``.gradegen-XXXXXXXX.tmp``
# inside it; each holds ``lock`` (flock-ed by its process, then given its pid), ``build`` (the new
# output) and, while an earlier folder is swapped out, ``old``.
_SUFFIX, _LOCK = ".tmp", "lock"


def _places(target: Path) -> tuple[tuple[Path, str], tuple[Path, str]]:
    """Where staging folders for ``target`` are made (beside it, inside it) and how their names start."""
    return (target.parent, f".{target.name}.gradegen-"), (target, ".gradegen-")


def _is_staging(name: str, prefix: str) -> bool:
    return name.startswith(prefix) and name.endswith(_SUFFIX)


if sys.platform != "win32":
    import fcntl

    def _lock(fd: int, *, wait: bool) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

else:  # pragma: no cover - without flock no staging folder is ever known to be stale

    def _lock(fd: int, *, wait: bool) -> bool:
        return wait


def remove_stale_staging(target: Path) -> None:
    """Remove the staging folders of killed runs for ``target``: those whose lock no live process
    holds. A run killed while swapping the earlier folder out gives it back first."""
    for parent, prefix in _places(target):
        try:
            names = [entry.name for entry in os.scandir(parent) if _is_staging(entry.name, prefix)]
        except OSError:
            continue
        for name in names:
            stage = parent / name
            try:
                fd = os.open(stage / _LOCK, os.O_RDWR)
            except OSError:
                continue  # not a staging folder of this version, or one being made this instant
            try:
                # An empty lock file is one its process is about to lock: not stale.
                if not _lock(fd, wait=False) or not os.pread(fd, 1, 0):
                    continue
                old = stage / "old"
                if parent == target.parent and old.is_dir() and not os.path.lexists(target):
                    old.rename(target)
                shutil.rmtree(stage, ignore_errors=True)
            finally:
                os.close(fd)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _user_is_inside(folder: Path) -> bool:
    """Whether the current folder is ``folder`` or inside it."""
    try:
        return _within(Path.cwd().resolve(), folder)
    except OSError:  # the current folder was removed: it is inside nothing
        return False


@dataclass
class _Found:
    """What an existing target holds: gradegen's files, its folders and everything else."""

    files: set[str] = field(default_factory=set)
    folders: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)  # name → (its, others)
    foreign: set[str] = field(default_factory=set)

    def only_gradegens(self) -> bool:
        return not self.foreign and not any(others for _, others in self.folders.values())

    def tree(self) -> Tree:
        tree: Tree = dict.fromkeys(self.files)
        tree.update({name: frozenset(mine) for name, (mine, _) in self.folders.items()})
        return tree


class Output:
    """An output folder about to be written: checked (and stale staging removed) when made, before
    any work; written through :meth:`written`. ``partial`` (``generate --only``) replaces only the
    entries the run writes and keeps the rest of the folder's own files."""

    def __init__(
        self, target: Path | str, layout: Layout, *, force: bool = False, partial: bool = False
    ) -> None:
        self.shown = Path(target)  # as the user gave it, for messages
        if os.path.lexists(self.shown) and not self.shown.is_dir():
            raise GradegenError(f"--out: {self.shown} exists and is not a folder")
        self.target = self.shown.resolve()
        self.layout, self.force, self.partial = layout, force, partial
        try:
            remove_stale_staging(self.target)
            self._check()
        except OSError as exc:
            raise GradegenError(f"--out: {self.shown}: cannot read: {exc.strerror or exc}") from None

    def _check(self) -> None:
        if not self.target.exists() or self.force:
            return
        kind, manifest = self.layout.kind, read_manifest(self.target)
        if manifest is not None and manifest[0] != kind:
            raise GradegenError(
                f"--out: {self.shown} is an earlier gradegen {manifest[0]} folder, not a {kind} folder; "
                "choose another folder, or pass --force to write into it (only gradegen's files are replaced)"
            )
        if manifest is not None or (self.target / self.layout.marker).is_file():
            return
        inside = _places(self.target)[1][1]
        if any(not _is_staging(entry.name, inside) for entry in os.scandir(self.target)):
            raise GradegenError(
                f"--out: {self.shown} has other files in it and is not an earlier {kind} folder (it has "
                f"no {MANIFEST} or {self.layout.marker}); choose a new or empty folder, or pass --force "
                "to write into it (only gradegen's files are replaced; nothing else in it is touched)"
            )

    @contextmanager
    def written(self) -> Iterator[Path]:
        """A folder to write the output into; when the block succeeds its files replace gradegen's
        in the target. Whatever happens, the staging folder is gone afterwards."""
        try:
            stage, lock = self._stage()
        except OSError as exc:
            raise self._error(exc, None) from None
        build = stage / "build"
        try:
            try:
                build.mkdir(0o755)
                yield build
                with held_interrupts():  # a Ctrl-C now would leave half the files replaced
                    self._commit(stage, build)
            except OSError as exc:
                raise self._error(exc, build) from None
        finally:
            with held_interrupts():
                shutil.rmtree(stage, ignore_errors=True)
                os.close(lock)

    def _stage(self) -> tuple[Path, int]:
        """A fresh staging folder for this run and its lock, held until the folder is removed."""
        beside, inside = _places(self.target)
        here = self.target.is_dir()
        # The user's current folder (or one it is in) and a mount point cannot be swapped whole.
        in_place = here and (_user_is_inside(self.target) or os.path.ismount(self.target))
        places = [inside] if in_place else [beside, inside] if here else [beside]
        for parent, prefix in places:
            try:
                parent.mkdir(parents=True, exist_ok=True)
                stage = Path(tempfile.mkdtemp(prefix=prefix, suffix=_SUFFIX, dir=parent))
            except PermissionError:
                if (parent, prefix) != places[-1]:
                    continue  # a writable folder in one that is not: stage inside it
                raise
            lock = os.open(stage / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
            _lock(lock, wait=True)
            os.write(lock, f"{os.getpid()}\n".encode())
            return stage, lock
        raise AssertionError("no place to stage")  # pragma: no cover - places is never empty

    def _error(self, exc: OSError, build: Path | None) -> GradegenError:
        """An OSError as one line naming the user's path (the file in the output folder, when the
        error names one), never the staging folder's."""
        where = self.shown
        if isinstance(exc.filename, str):
            path = Path(exc.filename)
            if build is not None and _within(path, build):
                where = self.shown / path.relative_to(build)
            elif path != self.target and _within(path, self.target):
                inner = path.relative_to(self.target)
                if not _is_staging(inner.parts[0], _places(self.target)[1][1]):
                    where = self.shown / inner
        return cannot_write(where, exc)

    def _commit(self, stage: Path, build: Path) -> None:
        tree = _tree(build)
        if not self.target.exists():
            (build / MANIFEST).write_bytes(manifest_bytes(self.layout.kind, tree))
            build.rename(self.target)
            return
        found = self._scan(tree)
        self._check_clashes(tree, found)
        final = {**found.tree(), **tree} if self.partial else tree
        (build / MANIFEST).write_bytes(manifest_bytes(self.layout.kind, final))
        if found.only_gradegens() and not self.partial and stage.parent == self.target.parent:
            self.target.rename(stage / "old")  # swapped whole: readers see the old folder or the new
            build.rename(self.target)
            return
        self._update_in_place(stage, build, tree, found)

    def _scan(self, tree: Tree) -> _Found:
        """Sort what is in the target into gradegen's files, its folders and everything else
        (links, hidden entries, other runs' staging folders, files it did not write). gradegen's
        are those its manifest lists, or in a folder from before the manifest those the layout
        names; with --force also those this run writes."""
        manifest = read_manifest(self.target)
        listed: Tree = manifest[1] if manifest is not None else {}
        legacy = manifest is None and (self.target / self.layout.marker).is_file()
        forced: Tree = tree if self.force else {}
        layout = self.layout
        found = _Found()
        with os.scandir(self.target) as entries:
            for entry in entries:
                name = entry.name
                if name == MANIFEST:
                    continue
                if entry.is_file(follow_symlinks=False):
                    ours = (
                        (legacy and name in layout.files) or _file_in(listed, name) or _file_in(forced, name)
                    )
                    (found.files if ours else found.foreign).add(name)
                    continue
                if not entry.is_dir(follow_symlinks=False) or name.startswith("."):
                    found.foreign.add(name)
                    continue
                files: set[str] = set()
                others: set[str] = set()
                with os.scandir(entry.path) as inner:
                    for item in inner:
                        (files if item.is_file(follow_symlinks=False) else others).add(item.name)
                mine = files & ((listed.get(name) or frozenset()) | (forced.get(name) or frozenset()))
                if legacy:
                    mine |= {item for item in files if layout.in_folder(name, item)}
                others |= files - mine
                if mine or listed.get(name) is not None or tree.get(name) is not None:
                    found.folders[name] = (mine, others)
                else:
                    found.foreign.add(name)
        return found

    def _check_clashes(self, tree: Tree, found: _Found) -> None:
        """Refuse, before anything is moved, to put a file where there is something gradegen did not write."""
        for name, files in sorted(tree.items()):
            others = found.folders[name][1] if name in found.folders else set()
            clash = name if name in found.foreign or (files is None and others) else None
            for inner in sorted(others & (files or frozenset())):
                clash = clash or f"{name}/{inner}"
            if clash is not None:
                hint = "" if self.force else ", or pass --force if it may be replaced"
                raise GradegenError(f"{self.shown / clash}: gradegen did not write this; move it away{hint}")

    def _update_in_place(self, stage: Path, build: Path, tree: Tree, found: _Found) -> None:
        """Replace gradegen's files one by one and leave everything else. The manifest first lists
        both runs' files, so that a run killed half way leaves none of them unaccounted for."""
        union = found.tree()
        for name, files in tree.items():
            earlier = union.get(name)
            union[name] = files | earlier if files is not None and earlier is not None else files
        (stage / "union").write_bytes(manifest_bytes(self.layout.kind, union))
        os.replace(stage / "union", self.target / MANIFEST)
        trash = stage / "trash"
        trash.mkdir()
        for name in sorted(found.files):
            kept = self.partial and name not in tree
            if not kept and (name not in tree or tree[name] is not None):
                (self.target / name).unlink()  # not written again (or a folder now)
        for i, (name, (mine, others)) in enumerate(sorted(found.folders.items())):
            if self.partial and name not in tree:
                continue
            if not others:
                (self.target / name).rename(trash / str(i))
                continue
            for inner in sorted(mine - (tree.get(name) or frozenset())):
                (self.target / name / inner).unlink()
        for name, files in sorted(tree.items()):
            here = self.target / name
            if files is None or not here.is_dir():
                os.replace(build / name, here)
                continue
            for inner in sorted(files):
                os.replace(build / name / inner, here / inner)
        os.replace(build / MANIFEST, self.target / MANIFEST)


def _file_in(tree: Tree, name: str) -> bool:
    return name in tree and tree[name] is None


def _tree(folder: Path) -> Tree:
    """The files and folders of files in a freshly written output folder (the manifest aside)."""
    tree: Tree = {}
    same: dict[frozenset[str], frozenset[str]] = {}  # one set for the many folders holding the same files
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                inner = frozenset(os.listdir(entry.path))  # noqa: PTH208 - names alone: half iterdir's time
                tree[entry.name] = same.setdefault(inner, inner)
            elif entry.name != MANIFEST:
                tree[entry.name] = None
    return tree
