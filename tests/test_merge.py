"""``omnidiff merge``: shards of one render joined equal the unsharded run; every refusal is one line, exit 1,
inputs untouched, no ``--out`` left behind."""

from __future__ import annotations

import importlib.util
import json

import pytest

from annotations import Store
from annotations.annotation_log import AnnotationLog
from annotations.layout import LOCK
from conftest import make_record
from store_helpers import make_v1_store, snapshot

RENDER = ["render", "--profile", "test", "--seed", "7", "--pairs-per-scene", "1", "--scenes", "2"]


def stored(root) -> dict:
    """Every stored value of every pair, images included, by pair id."""
    return {r["pair_id"]: r for r in Store.open(root).table(None, annotated=False).to_pylist()}


def data_snapshot(root) -> dict[str, str]:
    """The store's files but its lock file (merge holds the lock, which writes the holder's PID into it)."""
    return {k: v for k, v in snapshot(root).items() if k != LOCK}


def make_store(root, ids, info=None, **kw) -> Store:
    store = Store.create(root, name=root.name, info=info)
    store.append([make_record(i, **kw) for i in ids])
    return store


@pytest.mark.blender
@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")
def test_two_shards_merged_equal_one_unsharded_run(run_cli, tmp_path):
    for name, extra in (("whole", []), ("part0", ["--shard", "0/2"]), ("part1", ["--shard", "1/2"])):
        res = run_cli(*RENDER, *extra, "--out", tmp_path / name)
        assert res.code == 0, res.err
    AnnotationLog(tmp_path / "part1").append({"pair_id": Store.open(tmp_path / "part1").pair_ids()[0],
                                              "annotator": "ann", "captions": ["a human caption."], "change_types": []})
    before = {p: data_snapshot(tmp_path / p) for p in ("part0", "part1")}
    res = run_cli("merge", tmp_path / "part0", tmp_path / "part1", "--out", tmp_path / "merged")
    assert res.code == 0, res.err
    assert "merged 2 stores" in res.out and "1 annotation entries" in res.out
    assert {p: data_snapshot(tmp_path / p) for p in before} == before
    whole, merged = stored(tmp_path / "whole"), stored(tmp_path / "merged")
    assert sorted(merged) == sorted(whole) and len(whole) == 2
    assert merged == whole  # pair ids, images, masks, captions, provenance: byte for byte
    store = Store.open(tmp_path / "merged")
    info = store.info["render"]
    assert [r["shard"] for r in info["runs"]] == ["0/2", "1/2"] and info["failed"] == {}
    assert store.counts(annotated=False) == Store.open(tmp_path / "whole").counts(annotated=False)
    annotated = store.get(Store.open(tmp_path / "part1").pair_ids()[0])
    assert annotated.captions == ["a human caption."]  # the log came along
    assert run_cli("validate", tmp_path / "merged").code == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_version_one_stores_merge_as_version_one(run_cli, tmp_path):
    make_v1_store(tmp_path / "a", [[make_record(0), make_record(1)]])
    make_v1_store(tmp_path / "b", [[make_record(2, split="train")]])
    res = run_cli("merge", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "m")
    assert res.code == 0, res.err
    merged = Store.open(tmp_path / "m")
    assert merged.schema_version == 1 and sorted(merged.pair_ids()) == ["pair-0000", "pair-0001", "pair-0002"]
    assert run_cli("validate", tmp_path / "m").code == 0


def _refusal(run_cli, tmp_path, inputs, message, out=None):
    before = {p: data_snapshot(p) for p in inputs if p.is_dir()}
    out = out or tmp_path / "merged"
    res = run_cli("merge", *inputs, "--out", out)
    assert res.code == 1, res.out + res.err
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: merge: ") and message in lines[0], res.err
    assert not out.exists() or out in inputs or any(out.iterdir())
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]  # no staging folder
    assert {p: data_snapshot(p) for p in before} == before
    return lines[0]


def test_duplicate_pair_ids_are_refused(run_cli, tmp_path):
    a, b = make_store(tmp_path / "a", [0, 1]).root, make_store(tmp_path / "b", [1, 2]).root
    line = _refusal(run_cli, tmp_path, [a, b], "pair id 'pair-0001' is in both")
    assert str(a) in line and str(b) in line


def test_mixed_schema_versions_are_refused(run_cli, tmp_path):
    a = make_store(tmp_path / "a", [0]).root
    b = make_v1_store(tmp_path / "b", [[make_record(1)]])
    line = _refusal(run_cli, tmp_path, [a, b], "mixed schema versions")
    assert f"{a} (2)" in line and f"{b} (1)" in line and "compact" in line


def test_mixed_generator_versions_are_refused(run_cli, tmp_path):
    a = make_store(tmp_path / "a", [0], info={"render": {"generator_version": "0.1.0"}}).root
    b = make_store(tmp_path / "b", [1], info={"render": {"generator_version": "0.2.0"}}).root
    line = _refusal(run_cli, tmp_path, [a, b], "mixed generator versions")
    assert f"{a} (0.1.0)" in line and f"{b} (0.2.0)" in line


def test_stores_of_different_benchmarks_are_refused(run_cli, tmp_path):
    a = make_store(tmp_path / "a", [0], info={"benchmark": "iedit"}).root
    b = make_store(tmp_path / "b", [1], info={"benchmark": "spot_the_diff"}).root
    _refusal(run_cli, tmp_path, [a, b], "disagree on info.benchmark")


def test_bad_outputs_and_inputs_are_refused(run_cli, tmp_path):
    a, b = make_store(tmp_path / "a", [0]).root, make_store(tmp_path / "b", [1]).root
    _refusal(run_cli, tmp_path, [a, b], "is inside the input store", out=a / "sub")
    _refusal(run_cli, tmp_path, [a, b], "is one of the input stores", out=b)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine\n")
    _refusal(run_cli, tmp_path, [a, b], "already exists and is not an empty folder", out=tmp_path / "full")
    _refusal(run_cli, tmp_path, [a, a], "is named twice")
    (tmp_path / "plain").mkdir()
    _refusal(run_cli, tmp_path, [a, tmp_path / "plain"], "not a store")
    assert not (tmp_path / "plain" / LOCK).exists()
    (tmp_path / "link").symlink_to(a)  # a link that leads into an input, as --out or as a second name of it
    _refusal(run_cli, tmp_path, [a, b], "is inside the input store", out=tmp_path / "link" / "sub")
    _refusal(run_cli, tmp_path, [a, tmp_path / "link"], "is named twice")
    _refusal(run_cli, tmp_path, [a, b], "is inside the input store", out=b / ".." / "b" / "new")


def test_a_bit_flip_in_an_input_shard_writes_nothing(run_cli, tmp_path):
    a, b = make_store(tmp_path / "a", [0]).root, make_store(tmp_path / "b", [1, 2]).root
    shard = b / Store.open(b).shards[0].file
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    _refusal(run_cli, tmp_path, [a, b], "does not match the SHA-256")


def test_a_store_being_written_is_refused(run_cli, tmp_path):
    a, b = make_store(tmp_path / "a", [0]), make_store(tmp_path / "b", [1])
    import subprocess
    import sys

    from conftest import REPO

    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom annotations import Store\n"
                               "with Store.open(sys.argv[1]).writer('omnidiff render'):\n"
                               "    print('held', flush=True); time.sleep(60)", str(b.root)],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        res = run_cli("merge", a.root, b.root, "--out", tmp_path / "m")
        assert res.code == 1 and f"PID {holder.pid} (omnidiff render)" in res.err, res.err
        assert not (tmp_path / "m").exists()
    finally:
        holder.kill()
        holder.wait()
    assert json.loads((b.root / "omnidiff.json").read_text())["counts"]["pairs"] == 1
