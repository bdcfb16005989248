"""``omnidiff compact STORE``: rewrite small shards into large ones (~1 GiB of images each), atomically.

Why: a store filled by many small appends has many small files, and hub uploads and ``datasets``
loading slow down with file count. Compaction also upgrades a schema-version-1 store (it adds the image
hashes). Crash safety is the append's: new shards are committed under new names, indexed, and only the
manifest rewrite makes them the store's shards; the old files are deleted after that. A kill at any
moment leaves either the old shards listed (the new files are leftovers) or the new ones (the old files
are), and both validate with every row. Rows keep their order within each split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from annotations import shards as shard_io
from annotations.layout import NEXT_SHARD_KEY, ShardInfo, shard_file
from annotations.schema import IMAGE_COLUMNS, IMAGE_HASH_COLUMN, SCHEMA_VERSION, arrow_schema, sha256_hex
from annotations.store import Store

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CompactSummary:
    shards_before: int
    shards_after: int
    rows: int
    rewritten: int  # shards that were rewritten (merged or upgraded)
    upgraded_from: int | None  # the schema version before, when compaction upgraded it


def _shard_image_bytes(store: Store, shard: ShardInfo) -> int:
    pf, _ = store._file(shard)
    total = 0
    for rg in range(pf.num_row_groups):
        group = pf.metadata.row_group(rg)
        for col in range(group.num_columns):
            chunk = group.column(col)
            if chunk.path_in_schema.split(".")[0] in IMAGE_COLUMNS:
                total += chunk.total_uncompressed_size
    return total


def plan_runs(store: Store, target_bytes: int) -> list[list[ShardInfo]]:
    """Groups of shards of one split, in store order, each within ``target_bytes`` of images and the row
    limit; a group of one shard is rewritten only to upgrade its schema version."""
    runs: list[list[ShardInfo]] = []
    by_split: dict[str, list[tuple[ShardInfo, int]]] = {}
    for shard in store.shards:
        by_split.setdefault(shard.split, []).append((shard, _shard_image_bytes(store, shard)))
    for split_shards in by_split.values():
        run: list[ShardInfo] = []
        size = rows = 0
        for shard, nbytes in split_shards:
            if run and (size + nbytes > target_bytes or rows + shard.rows > shard_io.SHARD_ROWS):
                runs.append(run)
                run, size, rows = [], 0, 0
            run.append(shard)
            size += nbytes
            rows += shard.rows
        if run:
            runs.append(run)
    upgrade = store.schema_version != SCHEMA_VERSION
    return [run for run in runs if len(run) > 1 or upgrade]


def _upgraded(table: pa.Table, version: int) -> pa.Table:
    """A row group of a store at ``version`` in the current schema (version 1 lacks the image hashes)."""
    if version == SCHEMA_VERSION:
        return table
    hashes = pa.StructArray.from_arrays(
        [pa.array([sha256_hex(cell["bytes"]) if cell else None for cell in table.column(c).to_pylist()], pa.string())
         for c in IMAGE_COLUMNS],
        fields=list(arrow_schema().field(IMAGE_HASH_COLUMN).type))
    return table.append_column(arrow_schema().field(IMAGE_HASH_COLUMN), hashes)


def compact_store(root: str | Path, target_bytes: int | None = None, progress: Progress | None = None) -> CompactSummary:
    """Merge the small shards of ``root`` (and upgrade its schema); ``progress(done, total)`` counts shards."""
    target = shard_io.SHARD_IMAGE_BYTES if target_bytes is None else target_bytes
    store = Store.open(root)
    with store._writing("omnidiff compact"):
        version = store.schema_version
        index = store._writer_index()
        store._remove_leftovers()
        before = len(store.shards)
        runs = plan_runs(store, target)
        total = sum(len(run) for run in runs)
        seq = int(store.manifest.get(NEXT_SHARD_KEY, len(store.shards)))
        replaced: dict[str, ShardInfo] = {}  # first shard of a run -> its new shard
        merged: set[str] = set()
        done = 0
        for run in runs:
            rel = shard_file(run[0].split, seq)
            seq += 1
            ids: list[str] = []

            def fill(writer: shard_io.ShardWriter, run: list[ShardInfo] = run) -> None:
                nonlocal done
                for shard in run:
                    pf, _ = store._file(shard)
                    for rg in range(pf.num_row_groups):
                        table = _upgraded(pf.read_row_group(rg), version)
                        ids.extend(table.column("pair_id").to_pylist())
                        writer.write(table)
                    done += 1
                    if progress is not None:
                        progress(done, total)

            written = shard_io.write_shard_file(store.root / rel, fill, arrow_schema())
            new = ShardInfo(rel, run[0].split, len(ids), written.bytes, written.sha256)
            index.add(new, ids)
            replaced[run[0].file] = new
            merged.update(s.file for s in run)
        if not runs:
            return CompactSummary(before, before, len(store), 0, None)
        shards = [replaced.get(s.file, s) for s in store.shards if s.file in replaced or s.file not in merged]
        store.manifest[NEXT_SHARD_KEY] = seq
        store._commit_shards(shards, SCHEMA_VERSION)
        return CompactSummary(before, len(shards), len(store), total, version if version != SCHEMA_VERSION else None)
