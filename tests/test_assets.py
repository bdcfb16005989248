"""The user's own assets: a catalog of files Blender itself made (.glb, .obj, a .blend with a text object),
rendered into rooms; a recolour of a declared slot, a text rewrite and a removal give exact masks and
captions; every bad catalog is one line, exit 1, nothing written."""

from __future__ import annotations

import importlib.util
import io
import json

import numpy as np
import pytest
from PIL import Image

from annotations import Store
from generators.synthetic.assets.catalog import CatalogError, read_catalog
from generators.synthetic.masks import text_id
from generators.synthetic.scene_job import MIN_OBJECT_CHANGE
from generators.synthetic.spec import SceneSpec
from tests.assets_helpers import build_assets, catalog, check_changes, write_catalog

pytestmark = [pytest.mark.blender,
              pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")]


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assets")
    build_assets(folder)
    return folder


def _one_line_error(res, *names: str) -> None:
    assert res.code == 1, (res.code, res.err)
    lines = [line for line in res.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.err, res.err
    for name in names:
        assert name in lines[0], (name, lines[0])


def test_bad_catalogs_name_the_problem_in_one_line_and_write_nothing(assets, run_cli, tmp_path):
    (assets / "empty.glb").write_bytes(b"")
    (assets / "folder.obj").mkdir(exist_ok=True)
    (assets / "broken.glb").write_bytes(b"glTF" + bytes(range(256)) * 4)
    cases = [
        (None, "missing.json", ["missing.json", "no such file"]),
        ("{not json", "bad.json", ["bad.json", "not valid JSON"]),
        ({**catalog(assets), "colour": "red"}, "top.json", ["unknown field 'colour'"]),
        (catalog(assets, bar_stool={"colour": "red"}), "field.json", ["bar_stool", "unknown field 'colour'"]),
        (catalog(assets, bar_stool={"file": "gone.obj"}), "gone.json", ["gone.obj", "does not exist"]),
        (catalog(assets, bar_stool={"file": "empty.glb"}), "empty.json", ["empty.glb", "is empty"]),
        (catalog(assets, bar_stool={"file": "folder.obj"}), "dir.json", ["folder.obj", "not a regular file"]),
        (catalog(assets, bar_stool={"file": "stool.stl"}), "fmt.json", ["stool.stl", ".glb"]),
        (catalog(assets, bar_stool={"placement": "ceiling"}), "place.json", ["bar_stool", "placement"]),
        (catalog(assets, bar_stool={"height": None}), "height.json", ["bar_stool", "missing field 'height'"]),
        (catalog(assets, shop_sign={"words": None}), "words.json", ["shop_sign", "words"]),
        (catalog(assets, glazed_vase={"file": "broken.glb"}), "broken.json", ["broken.glb", "cannot import"]),
        (catalog(assets, bar_stool={"recolour": ["Leg"]}), "slot.json", ["bar_stool", "material slot 'Leg'"]),
    ]
    for data, name, words in cases:
        path = assets / name
        if isinstance(data, dict):
            write_catalog(assets, data, name)
        elif isinstance(data, str):
            path.write_text(data)
        out = tmp_path / f"out-{name}"
        res = run_cli("render", "--scenes", "1", "--setting", "indoor", "--profile", "test", "--assets", path, "--out", out)
        _one_line_error(res, *words)
        assert not out.exists(), name  # refused before the store was made


def test_a_yaml_catalog_reads_like_the_json_one_and_hashes_every_file(assets):
    import yaml

    data = catalog(assets)
    (assets / "catalog.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    from_yaml = read_catalog(assets / "catalog.yaml")
    from_json = read_catalog(write_catalog(assets, data))
    assert from_yaml.entries == from_json.entries
    assert [e.sha256 for e in from_json.entries] == [__import__("hashlib").sha256((assets / f).read_bytes()).hexdigest()
                                                    for f in ("vase.glb", "stool.obj", "sign.blend", "crate.fbx")]
    with pytest.raises(CatalogError, match="listed twice"):
        read_catalog(write_catalog(assets, {"assets": data["assets"] + data["assets"][:1]}, "twice.json"))


def _png(path) -> np.ndarray:
    data = path.read_bytes()
    return np.zeros((0, 0), bool) if not data else np.asarray(Image.open(io.BytesIO(data))) > 0


def _rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def test_recolour_text_and_removal_of_imported_assets_give_exact_masks_and_captions(assets, tmp_path):
    report = check_changes(write_catalog(assets, catalog(assets)), tmp_path)
    assert {"color", "text", "removal"} <= set(report), report.get("scenes")
    for key, noun, mask_id in (("color", "bar stool", None), ("text", "shop sign", "text"), ("removal", "glazed vase", None)):
        r = report[key]
        uid = r["uid"]
        shape = tuple(r["shape"])
        ids_b = np.frombuffer((tmp_path / f"{key}_ids_before.npy").read_bytes(), np.uint16).reshape(shape)
        ids_a = np.frombuffer((tmp_path / f"{key}_ids_after.npy").read_bytes(), np.uint16).reshape(shape)
        want = text_id(uid) if mask_id else uid
        mb, ma = _png(tmp_path / f"{key}_mask_before.png"), _png(tmp_path / f"{key}_mask_after.png")
        assert np.array_equal(mb, ids_b == want)  # the mask is exactly the asset's (or its text's) pixels
        if key == "removal":
            assert not ma.any() and not (ids_a == uid).any() and mb.sum() > 0
        else:
            assert np.array_equal(ma, ids_a == want) and ma.sum() > 0
        before, after = _rgb(tmp_path / f"{key}_before.png"), _rgb(tmp_path / f"{key}_after.png")
        change = np.abs(before - after).max(axis=2)
        region = (ids_b == want) | (ids_a == want)
        assert change[region].mean() >= MIN_OBJECT_CHANGE, key
        assert (change[~region] > 60).mean() < 0.03, key  # nothing else changed (beyond shadows and noise)
        for caption in r["captions"]:
            assert noun in caption or (key == "removal" and "urn" in caption), caption
        if key == "color":
            assert r["diff"]["part"] == "Seat" and all(r["diff"]["after"] in c for c in r["captions"])
        if key == "text":
            assert all(f'"{r["diff"]["after"]}"' in c for c in r["captions"]) and r["diff"]["mask_before"] == [text_id(uid)]
        if key == "removal":
            assert r["diff"]["holder"]["kind"] == "object"


def test_a_render_with_assets_puts_them_in_rooms_and_records_their_files(assets, run_cli, tmp_path):
    out = tmp_path / "store"
    res = run_cli("render", "--scenes", "1", "--setting", "indoor", "--profile", "test", "--pairs-per-scene", "1",
                  "--seed", "2", "--assets", write_catalog(assets, catalog(assets)), "--out", out)
    assert res.code == 0, res.err
    records = list(Store.open(out).records())
    assert records
    for rec in records:
        prov = rec.provenance_dict
        assert {a["name"]: a["license"] for a in prov["assets"]} == {"glazed_vase": "CC0-1.0", "bar_stool": "CC-BY-4.0",
                                                                     "shop_sign": "CC0-1.0", "crate": "CC0-1.0"}
        assert all(len(a["sha256"]) == 64 for a in prov["assets"])
        scene = SceneSpec.from_dict(json.loads(rec.scene_diff)["scene_before"])
        assert {"glazed_vase", "bar_stool", "shop_sign"} & {o.family for o in scene.objects}


def test_an_asset_without_recolourable_slots_is_named_by_the_colour_of_its_file(tmp_path):
    from dataclasses import replace

    from generators.synthetic.assets.register import family_data, nearest_colour

    for name in ("vase.glb", "stool.obj", "sign.blend", "crate.fbx"):
        (tmp_path / name).write_bytes(b"not empty")  # the catalog checks presence and size; the probe reads contents
    entry = replace(read_catalog(write_catalog(tmp_path, catalog(tmp_path))).entries[1], recolour=(), colour=(182, 34, 30))
    data = family_data(entry)
    assert nearest_colour((182, 34, 30)) == "red" and data["parts"] == {
        "body": {"materials": ["painted"], "fixed_color": True, "colors": ["red"]}}
    assert data["nouns"] == ["bar stool"] and data["placement"] == "floor" and data["asset"]["sha256"] == entry.sha256
