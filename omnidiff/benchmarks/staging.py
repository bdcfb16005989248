"""A folder written whole or not at all: prepared stores and native-layout exports build in a hidden
sibling folder that is renamed onto the target only when complete, so a failure or a kill never leaves
half a store or half an export under the name the user asked for."""

from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from annotations.durable import replace_folder
from annotations.errors import OmniDiffError


def check_new_folder(out: Path, option: str = "--out") -> None:
    """``out`` must not exist, or be an empty folder: nothing the user has is ever replaced."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OmniDiffError(f"{option} {out}: already exists and is not an empty folder; choose a new {option}")


@contextmanager
def staged_folder(out: Path, purpose: str, option: str = "--out") -> Iterator[Path]:
    """Yield a hidden sibling of ``out`` to fill; on success it becomes ``out``, on any error it is removed."""
    out = Path(out)
    check_new_folder(out, option)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.{purpose}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        check_new_folder(out, option)  # someone may have written there meanwhile
        replace_folder(staging, out)  # fsyncs what was staged, renames, fsyncs the parent (annotations.durable)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
