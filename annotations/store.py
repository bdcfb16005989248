"""The Parquet store: a folder with ``omnidiff.json`` and ``data/<split>-NNNNN.parquet`` shards.

The manifest is the commit point. ``append`` writes each shard under a hidden temporary name,
fsyncs it, renames it to its final name and only then rewrites the manifest (again temp, fsync,
rename). A writer killed at any moment therefore leaves the store as it was before that append:
a hidden ``.tmp`` file or, at worst, a complete shard the manifest does not list, which readers
ignore, ``validate`` reports as a note and the next ``append`` removes.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from annotations.errors import StoreError
from annotations.schema import (
    IMAGE_COLUMNS,
    METADATA_COLUMNS,
    SCHEMA_VERSION,
    SPLITS,
    PairRecord,
    records_to_table,
)

MANIFEST = "omnidiff.json"
ANNOTATION_LOG = "annotations/log.jsonl"  # human annotations, append-only (annotations/annotation_log.py)
DATA_DIR = "data"
LOCK = ".omnidiff.lock"
ROW_GROUP_ROWS = 64


@dataclass(frozen=True)
class ShardInfo:
    file: str  # relative to the store root, e.g. "data/train-00000.parquet"
    split: str
    rows: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes under a temporary name, fsync, rename: readers see the old or the new file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_parquet(table: pa.Table, sink) -> None:
    """Write a shard: PNG/JPEG bytes are stored uncompressed (they are compressed already, and
    zstd on them costs 4x in write and read time for nothing); metadata columns use zstd."""
    compression: dict[str, str] = {}
    for name in table.column_names:
        if name in IMAGE_COLUMNS:
            compression[f"{name}.bytes"] = "none"
            compression[f"{name}.path"] = "zstd"
        elif name == "boxes":
            for leaf in ("image", "label", "x0", "y0", "x1", "y1"):
                compression[f"boxes.list.element.{leaf}"] = "zstd"
        elif name in ("change_types", "captions"):
            compression[f"{name}.list.element"] = "zstd"
        else:
            compression[name] = "zstd"
    dictionary = [c for c in ("scene_id", "benchmark", "split", "domain", "setting", "native_change_type", "license", "source")
                  if c in table.column_names]
    # min/max statistics of image bytes are useless and cost 3/4 of the write time
    statistics = [c for c in table.column_names if c not in IMAGE_COLUMNS]
    pq.write_table(table, sink, row_group_size=ROW_GROUP_ROWS, compression=compression, use_dictionary=dictionary,
                   write_statistics=statistics)


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


def leftover_files(root: Path, listed: set[str]) -> list[Path]:
    """What an interrupted append leaves in ``data/``: hidden ``.tmp`` files and shards the manifest
    does not list. Readers ignore them, ``validate`` notes them, the next ``append`` removes them."""
    data = root / DATA_DIR
    if not data.is_dir():
        return []
    return [p for p in sorted(data.iterdir())
            if p.name.endswith(".tmp") or (p.suffix == ".parquet" and f"{DATA_DIR}/{p.name}" not in listed)]


SHARD_IMAGE_BYTES = 1 << 30


def _image_bytes(rec: PairRecord) -> int:
    return sum(len(v) for v in (rec.image_before, rec.image_after, rec.mask_before, rec.mask_after)
               if isinstance(v, (bytes, bytearray)))


def _chunks_by_image_bytes(records: list[PairRecord]) -> list[list[PairRecord]]:
    """Split one append into shards of at most ~1 GiB of image bytes (Arrow binary offsets are int32)."""
    chunks: list[list[PairRecord]] = [[]]
    size = 0
    for rec in records:
        n = _image_bytes(rec)
        if chunks[-1] and size + n > SHARD_IMAGE_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(rec)
        size += n
    return chunks


class Store:
    """A folder of pair records. Use ``Store.create`` or ``Store.open``, not the constructor."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = Path(root)
        self.manifest = manifest

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, name: str | None = None, info: dict[str, Any] | None = None) -> "Store":
        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise StoreError(f"{root}: already exists and is not an empty folder; choose a new --out")
        (root / DATA_DIR).mkdir(parents=True, exist_ok=True)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "name": name or root.name,
            "shards": [],
            "counts": {"pairs": 0, "split": {}, "domain": {}, "change_type": {}},
            "info": dict(info or {}),
        }
        store = cls(root, manifest)
        store._write_manifest()
        return store

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Store":
        root = Path(path)
        mpath = root / MANIFEST
        if not root.is_dir():
            raise StoreError(f"{root}: no such store folder")
        if not mpath.is_file():
            raise StoreError(f"{root}: not a store ({MANIFEST} is missing)")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(f"{mpath}: manifest is not valid JSON ({exc})") from None
        version = manifest.get("schema_version") if isinstance(manifest, dict) else None
        if version != SCHEMA_VERSION:
            raise StoreError(f"{mpath}: schema version {version!r} is not one this toolkit knows ({SCHEMA_VERSION})")
        return cls(root, manifest)

    @classmethod
    def open_or_create(cls, path: str | os.PathLike, name: str | None = None) -> "Store":
        root = Path(path)
        if (root / MANIFEST).is_file():
            return cls.open(root)
        return cls.create(root, name=name)

    # -- reading -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest.get("name", self.root.name)

    @property
    def info(self) -> dict[str, Any]:
        return self.manifest.setdefault("info", {})

    @property
    def shards(self) -> list[ShardInfo]:
        return [ShardInfo(s["file"], s["split"], int(s["rows"])) for s in self.manifest.get("shards", [])]

    def __len__(self) -> int:
        return sum(s.rows for s in self.shards)

    def _shard_paths(self, split: str | None = None) -> list[Path]:
        return [self.root / s.file for s in self.shards if split is None or s.split == split]

    def _read(self, path: Path, columns: list[str] | None) -> pa.Table:
        try:
            return pq.read_table(path, columns=columns)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{path.relative_to(self.root)}: cannot read shard ({exc})") from None

    def table(self, columns: list[str] | tuple[str, ...] | None = METADATA_COLUMNS, split: str | None = None) -> pa.Table:
        """All rows as one Arrow table; by default without the image columns (nothing decoded)."""
        cols = list(columns) if columns is not None else None
        tables = [self._read(p, cols) for p in self._shard_paths(split)]
        if not tables:
            from annotations.schema import arrow_schema

            schema = arrow_schema()
            if cols is not None:
                schema = pa.schema([schema.field(c) for c in cols])
            return schema.empty_table()
        return pa.concat_tables(tables)

    def pair_ids(self, split: str | None = None) -> list[str]:
        return self.table(["pair_id"], split=split).column("pair_id").to_pylist()

    def records(
        self,
        split: str | None = None,
        decode_images: bool = False,
        columns: list[str] | None = None,
        pair_ids: set[str] | None = None,
    ) -> Iterator[PairRecord]:
        """Records in store order, streamed a row group at a time.

        Human annotations made with ``omnidiff annotate`` (an append-only log beside the shards)
        are applied on read: the latest entry of a pair gives its captions and change types.
        """
        overlay = self._annotation_overlay()
        for rec in self._stored_records(split, decode_images, columns, pair_ids):
            entry = overlay.get(rec.pair_id)
            if entry is not None:
                rec.captions = list(entry["captions"])
                rec.change_types = list(entry["change_types"])
            yield rec

    def _annotation_overlay(self) -> dict[str, dict[str, Any]]:
        if not (self.root / ANNOTATION_LOG).is_file():
            return {}
        from annotations.annotation_log import AnnotationLog

        return AnnotationLog(self.root).latest()

    def _stored_records(
        self, split: str | None, decode_images: bool, columns: list[str] | None, pair_ids: set[str] | None
    ) -> Iterator[PairRecord]:
        for path in self._shard_paths(split):
            try:
                pf = pq.ParquetFile(path)
                batches = pf.iter_batches(batch_size=ROW_GROUP_ROWS, columns=columns)
                for batch in batches:
                    for row in batch.to_pylist():
                        if pair_ids is not None and row["pair_id"] not in pair_ids:
                            continue
                        yield PairRecord.from_row(row, decode_images=decode_images)
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(f"{path.relative_to(self.root)}: cannot read shard ({exc})") from None

    def get(self, pair_id: str, decode_images: bool = False) -> PairRecord:
        for rec in self.records(decode_images=decode_images, pair_ids={pair_id}):
            return rec
        raise StoreError(f"{self.root}: no pair {pair_id!r}")

    def validate(self, check_images: bool = True):
        """Problems found by a full integrity check (empty when sound); never modifies the store."""
        from annotations.validate import validate_store

        return validate_store(self.root, check_images=check_images).problems

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.root / LOCK, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _reload(self) -> None:
        self.manifest = Store.open(self.root).manifest

    def _write_manifest(self) -> None:
        data = json.dumps(self.manifest, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        write_atomic(self.root / MANIFEST, data)

    def _remove_leftovers(self) -> None:
        """Delete hidden temp files and unlisted shards that an interrupted append left behind."""
        for path in leftover_files(self.root, {s.file for s in self.shards}):
            path.unlink(missing_ok=True)

    def update_info(self, **values: Any) -> None:
        """Merge keys into the manifest's ``info`` (generator settings, failed scenes...)."""
        with self._locked():
            self._reload()
            self.info.update(values)
            self._write_manifest()

    def append(self, records: list[PairRecord]) -> list[ShardInfo]:
        """Add records as one shard per split present; refuses pair ids already in the store."""
        records = list(records)
        if not records:
            return []
        for rec in records:
            if rec.split not in SPLITS:
                raise StoreError(f"pair {rec.pair_id!r}: split {rec.split!r} is not one of {', '.join(SPLITS)}")
        dupes = [pid for pid, n in Counter(r.pair_id for r in records).items() if n > 1]
        if dupes:
            raise StoreError(f"duplicate pair id in the records to append: {dupes[0]!r}")
        with self._locked():
            self._reload()
            existing = set(self.pair_ids())
            clash = next((r.pair_id for r in records if r.pair_id in existing), None)
            if clash is not None:
                raise StoreError(f"{self.root}: pair id {clash!r} is already in the store")
            self._remove_leftovers()
            by_split: dict[str, list[PairRecord]] = {}
            for rec in records:
                by_split.setdefault(rec.split, []).append(rec)
            seq = len(self.manifest["shards"])
            written: list[tuple[Path, Path, ShardInfo, pa.Table]] = []
            chunks = [(split, chunk) for split, recs in by_split.items() for chunk in _chunks_by_image_bytes(recs)]
            for split, recs in chunks:
                table = records_to_table(recs)
                rel = f"{DATA_DIR}/{split}-{seq:05d}.parquet"
                seq += 1
                final = self.root / rel
                tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
                with open(tmp, "wb") as fh:
                    write_parquet(table, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                written.append((tmp, final, ShardInfo(rel, split, table.num_rows), table))
            for tmp, final, _, _ in written:
                os.replace(tmp, final)
            _fsync_dir(self.root / DATA_DIR)
            for _, _, shard, _ in written:
                self.manifest["shards"].append(vars(shard))
            self.manifest["counts"] = count_rows(self.table(["split", "domain", "change_types"]))
            self._write_manifest()
            return [shard for _, _, shard, _ in written]
