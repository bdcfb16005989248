"""``omnidiff export``: CLEVR-Change's released layout and hsgkim/clevr-dc's, read back the way their own code
reads them, and prepared back into stores that hold the same pairs (round trips)."""

from __future__ import annotations

import importlib.util
import io
import json
import os
from dataclasses import replace

import pytest
from PIL import Image

from annotations import PairRecord, Store

pytestmark = [pytest.mark.blender,
              pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")]


def _render(out, preset, scenes, pairs_per_scene):
    import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["render", "--scenes", str(scenes), "--profile", "test", "--seed", "6", "--preset", preset,
                  "--pairs-per-scene", str(pairs_per_scene), "--split-ratios", "0.5,0.25,0.25", "--out", str(out)])
    assert exc.value.code in (0, None)
    return out


@pytest.fixture(scope="module")
def clevr_store(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("clevr") / "store", "clevr-change", 4, 2)


@pytest.fixture(scope="module")
def dc_store(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("dc") / "store", "clevr-dc", 2, 6)


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB").tobytes()


def by_images(store_path) -> dict[tuple[bytes, bytes], PairRecord]:
    """Pairs keyed by their (before, after) bytes: a pair found again wherever its images went."""
    found = {}
    for rec in Store.open(store_path).records():
        key = (rec.image_before, rec.image_after)
        assert key not in found, "two pairs with the same images"
        found[key] = rec
    return found


class RobustChangeCaptioningReader:
    """What RobustChangeCaptioning's ``datasets/rcc_dataset.py`` does with a release, from its documented behaviour:
    sorted listings of the three image folders (which must be equally long), the ``splits.json`` numbers used as
    indices into them, and ``type_mapping.json`` entries parsed with ``int(x.split('.')[0])`` into sets per type;
    captions are looked up by the default image's file name (``scripts/preprocess_captions.py``)."""

    TYPES = ("color", "material", "add", "drop", "move")

    def __init__(self, root, split):
        self.root = root
        self.d_imgs = sorted(os.listdir(root / "images"))
        self.s_imgs = sorted(os.listdir(root / "sc_images"))
        self.n_imgs = sorted(os.listdir(root / "nsc_images"))
        assert len(self.d_imgs) == len(self.s_imgs) == len(self.n_imgs)
        self.split_idxs = json.loads((root / "splits.json").read_text())[split]
        mapping = json.loads((root / "type_mapping.json").read_text())
        self.type_to_img = {k: {int(x.split(".")[0]) for x in v} for k, v in mapping.items()}
        self.change = json.loads((root / "change_captions.json").read_text())
        self.no_change = json.loads((root / "no_change_captions.json").read_text())

    def __len__(self):
        return len(self.split_idxs)

    def __getitem__(self, index):
        idx = self.split_idxs[index]
        change_type = next((t for t, imgs in self.type_to_img.items() if idx in imgs), None)
        name = self.d_imgs[idx]
        return {"default": (self.root / "images" / name).read_bytes(),
                "semantic": (self.root / "sc_images" / self.s_imgs[idx]).read_bytes(),
                "nonsemantic": (self.root / "nsc_images" / self.n_imgs[idx]).read_bytes(),
                "type": change_type, "change": self.change[name], "no_change": self.no_change[name],
                "id": name.split("_")[-1]}


def test_clevr_change_export_reads_like_robust_change_captioning(clevr_store, run_cli, tmp_path):
    out = tmp_path / "export"
    res = run_cli("export", clevr_store, "--format", "clevr-change", "--out", out)
    assert res.code == 0, res.err
    assert "wrote 4 items" in res.out and str(out) in res.out and "nothing skipped" in res.out
    assert sorted(os.listdir(out / "images")) == [f"CLEVR_default_{i:06d}.png" for i in range(4)]
    assert sorted(os.listdir(out / "sc_images")) == [f"CLEVR_semantic_{i:06d}.png" for i in range(4)]
    assert sorted(os.listdir(out / "nsc_images")) == [f"CLEVR_nonsemantic_{i:06d}.png" for i in range(4)]
    splits = json.loads((out / "splits.json").read_text())
    assert set(splits) == {"train", "val", "test"} and sorted(i for s in splits.values() for i in s) == list(range(4))
    assert all(type(i) is int for s in splits.values() for i in s)
    types = json.loads((out / "type_mapping.json").read_text())
    assert set(types) == set(RobustChangeCaptioningReader.TYPES)
    assert sorted(n for v in types.values() for n in v) == [f"{i:06d}.png" for i in range(4)]  # 'NNNNNN.png', as released
    assert set(json.loads((out / "change_captions.json").read_text())) == {f"CLEVR_default_{i:06d}.png" for i in range(4)}

    scenes: dict[str, dict[str, PairRecord]] = {}
    for rec in Store.open(clevr_store).records():
        scenes.setdefault(rec.scene_id, {})["distractor" if rec.distractor else "semantic"] = rec
    by_before = {s["semantic"].image_before: s for s in scenes.values()}
    seen = 0
    for split in ("train", "val", "test"):
        reader = RobustChangeCaptioningReader(out, split)
        for i in range(len(reader)):
            item = reader[i]
            scene = by_before[item["default"]]
            sem, dis = scene["semantic"], scene["distractor"]
            assert sem.split == split and item["type"] == sem.native_change_type
            assert item["semantic"] == sem.image_after and item["nonsemantic"] == dis.image_after
            assert item["change"] == sem.captions and item["no_change"] == dis.captions
            seen += 1
    assert seen == 4


def test_clevr_change_round_trip(clevr_store, run_cli, tmp_path):
    export, back = tmp_path / "export", tmp_path / "back"
    assert run_cli("export", clevr_store, "--format", "clevr-change", "--out", export).code == 0
    res = run_cli("benchmarks", "prepare", "clevr-change", "--source", export, "--out", back)
    assert res.code == 0, res.err
    original, prepared = by_images(clevr_store), by_images(back)
    assert len(prepared) == len(original) == 8
    assert set(prepared) == set(original)  # the same image bytes, so the same pixels
    for key, rec in prepared.items():
        orig = original[key]
        assert pixels(rec.image_after) == pixels(orig.image_after)
        assert (rec.captions, rec.split, rec.distractor) == (orig.captions, orig.split, orig.distractor)
        if orig.distractor:
            assert rec.pair_id.endswith(".png_n") and rec.change_types == ["viewpoint", "illumination"]
        else:
            assert rec.change_types == orig.change_types and rec.native_change_type == orig.native_change_type


def test_clevr_dc_export_layout_and_round_trip(dc_store, run_cli, tmp_path):
    export, back = tmp_path / "export", tmp_path / "back"
    res = run_cli("export", dc_store, "--format", "clevr-dc", "--out", export)
    assert res.code == 0, res.err
    assert "wrote 12 items" in res.out
    captions = json.loads((export / "captions.json").read_text())
    split = json.loads((export / "split.json").read_text())
    ids = sorted(int(k) for k in captions)
    assert all(isinstance(v, list) and v for v in captions.values())
    assert sorted(i for s in split.values() for i in s) == ids and all(type(i) is int for s in split.values() for i in s)
    assert sorted(os.listdir(export / "bef")) == sorted(f"{i}.png" for i in ids) == sorted(os.listdir(export / "aft"))
    assert sorted({i // 8000 for i in ids}) == list(range(6))  # two pairs in each of the six blocks
    assert all(i % 8000 in (0, 1) for i in ids)
    readme = (export / "README.md").read_text()
    for block, action in enumerate(("color", "material", "add", "remove", "move", "distractor")):
        assert f"| {block * 8000}-{block * 8000 + 7999} | {action} | 2 |" in readme

    res = run_cli("benchmarks", "prepare", "clevr-dc", "--source", export, "--out", back)
    assert res.code == 0, res.err
    original, prepared = by_images(dc_store), by_images(back)
    assert len(prepared) == len(original) == 12 and set(prepared) == set(original)
    for key, rec in prepared.items():
        orig = original[key]
        assert (rec.captions, rec.split, rec.change_types, rec.native_change_type, rec.distractor) == (
            orig.captions, orig.split, orig.change_types, orig.native_change_type, orig.distractor)
        assert int(rec.pair_id) // 8000 == ("color", "material", "add", "remove", "move", "distractor").index(
            orig.native_change_type)


def _copy_store(src, dst, keep=lambda rec: True, change=lambda rec: rec):
    store = Store.create(dst, name="copy")
    store.append([change(r) for r in Store.open(src).records() if keep(r)])
    return dst


def test_exports_skip_what_the_layout_cannot_hold_and_say_so(clevr_store, dc_store, run_cli, tmp_path):
    first_scene = sorted({r.scene_id for r in Store.open(clevr_store).records()})[0]
    partial = _copy_store(clevr_store, tmp_path / "partial", keep=lambda r: not (r.scene_id == first_scene and r.distractor))
    res = run_cli("export", partial, "--format", "clevr-change", "--out", tmp_path / "e1")
    assert res.code == 0, res.err
    assert "wrote 3 items" in res.out and "1 scenes without a distractor pair" in res.out
    assert "1 scenes without a distractor pair" in (tmp_path / "e1" / "README.md").read_text()

    first_dc = Store.open(dc_store).pair_ids()[0]
    odd = _copy_store(dc_store, tmp_path / "odd", change=lambda r: replace(r, native_change_type="size")
                      if r.pair_id == first_dc else r)
    res = run_cli("export", odd, "--format", "clevr-dc", "--out", tmp_path / "e2")
    assert res.code == 0, res.err
    assert "wrote 11 items" in res.out and "1 pairs whose action is not one of" in res.out


def test_exports_refuse_a_store_without_what_the_layout_needs(clevr_store, dc_store, run_cli, tmp_path, small_store):
    semantic_only = _copy_store(clevr_store, tmp_path / "semantic-only", keep=lambda r: not r.distractor)
    res = run_cli("export", semantic_only, "--out", tmp_path / "e")
    assert res.code == 1 and "needs a semantic and a distractor pair per scene" in res.err
    assert "4 scenes without a distractor pair" in res.err and len(res.err.strip().splitlines()) == 1
    all_odd = _copy_store(dc_store, tmp_path / "all-odd", change=lambda r: replace(r, native_change_type="size"))
    res = run_cli("export", all_odd, "--format", "clevr-dc", "--out", tmp_path / "e")
    assert res.code == 1 and "the layout has no block for it" in res.err
    res = run_cli("export", clevr_store, "--format", "clevr-dc", "--out", tmp_path / "e")
    assert res.code == 1 and "no clevr_dc pairs" in res.err
    res = run_cli("export", small_store.root, "--out", tmp_path / "e")  # omnidiff pairs only
    assert res.code == 1 and "no clevr_change pairs" in res.err
    assert not (tmp_path / "e").exists() and not any(".exporting-" in p.name for p in tmp_path.iterdir())

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    res = run_cli("export", clevr_store, "--out", busy)
    assert res.code == 1 and "not an empty folder" in res.err and (busy / "keep.txt").read_text() == "mine"
    res = run_cli("export", clevr_store, "--format", "spot-the-diff", "--out", tmp_path / "x")
    assert res.code == 1 and "unknown export format" in res.err and not (tmp_path / "x").exists()
    res = run_cli("export", tmp_path / "missing", "--out", tmp_path / "z")
    assert res.code == 1 and len(res.err.strip().splitlines()) == 1
