"""The Parquet store: a folder with ``omnidiff.json`` and ``data/<split>-NNNNN.parquet`` shards
(``annotations/layout.py`` names everything in it).

The manifest is the commit point. ``append`` commits each new shard (``durable.write_atomic``: temp
name, fsync, rename), indexes it, and only then rewrites the manifest the same way, with the counts
updated by the new rows alone. A writer killed at any moment leaves the store as it was before that
append: a hidden ``.tmp`` file or a complete shard the manifest does not list, which readers ignore,
``validate`` notes and the next writer removes. An append costs the rows it adds: the pair-id index
(``pair_index.py``) answers "is this id stored?" and "where is this pair?" without reading the store.

One view: readers see the pairs with the human-annotation log applied (``view.py``); the stored values
only with ``annotated=False``. Writers hold the store's lock (``locks.py``): a second writing process
gets a one-line error naming the first one's PID.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from annotations import shards as shard_io
from annotations.durable import write_atomic
from annotations.errors import StoreError
from annotations.layout import (
    COUNTS_KEY,
    DATA_DIR,
    INFO_KEY,
    LOCK,
    MANIFEST,
    NEXT_SHARD_KEY,
    SCHEMA_VERSION_KEY,
    SHARDS_KEY,
    ShardInfo,
    add_counts,
    count_rows,
    empty_counts,
    leftover_files,
    manifest_bytes,
    read_manifest,
    shard_file,
)
from annotations.locks import exclusive, operation_lock
from annotations.pair_index import PairIndex
from annotations.schema import (
    IMAGE_COLUMNS,
    IMAGE_HASH_COLUMN,
    METADATA_COLUMNS,
    SCHEMA_VERSION,
    SPLITS,
    PairRecord,
    arrow_schema,
    columns_for,
    image_format,
    pair_id_problem,
    records_to_table,
    sha256_hex,
)
from annotations.taxonomy import TAXONOMY
from annotations.view import Overlay, apply_to_record, apply_to_table, changed_pairs, current_annotations

__all__ = ["Store", "ShardInfo"]

BEFORE_AFTER = ("image_before", "image_after")
STREAM_BATCH_ROWS = 64  # records() holds this many rows (with their images) at a time


def _image_bytes(rec: PairRecord) -> int:
    return sum(len(v) for v in (rec.image_before, rec.image_after, rec.mask_before, rec.mask_after)
               if isinstance(v, (bytes, bytearray)))


def _check_records(records: list[PairRecord]) -> None:
    """What append refuses before it writes anything (the checks that need no image decoding)."""
    for rec in records:
        problem = pair_id_problem(rec.pair_id)
        if problem:
            raise StoreError(f"pair {rec.pair_id!r}: {problem}")
        if rec.split not in SPLITS:
            raise StoreError(f"pair {rec.pair_id!r}: split {rec.split!r} is not one of {', '.join(SPLITS)}")
        unknown = [t for t in rec.change_types if t not in TAXONOMY]
        if unknown:
            raise StoreError(f"pair {rec.pair_id!r}: change type {unknown[0]!r} is not a taxonomy key")
    dupes = [pid for pid, n in Counter(r.pair_id for r in records).items() if n > 1]
    if dupes:
        raise StoreError(f"duplicate pair id in the records to append: {dupes[0]!r}")


def _check_image_formats(table: pa.Table) -> None:
    for name in IMAGE_COLUMNS:
        heads = pc.binary_slice(pc.struct_field(table.column(name), "bytes"), 0, 8).to_pylist()
        for pid, head in zip(table.column("pair_id").to_pylist(), heads):
            if head is not None and image_format(head) is None:
                raise StoreError(f"pair {pid!r}: {name} is neither PNG nor JPEG (the store holds only these)")


class Store:
    """A folder of pair records. Use ``Store.create`` or ``Store.open``, not the constructor."""

    def __init__(self, root: Path, manifest: dict[str, Any], shards: list[ShardInfo]) -> None:
        self.root = Path(root)
        self.manifest = manifest
        self._shards = shards
        self._index: PairIndex | None = None
        self._index_synced = False
        self._files: dict[str, tuple[pq.ParquetFile, np.ndarray]] = {}
        self._io = threading.RLock()

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, name: str | None = None, info: dict[str, Any] | None = None) -> "Store":
        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise StoreError(f"{root}: already exists and is not an empty folder; choose a new --out")
        (root / DATA_DIR).mkdir(parents=True, exist_ok=True)
        manifest = {
            SCHEMA_VERSION_KEY: SCHEMA_VERSION,
            "name": name or root.name,
            SHARDS_KEY: [],
            COUNTS_KEY: empty_counts(),
            INFO_KEY: dict(info or {}),
            NEXT_SHARD_KEY: 0,
        }
        store = cls(root, manifest, [])
        store._write_manifest()
        return store

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Store":
        root = Path(path)
        manifest, shards = read_manifest(root)
        return cls(root, manifest, shards)

    @classmethod
    def open_or_create(cls, path: str | os.PathLike, name: str | None = None) -> "Store":
        root = Path(path)
        if (root / MANIFEST).is_file():
            return cls.open(root)
        return cls.create(root, name=name)

    def close(self) -> None:
        with self._io:
            if self._index is not None:
                self._index.close()
                self._index = None
            self._files.clear()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the manifest says -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest.get("name", self.root.name)

    @property
    def info(self) -> dict[str, Any]:
        return self.manifest.setdefault(INFO_KEY, {})

    @property
    def schema_version(self) -> int:
        return int(self.manifest[SCHEMA_VERSION_KEY])

    @property
    def columns(self) -> tuple[str, ...]:
        return columns_for(self.schema_version)

    @property
    def shards(self) -> list[ShardInfo]:
        return list(self._shards)

    def __len__(self) -> int:
        return sum(s.rows for s in self._shards)

    def _listed(self, split: str | None = None) -> list[ShardInfo]:
        return [s for s in self._shards if split is None or s.split == split]

    def counts(self, annotated: bool = True) -> dict[str, Any]:
        """Pairs in total and by split, domain and change type (of the annotated view by default)."""
        overlay = current_annotations(self.root) if annotated else {}
        if not overlay:
            return dict(self.manifest.get(COUNTS_KEY) or empty_counts())
        return count_rows(self.table(["split", "domain", "change_types"]))

    # -- reading -----------------------------------------------------------------------------
    def _check_columns(self, columns: Iterable[str]) -> None:
        unknown = [c for c in columns if c not in self.columns]
        if unknown:
            raise StoreError(f"{self.root}: no column {unknown[0]!r} in a schema version {self.schema_version} store")

    def table(self, columns: Sequence[str] | None = METADATA_COLUMNS, split: str | None = None,
              annotated: bool = True) -> pa.Table:
        """All rows (of a split) as one Arrow table; by default the metadata columns, no image read."""
        cols = list(columns) if columns is not None else list(self.columns)
        self._check_columns(cols)
        overlay = current_annotations(self.root) if annotated else {}
        read = cols if not overlay or "pair_id" in cols else [*cols, "pair_id"]
        tables = [shard_io.read_shard(self.root, s.file, read, self.schema_version) for s in self._listed(split)]
        if not tables:
            schema = arrow_schema(self.schema_version)
            return pa.schema([schema.field(c) for c in cols]).empty_table()
        try:
            table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        except pa.ArrowException as exc:
            raise StoreError(f"{self.root}: shards of different schemas ({shard_io.one_line(exc)}); run omnidiff validate") from None
        table = apply_to_table(table, overlay)
        return table.select(cols) if read != cols else table

    def pair_ids(self, split: str | None = None) -> list[str]:
        return self.table(["pair_id"], split=split, annotated=False).column("pair_id").to_pylist()

    def records(
        self,
        split: str | None = None,
        decode_images: bool = False,
        columns: list[str] | None = None,
        pair_ids: Iterable[str] | None = None,
        annotated: bool = True,
    ) -> Iterator[PairRecord]:
        """Records in store order, streamed a row group at a time (only the asked pairs' row groups
        when ``pair_ids`` is given)."""
        cols = list(columns) if columns is not None else None
        if cols is not None:
            self._check_columns(cols)
            if "pair_id" not in cols:
                cols.append("pair_id")
        overlay: Overlay = current_annotations(self.root) if annotated else {}
        if pair_ids is not None:
            rows = self._rows(pair_ids, cols or list(self.columns), split=split, missing_ok=True)
            for row in rows.values():
                yield apply_to_record(PairRecord.from_row(row, decode_images=decode_images), overlay)
            return
        for shard in self._listed(split):
            pf = shard_io.open_shard(self.root, shard.file, self.schema_version)  # its own reader: streams may interleave
            try:
                batches = pf.iter_batches(batch_size=STREAM_BATCH_ROWS, columns=cols)
                for batch in batches:
                    for row in batch.to_pylist():
                        yield apply_to_record(PairRecord.from_row(row, decode_images=decode_images), overlay)
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(f"{shard.file}: cannot read shard ({shard_io.one_line(exc)})") from None

    def get(self, pair_id: str, decode_images: bool = False, annotated: bool = True) -> PairRecord:
        for rec in self.records(decode_images=decode_images, pair_ids=[pair_id], annotated=annotated):
            return rec
        raise StoreError(f"{self.root}: no pair {pair_id!r}")

    def images(self, pair_ids: Sequence[str], columns: Sequence[str] = BEFORE_AFTER) -> dict[str, dict[str, bytes | None]]:
        """The encoded image bytes of the asked pairs (in the order asked), reading only their row groups.

        Each image is checked against its stored SHA-256 (schema version 2), so a reader never gets
        bytes other than those written. Raises StoreError for a pair id that is not in the store.
        """
        cols = list(columns)
        bad = [c for c in cols if c not in IMAGE_COLUMNS]
        if bad:
            raise StoreError(f"Store.images: {bad[0]!r} is not an image column ({', '.join(IMAGE_COLUMNS)})")
        hashed = IMAGE_HASH_COLUMN in self.columns
        leaves = [f"{c}.bytes" for c in cols] + ([f"{IMAGE_HASH_COLUMN}.{c}" for c in cols] if hashed else [])
        rows = self._rows(pair_ids, leaves)  # only the leaves needed: the row groups' other columns stay unread
        out: dict[str, dict[str, bytes | None]] = {}
        for pid in dict.fromkeys(pair_ids):
            row = rows[pid]
            got: dict[str, bytes | None] = {}
            for col in cols:
                data = row[col]["bytes"] if row.get(col) else None
                if hashed and sha256_hex(data) != (row.get(IMAGE_HASH_COLUMN) or {}).get(col):
                    raise StoreError(f"{self.root}: pair {pid}: {col} does not match its SHA-256 "
                                     "(the shard is corrupt; run omnidiff validate)")
                got[col] = data
            out[pid] = got
        return out

    def image_hashes(self, pair_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """pair id -> SHA-256 of (image_before, image_after): from the hash column, or from the bytes in a
        version-1 store."""
        if IMAGE_HASH_COLUMN in self.columns:
            rows = self._rows(pair_ids, [f"{IMAGE_HASH_COLUMN}.{c}" for c in BEFORE_AFTER])
            return {pid: tuple((rows[pid][IMAGE_HASH_COLUMN] or {}).get(c) for c in BEFORE_AFTER) for pid in pair_ids}
        out: dict[str, tuple[str | None, str | None]] = {}
        ids = list(pair_ids)
        for start in range(0, len(ids), STREAM_BATCH_ROWS):
            for pid, imgs in self.images(ids[start:start + STREAM_BATCH_ROWS]).items():
                out[pid] = (sha256_hex(imgs["image_before"]), sha256_hex(imgs["image_after"]))
        return out

    def annotation_changes(self) -> int:
        """How many pairs the annotation log gives other captions or change types than the stored ones."""
        overlay = current_annotations(self.root)
        if not overlay:
            return 0
        return changed_pairs(self.table(["pair_id", "captions", "change_types"], annotated=False), overlay)

    def validate(self, check_images: bool = True):
        """Problems found by a full integrity check (empty when sound); never modifies the store."""
        from annotations.validate import validate_store

        return validate_store(self.root, check_images=check_images).problems

    # -- rows by pair id ----------------------------------------------------------------------------
    def _file(self, shard: ShardInfo) -> tuple[pq.ParquetFile, np.ndarray]:
        """The open shard (footer read once per store object) and the first row of each row group."""
        with self._io:
            cached = self._files.get(shard.file)
            if cached is None:
                pf = shard_io.open_shard(self.root, shard.file, self.schema_version)
                sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
                cached = self._files[shard.file] = (pf, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
            return cached

    def _identity(self, shard: ShardInfo) -> str:
        if shard.sha256:
            return shard.sha256
        st = shard_io.check_shard_path(self.root, shard.file).stat()
        return f"size:{st.st_size}:mtime:{st.st_mtime_ns}"

    def _shard_ids(self, shard: ShardInfo) -> list[str]:
        return shard_io.read_shard(self.root, shard.file, ["pair_id"]).column("pair_id").to_pylist()

    def _pair_index(self) -> PairIndex:
        with self._io:
            if self._index is None:
                self._index = PairIndex(self.root, self._shard_ids, self._identity)
            if not self._index_synced:
                self._index.sync(self._shards)
                self._index_synced = True
            return self._index

    def _rows(self, pair_ids: Iterable[str], columns: list[str], split: str | None = None,
              missing_ok: bool = False) -> dict[str, dict[str, Any]]:
        """pair id -> row (the asked columns), in store order; reads only the row groups that hold them."""
        wanted = list(dict.fromkeys(pair_ids))
        for attempt in range(2):
            listed = [s.file for s in self._listed(split)]
            where = self._pair_index().locate(wanted, listed)
            if not missing_ok:
                missing = [pid for pid in wanted if pid not in where]
                if missing:
                    raise StoreError(f"{self.root}: no pair {missing[0]!r}" + (f" in split {split!r}" if split else ""))
            try:
                return self._read_rows(where, columns)
            except _StaleIndex as stale:
                if attempt:
                    raise StoreError(f"{stale.file}: the pair index disagrees with the shard; run omnidiff validate") from None
                with self._io:
                    self._pair_index().forget(stale.file)
                    self._index_synced = False
        raise AssertionError("unreachable")

    def _read_rows(self, where: dict[str, tuple[str, int]], columns: list[str]) -> dict[str, dict[str, Any]]:
        by_file: dict[str, list[tuple[int, str]]] = {}
        for pid, (file, row) in where.items():
            by_file.setdefault(file, []).append((row, pid))
        read_cols = list(dict.fromkeys([*columns, "pair_id"]))
        out: dict[str, dict[str, Any]] = {}
        for shard in self._shards:
            wanted = sorted(by_file.get(shard.file, ()))
            if not wanted:
                continue
            pf, starts = self._file(shard)
            groups: dict[int, list[tuple[int, str]]] = {}
            for row, pid in wanted:
                group = int(np.searchsorted(starts, row, side="right")) - 1
                if not 0 <= group < pf.num_row_groups:
                    raise _StaleIndex(shard.file)
                groups.setdefault(group, []).append((row - int(starts[group]), pid))
            for group, picks in groups.items():
                with self._io:
                    try:
                        table = pf.read_row_group(group, columns=read_cols)
                    except (OSError, pa.ArrowException) as exc:
                        raise StoreError(f"{shard.file}: cannot read shard ({shard_io.one_line(exc)})") from None
                rows = table.take([offset for offset, _ in picks]).to_pylist()
                for row, (_, pid) in zip(rows, picks):
                    if row["pair_id"] != pid:
                        raise _StaleIndex(shard.file)
                    out[pid] = row
        return out

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def writer(self, what: str) -> Iterator["Store"]:
        """Hold the store's writer lock for a whole session (a render, an ingest, a compaction); another
        process that tries to write meanwhile fails at once with a message naming this one's PID."""
        with exclusive(self.root / LOCK, what, f"store {self.root}"):
            yield self

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        lock = self.root / LOCK
        with exclusive(lock, what, f"store {self.root}"), operation_lock(lock):
            self._reload()
            yield

    def _reload(self) -> None:
        manifest, shards = read_manifest(self.root)
        with self._io:
            if [s.file for s in shards] != [s.file for s in self._shards]:
                self._index_synced = False
                for gone in set(self._files) - {s.file for s in shards}:
                    del self._files[gone]
            self.manifest, self._shards = manifest, shards

    def _write_manifest(self) -> None:
        self.manifest[SHARDS_KEY] = [s.to_json() for s in self._shards]
        write_atomic(self.root / MANIFEST, manifest_bytes(self.manifest))

    def _remove_leftovers(self) -> None:
        """Delete what an interrupted writer left in data/ (never a listed shard, never anything outside)."""
        for path in leftover_files(self.root, {s.file for s in self._shards}):
            path.unlink(missing_ok=True)

    def _writer_index(self) -> PairIndex:
        index = self._pair_index()
        index.purge(s.file for s in self._shards)
        return index

    def _require_current_schema(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise StoreError(f"{self.root}: a schema version {self.schema_version} store takes no new pairs; "
                             f"run `omnidiff compact {self.root}` once to upgrade it to version {SCHEMA_VERSION}")

    def update_info(self, **values: Any) -> None:
        """Merge keys into the manifest's ``info`` (generator settings, failed scenes...)."""
        with self._writing("update info"):
            self.info.update(values)
            self._write_manifest()

    def append(self, records: Iterable[PairRecord], info: dict[str, Any] | None = None) -> list[ShardInfo]:
        """Add records as new shards (one per split present, more past ~1 GiB of images) and merge ``info``
        into the manifest's info, in one manifest commit; refuses pair ids already in the store."""
        records = list(records)
        if not records and not info:
            return []
        _check_records(records)
        with self._writing("append"):
            self._require_current_schema()
            index = self._writer_index()
            listed = [s.file for s in self._shards]
            clash = next(iter(index.locate((r.pair_id for r in records), listed)), None)
            if clash is not None:
                raise StoreError(f"{self.root}: pair id {clash!r} is already in the store")
            self._remove_leftovers()
            by_split: dict[str, list[PairRecord]] = {}
            for rec in records:
                by_split.setdefault(rec.split, []).append(rec)
            seq = int(self.manifest.get(NEXT_SHARD_KEY, len(self._shards)))
            counts = dict(self.manifest.get(COUNTS_KEY) or empty_counts())
            written: list[ShardInfo] = []
            for split, recs in by_split.items():
                sizes = np.array([_image_bytes(r) for r in recs], dtype=np.int64)
                for start, stop in shard_io.cut_points(sizes, shard_io.SHARD_IMAGE_BYTES, shard_io.SHARD_ROWS):
                    table = records_to_table(recs[start:stop])
                    _check_image_formats(table)
                    rel = shard_file(split, seq)
                    seq += 1
                    done = shard_io.write_shard_file(self.root / rel, lambda w, t=table: w.write(t), table.schema)
                    shard = ShardInfo(rel, split, table.num_rows, done.bytes, done.sha256)
                    index.add(shard, table.column("pair_id").to_pylist())
                    counts = add_counts(counts, count_rows(table))
                    written.append(shard)
            self._shards = [*self._shards, *written]
            self.manifest[COUNTS_KEY] = counts
            self.manifest[NEXT_SHARD_KEY] = seq
            if info:
                self.info.update(info)
            self._write_manifest()
            return written

    def _commit_shards(self, shards: list[ShardInfo], version: int) -> None:
        """Make ``shards`` (the kept ones and new ones already written and indexed) the store's shard list
        in one manifest commit, then delete the files no longer listed (``compact``; inside ``_writing``)."""
        gone = [s for s in self._shards if s.file not in {n.file for n in shards}]
        self._shards = list(shards)
        self.manifest[SCHEMA_VERSION_KEY] = version
        self._write_manifest()
        with self._io:
            for shard in gone:
                self._files.pop(shard.file, None)
        for shard in gone:
            (self.root / shard.file).unlink(missing_ok=True)
        self._writer_index().purge(s.file for s in self._shards)


class _StaleIndex(Exception):
    """A lookup found a row that does not hold the pair the index said (the index is re-read once)."""

    def __init__(self, file: str) -> None:
        super().__init__(file)
        self.file = file
