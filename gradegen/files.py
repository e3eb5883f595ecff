"""Writing files: all or nothing (to a temporary sibling first, then renamed into place), new files
in one call, deterministic zips, and work in forked processes (that leave Ctrl-C to this one)."""

from __future__ import annotations

import errno
import os
import signal
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from gradegen.errors import GradegenError

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def write_new(path: str | os.PathLike[str], data: bytes, mode: int = 0o666) -> None:
    """Write a new file (in a staging folder) in one open, write and close: no text layer,
    buffer or seeks. Runs that write thousands of files spend more on those than on writing."""
    fd = os.open(path, _NEW, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; an error names ``path``, never the temporary file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes files private; ours are shared like any other
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise cannot_write(path, exc) from None
        raise


def cannot_write(path: Path, exc: OSError) -> GradegenError:
    """Name the path the user gave, not the temporary one beside it."""
    return GradegenError(f"{path}: cannot write here: {exc.strerror or exc}")


@contextmanager
def held_interrupts() -> Iterator[None]:
    """Ctrl-C is ignored while the block runs: for the last renames of a write (stopping half
    way would leave a mix) and for cleaning up after a failure (stopping would leave leftovers).
    Only the main thread receives signals, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _worker_started(
    parent: int, initializer: Callable[..., None] | None, initargs: tuple[object, ...]
) -> None:
    # Ctrl-C reaches the whole process group: the parent alone decides, and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with(parent: int) -> None:
    """End this worker soon after its parent is killed: an orphan would wait for tasks forever,
    holding its memory and the lock on the parent's staging folder (which then never looks stale)."""
    while os.getppid() == parent:
        time.sleep(0.25)
    os._exit(1)


@contextmanager
def worker_pool(
    processes: int, initializer: Callable[..., None] | None = None, initargs: tuple[object, ...] = ()
) -> Iterator[ProcessPoolExecutor]:
    """A pool of forked workers, all started, that ignore Ctrl-C (the parent handles it and stops
    them). SIGINT is blocked while they are forked, so none can die of one before it ignores it."""
    import multiprocessing  # here: 25 ms to import, and most commands never need it
    from concurrent.futures import ProcessPoolExecutor

    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        processes, mp_context=fork, initializer=_worker_started, initargs=(os.getpid(), initializer, initargs)
    ) as pool:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pool.submit(int).result()  # a fork pool starts every worker on its first task
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        yield pool


_TASK: Callable[[], None] | None = None
"""The task of a worker started by :func:`in_second_process`: set in the worker, by the pool's
initializer, from the parent's memory (a fork copies it; nothing is pickled)."""


def _take_task(task: Callable[[], None]) -> None:
    global _TASK
    _TASK = task


def _run_task() -> None:
    assert _TASK is not None
    _TASK()


@contextmanager
def in_second_process(task: Callable[[], None], what: str) -> Iterator[None]:
    """Run ``task`` in a forked worker process while the block runs; leaving the block waits for
    it and raises its error, if any (a worker that dies as ``{what} failed: …``). When the block
    fails, the worker is still waited for (a running task cannot be cancelled) and the block's
    error is raised."""
    from concurrent.futures.process import BrokenProcessPool

    with worker_pool(1, _take_task, (task,)) as pool:
        done = pool.submit(_run_task)
        try:
            yield
        except BaseException:
            _finish(done)
            raise
        try:
            done.result()
        except BrokenProcessPool:
            raise GradegenError(f"{what} failed: its process ended without finishing") from None
        except KeyboardInterrupt:
            _finish(done)
            raise


def _finish(done: Future[None]) -> None:
    """Wait for a task that cannot be cancelled, so that it writes nothing after its caller has
    cleaned up; Ctrl-C does not cut the wait short, and the task's own error is not the news."""
    with held_interrupts(), suppress(BaseException):
        done.result()


_DOS_DATE = (1 << 5) | 1  # 1980-01-01, 00:00: a fixed timestamp, so the same members give the same zip
_MAX16, _MAX32 = 0xFFFF, 0xFFFFFFFF


def write_stored_zip(path: Path, members: Iterable[tuple[str, bytes]]) -> None:
    """Write a new zip of uncompressed members, each dated 1980-01-01 00:00 with mode rw-r--r--, so
    that the same members give the same bytes.

    The bytes are what :mod:`zipfile` writes for such members (Zip64 records once past 65,535
    members or 4 GB; tests/test_reports_fast.py checks it byte for byte). It is written here because
    zipfile's per-member bookkeeping (a ZipInfo, header packing, seeks back to each header, a Python
    loop for the central directory) costs 1.2–1.6 s of CPU for 100,000 feedback pages against
    0.3 s here, on the critical path of ``gradegen grade --feedback zip``.
    """
    central: list[bytes] = []
    offset = 0
    with path.open("wb", buffering=1 << 20) as handle:
        for name, data in members:
            raw = name.encode("utf-8")
            flags = 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8
            crc, size = zlib.crc32(data), len(data)
            handle.write(
                struct.pack(
                    "<4s5H3L2H", b"PK\x03\x04", 20, flags, 0, 0, _DOS_DATE, crc, size, size, len(raw), 0
                )
            )
            handle.write(raw)
            handle.write(data)
            extra = b"" if offset < _MAX32 else struct.pack("<2HQ", 1, 8, offset)  # Zip64: the offset
            version = 45 if extra else 20
            central.append(
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    (3 << 8) | version,  # made on Unix: the mode below is a Unix mode
                    version,
                    flags,
                    0,  # stored
                    0,
                    _DOS_DATE,
                    crc,
                    size,
                    size,
                    len(raw),
                    len(extra),
                    0,
                    0,
                    0,
                    0o100644 << 16,  # a regular file, rw-r--r--
                    min(offset, _MAX32),
                )
                + raw
                + extra
            )
            offset += 30 + len(raw) + size
        directory = b"".join(central)
        handle.write(directory)
        count, length = len(central), len(directory)
        if count >= _MAX16 or offset >= _MAX32 or length >= _MAX32:
            handle.write(
                struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, length, offset)
            )
            handle.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + length, 1))
        handle.write(
            struct.pack(
                "<4s4H2LH",
                b"PK\x05\x06",
                0,
                0,
                min(count, _MAX16),
                min(count, _MAX16),
                min(length, _MAX32),
                min(offset, _MAX32),
                0,
            )
        )


def zip_bytes(members: Iterable[tuple[str, bytes, int]]) -> bytes:
    """A deflated zip of ``(name, data, mode)`` members in the order given, each dated
    1980-01-01 00:00, so that the same members give the same bytes (bundles for an LMS or an
    autograder; a zip of many pages is :func:`write_stored_zip`'s)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16  # a regular file with this mode
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, data)
    return buffer.getvalue()
