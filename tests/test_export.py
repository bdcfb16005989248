"""``omnidiff export --format clevr-change``, read back the way RobustChangeCaptioning's loader reads it."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest
from PIL import Image

from annotations import Store

pytestmark = [pytest.mark.blender,
              pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")]


@pytest.fixture(scope="module")
def clevr_store(tmp_path_factory):
    import cli

    out = tmp_path_factory.mktemp("clevr") / "store"
    with pytest.raises(SystemExit) as exc:
        cli.main(["render", "--scenes", "4", "--profile", "test", "--seed", "6", "--preset", "clevr-change",
                  "--split-ratios", "0.5,0.25,0.25", "--out", str(out)])
    assert exc.value.code in (0, None)
    return out


class ClevrChangeLikeDataset:
    """Reads an export as RobustChangeCaptioning's dataset does: sorted folder listings indexed by
    the integer ids of splits.json, captions looked up by the default image's file name."""

    def __init__(self, root, split):
        self.d_imgs = sorted(os.listdir(root / "images"))
        self.s_imgs = sorted(os.listdir(root / "sc_images"))
        self.n_imgs = sorted(os.listdir(root / "nsc_images"))
        self.root = root
        self.idxs = json.loads((root / "splits.json").read_text())[split]
        self.change = json.loads((root / "change_captions.json").read_text())
        self.no_change = json.loads((root / "no_change_captions.json").read_text())

    def __len__(self):
        return len(self.idxs)

    def __getitem__(self, i):
        idx = self.idxs[i]
        name = self.d_imgs[idx]
        return {
            "default": self.root / "images" / name,
            "semantic": self.root / "sc_images" / self.s_imgs[idx],
            "nonsemantic": self.root / "nsc_images" / self.n_imgs[idx],
            "change": self.change[name],
            "no_change": self.no_change[name],
        }


def test_export_reads_like_the_robust_change_captioning_loader(clevr_store, run_cli, tmp_path):
    out = tmp_path / "export"
    res = run_cli("export", clevr_store, "--format", "clevr-change", "--out", out)
    assert res.code == 0, res.err
    assert "wrote 4 items" in res.out
    names = sorted(os.listdir(out / "images"))
    assert names == [f"CLEVR_default_{i:06d}.png" for i in range(4)]
    assert sorted(os.listdir(out / "sc_images")) == [f"CLEVR_semantic_{i:06d}.png" for i in range(4)]
    assert sorted(os.listdir(out / "nsc_images")) == [f"CLEVR_nonsemantic_{i:06d}.png" for i in range(4)]
    splits = json.loads((out / "splits.json").read_text())
    assert sorted(i for s in splits.values() for i in s) == list(range(4))
    assert all(isinstance(i, int) for s in splits.values() for i in s)
    types = json.loads((out / "type_mapping.json").read_text())
    assert set(types) == {"color", "material", "add", "drop", "move"}
    assert sorted(n for v in types.values() for n in v) == [f"{i:06d}.png" for i in range(4)]

    store = Store.open(clevr_store)
    by_scene = {}
    for rec in store.records():
        by_scene.setdefault(rec.scene_id, {})["distractor" if rec.distractor else "semantic"] = rec
    scenes = [by_scene[k] for k in sorted(by_scene)]
    seen = 0
    for split in ("train", "val", "test"):
        ds = ClevrChangeLikeDataset(out, split)
        for i in range(len(ds)):
            item = ds[i]
            idx = ds.idxs[i]
            sem, dis = scenes[idx]["semantic"], scenes[idx]["distractor"]
            assert sem.split == split
            assert item["default"].read_bytes() == sem.image_before
            assert item["semantic"].read_bytes() == sem.image_after
            assert item["nonsemantic"].read_bytes() == dis.image_after
            assert item["change"] == sem.captions and item["no_change"] == dis.captions
            assert f"{idx:06d}.png" in types[sem.native_change_type]
            with Image.open(item["semantic"]) as img:
                assert img.mode == "RGB"
            seen += 1
    assert seen == 4


def test_export_refuses_bad_input_and_keeps_what_exists(clevr_store, run_cli, tmp_path, small_store):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    res = run_cli("export", clevr_store, "--out", busy)
    assert res.code == 1 and "not an empty folder" in res.err and (busy / "keep.txt").read_text() == "mine"
    res = run_cli("export", clevr_store, "--format", "spot-the-diff", "--out", tmp_path / "x")
    assert res.code == 1 and "unknown export format" in res.err and not (tmp_path / "x").exists()
    res = run_cli("export", small_store.root, "--out", tmp_path / "y")  # omnidiff pairs only
    assert res.code == 1 and "no clevr_change pairs" in res.err and not (tmp_path / "y").exists()
    res = run_cli("export", tmp_path / "missing", "--out", tmp_path / "z")
    assert res.code == 1 and len(res.err.strip().splitlines()) == 1
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_export_skips_scenes_without_a_distractor(tmp_path, run_cli):
    store = tmp_path / "semantic-only"
    res = run_cli("render", "--scenes", "1", "--profile", "test", "--seed", "6", "--preset", "clevr-change",
                  "--pairs-per-scene", "1", "--out", store)
    assert res.code == 0
    res = run_cli("export", store, "--out", tmp_path / "e")
    assert res.code == 1 and "needs a semantic and a distractor pair per scene" in res.err
