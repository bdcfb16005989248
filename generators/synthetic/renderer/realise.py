"""Turn builder output into Blender objects: one mesh object per look, font objects, bulbs; and the
tabletop primitives (unit meshes scaled, as the CLEVR-style scenes have always been built)."""

from __future__ import annotations

import math
from typing import Any

from generators.synthetic.lighting import kelvin_to_rgb
from generators.synthetic.masks import text_id, uid_color
from generators.synthetic.meshes import Maker, Matrix, TextItem, compose, rot_x
from generators.synthetic.renderer.materials import MaterialLibrary
from generators.synthetic.spec import ObjectSpec, SceneSpec
from generators.synthetic.vocabulary import srgb_to_linear, vocabulary

FONT_FIT = 0.96  # glyphs fill this share of their box at most


def world_matrix(obj: ObjectSpec) -> Matrix:
    """The object's local frame in the scene: position, turn, and uniform scale."""
    from generators.synthetic.meshes import at, scale

    s = float(obj.params.get("scale", 1.0))
    return compose(at(obj.x, obj.y, obj.z0, yaw=obj.rotation), scale(s, s, s))


def _to_blender(m: Matrix) -> Any:
    from mathutils import Matrix as BMatrix  # noqa: PLC0415 - ships with bpy

    return BMatrix([list(m[0]), list(m[1]), list(m[2]), [0.0, 0.0, 0.0, 1.0]])


class Realiser:
    """Creates and links the Blender objects of one Maker; remembers nothing between calls."""

    def __init__(self, bpy: Any, scene: Any, materials: MaterialLibrary) -> None:
        self.bpy = bpy
        self.scene = scene
        self.materials = materials

    def realise(self, maker: Maker, name: str, matrix: Matrix, id_rgb: tuple[float, float, float],
                text_rgb: tuple[float, float, float]) -> list[Any]:
        bpy = self.bpy
        world = _to_blender(matrix)
        made: list[Any] = []
        for i, (key, buf) in enumerate(maker.meshes.items()):
            mesh = bpy.data.meshes.new(f"{name}-{i}")
            mesh.from_pydata(buf.verts, [], buf.faces)
            uv = mesh.uv_layers.new(name="UVMap")
            flat = [c for pair in buf.uvs() for c in pair]
            uv.data.foreach_set("uv", flat)
            mesh.polygons.foreach_set("use_smooth", buf.smooth)
            mesh.materials.append(self.materials.get(maker.looks[key]))
            mesh.update()
            bobj = bpy.data.objects.new(f"{name}-{i}", mesh)
            bobj.matrix_world = world
            bobj.color = (*id_rgb, 1.0)
            if key in maker.no_shadow:
                bobj.visible_shadow = False
            self.scene.collection.objects.link(bobj)
            made.append(bobj)
        for j, item in enumerate(maker.texts):
            made.append(self.text(item, f"{name}-text-{j}", matrix, text_rgb))
        for k, bulb in enumerate(maker.bulbs):
            data = bpy.data.lights.new(f"{name}-bulb-{k}", type=bulb.kind)
            data.energy = bulb.watts
            data.shadow_soft_size = bulb.radius
            data.color = srgb_to_linear(kelvin_to_rgb(bulb.kelvin))
            lobj = bpy.data.objects.new(f"{name}-bulb-{k}", data)
            from generators.synthetic.meshes import apply  # noqa: PLC0415

            lobj.location = apply(matrix, bulb.position)
            self.scene.collection.objects.link(lobj)
            made.append(lobj)
        return made

    def text(self, item: TextItem, name: str, matrix: Matrix, id_rgb: tuple[float, float, float]) -> Any:
        """A flat font object fitted into the item's box (measured, not guessed), facing the box's -y."""
        bpy = self.bpy
        curve = bpy.data.curves.new(name, type="FONT")
        curve.body = item.body
        curve.align_x = "CENTER"
        curve.align_y = "CENTER"
        curve.size = 1.0
        tobj = bpy.data.objects.new(name, curve)
        self.scene.collection.objects.link(tobj)
        bpy.context.view_layer.update()
        dx, dy = max(tobj.dimensions.x, 1e-6), max(tobj.dimensions.y, 1e-6)
        curve.size = FONT_FIT * min(item.width / dx, item.height / dy)
        curve.materials.append(self.materials.get(item.look))
        tobj.matrix_world = _to_blender(compose(matrix, compose(item.matrix, rot_x(90.0))))
        tobj.color = (*id_rgb, 1.0)
        return tobj

    def remove(self, objects: list[Any]) -> None:
        bpy = self.bpy
        for bobj in objects:
            data = bobj.data
            bpy.data.objects.remove(bobj, do_unlink=True)
            if data is None or data.users:
                continue
            for collection in (bpy.data.meshes, bpy.data.curves, bpy.data.lights):
                if data.name in collection and collection[data.name] == data:
                    collection.remove(data)
                    break


class Primitives:
    """Tabletop shapes: shared unit meshes scaled by the half extents, one material per object."""

    def __init__(self, bpy: Any, scene: Any, realiser: Realiser) -> None:
        self.bpy = bpy
        self.scene = scene
        self.realiser = realiser
        self._meshes: dict[str, Any] = {}

    def mesh(self, shape: str) -> Any:
        if shape in self._meshes:
            return self._meshes[shape]
        import bmesh  # noqa: PLC0415

        bm = bmesh.new()
        smooth = False
        if shape in ("cube", "brick", "tray", "card"):
            bmesh.ops.create_cube(bm, size=2.0)
        elif shape == "sphere":
            bmesh.ops.create_uvsphere(bm, u_segments=48, v_segments=24, radius=1.0)
            smooth = True
        elif shape == "cylinder":
            bmesh.ops.create_cone(bm, cap_ends=True, segments=48, radius1=1.0, radius2=1.0, depth=2.0)
        elif shape == "cone":
            bmesh.ops.create_cone(bm, cap_ends=True, segments=48, radius1=1.0, radius2=0.0, depth=2.0)
        elif shape == "plane":
            bmesh.ops.create_grid(bm, x_segments=1, y_segments=1, size=1.0)
        else:
            raise ValueError(f"unknown shape {shape!r}")
        mesh = self.bpy.data.meshes.new(f"mesh-{shape}")
        bm.to_mesh(mesh)
        bm.free()
        if smooth:
            for poly in mesh.polygons:
                poly.use_smooth = True
        self._meshes[shape] = mesh
        return mesh

    def build(self, spec: SceneSpec, obj: ObjectSpec) -> list[Any]:
        bpy = self.bpy
        mesh_shape = "cube" if obj.family in ("brick", "tray", "card") else obj.family
        bobj = bpy.data.objects.new(f"obj-{obj.uid}", self.mesh(mesh_shape))
        bobj.location = (obj.x, obj.y, spec.world_z(obj))
        bobj.rotation_euler = (0.0, 0.0, math.radians(obj.rotation))
        bobj.scale = obj.half_extents
        bobj.color = (*uid_color(obj.uid), 1.0)
        material = bpy.data.materials.new(f"mat-{obj.uid}")
        mat = vocabulary()["materials"][obj.material]
        principled(material, srgb_to_linear(obj.rgb), mat["metallic"], mat["roughness"])
        bobj.active_material = material
        if bobj.material_slots:
            bobj.material_slots[0].link = "OBJECT"
            bobj.material_slots[0].material = material
        self.scene.collection.objects.link(bobj)
        built = [bobj]
        if obj.text is not None:
            built.append(self._card_text(spec, obj))
        return built

    def _card_text(self, spec: SceneSpec, card: ObjectSpec) -> Any:
        bpy = self.bpy
        curve = bpy.data.curves.new(f"text-{card.uid}", type="FONT")
        curve.body = card.text
        curve.align_x = "CENTER"
        curve.align_y = "CENTER"
        hx, hy, hz = card.half_extents
        curve.size = min(1.6 * hz, 2.6 * hx / max(len(card.text), 1))
        tobj = bpy.data.objects.new(f"text-{card.uid}", curve)
        theta = math.radians(card.rotation)
        d = hy + 0.004
        tobj.location = (card.x + d * math.sin(theta), card.y - d * math.cos(theta), spec.world_z(card))
        tobj.rotation_euler = (math.radians(90.0), 0.0, theta)
        tobj.color = (*uid_color(text_id(card.uid)), 1.0)  # the printed word has an id of its own
        material = bpy.data.materials.new(f"mat-text-{card.uid}")
        principled(material, srgb_to_linear(vocabulary()["text_color"]), 0.0, 0.6)
        curve.materials.append(material)
        self.scene.collection.objects.link(tobj)
        return tobj

    def remove(self, objects: list[Any]) -> None:
        bpy = self.bpy
        for bobj in objects:
            data = bobj.data
            names = {m.name for m in getattr(data, "materials", []) if m is not None}
            names |= {s.material.name for s in bobj.material_slots if s.material is not None}
            bpy.data.objects.remove(bobj, do_unlink=True)
            if data is not None and data.name.startswith("text-"):
                bpy.data.curves.remove(data)
            for name in sorted(names):
                m = bpy.data.materials.get(name)
                if m is not None and m.users == 0:
                    bpy.data.materials.remove(m)


def principled(material: Any, rgb: tuple[float, float, float], metallic: float, roughness: float) -> None:
    if hasattr(material, "use_nodes") and not material.use_nodes:
        material.use_nodes = True
    bsdf = next(n for n in material.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Metallic"].default_value = metallic
    bsdf.inputs["Roughness"].default_value = roughness
    material.diffuse_color = (*rgb, 1.0)
