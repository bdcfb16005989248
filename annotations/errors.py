"""Errors a user can fix. The command line prints them as one line and exits 1."""

from __future__ import annotations

import errno
import os
from pathlib import Path


class OmniDiffError(Exception):
    """A failure the user can fix (bad input, missing file, missing tool): one-line message."""


class StoreError(OmniDiffError):
    """A store cannot be created, opened or written as asked."""


class UnknownChangeType(OmniDiffError, KeyError):
    """A change-type label that is neither a taxonomy key nor one of its aliases."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown change type"


def file_in_the_way(path: str | os.PathLike) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is not a folder (so nothing can be made below it)."""
    for parent in Path(path).parents:
        if parent.exists() or parent.is_symlink():
            return None if parent.is_dir() else parent
    return None


_OS_REASONS = {
    errno.EISDIR: "is a folder; give a file name",
    errno.EEXIST: "already exists",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ENOENT: "no such file or folder",
    errno.ELOOP: "too many levels of symbolic links",
}


def describe_os_error(exc: OSError) -> str | None:
    """One line for a failed file operation that names a path (None when it names none): what the
    user asked to read or write, and why it cannot be, instead of ``NotADirectoryError: [Errno 20] ...``."""
    name = exc.filename2 if exc.errno == errno.EISDIR and exc.filename2 is not None else exc.filename
    if name is None:
        return None
    path = os.fsdecode(name) if isinstance(name, bytes) else str(name)
    if exc.errno == errno.ENOTDIR:
        blocker = file_in_the_way(path)
        why = f"{blocker} is a file, not a folder" if blocker is not None else "a part of the path is not a folder"
        return f"cannot use {path}: {why}"
    if exc.errno == errno.EEXIST and Path(path).exists() and not Path(path).is_dir():
        return f"cannot use {path} as a folder: it is a file"  # what mkdir(exist_ok=True) means by it
    reason = _OS_REASONS.get(exc.errno or -1) or (exc.strerror or type(exc).__name__).lower()
    return f"{path}: {reason}"
