"""What a store folder holds and what its manifest says: the names that the store, ``validate`` and
``compact`` share, and the one reading of a manifest that they all apply.

    STORE/omnidiff.json                  the manifest: the commit point (schema version, shards, counts, info)
    STORE/data/<split>-NNNNN.parquet     shards; only plain names inside data/, never paths that leave it
    STORE/annotations/log.jsonl          human annotations, append-only (annotations/annotation_log.py)
    STORE/.omnidiff-index.sqlite         pair id -> shard and row; derived from the shards, rebuilt when stale
    STORE/.omnidiff.lock                 the writers' lock (annotations/locks.py)

A shard file that the manifest does not list does not exist for readers: a crash between writing a
shard and committing the manifest leaves such a file, which ``validate`` notes and the next writer removes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from annotations.durable import TEMP_SUFFIX
from annotations.errors import StoreError
from annotations.schema import KNOWN_SCHEMA_VERSIONS, SPLITS

MANIFEST = "omnidiff.json"
DATA_DIR = "data"
ANNOTATION_LOG = "annotations/log.jsonl"
INDEX = ".omnidiff-index.sqlite"
LOCK = ".omnidiff.lock"

# manifest keys
SCHEMA_VERSION_KEY = "schema_version"
SHARDS_KEY = "shards"
COUNTS_KEY = "counts"
INFO_KEY = "info"
NEXT_SHARD_KEY = "next_shard"  # shard sequence numbers are never reused, so a name always means one content

SHARD_NAME = re.compile(r"^(train|val|test)-[0-9]{5,9}\.parquet$")


@dataclass(frozen=True)
class ShardInfo:
    """One manifest entry. ``bytes`` and ``sha256`` (of the whole file) are recorded from schema version 2 on."""

    file: str  # relative to the store root, e.g. "data/train-00000.parquet"
    split: str
    rows: int
    bytes: int | None = None
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"file": self.file, "split": self.split, "rows": self.rows}
        if self.bytes is not None:
            entry.update(bytes=self.bytes, sha256=self.sha256)
        return entry


def shard_file(split: str, seq: int) -> str:
    return f"{DATA_DIR}/{split}-{seq:05d}.parquet"


def shard_file_problem(rel: Any) -> str | None:
    """Why a manifest's shard path is not acceptable (None when it is): only ``data/<split>-NNNNN.parquet``."""
    if not isinstance(rel, str):
        return f"shard path {rel!r} is not a string"
    head, sep, name = rel.partition("/")
    if head != DATA_DIR or not sep or not SHARD_NAME.match(name):
        return f"shard path {rel!r} is not a plain shard name inside {DATA_DIR}/ (like {shard_file('train', 0)})"
    return None


def parse_shard_entry(entry: Any, version: int) -> ShardInfo:
    """A manifest shard entry, checked (raises ValueError with the reason)."""
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    problem = shard_file_problem(entry.get("file"))
    if problem:
        raise ValueError(problem)
    split, rows = entry.get("split"), entry.get("rows")
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    if not entry["file"].startswith(f"{DATA_DIR}/{split}-"):
        raise ValueError(f"file {entry['file']!r} does not match its split {split!r}")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise ValueError(f"rows {rows!r} is not a count")
    size, digest = entry.get("bytes"), entry.get("sha256")
    if version >= 2:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"bytes {size!r} is not a size")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError(f"sha256 {digest!r} is not a SHA-256 hex digest")
    return ShardInfo(entry["file"], split, rows, size if version >= 2 else None, digest if version >= 2 else None)


def parse_manifest(data: Any, where: str) -> tuple[dict[str, Any], list[ShardInfo]]:
    """The manifest as readers and writers accept it; raises StoreError naming the first defect."""
    if not isinstance(data, dict):
        raise StoreError(f"{where}: manifest is not a JSON object")
    version = data.get(SCHEMA_VERSION_KEY)
    if version not in KNOWN_SCHEMA_VERSIONS:
        raise StoreError(f"{where}: schema version {version!r} is not one this toolkit knows {list(KNOWN_SCHEMA_VERSIONS)}")
    entries = data.get(SHARDS_KEY)
    if not isinstance(entries, list):
        raise StoreError(f"{where}: manifest has no shard list")
    shards: list[ShardInfo] = []
    for entry in entries:
        try:
            shards.append(parse_shard_entry(entry, version))
        except ValueError as exc:
            raise StoreError(f"{where}: malformed shard entry {json.dumps(entry)[:200]} ({exc})") from None
    seen = Counter(s.file for s in shards)
    twice = [f for f, n in seen.items() if n > 1]
    if twice:
        raise StoreError(f"{where}: shard {twice[0]} is listed twice")
    return data, shards


def read_manifest(root: Path) -> tuple[dict[str, Any], list[ShardInfo]]:
    path = Path(root) / MANIFEST
    if not Path(root).is_dir():
        raise StoreError(f"{root}: no such store folder")
    if not path.is_file():
        raise StoreError(f"{root}: not a store ({MANIFEST} is missing)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: manifest is not valid JSON ({exc})") from None
    return parse_manifest(data, str(path))


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"


# -- counts ------------------------------------------------------------------------------------
def empty_counts() -> dict[str, Any]:
    return {"pairs": 0, "split": {}, "domain": {}, "change_type": {}}


def count_rows(table: pa.Table) -> dict[str, Any]:
    """Counts kept in the manifest: total and by split, domain and change type."""
    cols = table.select(["split", "domain", "change_types"]).to_pydict()
    by_type: Counter[str] = Counter()
    for types in cols["change_types"]:
        by_type.update(types or [])
    return {
        "pairs": table.num_rows,
        "split": dict(sorted(Counter(cols["split"]).items())),
        "domain": dict(sorted(Counter(cols["domain"]).items())),
        "change_type": dict(sorted(by_type.items())),
    }


def add_counts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The counts of two disjoint sets of rows together (what an append adds to the manifest)."""
    out: dict[str, Any] = {"pairs": int(a.get("pairs", 0)) + int(b.get("pairs", 0))}
    for key in ("split", "domain", "change_type"):
        merged = Counter(a.get(key) or {})
        merged.update(b.get(key) or {})
        out[key] = dict(sorted((k, v) for k, v in merged.items() if v))
    return out


# -- files in data/ ------------------------------------------------------------------------------
def leftover_files(root: Path, listed: set[str]) -> list[Path]:
    """What an interrupted writer leaves in ``data/``: its hidden temporary files and shard-named files the
    manifest does not list. Nothing else: a file of another name, or anything outside ``data/``, is never ours."""
    data = Path(root) / DATA_DIR
    if not data.is_dir():
        return []
    return [p for p in sorted(data.iterdir())
            if (p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX))
            or (SHARD_NAME.match(p.name) and f"{DATA_DIR}/{p.name}" not in listed)]


# -- writing next to a store -------------------------------------------------------------------
def enclosing_store(path: str | Path) -> Path | None:
    """The store folder that ``path`` lies in (at any depth), or None."""
    here = Path(path).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file() and (folder / DATA_DIR).is_dir():
            return folder
    return None


def refuse_inside_store(out: str | Path, option: str = "--out") -> None:
    """Commands that write a report or an image must not write into a store (its manifest, its shards)."""
    store = enclosing_store(Path(out).parent if not Path(out).is_dir() else out)
    if store is not None:
        raise StoreError(f"{option} {out}: is inside the store {store}; write it somewhere else")
