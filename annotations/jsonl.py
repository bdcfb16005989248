"""JSON Lines, read one way everywhere: a line ends at ``\\n`` and nowhere else.

Why one reader: ``str.splitlines`` also ends lines at U+2028, U+2029, U+0085, ``\\x0b``, ``\\x0c``
and ``\\x1c``-``\\x1e``, which JSON strings may hold unescaped (``json.dumps(..., ensure_ascii=False)``
writes them raw). A caption holding one would be torn in two by ``splitlines``. Every JSONL file
of the toolkit (predictions, references, ingest manifests, the annotation log, training logs) is
read through this module; writers may escape or not, readers split on ``\\n`` only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, AnyStr, Iterator

from annotations.errors import OmniDiffError

_JSON_WHITESPACE = " \t\r"  # with "\n", the only whitespace JSON allows between tokens


class JsonLinesError(OmniDiffError):
    """A JSON Lines file that cannot be read as such (one line saying where)."""


def split_lines(data: AnyStr) -> Iterator[tuple[int, AnyStr]]:
    """(line number from 1, line) for each line of text or bytes that is not blank; a ``\\r`` before
    ``\\n`` is kept (JSON ignores it)."""
    if isinstance(data, str):
        newline, blank = "\n", _JSON_WHITESPACE
    else:
        newline, blank = b"\n", _JSON_WHITESPACE.encode()
    for lineno, line in enumerate(data.split(newline), start=1):
        if line.strip(blank):
            yield lineno, line


def parse_lines(text: str, where: str, error: type[OmniDiffError] = JsonLinesError) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line of ``text``; a line that is not JSON raises
    ``error`` naming ``where:line``."""
    for lineno, line in split_lines(text):
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}:{lineno}: not valid JSON ({exc.msg})") from None


def read_text(path: str | Path, error: type[OmniDiffError] = JsonLinesError) -> str:
    """A regular file's UTF-8 text; anything else (missing, a folder, a FIFO, not UTF-8) raises ``error``."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: no such file")
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise error(f"{path}: is {kind}, expected a file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_lines(path: str | Path, error: type[OmniDiffError] = JsonLinesError) -> list[tuple[int, Any]]:
    """Every (line number, value) of a JSON Lines file."""
    return list(parse_lines(read_text(path, error), str(path), error))


def dumps_line(value: Any) -> str:
    """One JSON line with its ``\\n``; non-ASCII text is kept as is (readers split on ``\\n`` only)."""
    return json.dumps(value, ensure_ascii=False) + "\n"
