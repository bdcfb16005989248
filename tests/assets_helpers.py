"""Helpers of the asset tests: small asset files made by Blender itself, and one in-Blender change check.

Both run as ``python -c`` children (never import bpy in the test process: spawned render workers would
inherit Blender's script folders on sys.path).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BUILD = r'''
import sys, bpy, bmesh
out = sys.argv[1]

def clear():
    for o in list(bpy.data.objects):
        bpy.data.objects.remove(o, do_unlink=True)

def material(name, rgb):
    m = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    m.diffuse_color = (*rgb, 1.0)
    return m

def mesh_object(name, build, mats):
    me = bpy.data.meshes.new(name)
    bm = bmesh.new()
    build(bm)
    bm.to_mesh(me)
    bm.free()
    ob = bpy.data.objects.new(name, me)
    bpy.context.scene.collection.objects.link(ob)
    for m in mats:
        me.materials.append(m)
    return ob

# a vase: a body (slot "Glaze") and a foot ring (slot "Foot"), 2 units tall as stored
clear()
def vase(bm):
    bmesh.ops.create_cone(bm, cap_ends=True, segments=24, radius1=0.5, radius2=0.35, depth=1.6,
                          matrix=__import__("mathutils").Matrix.Translation((0, 0, 1.2)))
    bmesh.ops.create_cone(bm, cap_ends=True, segments=24, radius1=0.55, radius2=0.55, depth=0.4,
                          matrix=__import__("mathutils").Matrix.Translation((0, 0, 0.2)))
ob = mesh_object("Vase", vase, [material("Glaze", (0.8, 0.2, 0.1)), material("Foot", (0.2, 0.2, 0.2))])
n = len(ob.data.polygons)
for i, p in enumerate(ob.data.polygons):
    p.material_index = 0 if i < 26 else 1
bpy.ops.object.select_all(action="DESELECT")
ob.select_set(True)
bpy.ops.export_scene.gltf(filepath=out + "/vase.glb", export_format="GLB", use_selection=True)
# a stool as .obj: a seat box and legs (slot "Seat")
clear()
def stool(bm):
    bmesh.ops.create_cube(bm, size=1.0, matrix=__import__("mathutils").Matrix.LocRotScale((0, 0, 0.95), None, (1.0, 1.0, 0.1)))
    for x in (-0.4, 0.4):
        for y in (-0.4, 0.4):
            bmesh.ops.create_cube(bm, size=1.0, matrix=__import__("mathutils").Matrix.LocRotScale((x, y, 0.45), None, (0.1, 0.1, 0.9)))
ob = mesh_object("Stool", stool, [material("Seat", (0.6, 0.4, 0.2))])
bpy.ops.object.select_all(action="DESELECT")
ob.select_set(True)
bpy.ops.wm.obj_export(filepath=out + "/stool.obj", export_selected_objects=True, export_materials=True)
# a wall sign as .blend: a board (slot "Board") and a text object "Label" in front of it
clear()
board = mesh_object("Board", lambda bm: bmesh.ops.create_cube(bm, size=1.0, matrix=__import__("mathutils").Matrix.LocRotScale(
    (0, 0, 0.3), None, (0.8, 0.04, 0.6))), [material("Board", (0.1, 0.3, 0.7))])
curve = bpy.data.curves.new("Label", type="FONT")
curve.body = "OPEN"
curve.align_x, curve.align_y, curve.size = "CENTER", "CENTER", 0.28
curve.materials.append(material("Ink", (1.0, 1.0, 1.0)))
text = bpy.data.objects.new("Label", curve)
text.location = (0, -0.025, 0.3)
text.rotation_euler = (1.5708, 0, 0)
bpy.context.scene.collection.objects.link(text)
bpy.ops.wm.save_as_mainfile(filepath=out + "/sign.blend")
# a crate as .fbx (slot "Paint")
clear()
ob = mesh_object("Crate", lambda bm: bmesh.ops.create_cube(bm, size=1.0), [material("Paint", (0.5, 0.35, 0.2))])
bpy.ops.object.select_all(action="DESELECT")
ob.select_set(True)
bpy.ops.export_scene.fbx(filepath=out + "/crate.fbx", use_selection=True)
print("built")
'''


def build_assets(folder: Path) -> None:
    res = subprocess.run([sys.executable, "-c", BUILD, str(folder)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "built" in res.stdout, res.stderr[-2000:]


def catalog(folder: Path, **changes) -> dict:
    """The good catalog of the three test assets; ``changes`` replace an asset's fields (None drops one)."""
    cat = {"assets": [
        {"name": "glazed_vase", "file": "vase.glb", "noun": "glazed vase", "synonyms": ["urn"], "settings": ["indoor"],
         "placement": "surface", "height": 0.4, "recolour": ["Glaze"], "license": "CC0-1.0"},
        {"name": "bar_stool", "file": "stool.obj", "noun": "bar stool", "settings": ["indoor"], "placement": "floor",
         "height": 0.75, "recolour": ["Seat"], "license": "CC-BY-4.0"},
        {"name": "shop_sign", "file": "sign.blend", "noun": "shop sign", "settings": ["indoor"], "placement": "wall",
         "height": 0.6, "recolour": ["Board"], "text": ["Label"], "words": ["OPEN", "SALE", "SHUT", "BAKE"],
         "license": "CC0-1.0"},
        {"name": "crate", "file": "crate.fbx", "noun": "crate", "settings": ["outdoor"], "placement": "floor",
         "height": 0.5, "recolour": ["Paint"], "license": "CC0-1.0"},
    ]}
    for name, fields in changes.items():
        entry = next(a for a in cat["assets"] if a["name"] == name)
        for k, v in fields.items():
            if v is None:
                entry.pop(k, None)
            else:
                entry[k] = v
    return cat


def write_catalog(folder: Path, data: dict, name: str = "catalog.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


CHECK = r'''
import json, sys
from pathlib import Path
from generators.synthetic.assets.catalog import read_catalog
from generators.synthetic.assets.register import probe_catalog, register_catalog
from generators.synthetic.changes import Change, ChangeContext, apply
from generators.synthetic.kits import get_kit
from generators.synthetic.masks import mask_png, pixel_counts, text_id
from generators.synthetic.profiles import PROFILES
from generators.synthetic.renderer import BlenderSession
from generators.synthetic.sampling import SamplingError
from generators.synthetic.seeding import stream

out = Path(sys.argv[2])
register_catalog(probe_catalog(read_catalog(Path(sys.argv[1]))))
kit, profile = get_kit("indoor"), PROFILES["test"]
session = BlenderSession(profile, out / "work")
todo = {"color": "bar_stool", "text": "shop_sign", "removal": "glazed_vase"}
report = {"scenes": []}
for index in range(40):
    if not todo or len(report["scenes"]) >= 12:
        break
    try:
        scene = kit.sample_scene(stream(5, "assets", index), profile.aspect)
    except SamplingError:
        continue
    mine = {o.family: o for o in scene.objects if o.family in todo.values()}
    if not mine:
        continue
    ids = session.render_ids(scene)
    counts = pixel_counts(ids)
    report["scenes"].append(index)
    for key, target in sorted(todo.items()):
        obj = mine.get(target)
        if obj is None or counts.get(obj.uid, 0) < profile.min_visible_pixels:
            continue
        ctx = ChangeContext("omnidiff", profile.aspect, kit, counts=counts, min_pixels=profile.min_visible_pixels)
        ctx.locked = {o.uid for o in scene.objects if o.uid != obj.uid}
        result = next((r for a in range(10) if isinstance(r := apply(key, scene, stream(6, key, a), ctx), Change)), None)
        if result is None:
            continue
        after = result.scene
        ids_after = session.render_ids(after)
        (out / f"{key}_before.png").write_bytes(session.render_image(scene))
        (out / f"{key}_after.png").write_bytes(session.render_image(after))
        (out / f"{key}_mask_before.png").write_bytes(mask_png(ids, result.mask_before) or b"")
        (out / f"{key}_mask_after.png").write_bytes(mask_png(ids_after, result.mask_after) or b"")
        (out / f"{key}_ids_before.npy").write_bytes(ids.astype("uint16").tobytes())
        (out / f"{key}_ids_after.npy").write_bytes(ids_after.astype("uint16").tobytes())
        captions = kit.captions([result.diff], scene, after, stream(7, key), profile.aspect)
        report[key] = {"diff": {k: v for k, v in result.diff.items() if k not in ("object_before", "object_after")},
                       "uid": obj.uid, "captions": captions, "shape": list(ids.shape), "scene_index": index,
                       "others": sorted(o.uid for o in scene.objects if o.uid != obj.uid)}
        del todo[key]
session.close()
(out / "report.json").write_text(json.dumps(report))
print("checked")
'''


def check_changes(catalog_path: Path, out: Path) -> dict:
    import os

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-c", CHECK, str(catalog_path), str(out)], cwd=REPO, capture_output=True, text=True,
                         timeout=600, env=env)
    assert res.returncode == 0 and "checked" in res.stdout, (res.stdout[-2000:], res.stderr[-3000:])
    return json.loads((out / "report.json").read_text())
