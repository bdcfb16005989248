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


def make_v1_store(root: Path, batches: list[list]) -> Path:
    """A store as version 1 of the schema wrote it (no image hashes, no shard sizes or hashes listed)."""
    import json

    import pyarrow as pa

    from annotations.schema import IMAGE_HASH_COLUMN, arrow_schema

    (root / "data").mkdir(parents=True)
    shards, seq = [], 0
    counts: dict = {"pairs": 0, "split": {}, "domain": {}, "change_type": {}}
    from annotations.layout import add_counts

    for records in batches:
        by_split: dict[str, list] = {}
        for rec in records:
            by_split.setdefault(rec.split, []).append(rec)
        for split, recs in by_split.items():
            table = records_to_table(recs).drop_columns([IMAGE_HASH_COLUMN])
            table = pa.Table.from_arrays(table.columns, schema=arrow_schema(1))
            rel = f"data/{split}-{seq:05d}.parquet"
            seq += 1
            write_shard(table, root / rel)
            shards.append({"file": rel, "split": split, "rows": table.num_rows})
            counts = add_counts(counts, count_rows(table))
    manifest = {"schema_version": 1, "name": root.name, "shards": shards, "counts": counts, "info": {}}
    (root / "omnidiff.json").write_text(json.dumps(manifest, indent=2))
    return root
