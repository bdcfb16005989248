"""The five benchmark loaders on real annotation files (stand-in images) and native-layout fixtures."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from annotations import Store
from annotations.validate import validate_store
from omnidiff.benchmarks import BenchmarkError, get_benchmark, list_benchmarks, store_protocol
from tests.benchmarks_helpers import (
    CLEVR_CHANGE_TYPES,
    clevr_change_source,
    clevr_dc_source,
    iedit_source,
    spot_the_diff_source,
    write_image,
)
from tests.conftest import SHARED_BENCHMARKS

DDLA = SHARED_BENCHMARKS / "spot-the-diff" / "ddla"


def _assert_valid(path) -> None:
    report = validate_store(path)
    assert report.problems == []


def test_registry_names_and_listing(run_cli):
    names = [b.name for b in list_benchmarks()]
    assert names == ["omnidiff", "clevr_change", "clevr_dc", "spot_the_diff", "iedit"]
    assert get_benchmark("clevr-change").name == get_benchmark("clevr_change").name == "clevr_change"
    with pytest.raises(BenchmarkError, match="unknown benchmark 'nope'"):
        get_benchmark("nope")
    res = run_cli("benchmarks", "list", "--json")
    assert res.code == 0
    infos = {i["name"]: i for i in json.loads(res.out)}
    assert infos["spot_the_diff"]["split_sizes"] == {"train": 8566, "val": 1493, "test": 1270}
    assert infos["iedit"]["split_sizes"] == {"train": 3061, "val": 383, "test": 495}
    assert infos["clevr_dc"]["split_sizes"] == {"train": 40800, "val": 2400, "test": 4800}
    assert all(i["citation"] and i["url"].startswith("https://") for i in infos.values())
    table = run_cli("benchmarks", "list")
    assert table.code == 0 and "spot-the-diff" in table.out and "github.com/hsgkim/clevr-dc" in table.out
    res = run_cli("benchmarks", "prepare", "nope", "--source", ".", "--out", "x")
    assert res.code == 1 and "unknown benchmark" in res.err


@pytest.mark.timeout(600)
def test_spot_the_diff_test_split_matches_the_authors_ground_truth(run_cli, tmp_path):
    src = spot_the_diff_source(tmp_path, SHARED_BENCHMARKS)
    out = tmp_path / "std-store"
    res = run_cli("benchmarks", "prepare", "spot-the-diff", "--source", src, "--out", out, "--split", "test")
    assert res.code == 0, res.err
    _assert_valid(out)
    store = Store.open(out)
    records = list(store.records())
    assert len(records) == 1270
    gt = json.loads((DDLA / "gtfile.json").read_text())
    expected: dict[str, list[str]] = {}
    for ann in gt["annotations"]:
        expected.setdefault(str(ann["image_id"]), []).append(ann["caption"])
    bench = get_benchmark("spot-the-diff")
    got = {r.pair_id: bench.references(r) for r in records}
    assert got == expected
    assert sum(len(v) for v in got.values()) == 2107
    assert sum(1 for v in got.values() for s in v if s == "") == 7
    assert all(r.provenance_dict["importer"] == "spot_the_diff" and r.domain == "real" for r in records)
    # the published DDLA numbers, now with the store as the references
    res = run_cli("score", "--predictions", DDLA / "predfile.json", "--references", out, "--benchmark",
                  "spot-the-diff")
    assert res.code == 0, res.err
    scores = json.loads(res.out)
    assert round(scores["metrics"]["CIDEr"], 3) == 0.351 and round(scores["metrics"]["Bleu_4"], 3) == 0.076
    assert scores["subsets"]["total"]["n"] == 1270


def test_spot_the_diff_and_iedit_train_and_val_counts(tmp_path):
    std = spot_the_diff_source(tmp_path, SHARED_BENCHMARKS, splits=("val",))
    planned = get_benchmark("spot-the-diff").plan(std, ["train", "val", "test"])
    assert Counter(p.split for p in planned) == {"train": 8566, "val": 1493, "test": 1270}
    ied = iedit_source(tmp_path, SHARED_BENCHMARKS, splits=())
    planned = get_benchmark("iedit").plan(ied, ["train", "val", "test"])
    assert Counter(p.split for p in planned) == {"train": 3061, "val": 383, "test": 495}
    assert {len(p.captions) for p in planned if p.split == "train"} == {1}
    assert {len(p.captions) for p in planned if p.split != "train"} == {3}


@pytest.mark.timeout(300)
def test_iedit_test_split(run_cli, tmp_path):
    src = iedit_source(tmp_path, SHARED_BENCHMARKS)
    out = tmp_path / "iedit-store"
    res = run_cli("benchmarks", "prepare", "iedit", "--source", src, "--out", out, "--split", "test")
    assert res.code == 0, res.err
    _assert_valid(out)
    records = list(Store.open(out).records())
    assert len(records) == 495
    assert {len(get_benchmark("iedit").references(r)) for r in records} == {3}
    native = {e["uid"]: e for e in json.loads((src / "test.json").read_text())}
    first = records[0]
    assert first.captions == native[first.pair_id]["sents"]
    assert first.image_before == (src / "images" / native[first.pair_id]["img0"]).read_bytes()


@pytest.mark.parametrize("bad_name, message", [
    ("../outside.png", "climbs out of the source folder"),
    ("images/../../outside.png", "climbs out of the source folder"),
    ("/etc/hostname", "absolute file name"),
    ("C:\\images\\x.png", "absolute file name"),
])
def test_file_names_that_escape_the_source_are_refused(run_cli, tmp_path, bad_name, message):
    src = tmp_path / "iedit"
    src.mkdir()
    write_image(src / "images" / "a.png", 1)
    entry = {"img0": "a.png", "img1": bad_name, "sents": ["x", "y", "z"], "uid": "u1"}
    (src / "test.json").write_text(json.dumps([entry]))
    out = tmp_path / "out"
    res = run_cli("benchmarks", "prepare", "iedit", "--source", src, "--out", out, "--split", "test")
    assert res.code == 1 and message in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_image_or_bad_source_writes_nothing(run_cli, tmp_path):
    src = clevr_change_source(tmp_path)
    (src / "sc_images" / "CLEVR_semantic_000004.png").unlink()
    out = tmp_path / "out"
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", out)
    assert res.code == 1 and "image file not found" in res.err and "CLEVR_semantic_000004.png" in res.err
    assert not out.exists() and not any(p.name.startswith(".out") for p in tmp_path.iterdir())
    (src / "splits.json").write_text("{broken")
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", out)
    assert res.code == 1 and "not valid JSON" in res.err
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", tmp_path / "nowhere", "--out", out)
    assert res.code == 1 and "no such folder" in res.err


def test_existing_store_is_never_overwritten(run_cli, tmp_path, small_store):
    src = clevr_change_source(tmp_path)
    before = sorted(p.name for p in (small_store.root / "data").iterdir())
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", small_store.root)
    assert res.code == 1 and "already exists" in res.err
    assert sorted(p.name for p in (small_store.root / "data").iterdir()) == before
    assert len(Store.open(small_store.root)) == 10


def test_clevr_change_native_layout(run_cli, tmp_path):
    src = clevr_change_source(tmp_path)
    out = tmp_path / "cc-store"
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", out)
    assert res.code == 0, res.err
    _assert_valid(out)
    records = {r.pair_id: r for r in Store.open(out).records()}
    assert len(records) == 12
    assert Counter(r.split for r in records.values()) == {"train": 4, "val": 2, "test": 6}
    sem, dis = records["000002.png"], records["000002.png_n"]
    assert sem.change_types == ["disappearance"] and not sem.distractor and sem.native_change_type == "drop"
    # the release does not say whether a distractor moved the camera or changed the light: both are possible
    assert dis.distractor and dis.change_types == ["viewpoint", "illumination"]
    assert dis.captions[0] == "the scene is the same as before"
    assert sem.image_before == dis.image_before == (src / "images" / "CLEVR_default_000002.png").read_bytes()
    assert sem.image_after == (src / "sc_images" / "CLEVR_semantic_000002.png").read_bytes()
    _, subsets = store_protocol(out, split="test")
    assert subsets["total"] == ["000003.png", "000003.png_n", "000004.png", "000004.png_n", "000005.png",
                                "000005.png_n"]
    assert subsets["semantic"] == ["000003.png", "000004.png", "000005.png"]
    assert subsets["distractor"] == ["000003.png_n", "000004.png_n", "000005.png_n"]
    assert subsets["change_type/color"] == ["000003.png"] and subsets["change_type/material"] == []
    assert subsets["change_type/addition"] == ["000004.png"]
    assert subsets["change_type/movement"] == ["000005.png"]
    assert CLEVR_CHANGE_TYPES[3] == "color"
    # the same command gives the same bytes
    again = tmp_path / "cc-store-2"
    assert run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", again).code == 0
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((out / f).read_bytes() == (again / f).read_bytes() for f in files)


def test_clevr_change_refuses_unknown_types(run_cli, tmp_path):
    src = clevr_change_source(tmp_path)
    (src / "type_mapping.json").write_text(json.dumps({"teleport": ["000000.png"]}))
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", tmp_path / "o")
    assert res.code == 1 and "unknown clevr_change label 'teleport'" in res.err


@pytest.mark.timeout(300)
def test_clevr_dc_with_the_real_split_file(run_cli, tmp_path):
    src = clevr_dc_source(tmp_path, SHARED_BENCHMARKS, split="val")
    out = tmp_path / "dc-store"
    res = run_cli("benchmarks", "prepare", "clevr-dc", "--source", src, "--out", out, "--split", "val")
    assert res.code == 0, res.err
    _assert_valid(out)
    store = Store.open(out)
    assert len(store) == 2400
    records = list(store.records(columns=["pair_id", "captions", "change_types", "distractor", "native_change_type"]))
    assert Counter(r.native_change_type for r in records) == {
        "color": 400, "material": 400, "add": 400, "remove": 400, "move": 400, "distractor": 400}
    first = {r.pair_id: r for r in records}["006800"]
    assert first.native_change_type == "color" and first.captions == ["change number 6800"]
    refs, subsets = store_protocol(out)
    assert len(refs) == 2400 and len(subsets["semantic"]) == 2000 and len(subsets["distractor"]) == 400
    assert {k: len(v) for k, v in subsets.items() if k.startswith("change_type/")} == {
        "change_type/color": 400, "change_type/material": 400, "change_type/addition": 400,
        "change_type/disappearance": 400, "change_type/movement": 400}


def test_omnidiff_from_a_store(run_cli, tmp_path, small_store):
    out = tmp_path / "od"
    res = run_cli("benchmarks", "prepare", "omnidiff", "--source", small_store.root, "--out", out, "--split", "test")
    assert res.code == 0, res.err
    _assert_valid(out)
    refs, subsets = store_protocol(out)
    assert len(refs) == 6 and subsets["domain/render"] == subsets["total"] and subsets["domain/real"] == []
    assert subsets["change_type/addition"] == subsets["total"]
    res = run_cli("benchmarks", "prepare", "omnidiff", "--source", tmp_path / "nowhere", "--out", tmp_path / "o2")
    assert res.code == 1 and "must be a store" in res.err


def test_spot_the_diff_img_ids_that_escape_are_refused(run_cli, tmp_path):
    src = tmp_path / "std"
    (src / "annotations").mkdir(parents=True)
    write_image(src / "resized_images" / "1.png", 1)
    write_image(src / "resized_images" / "1_2.png", 2)
    (src / "annotations" / "test.json").write_text(json.dumps(
        [{"img_id": "1", "sentences": ["a"]}, {"img_id": "../../secret", "sentences": ["b"]}]))
    out = tmp_path / "out"
    res = run_cli("benchmarks", "prepare", "spot-the-diff", "--source", src, "--out", out, "--split", "test")
    assert res.code == 1 and "climbs out of the source folder" in res.err
    assert not out.exists()
