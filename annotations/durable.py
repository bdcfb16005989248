"""The one way this toolkit commits a file or a folder to disk.

The durability rule, for every file the toolkit writes as a unit (store shards and manifests, result
files, checkpoints, caches, exported folders): the new content is written under a hidden temporary name
in the destination's own folder, flushed and fsync'd, renamed onto the final name, and the folder is
fsync'd. A reader therefore sees the old version or the new one, never a mix, and once the call returns
the new version survives a killed process and a power cut. Nothing else in the code base renames data
into place; append-only logs (the annotation log, SQLite caches) have their own, documented, rules.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO, Callable, TypeVar

T = TypeVar("T")
TEMP_SUFFIX = ".tmp"


def temp_name(path: Path) -> Path:
    """A hidden, unique sibling of ``path`` (``.NAME.<hex>.tmp``), so leftovers are easy to recognise."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, data: bytes | Callable[[BinaryIO], T]) -> T | None:
    """Commit ``data`` (bytes, or a function that writes into the open file) to ``path`` by the rule above.

    Creates missing parent folders. Returns what the writer function returned (``None`` for bytes).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    result = None
    try:
        with open(tmp, "wb") as fh:
            if isinstance(data, (bytes, bytearray, memoryview)):
                fh.write(data)
            else:
                result = data(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return result


def _fsync_tree(folder: Path) -> None:
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def staging_folder(final: str | os.PathLike) -> Path:
    """A hidden, unique sibling folder to build ``final`` in (created); commit it with ``replace_folder``."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = temp_name(final)
    staging.mkdir()
    return staging


def replace_folder(staging: str | os.PathLike, final: str | os.PathLike, *, replace_existing: bool = False) -> None:
    """Commit a folder built in ``staging`` (a sibling of ``final``) by the same rule: fsync every file in it,
    rename it onto ``final`` (which must be absent or an empty folder unless ``replace_existing``), fsync the parent.

    With ``replace_existing`` an existing ``final`` is removed first: the one moment where neither version is
    in place, so callers use it only for folders that can be made again (a checkpoint of a step being redone).
    """
    staging, final = Path(staging), Path(final)
    if staging.parent.resolve() != final.parent.resolve():
        raise ValueError(f"{staging} must be built beside {final}")
    _fsync_tree(staging)
    if final.is_dir() and not final.is_symlink():
        if any(final.iterdir()):
            if not replace_existing:
                raise FileExistsError(f"{final}: exists and is not empty")
            shutil.rmtree(final)
        else:
            final.rmdir()
    os.replace(staging, final)
    fsync_dir(final.parent)


def discard_folder(staging: str | os.PathLike) -> None:
    """Remove a staging folder that will not be committed (after a failure)."""
    shutil.rmtree(staging, ignore_errors=True)
