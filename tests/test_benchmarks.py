"""The five benchmark loaders on real annotation files (stand-in images) and native-layout fixtures."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from annotations import PairRecord, Store
from annotations.validate import validate_store
from omnidiff.benchmarks import BenchmarkError, get_benchmark, list_benchmarks, store_protocol
from tests.benchmarks_helpers import (
    CLEVR_CHANGE_TYPES,
    clevr_change_source,
    clevr_dc_source,
    clevr_dc_worded_source,
    iedit_source,
    spot_the_diff_source,
    write_image,
)
from tests.conftest import SHARED_BENCHMARKS

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

DDLA = SHARED_BENCHMARKS / "spot-the-diff" / "ddla"


def _assert_valid(path) -> None:
    report = validate_store(path)
    assert report.problems == []


def test_registry_names_and_listing(run_cli):
    names = [b.name for b in list_benchmarks()]
    assert names == ["omnidiff", "clevr_change", "clevr_dc", "spot_the_diff", "iedit", "birds_to_words"]
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
    # CLIP4IDC / FINER-MLLM name the pairs '<img_id>.png': the same file with those ids scores the same
    suffixed = tmp_path / "predfile-png.json"
    suffixed.write_text(json.dumps([{**p, "image_id": f"{p['image_id']}.png"} for p in json.loads(
        (DDLA / "predfile.json").read_text())]))
    res = run_cli("score", "--predictions", suffixed, "--references", out, "--benchmark", "spot-the-diff")
    assert res.code == 0, res.err
    again = json.loads(res.out)
    assert again["metrics"] == scores["metrics"] and again["subsets"] == scores["subsets"]
    assert "1270 of 1270 prediction ids" in again["notes"]["pair_ids"] and "'256.png' -> '256'" in again["notes"]["pair_ids"]
    published = {"Bleu_1": 0.296, "Bleu_2": 0.187, "Bleu_3": 0.118, "Bleu_4": 0.076, "METEOR": 0.109,
                 "ROUGE_L": 0.280, "CIDEr": 0.351}
    assert {k: round(again["metrics"][k], 3) for k in published} == published
    # and as a result beside the models, with `omnidiff eval --predictions`
    res = run_cli("eval", "--predictions", suffixed, "--data", out, "--name", "ddla", "--results", tmp_path / "r",
                  "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    assert "note: 1270 of 1270 prediction ids" in res.err
    stored = json.loads((tmp_path / "r" / "ddla" / "spot_the_diff" / "test" / "scores.json").read_text())
    assert {k: round(stored["metrics"][k], 3) for k in published} == published
    assert json.loads((tmp_path / "r" / "ddla" / "spot_the_diff" / "test" / "predictions.jsonl").read_text()
                      .splitlines()[0])["pair_id"] in expected


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
    # DIRL writes '%06d.png', MEDIC '%d.png': both files score against the store, identically
    ids = sorted(refs)
    results = {}
    for style, name in (("dirl", "{:06d}.png"), ("medic", "{}.png")):
        path = tmp_path / f"{style}.json"
        path.write_text(json.dumps([{"image_id": name.format(int(pid)), "caption": f"change number {int(pid) % 7}"}
                                    for pid in ids]))
        res = run_cli("score", "--predictions", path, "--references", out, "--no-spice")
        assert res.code == 0, res.err
        results[style] = json.loads(res.out)
        assert "2400 of 2400 prediction ids" in results[style]["notes"]["pair_ids"]
    assert results["dirl"]["metrics"] == results["medic"]["metrics"] and results["dirl"]["n"] == 2400


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


def test_an_id_that_fits_two_pairs_or_none_is_an_error(run_cli, tmp_path):
    from tests.benchmarks_helpers import tiny_image

    store = Store.create(tmp_path / "dc", name="dc", info={"benchmark": "clevr_dc"})
    store.append([PairRecord(pair_id=pid, scene_id=pid, benchmark="clevr_dc", split="test", domain="render",
                             image_before=tiny_image(".png", 1), image_after=tiny_image(".png", 2),
                             captions=["nothing has changed"]) for pid in ("000007", "7", "000008")])
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps([{"image_id": "7.png", "caption": "x"}, {"image_id": "000008", "caption": "y"}]))
    res = run_cli("score", "--predictions", preds, "--references", store.root, "--allow-missing", "--no-spice")
    assert res.code == 1 and "prediction id '7.png' fits 2 pairs" in res.err and "'7', '000007'" in res.err
    preds.write_text(json.dumps([{"image_id": "99.png", "caption": "x"}]))
    res = run_cli("score", "--predictions", preds, "--references", store.root, "--allow-missing", "--no-spice")
    assert res.code == 1 and "'99.png' is not a pair of the clevr-dc store" in res.err and "'000099'" in res.err
    preds.write_text(json.dumps([{"image_id": "8.png", "caption": "x"}, {"image_id": "000008.png", "caption": "y"}]))
    res = run_cli("score", "--predictions", preds, "--references", store.root, "--allow-missing", "--no-spice")
    assert res.code == 1 and "both name pair '000008'" in res.err
    assert all(len(r.strip().splitlines()) == 1 for r in (res.err,))


def test_clevr_change_resolves_numbers_by_name_and_checks_the_listing(run_cli, tmp_path):
    src = clevr_change_source(tmp_path)
    # type_mapping names as the release writes them ('000004.png'); the older 'CLEVR_default_' form also reads
    types = json.loads((src / "type_mapping.json").read_text())
    types["add"] = [f"CLEVR_default_{n}" for n in types["add"]]
    (src / "type_mapping.json").write_text(json.dumps(types))
    out = tmp_path / "ok"
    assert run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", out).code == 0
    assert {r.pair_id: r.native_change_type for r in Store.open(out).records()}["000004.png"] == "add"

    (src / "images" / "CLEVR_default_000002.png").unlink()
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", tmp_path / "o1")
    assert res.code == 1 and "image file not found" in res.err and "CLEVR_default_000002.png" in res.err
    assert "named by splits.json" in res.err and not (tmp_path / "o1").exists()
    write_image(src / "images" / "CLEVR_default_000002.png", 2)
    write_image(src / "images" / "CLEVR_default_000000a.png", 9)  # an extra file shifts an index-based reader
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", src, "--out", tmp_path / "o2")
    assert res.code == 1 and "sorted listing disagrees with splits.json" in res.err
    assert "position 1 holds 'CLEVR_default_000000a.png'" in res.err and len(res.err.strip().splitlines()) == 1


def test_clevr_dc_reads_the_dirl_medic_tree_like_the_release(run_cli, tmp_path):
    release, dirl = clevr_dc_worded_source(tmp_path, "release"), clevr_dc_worded_source(tmp_path, "dirl")
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("benchmarks", "prepare", "clevr-dc", "--source", release, "--out", a).code == 0
    res = run_cli("benchmarks", "prepare", "clevr-dc", "--source", dirl, "--out", b)
    assert res.code == 0, res.err
    _assert_valid(b)
    cols = ["pair_id", "split", "captions", "native_change_type", "change_types", "distractor"]
    left = [(r.pair_id, r.split, r.captions, r.native_change_type, r.change_types, r.distractor)
            for r in Store.open(a).records(columns=cols)]
    right = [(r.pair_id, r.split, r.captions, r.native_change_type, r.change_types, r.distractor)
             for r in Store.open(b).records(columns=cols)]
    assert left == right and len(left) == 12
    assert {r[0]: r[3] for r in left}["016001"] == "add" and {r[0]: r[5] for r in left}["040000"] is True
    images = {r.pair_id: r.image_after for r in Store.open(b).records()}
    assert images["024001"] == (dirl / "sc_images" / "024001.png").read_bytes()
    (dirl / "sc_images" / "024001.png").unlink()
    res = run_cli("benchmarks", "prepare", "clevr-dc", "--source", dirl, "--out", tmp_path / "c")
    assert res.code == 1 and "image file not found" in res.err and "024001.png" in res.err


@pytest.mark.parametrize("swap", [("add", "remove"), ("color", "material"), ("move", "distractor")])
def test_clevr_dc_refuses_a_download_whose_blocks_are_swapped(run_cli, tmp_path, swap):
    src = clevr_dc_worded_source(tmp_path, "release", swap=swap)
    res = run_cli("benchmarks", "prepare", "clevr-dc", "--source", src, "--out", tmp_path / "o")
    assert res.code == 1 and "blocks are not in the order" in res.err
    assert f"should be the {swap[0]!r} block" in res.err and f"read as {swap[1]!r}" in res.err
    assert len(res.err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


@pytest.mark.parametrize("link", ["outside_file", "outside_folder", "loop"])
def test_symlinked_images_leading_outside_the_source_are_refused(run_cli, tmp_path, link):
    src = tmp_path / "iedit"
    write_image(src / "images" / "a.png", 1)
    write_image(tmp_path / "elsewhere" / "secret.png", 2)
    if link == "outside_file":
        (src / "images" / "b.png").symlink_to(tmp_path / "elsewhere" / "secret.png")
        name, expect = "b.png", "a symlink leading outside"
    elif link == "outside_folder":
        (src / "images" / "sub").symlink_to(tmp_path / "elsewhere")
        name, expect = "sub/secret.png", "a symlink leading outside"
    else:
        (src / "images" / "b.png").symlink_to("c.png")
        (src / "images" / "c.png").symlink_to("b.png")
        name, expect = "b.png", "a symlink loop"
    entry = {"img0": "a.png", "img1": name, "sents": ["x", "y", "z"], "uid": "u1"}
    (src / "test.json").write_text(json.dumps([entry]))
    out = tmp_path / "out"
    res = run_cli("benchmarks", "prepare", "iedit", "--source", src, "--out", out, "--split", "test")
    assert res.code == 1 and expect in res.err and len(res.err.strip().splitlines()) == 1, res.err
    assert not out.exists()


def test_a_symlinked_layout_folder_and_links_inside_it_are_followed(run_cli, tmp_path):
    """The layout folder itself may live elsewhere (a data disk); what matters is where names lead."""
    write_image(tmp_path / "disk" / "images" / "a.png", 1)
    (tmp_path / "disk" / "images" / "b.png").symlink_to("a.png")
    src = tmp_path / "iedit"
    src.mkdir()
    (src / "images").symlink_to(tmp_path / "disk" / "images")
    (src / "test.json").write_text(json.dumps([{"img0": "a.png", "img1": "b.png", "sents": ["x", "y", "z"], "uid": "u1"}]))
    res = run_cli("benchmarks", "prepare", "iedit", "--source", src, "--out", tmp_path / "out", "--split", "test")
    assert res.code == 0, res.err
    assert len(Store.open(tmp_path / "out")) == 1
