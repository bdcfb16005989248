"""Each corruption that `omnidiff validate` must find: one line naming shard and pair, exit 1, store untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotations import Store
from conftest import make_pair_images, make_record, png_bytes
from store_helpers import snapshot, write_raw_shard
from PIL import Image


def check(run_cli, root: Path, expected: str) -> str:
    before = snapshot(root)
    res = run_cli("validate", root)
    assert res.code == 1, res.out + res.err
    lines = [line for line in res.out.splitlines() if expected in line]
    assert len(lines) == 1, res.out
    assert "Traceback" not in res.out + res.err
    assert snapshot(root) == before, "validation modified the store"
    return lines[0]


def test_sound_store_passes(run_cli, small_store):
    res = run_cli("validate", small_store.root)
    assert res.code == 0 and "ok:" in res.out and "10 pairs" in res.out


def test_truncated_shard(run_cli, small_store):
    shard = small_store.root / small_store.manifest["shards"][0]["file"]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    line = check(run_cli, small_store.root, "truncated or corrupt shard")
    assert line.startswith("data/test-00000.parquet:")


def test_corrupt_shard_bytes(run_cli, small_store):
    shard = small_store.root / small_store.manifest["shards"][1]["file"]
    shard.write_bytes(b"PAR1" + b"\x00garbage" * 100 + b"PAR1")
    check(run_cli, small_store.root, "data/train-00001.parquet: truncated or corrupt shard")


def test_missing_manifest(run_cli, small_store):
    (small_store.root / "omnidiff.json").unlink()
    check(run_cli, small_store.root, "omnidiff.json: manifest is missing")


def test_stale_manifest(run_cli, small_store):
    manifest = json.loads((small_store.root / "omnidiff.json").read_text())
    manifest["counts"]["split"]["test"] = 99
    (small_store.root / "omnidiff.json").write_text(json.dumps(manifest))
    check(run_cli, small_store.root, "stale manifest")


def test_listed_shard_missing(run_cli, small_store):
    (small_store.root / small_store.manifest["shards"][1]["file"]).unlink()
    check(run_cli, small_store.root, "data/train-00001.parquet: shard listed in the manifest is missing")


def test_duplicate_pair_id(run_cli, small_store):
    rel = write_raw_shard(small_store, [make_record(2, split="val")], split="val")
    line = check(run_cli, small_store.root, "duplicate pair id")
    assert line.startswith(f"{rel}: pair pair-0002:") and "data/test-00000.parquet" in line


def test_unknown_change_type(run_cli, small_store):
    rel = write_raw_shard(small_store, [make_record(20, change_types=["explosion"])])
    line = check(run_cli, small_store.root, "unknown change type 'explosion'")
    assert line.startswith(f"{rel}: pair pair-0020:")


def test_image_that_does_not_decode(run_cli, small_store):
    before, after, _, _ = make_pair_images(21)
    write_raw_shard(small_store, [make_record(21, image_after=after[: len(after) // 3])])
    check(run_cli, small_store.root, "pair pair-0021: image_after does not decode")


def test_before_and_after_of_different_sizes(run_cli, small_store):
    write_raw_shard(small_store, [make_record(22, image_after=png_bytes(Image.new("RGB", (40, 32))), mask_after=None)])
    check(run_cli, small_store.root, "pair pair-0022: before and after differ in size (48x32 vs 40x32)")


def test_mask_of_wrong_size(run_cli, small_store):
    write_raw_shard(small_store, [make_record(23, mask_before=png_bytes(Image.new("L", (10, 10))))])
    check(run_cli, small_store.root, "pair pair-0023: mask_before is 10x10 but the image is 48x32")


def test_empty_caption_list(run_cli, small_store):
    write_raw_shard(small_store, [make_record(24, captions=[])])
    check(run_cli, small_store.root, "pair pair-0024: empty caption list")


def test_empty_caption_in_generated_pair(run_cli, small_store):
    write_raw_shard(small_store, [make_record(25, captions=["a cube turned red.", "  "])])
    check(run_cli, small_store.root, "pair pair-0025: 1 empty caption(s)")


def test_empty_reference_of_imported_benchmark_is_a_note(run_cli, tmp_path):
    store = Store.create(tmp_path / "std")
    store.append([make_record(1, benchmark="spot_the_diff", domain="real", captions=["the car is gone", ""],
                              provenance={"importer": "spot_the_diff"})])
    res = run_cli("validate", store.root)
    assert res.code == 0
    assert "note: data/test-00000.parquet: pair pair-0001: 1 empty reference sentence(s) kept as in the source" in res.err


def test_unknown_schema_version(run_cli, small_store):
    manifest = json.loads((small_store.root / "omnidiff.json").read_text())
    manifest["schema_version"] = 99
    (small_store.root / "omnidiff.json").write_text(json.dumps(manifest))
    check(run_cli, small_store.root, "omnidiff.json: schema version 99 is not one this toolkit knows")


def test_not_a_store(run_cli, tmp_path):
    res = run_cli("validate", tmp_path / "nowhere")
    assert res.code == 1 and "no such store folder" in res.out


def test_leftovers_of_interrupted_append_are_notes(run_cli, small_store):
    (small_store.root / "data" / ".test-00002.parquet.abc.tmp").write_bytes(b"half")
    res = run_cli("validate", small_store.root)
    assert res.code == 0 and "interrupted append" in res.err


def test_real_photographs_of_different_sizes_are_a_note(run_cli, tmp_path):
    store = Store.create(tmp_path / "real")
    store.append([make_record(1, domain="real", image_after=png_bytes(Image.new("RGB", (40, 30))), mask_after=None)])
    res = run_cli("validate", store.root)
    assert res.code == 0 and "before and after differ in size (48x32 vs 40x30)" in res.err


def test_progress_reaches_the_total(small_store):
    from annotations.validate import validate_store

    calls = []
    validate_store(small_store.root, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (10, 10) and all(a <= b for a, b in calls)
