"""The pair-id index: Store.images reads only the asked rows, appends read nothing already stored, and the
index heals itself when it is missing, corrupt or stale."""

from __future__ import annotations

import sqlite3

import pyarrow.parquet as pq
import pytest

import annotations.store as store_mod
from annotations import Store, StoreError
from annotations.layout import INDEX
from annotations.schema import IMAGE_COLUMNS
from annotations.validate import validate_store
from conftest import make_record


@pytest.fixture
def big_shard(tmp_path):
    """One shard of 200 pairs (row groups of 64) and one of 10."""
    store = Store.create(tmp_path / "s")
    store.append([make_record(i) for i in range(200)])
    store.append([make_record(i, split="train") for i in range(200, 210)])
    return store


class Reads:
    """Counts the Parquet reads of a block: row groups and whole-table reads."""

    def __init__(self, monkeypatch):
        self.groups: list[int] = []
        self.tables = 0
        original_group, original_table = pq.ParquetFile.read_row_group, pq.read_table

        def read_row_group(pf, i, *args, **kwargs):
            self.groups.append(i)
            return original_group(pf, i, *args, **kwargs)

        def read_table(*args, **kwargs):
            self.tables += 1
            return original_table(*args, **kwargs)

        monkeypatch.setattr(pq.ParquetFile, "read_row_group", read_row_group)
        monkeypatch.setattr(pq, "read_table", read_table)


def test_images_returns_the_asked_bytes_reading_only_their_row_groups(big_shard, monkeypatch):
    store = Store.open(big_shard.root)
    store.images(["pair-0000"])  # opens the index (built by the appends) and the shard footers
    reads = Reads(monkeypatch)
    got = store.images(["pair-0199", "pair-0003", "pair-0205"], IMAGE_COLUMNS)
    assert list(got) == ["pair-0199", "pair-0003", "pair-0205"]
    for pid, images in got.items():
        rec = make_record(int(pid[-4:]))
        assert images == {c: getattr(rec, c) for c in IMAGE_COLUMNS}
    assert sorted(reads.groups) == [0, 0, 3] and reads.tables == 0  # rows 3 and 199 of shard 1, row 5 of shard 2
    with pytest.raises(StoreError, match="no pair 'nope'"):
        store.images(["pair-0001", "nope"])
    with pytest.raises(StoreError, match="not an image column"):
        store.images(["pair-0001"], ["captions"])
    assert [r.pair_id for r in store.records(pair_ids={"pair-0150", "pair-0002", "gone"})] == ["pair-0002", "pair-0150"]


def test_an_append_reads_nothing_already_stored(big_shard, monkeypatch):
    store = Store.open(big_shard.root)
    calls = []
    monkeypatch.setattr(store_mod.shard_io, "read_shard", lambda *a, **k: calls.append(a) or pytest.fail("read"))
    reads = Reads(monkeypatch)
    store.append([make_record(i, split="val") for i in range(300, 310)])
    with pytest.raises(StoreError, match="already in the store"):
        store.append([make_record(5, split="val")])
    assert calls == [] and reads.groups == [] and reads.tables == 0
    monkeypatch.undo()
    assert validate_store(store.root).problems == []  # the counts added per append equal a full recount
    assert Store.open(store.root).manifest["counts"]["split"] == {"test": 200, "train": 10, "val": 10}


def test_a_missing_corrupt_or_stale_index_heals(big_shard):
    root = big_shard.root
    (root / INDEX).unlink()
    assert Store.open(root).images(["pair-0100"])["pair-0100"]["image_before"] == make_record(100).image_before
    (root / INDEX).write_bytes(b"not a database at all" * 100)
    assert Store.open(root).images(["pair-0101"])["pair-0101"]["image_before"] == make_record(101).image_before
    with sqlite3.connect(root / INDEX) as db:  # rows that point at the wrong place
        db.execute("UPDATE pairs SET row = (row + 7) % 200 WHERE file = 'data/test-00000.parquet'")
    store = Store.open(root)
    assert store.images(["pair-0102"])["pair-0102"]["image_after"] == make_record(102).image_after
    assert store.get("pair-0042").captions == make_record(42).captions


def test_an_append_killed_after_indexing_leaves_no_ghost_ids(big_shard, monkeypatch):
    class Crash(BaseException):
        pass

    def crash(*args, **kwargs):
        raise Crash

    store = Store.open(big_shard.root)
    monkeypatch.setattr(store_mod, "write_atomic", crash)  # dies before the manifest names the new shard
    with pytest.raises(Crash):
        store.append([make_record(400, split="val")])
    monkeypatch.undo()
    fresh = Store.open(big_shard.root)
    with pytest.raises(StoreError, match="no pair"):
        fresh.images(["pair-0400"])
    fresh.append([make_record(400, split="val")])  # not "already in the store"
    assert Store.open(big_shard.root).get("pair-0400").split == "val"
    assert validate_store(big_shard.root).problems == []


def test_an_index_that_cannot_be_written_is_kept_in_memory(big_shard):
    root = big_shard.root
    (root / INDEX).unlink()
    (root / INDEX).mkdir()  # as a read-only disk would: the file cannot be created
    store = Store.open(root)
    assert store.images(["pair-0007"])["pair-0007"]["image_before"] == make_record(7).image_before
    assert store.get("pair-0205").split == "train"
