"""Data that validate must not pass: bit flips in every part of a shard, wrong types, foreign image formats,
unsafe pair ids, boxes off the image, shard paths that leave the store."""

from __future__ import annotations

import io
import json
import random
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from annotations import Box, Store, StoreError
from annotations.schema import IMAGE_COLUMNS, arrow_schema, records_to_table
from annotations.validate import validate_store
from conftest import make_record
from store_helpers import snapshot, write_raw_shard

FLIPS_PER_CLASS = 55


def byte_classes(path) -> dict[str, list[int]]:
    """Every byte offset of a shard by what it holds: magic, footer length, footer (the file metadata),
    page headers (the first bytes of each column chunk), image pages and metadata pages."""
    data = path.read_bytes()
    footer = int.from_bytes(data[-8:-4], "little")
    classes: dict[str, list[int]] = {
        "file magic": [*range(4), *range(len(data) - 4, len(data))],
        "footer length": list(range(len(data) - 8, len(data) - 4)),
        "footer": list(range(len(data) - 8 - footer, len(data) - 8)),
        "page headers": [], "image pages": [], "metadata pages": [],
    }
    meta = pq.ParquetFile(path).metadata
    for rg in range(meta.num_row_groups):
        for c in range(meta.row_group(rg).num_columns):
            chunk = meta.row_group(rg).column(c)
            start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
            end = start + chunk.total_compressed_size
            classes["page headers"] += range(start, start + 12)
            pages = "image pages" if chunk.path_in_schema.endswith(".bytes") else "metadata pages"
            classes[pages] += range(start + 12, end)
    return classes


def changes_data(path, original: pa.Table) -> bool:
    """Whether the shard now reads as anything other than what was written (values, schema, metadata)."""
    try:
        return not pq.read_table(path).equals(original, check_metadata=True)
    except Exception:  # unreadable is changed
        return True


@pytest.mark.timeout(600)
def test_seeded_bit_flips_over_every_byte_class_are_all_found(tmp_path):
    store = Store.create(tmp_path / "s")
    store.append([make_record(i, boxes=[Box("after", "addition", 1, 2, 12, 8)]) for i in range(3)])
    path = store.root / store.shards[0].file
    original_bytes, original = path.read_bytes(), pq.read_table(path)
    rng = random.Random(2026)
    seen: dict[str, list[int]] = {}
    missed, silent = [], []
    for name, offsets in byte_classes(path).items():
        for _ in range(FLIPS_PER_CLASS):
            offset, bit = rng.choice(offsets), rng.randrange(8)
            flipped = bytearray(original_bytes)
            flipped[offset] ^= 1 << bit
            path.write_bytes(bytes(flipped))
            changed = changes_data(path, original)
            found = bool(validate_store(store.root).problems)
            found_without_file_hash = bool(validate_store(store.root, check_file_hashes=False).problems)
            counts = seen.setdefault(name, [0, 0, 0])
            counts[0] += 1
            counts[1] += changed
            counts[2] += found
            if not found or (changed and not found_without_file_hash):
                missed.append((name, offset, bit, found, found_without_file_hash))
            try:  # readers never hand out other values than those written: they fail or read the same
                reader = Store.open(store.root)
                values = reader.table(None, annotated=False)
                reader.images(reader.pair_ids(), IMAGE_COLUMNS)
                if not values.equals(original):
                    silent.append((name, offset, bit))
            except StoreError:
                pass
    path.write_bytes(original_bytes)
    print("flips, of them changing data, found by validate, by byte class:", seen)
    assert sum(n for n, _, _ in seen.values()) >= 300 and all(n == FLIPS_PER_CLASS for n, _, _ in seen.values())
    assert missed == []  # every flip is found; every flip that changes data is found without the file hash too
    assert silent == []
    assert validate_store(store.root).problems == []


def test_column_of_the_wrong_type_is_a_problem(run_cli, small_store):
    table = records_to_table([make_record(50)])
    captions = pa.array([json.dumps(c) for c in table.column("captions").to_pylist()], pa.string())
    bad = table.set_column(table.schema.get_field_index("captions"), "captions", captions)
    bad = bad.replace_schema_metadata(arrow_schema().metadata)
    rel = write_raw_shard(small_store, None, table=bad)
    res = run_cli("validate", small_store.root)
    assert res.code == 1
    assert f"{rel}: column types differ from the schema: captions is string, expected list<item: string>" in res.out
    for command in ("stats", "show"):  # readers refuse it in one line, no Arrow schema dump, no letters as captions
        res = run_cli(command, small_store.root, *(["--out", small_store.root.parent / "s.png", "-n", "20"] if command == "show" else []))
        assert res.code == 1 and len(res.err.strip().splitlines()) == 1, res.err
        assert "schema differs from the store's (captions is string" in " ".join(res.err.split())


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP"])
def test_images_other_than_png_and_jpeg_are_refused_and_flagged(run_cli, small_store, fmt):
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 10, 10)).save(buf, format=fmt)
    with pytest.raises(StoreError, match="neither PNG nor JPEG"):
        small_store.append([make_record(51, image_after=buf.getvalue())])
    write_raw_shard(small_store, [make_record(51, image_after=buf.getvalue(), mask_after=None)])
    res = run_cli("validate", small_store.root)
    assert res.code == 1 and "pair pair-0051: image_after is not PNG or JPEG" in res.out


def test_a_png_with_a_bad_chunk_crc_is_a_problem(run_cli, small_store):
    data = bytearray(make_record(52).image_after)
    data[data.index(b"IDAT") + 6] ^= 0x01  # inside the pixel data
    write_raw_shard(small_store, [make_record(52, image_after=bytes(data))])
    res = run_cli("validate", small_store.root)
    assert res.code == 1 and "image_after does not decode (PNG chunk b'IDAT' at byte" in res.out


@pytest.mark.parametrize("pair_id", ["../x", "a/b", "a\x00b", "a\\b", ""])
def test_unsafe_pair_ids_are_refused_and_flagged(run_cli, small_store, pair_id):
    with pytest.raises(StoreError):
        small_store.append([make_record(53, pair_id=pair_id)])
    write_raw_shard(small_store, [make_record(53, pair_id=pair_id)])
    res = run_cli("validate", small_store.root)
    assert res.code == 1 and ("pair id must" in res.out or "has no pair_id" in res.out)


def test_boxes_outside_the_image_are_a_problem(run_cli, small_store):
    write_raw_shard(small_store, [make_record(54, boxes=[Box("after", "addition", 3, 150, 20, 160)])])
    res = run_cli("validate", small_store.root)
    assert res.code == 1 and "box 0 (3, 150, 20, 160) is not a box inside the 48x32 after image" in res.out


@pytest.mark.parametrize("file", ["../../other/data/test-00000.parquet", "/etc/passwd", "data/../x.parquet",
                                  "data/sub/test-00000.parquet", "data/.hidden.parquet"])
def test_shard_paths_that_leave_data_are_refused_by_readers_validate_and_append(run_cli, small_store, tmp_path, file):
    other = tmp_path / "other" / "data"
    other.mkdir(parents=True)
    shutil.copy(small_store.root / small_store.shards[0].file, other / "test-00000.parquet")
    manifest = json.loads((small_store.root / "omnidiff.json").read_text())
    manifest["shards"][0]["file"] = file
    (small_store.root / "omnidiff.json").write_text(json.dumps(manifest))
    before = snapshot(small_store.root)
    with pytest.raises(StoreError, match="not a plain shard name inside data/"):
        Store.open(small_store.root)
    res = run_cli("validate", small_store.root)
    assert res.code == 1 and "malformed shard entry" in res.out and "not a plain shard name" in res.out
    res = run_cli("render", "--scenes", "1", "--profile", "test", "--out", small_store.root)
    assert res.code == 1 and "not a plain shard name" in res.err
    assert snapshot(small_store.root) == before  # nothing of the store was deleted as a leftover


def test_a_symlinked_shard_is_refused(run_cli, small_store, tmp_path):
    shard = small_store.root / small_store.shards[0].file
    outside = tmp_path / "outside.parquet"
    shutil.move(shard, outside)
    shard.symlink_to(outside)
    with pytest.raises(StoreError, match="symbolic link"):
        Store.open(small_store.root).table()
    res = run_cli("validate", small_store.root)
    assert res.code == 1 and "the shard is a symbolic link" in res.out


def test_leftover_removal_touches_only_the_writers_own_files(small_store):
    data = small_store.root / "data"
    (data / "notes.txt").write_text("mine")
    (data / ".test-00099.parquet.abc.tmp").write_bytes(b"half")
    (data / "test-00099.parquet").write_bytes(b"an unlisted shard")
    small_store.append([make_record(60)])
    assert (data / "notes.txt").read_text() == "mine"
    assert not (data / ".test-00099.parquet.abc.tmp").exists() and not (data / "test-00099.parquet").exists()
