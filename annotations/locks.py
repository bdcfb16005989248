"""One writer at a time: an exclusive lock per store, and per (results folder, model, benchmark, split) for eval.

Why exit and not wait: the writers that collide are long (a render of thousands of scenes, an eval that
pays for API calls), so waiting would hang a terminal for hours without a word. A second writer gets a
``LockHeld`` error (one line, exit code 1) that names the holder's PID and what it is doing, at once.

The lock is ``flock`` on a small file: the kernel releases it when the holder exits, however it exits
(SIGKILL included), so a stale lock file never blocks anyone; the PID written in it is only for the
message. Within one process the lock is re-entrant (a render holds its store's lock for the whole run
while each of its appends takes it again, possibly from a timer thread).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from annotations.errors import StoreError


class LockHeld(StoreError):
    """Another process is writing the same thing."""


_held: dict[str, list[int]] = {}  # resolved lock path -> [fd, depth]
_guard = threading.Lock()
_operations: dict[str, threading.Lock] = {}


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    pid, _, what = text.partition(" ")
    return f"PID {pid} ({what or 'a writer'})" if pid.isdigit() else "another process (PID unknown)"


@contextmanager
def exclusive(lock_file: str | os.PathLike, what: str, subject: str) -> Iterator[None]:
    """Hold the lock ``lock_file`` (created if missing) while the block runs.

    ``what`` says what this process is doing (written into the lock file for the message another writer
    gets); ``subject`` names what is locked in that message ("store data/x").
    """
    path = Path(lock_file)
    key = str(path.resolve())
    with _guard:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LockHeld(f"{subject} is in use by {_holder(path)}; wait for it to finish, then run again") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {what}\n".encode("utf-8", "replace"), 0)
            _held[key] = [fd, 1]
    try:
        yield
    finally:
        with _guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                fcntl.flock(entry[0], fcntl.LOCK_UN)
                os.close(entry[0])


def operation_lock(lock_file: str | os.PathLike) -> threading.Lock:
    """A lock that serialises one store's write operations between the threads of this process."""
    key = str(Path(lock_file).resolve())
    with _guard:
        return _operations.setdefault(key, threading.Lock())
