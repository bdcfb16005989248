"""Rooms and streets rendered by Blender at the ``test`` profile: every change type of both kits, masks
against pixels, captions against the diff, layouts, and the same content from 1 and 2 workers."""

from __future__ import annotations

import importlib.util
import io
import re

import numpy as np
import pytest
from PIL import Image

from annotations import Store
from generators.synthetic.families import FAMILIES
from generators.synthetic.kits import get_kit
from generators.synthetic.layout import interpenetrations, rests
from generators.synthetic.profiles import PROFILES
from generators.synthetic.scene_job import MIN_OBJECT_CHANGE
from generators.synthetic.spec import SceneSpec

pytestmark = [pytest.mark.blender,
              pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")]

SEED = "5"
SCENE_WIDE = ("viewpoint", "illumination")


@pytest.fixture(scope="module")
def kit_stores(tmp_path_factory):
    """One room and one street, all 13 change types each, rendered with 2 workers and again with 1."""
    import cli

    root = tmp_path_factory.mktemp("kits")
    outs = []
    for run, workers in (("A", "2"), ("B", "1")):
        out = root / run / "store"  # one store name: the manifest records it
        with pytest.raises(SystemExit) as exc:
            cli.main(["render", "--scenes", "2", "--setting", "indoor,outdoor", "--profile", "test", "--seed", SEED,
                      "--workers", workers, "--append-every", "3600", "--out", str(out)])
        assert exc.value.code in (0, None)
        outs.append(out)
    return outs


def array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.int16)


def mask(data: bytes | None, shape) -> np.ndarray:
    if not data:
        return np.zeros(shape, bool)
    return np.asarray(Image.open(io.BytesIO(data))) > 0


def grow(m: np.ndarray, r: int) -> np.ndarray:
    out = m.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(m, dy, 0), dx, 1)
    return out


def store_files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".lock"}


def test_workers_1_and_2_give_the_same_store_and_every_kit_change_type(kit_stores, run_cli):
    """Acceptance 3: one seed, two runs (2 workers, then 1): the same records and the same store files, byte for byte."""
    a, b = kit_stores
    files_a, files_b = store_files(a), store_files(b)
    assert sorted(files_a) == sorted(files_b) and any(name.endswith(".parquet") for name in files_a)
    assert [n for n in files_a if files_a[n] != files_b[n]] == []
    ra = {r.pair_id: r for r in Store.open(a).records()}
    rb = {r.pair_id: r for r in Store.open(b).records()}
    assert sorted(ra) == sorted(rb)
    for pid in ra:
        assert ra[pid] == rb[pid], pid  # the same bytes, masks, captions and provenance
    kits = {(r.setting, r.change_types[0]) for r in ra.values()}
    for setting in ("indoor", "outdoor"):
        assert {k for s, k in kits if s == setting} == set(get_kit(setting).change_types), setting
    for store in (a, b):
        assert run_cli("validate", store).code == 0


def test_masks_cover_what_changed_and_nothing_else_changed(kit_stores):
    """Acceptance 2: inside the mask the pixels change, outside (beyond noise, shadows and reflections) they do not."""
    a, _ = kit_stores
    minimum = PROFILES["test"].min_visible_pixels
    for rec in Store.open(a).records():
        key = rec.change_types[0]
        before, after = array(rec.image_before), array(rec.image_after)
        diff = np.abs(before - after).max(axis=2)
        mb, ma = mask(rec.mask_before, diff.shape), mask(rec.mask_after, diff.shape)
        if key in SCENE_WIDE:
            assert not mb.any() and not ma.any() and not rec.boxes
            assert (diff > 8).mean() > 0.25, (rec.pair_id, (diff > 8).mean())  # the whole image changes
            continue
        need = max(4, minimum // 4) if key == "text" else minimum
        if key == "addition" or (key == "counting" and not mb.any()):
            assert not mb.any() and ma.sum() >= need
        elif key in ("disappearance", "removal") or key == "counting":
            assert mb.sum() >= need and not ma.any()
        else:
            assert mb.sum() >= need and ma.sum() >= need, key
        changed = mb | ma
        inside = diff[changed].mean()
        far = ~grow(changed, 3)
        outside_big = (diff[far] > 60).mean()
        assert inside >= MIN_OBJECT_CHANGE, (rec.pair_id, inside)
        assert outside_big < 0.05, (rec.pair_id, outside_big)  # shadows and bounced light stay small
        assert diff[far].mean() < inside / 3, (rec.pair_id, diff[far].mean(), inside)
        for box in rec.boxes or []:
            m = mb if box.image == "before" else ma
            assert m[box.y0:box.y1, box.x0:box.x1].any() and box.label == key


def nouns(family: str) -> list[str]:
    fam = FAMILIES[family]
    return [n.lower() for n in fam.nouns] + [fam.plural.lower()]


def test_diffs_name_families_captions_name_them_and_layouts_hold(kit_stores):
    a, _ = kit_stores
    for rec in Store.open(a).records():
        sd = rec.scene_diff_dict
        before, after = SceneSpec.from_dict(sd["scene_before"]), SceneSpec.from_dict(sd["scene_after"])
        for scene in (before, after):
            assert interpenetrations(scene) == [], rec.pair_id
            assert all(rests(scene, o) is None for o in scene.objects), rec.pair_id
        assert len(rec.captions) >= 3 and len(set(rec.captions)) == len(rec.captions)
        prov = rec.provenance_dict
        assert prov["setting"] == rec.setting and prov["scene_kind"] == before.shell.params["type"]
        diff = sd["changes"][0]
        if diff["type"] in SCENE_WIDE:
            continue
        family = (diff["object_before"] or diff["object_after"])["family"]
        assert family in FAMILIES
        for caption in rec.captions:
            assert any(re.search(rf"\b{re.escape(n)}\b", caption.lower()) for n in nouns(family)), (family, caption)


def test_rooms_and_streets_look_different_from_each_other(kit_stores):
    """The two kits are not one backdrop: the room is enclosed (little sky), the street has open sky at the top."""
    a, _ = kit_stores
    recs = {r.setting: r for r in Store.open(a).records() if r.change_types == ["color"]}
    room, street = array(recs["indoor"].image_before), array(recs["outdoor"].image_before)
    assert room.shape == street.shape == (PROFILES["test"].height, PROFILES["test"].width, 3)
    for img in (room, street):
        assert img.std() > 12  # not a flat grey frame
        assert 20 < img.mean() < 235  # neither black nor blown out
