"""The file boundary: bounded reads, crash-safe writes and advisory locks, shared by every reader and writer.

* :func:`read_bytes` reads a file of outside data with a size limit checked *before* anything is read (a
  regular file's size from ``fstat``; a pipe or device is read up to the limit plus one byte), and turns
  ``OSError`` into :class:`~zkhealth.errors.FileAccessError` naming the file.
* :func:`atomic_write` writes a temporary file in the same directory, fsyncs it, renames it over the target
  and fsyncs the directory: a crash, a kill or a full disk leaves the old file or the new one, never half of
  one. Errors name the file: :class:`~zkhealth.errors.FileAccessError` when the place cannot be written (a
  missing directory, no permission), :class:`~zkhealth.errors.StorageError` when the disk fails (full, I/O).
* :func:`locked` holds an exclusive advisory lock (``flock``) on ``PATH.lock`` while a read-modify-write of
  ``PATH`` runs, so two processes saving one wallet take turns instead of losing a change.
* :func:`naming` prefixes the message of a library error raised while a file is parsed with the file's name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from zkhealth.errors import ArgumentTypeError, FileAccessError, ResourceBusyError, StorageError, ZkHealthError

__all__ = [
    "LOCK_TIMEOUT_SECONDS",
    "as_path",
    "atomic_write",
    "fsync_directory",
    "locked",
    "naming",
    "read_bytes",
    "remove_stale_temporaries",
    "user_cache_root",
    "wrap_os_error",
]

#: How long :func:`locked` waits for another process before giving up.
LOCK_TIMEOUT_SECONDS: Final[float] = 60.0

#: errno values that mean "this place cannot be used" (the user named a wrong path), not "the disk failed".
_ACCESS_ERRNOS: Final[frozenset[int]] = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG,
     errno.ELOOP, errno.EEXIST}
)


def as_path(value: object, *, what: str = "path") -> Path:
    """``value`` as a :class:`Path`: a ``str`` or ``os.PathLike`` naming a file. Anything else (an int, which
    ``open`` would take for a file descriptor; bytes; None) raises :class:`ArgumentTypeError`; an empty
    name or one with a NUL character, :class:`FileAccessError`."""
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str) or (isinstance(value, os.PathLike) and isinstance(os.fspath(value), str)):
        path = Path(value)
    else:
        raise ArgumentTypeError(f"a {what} is a str or a path, not {type(value).__name__}")
    text = str(path)
    if not text or "\0" in text or (isinstance(value, str) and not value):
        raise FileAccessError(f"{what} {text!r} is not a usable file name")
    return path


def user_cache_root() -> Path:
    """zkhealth's directory in the user cache: ``$XDG_CACHE_HOME/zkhealth``, else ``~/.cache/zkhealth`` (not
    created here). Shared by the demo's keys, the universal proving key and the proving-key cache."""
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "zkhealth"


def wrap_os_error(error: OSError, path: str | os.PathLike[str], action: str) -> ZkHealthError:
    """The library error for an ``OSError`` met while ``action``-ing ``path`` (see the module docstring)."""
    reason = error.strerror or type(error).__name__
    if error.errno in _ACCESS_ERRNOS or error.errno is None:
        return FileAccessError(f"{os.fspath(path)}: cannot {action}: {reason}")
    return StorageError(f"{os.fspath(path)}: cannot {action}: {reason}")


def read_bytes(
    path: str | os.PathLike[str], *, max_bytes: int, error: type[ZkHealthError], what: str | None = None
) -> bytes:
    """The bytes of ``path``; ``error`` (naming the file, or ``what``) when it holds more than ``max_bytes``.

    The size of a regular file is checked before it is read; a pipe or device is read up to ``max_bytes + 1``
    bytes only. A missing or unreadable file raises :class:`FileAccessError`. Cost: one read of the file.
    """
    path = as_path(path)
    name = what if what is not None else os.fspath(path)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                raise error(f"{name}: {info.st_size} bytes exceeds the {max_bytes}-byte limit")
            # read(n) allocates n bytes up front: ask for the file's size (+1, to see a file that grew), then for
            # chunks of at most 1 MiB, never for the whole limit at once (it may be gigabytes).
            want = min(info.st_size, max_bytes) + 1 if stat.S_ISREG(info.st_mode) else 1 << 20
            chunks: list[bytes] = []
            total = 0
            while total <= max_bytes:
                chunk = handle.read(min(want, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                want = 1 << 20
            data = b"".join(chunks)
    except OSError as exc:
        raise wrap_os_error(exc, path, "read it") from None
    if len(data) > max_bytes:
        raise error(f"{name}: more than the {max_bytes}-byte limit")
    return data


@contextlib.contextmanager
def naming(path: str | os.PathLike[str]) -> Iterator[None]:
    """Prefix the message of a :class:`ZkHealthError` raised inside the block with ``path`` (once)."""
    try:
        yield
    except ZkHealthError as exc:
        prefix = f"{os.fspath(path)}: "
        if exc.args and isinstance(exc.args[0], str) and not exc.args[0].startswith(prefix):
            exc.args = (prefix + exc.args[0], *exc.args[1:])
        raise


def fsync_directory(directory: Path) -> None:
    """Make renames in ``directory`` durable (a no-op where directories cannot be opened)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, never half of one.

    Writes a temporary file in the same directory (private from the start), fsyncs it, sets ``mode``,
    renames it over ``path`` with ``os.replace`` and fsyncs the directory so the rename itself is durable.
    On any failure the temporary file is removed and ``path`` is untouched. Cost: one write and two fsyncs.
    """
    target = as_path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise wrap_os_error(exc, target, "write it") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise wrap_os_error(exc, target, "write it") from None
        raise
    try:
        fsync_directory(directory)
    except OSError as exc:
        raise wrap_os_error(exc, directory, "sync the directory") from None


def remove_stale_temporaries(path: str | os.PathLike[str]) -> int:
    """Remove the temporary files :func:`atomic_write` left beside ``path`` when a writer was killed (a kill
    cannot be cleaned up after). Only safe while holding :func:`locked` on ``path``: a live writer's
    temporary file would go too. Returns how many were removed."""
    target = as_path(path)
    directory = target.parent if str(target.parent) else Path(".")
    removed = 0
    for stale in directory.glob(f".{glob_escape(target.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed += 1
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], *, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``PATH.lock`` (created if needed) while the block runs.

    Other processes using :func:`locked` on the same path wait (up to ``timeout`` seconds, then
    :class:`ResourceBusyError`). The lock file is left in place: removing it would let a third process lock
    a new inode while a second still waits on the old one. On systems without ``fcntl`` the block runs
    unlocked.
    """
    target = as_path(path)
    lock_path = target.with_name(target.name + ".lock")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise wrap_os_error(exc, lock_path, "lock it") from None
    try:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ResourceBusyError(
                        f"{target}: another process has held its lock for {timeout:.0f} s; try again later"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
