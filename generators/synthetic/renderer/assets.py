"""The user's asset files in Blender: probe them once (size, material slots, text objects) and instance them.

Every importer leaves its objects in ``bpy.data``; they are flattened (parents cleared, world transforms
kept, empties, cameras and lights dropped) into one *master* set per asset that is never linked to the
scene. An instance copies the masters (sharing their meshes), scales them to the catalog's real height,
stands them on the ground at the footprint's centre, paints every part in the object's id colour for the
mask pass, recolours the declared material slots with the palette look of their part and rewrites the
declared text objects (which carry the object's text id, like every kit text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

KEEP = ("MESH", "FONT", "CURVE")


def import_file(bpy: Any, path: str) -> list[Any]:
    """Import one asset file; return its renderable objects, flattened and unlinked from every collection."""
    before = set(bpy.data.objects)
    suffix = Path(path).suffix.lower()
    if suffix == ".blend":
        with bpy.data.libraries.load(path, link=False) as (data_from, data_to):
            data_to.objects = list(data_from.objects)
    elif suffix in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=path)
    elif suffix == ".obj":
        bpy.ops.wm.obj_import(filepath=path)
    elif suffix == ".fbx":
        bpy.ops.import_scene.fbx(filepath=path)
    else:
        raise ValueError(f"unsupported asset format {suffix}")
    new = [o for o in bpy.data.objects if o not in before]
    worlds = {o.name: _world(o) for o in new}
    keep = []
    for o in new:
        for coll in list(o.users_collection):
            coll.objects.unlink(o)
        if o.type in KEEP:
            keep.append(o)
    for o in keep:
        o.parent = None
        o.matrix_world = worlds[o.name]
    for o in new:
        if o not in keep:
            bpy.data.objects.remove(o, do_unlink=True)
    return keep


def _world(o: Any) -> Any:
    """An object's world matrix from its parent chain (objects appended from a .blend are in no view layer,
    so their ``matrix_world`` is not evaluated)."""
    m = o.matrix_basis.copy()
    while o.parent is not None:
        m = o.parent.matrix_basis @ o.matrix_parent_inverse @ m
        o = o.parent
    return m


def bounds(objects: list[Any]) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    from mathutils import Vector  # noqa: PLC0415 - ships with bpy

    lo, hi = [float("inf")] * 3, [float("-inf")] * 3
    for o in objects:
        for corner in o.bound_box:
            p = o.matrix_world @ Vector(corner)
            for i in range(3):
                lo[i], hi[i] = min(lo[i], p[i]), max(hi[i], p[i])
    return tuple(lo), tuple(hi)  # type: ignore[return-value]


def probe_file(path: str) -> dict[str, Any]:
    """What a file holds: its size (width, depth, height as stored), material slot names, text object names."""
    import bpy  # noqa: PLC0415

    objects = import_file(bpy, path)
    meshes = [o for o in objects if o.type == "MESH" and len(o.data.vertices)]
    if not meshes and not any(o.type == "FONT" for o in objects):
        return {"error": "holds no mesh"}
    lo, hi = bounds(objects)
    slots = sorted({s.material.name for o in objects for s in o.material_slots if s.material is not None})
    texts = sorted(o.name for o in objects if o.type == "FONT")
    faces: dict[str, int] = {}
    for o in meshes:  # how much of the model each material covers: the largest names its colour
        for poly in o.data.polygons:
            slot = o.material_slots[poly.material_index] if poly.material_index < len(o.material_slots) else None
            if slot is not None and slot.material is not None:
                faces[slot.material.name] = faces.get(slot.material.name, 0) + 1
    main = max(sorted(faces), key=lambda k: faces[k]) if faces else None
    colour = _srgb(_base_colour(bpy.data.materials[main])) if main else None
    for o in objects:
        bpy.data.objects.remove(o, do_unlink=True)
    return {"size": [round(hi[i] - lo[i], 6) for i in range(3)], "slots": slots, "texts": texts, "colour": colour}


def _base_colour(material: Any) -> tuple[float, float, float]:
    """The linear base colour of a material: its Principled BSDF's, else its viewport colour."""
    tree = getattr(material, "node_tree", None)
    for node in (tree.nodes if tree is not None else []):
        if node.type == "BSDF_PRINCIPLED":
            return tuple(node.inputs["Base Color"].default_value[:3])  # type: ignore[return-value]
    return tuple(material.diffuse_color[:3])  # type: ignore[return-value]


def _srgb(linear: tuple[float, float, float]) -> list[int]:
    out = []
    for v in linear:
        v = min(max(float(v), 0.0), 1.0)
        out.append(int(round(255 * (v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055))))
    return out


def probe_all(paths: list[str], out: dict) -> None:
    """In a spawned child (bpy): probe each file; a file Blender cannot read gets its error instead."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)  # the importers print on the C stdout and stderr
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    for path in paths:
        try:
            out[path] = probe_file(path)
        except Exception as exc:  # noqa: BLE001 - any importer failure is the file's problem, reported by name
            out[path] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}"}


class AssetLibrary:
    """Per Blender session: each asset's master objects (imported once) and the instances made from them."""

    def __init__(self, bpy: Any, scene: Any, materials: Any) -> None:
        self.bpy, self.scene, self.materials = bpy, scene, materials
        self._masters: dict[str, tuple[list[Any], Any]] = {}

    def _master(self, entry: dict[str, Any]) -> tuple[list[Any], Any]:
        """The asset's objects and the matrix that scales it to its height, centred on the footprint, on z = 0."""
        from mathutils import Matrix  # noqa: PLC0415

        name = entry["name"]
        if name not in self._masters:
            objects = import_file(self.bpy, entry["file"])
            lo, hi = bounds(objects)
            s = entry["height"] / max(hi[2] - lo[2], 1e-9)
            cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
            normal = Matrix.Scale(s, 4) @ Matrix.Translation((-cx, -cy, -lo[2]))
            self._masters[name] = (objects, normal)
        return self._masters[name]

    def build(self, obj: Any, entry: dict[str, Any], world: Any, id_rgb: tuple, text_rgb: tuple) -> list[Any]:
        masters, normal = self._master(entry)
        made = []
        for m in masters:
            inst = m.copy()
            if m.type == "FONT":
                inst.data = m.data.copy()
                inst.data.body = obj.text if (m.name in entry["text"] and obj.text) else m.data.body
            inst.matrix_world = world @ normal @ m.matrix_world
            is_text = m.type == "FONT" and m.name in entry["text"]
            inst.color = (*(text_rgb if is_text else id_rgb), 1.0)
            for slot in inst.material_slots:
                name = slot.material.name if slot.material is not None else None
                if name in obj.parts:  # a declared slot: this instance's palette look
                    slot.link = "OBJECT"
                    slot.material = self.materials.get(obj.parts[name])
            self.scene.collection.objects.link(inst)
            made.append(inst)
        return made

    def remove(self, objects: list[Any]) -> None:
        bpy = self.bpy
        for o in objects:
            data = o.data if o.type == "FONT" else None
            bpy.data.objects.remove(o, do_unlink=True)
            if data is not None and not data.users:
                bpy.data.curves.remove(data)
