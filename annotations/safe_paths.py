"""File names read from user data (manifests, annotation files, folder scans) stay inside their folder.

Two rules, shared by ``ingest pairs`` and ``benchmarks prepare``: a name written in a file is
relative and never climbs (``..``), and a path followed through symlinks still ends inside the
folder it is relative to (a symlink leading elsewhere, or a symlink loop, is reported, never
followed out). The folder itself may be a symlink: what counts is where its names lead.
"""

from __future__ import annotations

import errno
import os
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from annotations.errors import OmniDiffError


def relative_parts(name: Any, what: str, error: type[OmniDiffError] = OmniDiffError) -> tuple[str, ...]:
    """The parts of a relative file name; empty, absolute and climbing names raise ``error``."""
    if not isinstance(name, str) or not name.strip():
        raise error(f"{what}: file name {name!r} is not a non-empty string")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith(("/", "\\")):
        raise error(f"{what}: absolute file name {name!r} refused (names must stay inside the source)")
    if ".." in posix.parts or ".." in windows.parts:
        raise error(f"{what}: file name {name!r} climbs out of the source folder; refused")
    if "\x00" in name:
        raise error(f"{what}: file name {name!r} holds a NUL character; refused")
    return tuple(p for p in posix.parts if p != ".")


@lru_cache(maxsize=256)
def real_folder(folder: str) -> str:
    """Where a source folder really is, resolved once per process (a prepare checks ~10^5 names
    against a handful of folders; where the folder itself leads is allowed to be anywhere)."""
    return os.path.realpath(folder)


def escape_reason(root: Path, path: Path) -> str | None:
    """None when ``path`` (below ``root``), symlinks followed, ends inside ``root``; else why not.

    Only the components below ``root`` are examined (one ``lstat`` each), so the common case of
    plain files costs little; a symlink among them is resolved in full.
    """
    root_real = real_folder(os.fspath(root))
    try:
        rel = Path(path).relative_to(root)
    except ValueError:
        return f"outside {root}"
    current = root_real
    for part in rel.parts:
        current = os.path.join(current, part)
        if os.path.islink(current):
            break
    else:
        return None
    joined = os.path.join(root_real, *rel.parts)
    try:
        target = os.path.realpath(joined, strict=True)
    except FileNotFoundError:  # where it leads does not exist (yet): judge the place, the caller finds it missing
        target = os.path.realpath(joined)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        return f"an unreadable symlink ({exc.strerror})"
    if os.path.commonpath([root_real, target]) != root_real:
        return f"a symlink leading outside {root}"
    return None
