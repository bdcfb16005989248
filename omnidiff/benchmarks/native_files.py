"""Files of the CLEVR native layouts, read and written the way their own code does.

Their training code lists an image folder sorted and indexes the listing with the split file's
integer numbers; other code resolves a number to a file name. ``check_listing`` makes sure both give
the same file, and names what is missing, so a damaged download fails instead of shifting pairs.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable, Iterable

from annotations.errors import OmniDiffError
from omnidiff.benchmarks.base import BenchmarkError, read_json


class NativeLayoutError(BenchmarkError):
    """A native layout whose files disagree with its index files."""


def image_number(name: object) -> int | None:
    """``'000123.png'``, ``'CLEVR_default_000123.png'``, ``'123.png'`` -> 123 (``int(x.split('.')[0])`` style)."""
    if not isinstance(name, str):
        return None
    digits = name.rsplit(".", 1)[0].split("_")[-1]
    return int(digits) if digits.isdigit() else None


def read_split_numbers(path: Path, splits: Iterable[str]) -> list[tuple[str, int]]:
    """(split, number) for the chosen splits of a ``splits.json``/``split.json`` of integer image numbers."""
    value = read_json(path, path.name)
    if not isinstance(value, dict):
        raise NativeLayoutError(f"{path}: expected a JSON object")
    chosen = []
    for split in splits:
        numbers = value.get(split, [])
        if not isinstance(numbers, list):
            raise NativeLayoutError(f"{path}: {split!r} must be a list of image numbers")
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise NativeLayoutError(f"{path}: {number!r} is not an image number")
            chosen.append((split, number))
    return chosen


def check_listing(folder: Path, listing: list[str], numbers: Iterable[int], name_of: Callable[[int], str],
                  index_file: str) -> None:
    """Every number names a file of ``folder``, and the sorted ``listing`` holds it at that position."""
    numbers = list(numbers)
    present = set(listing)
    missing = [name_of(n) for n in numbers if name_of(n) not in present]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NativeLayoutError(f"image file not found: {folder / missing[0]}{more}, named by {index_file}")
    for n in numbers:
        if listing[n] != name_of(n):
            raise NativeLayoutError(
                f"{folder}: the sorted listing disagrees with {index_file}: position {n} holds {listing[n]!r} but "
                f"number {n} names {name_of(n)!r} (an extra or a missing file); loaders that index the listing "
                "would read other images, so the download is refused")


def write_png(path: Path, data: bytes | None, pair_id: str) -> None:
    """The stored bytes when they are PNG already (pixels and bytes kept), else the image re-encoded as PNG."""
    if not data:
        raise OmniDiffError(f"pair {pair_id}: the store holds no image for {path.name}")
    if not data.startswith(b"\x89PNG"):
        from PIL import Image

        buf = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(buf, format="PNG")
        data = buf.getvalue()
    path.write_bytes(data)


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")
