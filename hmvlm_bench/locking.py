"""Advisory file locks (POSIX `flock`) for work two processes must not do at once:
building one artifact, computing one (model, task) pair into one output folder.

The kernel drops a `flock` when its holder dies, so a `kill -9` never leaves a lock held;
the holder writes its pid into the file so a waiter can say whom it waits for.

`remove=True` deletes the lock file on release (results folders stay clean). Deleting a
lock file another process may be waiting on is racy unless each acquirer checks, once it
holds the lock, that the path still names the file it locked, and starts over if not
(the usual unlink-safe flock recipe); `acquire` does exactly that.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


class FileLock:
    """An exclusive lock on `path`. Not re-entrant; one object per holder."""

    def __init__(self, path: Path, *, remove: bool = False) -> None:
        self.path = Path(path)
        self.remove = remove
        self._fd: int | None = None
        self._made: list[Path] = []  # folders acquire created, removed again on release if empty

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        """The pid written by the current holder ('?' when unknown)."""
        try:
            return self.path.read_text(encoding="ascii", errors="replace").strip() or "?"
        except OSError:
            return "?"

    def acquire(self, blocking: bool = True, on_wait: Callable[[str], None] | None = None) -> bool:
        """Take the lock. Non-blocking: False when another holder has it. Blocking: calls
        `on_wait(holder_pid)` once before the first wait, then waits."""
        if self._fd is not None:
            raise RuntimeError(f"lock {self.path} already held by this object")
        waited = False
        while True:
            self._made += [d for d in _makedirs(self.path.parent) if d not in self._made]
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # another holder removed the empty folder meanwhile
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not blocking:  # the holder's file: its folder is not ours to remove
                        os.close(fd)
                        self._made = []
                        return False
                    if on_wait is not None and not waited:
                        on_wait(self.holder())
                    waited = True
                    fcntl.flock(fd, fcntl.LOCK_EX)
                # the previous holder may have removed the file after we opened it: then
                # we hold a lock on a file nobody else will ever open; start over
                try:
                    same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if self.remove:  # while still holding it: see the module docstring
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        made, self._made = self._made, []
        if self.remove:  # a lock taken for work that then failed leaves no empty folder
            for d in made:  # deepest first
                try:
                    d.rmdir()
                except OSError:  # not empty (results were written), or already gone
                    break

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _makedirs(folder: Path) -> list[Path]:
    """mkdir -p; the folders it created, deepest first."""
    missing: list[Path] = []
    d = folder
    while not d.exists() and d != d.parent:
        missing.append(d)
        d = d.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing


@contextmanager
def file_lock(path: Path, *, remove: bool = False,
              on_wait: Callable[[str], None] | None = None) -> Iterator[FileLock]:
    """Blocking exclusive lock for the `with` body."""
    lock = FileLock(path, remove=remove)
    lock.acquire(blocking=True, on_wait=on_wait)
    try:
        yield lock
    finally:
        lock.release()


def sweep_stale(path: Path) -> None:
    """Remove a removable lock file nobody holds (left by a killed process)."""
    if not Path(path).exists():
        return
    lock = FileLock(path, remove=True)
    if lock.acquire(blocking=False):
        lock.release()
