"""Helpers of the store tests: planting shards that ``append`` would refuse, snapshots of a folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

from annotations import ShardInfo, Store
from annotations.layout import count_rows
from annotations.schema import records_to_table
from annotations.shards import write_shard


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def write_raw_shard(store: Store, records, split: str = "test", table=None) -> str:
    """Bypass append's checks to plant a shard (``records`` or a ready ``table``), keeping the manifest
    consistent with it (its counts, size and SHA-256), so that only what is planted is wrong."""
    table = records_to_table(records) if table is None else table
    seq = store.manifest["next_shard"]
    rel = f"data/{split}-{seq:05d}.parquet"
    write_shard(table, store.root / rel)
    data = (store.root / rel).read_bytes()
    store._shards.append(ShardInfo(rel, split, table.num_rows, len(data), hashlib.sha256(data).hexdigest()))
    store.manifest["next_shard"] = seq + 1
    store.manifest["counts"] = count_rows(store.table(["split", "domain", "change_types"], annotated=False))
    store._write_manifest()
    return rel
