"""The Blender renderer: the only module that imports ``bpy``, and only inside a worker process.

One ``BlenderSession`` keeps one Blender scene alive for many scene specs. ``sync`` mutates it to
match a spec (objects whose signature changed are rebuilt, the rest are kept), so the before and
after images of a pair come from the same session without re-opening a file. Two passes:

* ``render_image``: Cycles (profile samples, OpenImageDenoise, fixed seed), re-encoded as a PNG
  without Blender's date metadata so that the same spec gives the same bytes.
* ``render_ids``: the mask pass for Blender 5.0. Workbench with flat lighting and object colours,
  anti-aliasing off, dithering 0 and the Standard view transform: each object shows in its uid
  colour (``masks.uid_color``). It needs no compositor, so the 5.0 compositor change
  (``scene.compositing_node_group``, no Composite node) does not touch it; the compositor is
  left empty (no node group) so that no post-processing alters either pass.
"""

from __future__ import annotations

import io
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from generators.synthetic.masks import decode_ids, uid_color
from generators.synthetic.profiles import RenderProfile
from generators.synthetic.spec import LightSpec, ObjectSpec, SceneSpec
from generators.synthetic.vocabulary import srgb_to_linear, vocabulary

GROUND_SIZE = 120.0


class BlenderSession:
    """A live Blender scene that realises scene specs; create one per worker process."""

    def __init__(self, profile: RenderProfile, workdir: Path) -> None:
        import bpy  # noqa: PLC0415 - lazily, in the worker process only

        self.bpy = bpy
        self.profile = profile
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.render_seconds = 0.0  # time spent inside Blender's render calls
        self._objects: dict[int, tuple[tuple, list[Any]]] = {}  # uid -> (signature, [blender objects])
        self._meshes: dict[str, Any] = {}
        self._lights: dict[str, Any] = {}
        self.device = "CPU"
        self._reset_scene()

    # -- set-up ----------------------------------------------------------------------------
    def _reset_scene(self) -> None:
        bpy = self.bpy
        scene = bpy.context.scene
        for obj in list(bpy.data.objects):
            bpy.data.objects.remove(obj, do_unlink=True)
        self.scene = scene
        p = self.profile
        r = scene.render
        r.resolution_x, r.resolution_y, r.resolution_percentage = p.width, p.height, 100
        r.image_settings.file_format = "PNG"
        r.image_settings.color_mode = "RGB"
        r.image_settings.color_depth = "8"
        r.dither_intensity = 0.0
        r.use_compositing = False
        r.use_sequencer = False
        r.film_transparent = False
        cy = scene.cycles
        cy.samples = p.samples
        cy.seed = 0
        cy.use_animated_seed = False
        cy.use_adaptive_sampling = p.adaptive_threshold is not None
        if p.adaptive_threshold is not None:
            cy.adaptive_threshold = p.adaptive_threshold
        cy.use_denoising = p.denoise
        if p.denoise:
            cy.denoiser = "OPENIMAGEDENOISE"
            cy.denoising_quality = p.denoise_quality
        cy.max_bounces = 4
        cy.diffuse_bounces = 2
        cy.glossy_bounces = 2
        cy.transmission_bounces = 2
        cy.caustics_reflective = False
        cy.caustics_refractive = False
        self.device = self._pick_device() if p.use_gpu else "CPU"
        cy.device = "GPU" if self.device != "CPU" else "CPU"
        disp = scene.display
        disp.render_aa = "OFF"
        sh = disp.shading
        sh.light = "FLAT"
        sh.color_type = "OBJECT"
        for flag in ("show_object_outline", "show_cavity", "show_shadows", "show_specular_highlight", "show_xray"):
            if hasattr(sh, flag):
                setattr(sh, flag, False)
        world = bpy.data.worlds.new("omnidiff-world")
        scene.world = world
        world.color = (0.0, 0.0, 0.0)  # the Workbench background = id 0
        self._world_background = self._world_nodes(world)
        cam_data = bpy.data.cameras.new("camera")
        cam_data.sensor_fit = "HORIZONTAL"
        cam_data.sensor_width = 36.0
        cam_data.clip_end = 500.0
        self.camera = bpy.data.objects.new("camera", cam_data)
        scene.collection.objects.link(self.camera)
        scene.camera = self.camera
        ground_mesh = self._mesh("plane")
        self.ground = bpy.data.objects.new("ground", ground_mesh)
        self.ground.scale = (GROUND_SIZE, GROUND_SIZE, 1.0)
        self.ground.color = (0.0, 0.0, 0.0, 1.0)
        scene.collection.objects.link(self.ground)
        self.ground_material = bpy.data.materials.new("ground")
        self._principled(self.ground_material, (0.3, 0.3, 0.3), 0.0, 0.8)
        self.ground.data.materials.clear()
        self.ground.data.materials.append(self.ground_material)

    def use_threads(self, threads: int | None) -> None:
        """Render with ``threads`` CPU threads (None: Blender's default, every core of the machine). A worker
        that shares a node with others (a Ray task given N CPUs) takes its share, not the whole node."""
        r = self.scene.render
        r.threads_mode = "AUTO" if threads is None else "FIXED"
        if threads is not None:
            r.threads = max(1, int(threads))

    def _pick_device(self) -> str:
        prefs = self.bpy.context.preferences.addons["cycles"].preferences
        for kind in ("OPTIX", "CUDA", "HIP", "METAL", "ONEAPI"):
            try:
                prefs.compute_device_type = kind
                prefs.refresh_devices()
            except (TypeError, ValueError):
                continue
            gpus = [d for d in prefs.devices if d.type == kind]
            if gpus:
                for d in prefs.devices:
                    d.use = d.type == kind
                return kind
        return "CPU"

    def _world_nodes(self, world: Any) -> Any:
        if hasattr(world, "use_nodes"):
            world.use_nodes = True
        tree = world.node_tree
        bg = next((n for n in tree.nodes if n.type == "BACKGROUND"), None)
        if bg is None:
            bg = tree.nodes.new("ShaderNodeBackground")
            out = next((n for n in tree.nodes if n.type == "OUTPUT_WORLD"), None) or tree.nodes.new("ShaderNodeOutputWorld")
            tree.links.new(bg.outputs["Background"], out.inputs["Surface"])
        return bg

    def _mesh(self, shape: str) -> Any:
        """Unit meshes, built once per session and shared by all objects of that shape."""
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

    @staticmethod
    def _principled(material: Any, rgb: tuple[float, float, float], metallic: float, roughness: float) -> None:
        if hasattr(material, "use_nodes") and not material.use_nodes:
            material.use_nodes = True
        bsdf = next(n for n in material.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
        bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Metallic"].default_value = metallic
        bsdf.inputs["Roughness"].default_value = roughness
        material.diffuse_color = (*rgb, 1.0)

    # -- syncing a spec --------------------------------------------------------------------
    def sync(self, spec: SceneSpec) -> None:
        """Mutate the live scene to match ``spec``: rebuild changed objects, move camera and lights."""
        wanted = {o.uid: o for o in spec.objects}
        for uid in sorted(set(self._objects) - set(wanted)):
            self._drop(uid)
        for uid in sorted(wanted):
            obj = wanted[uid]
            sig = (obj.signature(), spec.world_z(obj))
            if uid in self._objects and self._objects[uid][0] == sig:
                continue
            if uid in self._objects:
                self._drop(uid)
            self._objects[uid] = (sig, self._build(spec, obj))
        self._place_camera(spec)
        self._place_lights(spec.lights)
        sky = srgb_to_linear(spec.world.sky_rgb)
        self._world_background.inputs["Color"].default_value = (*sky, 1.0)
        self._world_background.inputs["Strength"].default_value = spec.world.sky_strength
        self._principled(self.ground_material, srgb_to_linear(spec.world.ground_rgb), 0.0, 0.8)

    def _drop(self, uid: int) -> None:
        bpy = self.bpy
        _, blender_objects = self._objects.pop(uid)
        for bobj in blender_objects:
            data = bobj.data
            mats = [m for m in getattr(data, "materials", []) if m is not None]
            bpy.data.objects.remove(bobj, do_unlink=True)
            if data is not None and data.name.startswith("text-"):
                bpy.data.curves.remove(data)
            for m in mats:
                if m.users == 0:
                    bpy.data.materials.remove(m)

    def _build(self, spec: SceneSpec, obj: ObjectSpec) -> list[Any]:
        bpy = self.bpy
        vocab = vocabulary()
        mesh_shape = "cube" if obj.shape in ("brick", "tray", "card") else obj.shape
        bobj = bpy.data.objects.new(f"obj-{obj.uid}", self._mesh(mesh_shape))
        bobj.location = (obj.x, obj.y, spec.world_z(obj))
        bobj.rotation_euler = (0.0, 0.0, math.radians(obj.rotation))
        bobj.scale = obj.half_extents
        bobj.color = (*uid_color(obj.uid), 1.0)
        material = bpy.data.materials.new(f"mat-{obj.uid}")
        mat = vocab["materials"][obj.material]
        self._principled(material, srgb_to_linear(obj.rgb), mat["metallic"], mat["roughness"])
        bobj.material_slots  # noqa: B018 - make sure slots exist before linking by object
        bobj.active_material = material
        if bobj.material_slots:
            bobj.material_slots[0].link = "OBJECT"
            bobj.material_slots[0].material = material
        self.scene.collection.objects.link(bobj)
        built = [bobj]
        if obj.text is not None:
            built.append(self._build_text(spec, obj))
        return built

    def _build_text(self, spec: SceneSpec, card: ObjectSpec) -> Any:
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
        tobj.color = (*uid_color(card.uid), 1.0)  # the printed word belongs to the card's mask
        material = bpy.data.materials.new(f"mat-text-{card.uid}")
        self._principled(material, srgb_to_linear(vocabulary()["text_color"]), 0.0, 0.6)
        curve.materials.append(material)
        self.scene.collection.objects.link(tobj)
        return tobj

    def _aim(self, bobj: Any, location: tuple[float, float, float], target: tuple[float, float, float]) -> None:
        from mathutils import Vector  # noqa: PLC0415 - ships with bpy

        bobj.location = location
        direction = Vector(target) - Vector(location)
        bobj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()

    def _place_camera(self, spec: SceneSpec) -> None:
        self.camera.data.lens = spec.camera.lens
        self._aim(self.camera, spec.camera.location, spec.camera.target)

    def _place_lights(self, lights: list[LightSpec]) -> None:
        bpy = self.bpy
        for li in lights:
            if li.name not in self._lights:
                data = bpy.data.lights.new(f"light-{li.name}", type="AREA")
                bobj = bpy.data.objects.new(f"light-{li.name}", data)
                self.scene.collection.objects.link(bobj)
                self._lights[li.name] = bobj
            bobj = self._lights[li.name]
            bobj.data.energy = li.energy
            bobj.data.size = li.size
            bobj.data.color = srgb_to_linear(li.rgb)
            self._aim(bobj, li.location, (0.0, 0.0, 0.0))

    # -- rendering -------------------------------------------------------------------------
    def _render_to_array(self, path: Path) -> np.ndarray:
        from PIL import Image  # noqa: PLC0415

        self.scene.render.filepath = str(path)
        start = time.perf_counter()
        self.bpy.ops.render.render(write_still=True)
        self.render_seconds += time.perf_counter() - start
        with Image.open(path) as img:
            arr = np.asarray(img.convert("RGB")).copy()
        os.unlink(path)
        return arr

    def render_image(self, spec: SceneSpec) -> bytes:
        """The photographic image of ``spec`` as PNG bytes (no metadata: same spec, same bytes)."""
        from PIL import Image  # noqa: PLC0415

        self.sync(spec)
        scene = self.scene
        scene.render.engine = "CYCLES"
        scene.view_settings.view_transform = "AgX"
        scene.view_settings.look = "None"
        scene.render.dither_intensity = 0.0
        arr = self._render_to_array(self.workdir / "image.png")
        buf = io.BytesIO()
        Image.fromarray(arr, mode="RGB").save(buf, format="PNG")
        return buf.getvalue()

    def render_ids(self, spec: SceneSpec) -> np.ndarray:
        """(H, W) uint8 map of the uid visible at each pixel (0 = ground or background)."""
        self.sync(spec)
        scene = self.scene
        scene.render.engine = "BLENDER_WORKBENCH"
        scene.view_settings.view_transform = "Standard"
        scene.view_settings.look = "None"
        scene.view_settings.exposure = 0.0
        scene.view_settings.gamma = 1.0
        scene.render.dither_intensity = 0.0
        scene.display.render_aa = "OFF"
        return decode_ids(self._render_to_array(self.workdir / "ids.png"))

    def close(self) -> None:
        for uid in sorted(self._objects):
            self._drop(uid)


def bpy_version() -> str:
    import bpy  # noqa: PLC0415

    return bpy.app.version_string


# -- comparison helpers for bench/render.py ---------------------------------------------------
def render_with(session: BlenderSession, spec: SceneSpec, samples: int, denoise: bool, seed: int = 0) -> tuple[bytes, float]:
    """The image of ``spec`` at another sample count or noise seed (a 1,024-sample reference); (PNG, seconds)."""
    cy = session.scene.cycles
    old = (cy.samples, cy.use_denoising, cy.seed)
    cy.samples, cy.use_denoising, cy.seed = samples, denoise, seed
    start = time.perf_counter()
    try:
        return session.render_image(spec), time.perf_counter() - start
    finally:
        cy.samples, cy.use_denoising, cy.seed = old


def save_blend(session: BlenderSession, spec: SceneSpec, path: Path) -> None:
    """Write the synced scene as a .blend file (the file the CLEVR-style baseline re-opens)."""
    session.sync(spec)
    session.bpy.ops.wm.save_as_mainfile(filepath=str(path), check_existing=False, compress=False)


def render_clevr_style(blend: Path, workdir: Path, samples: int = 512) -> tuple[bytes, float]:
    """clevr-dataset-gen's way, for comparison: re-open the .blend, render the image (no denoiser),
    then a separate flat-colour visibility render. Returns (PNG bytes, seconds for both)."""
    import bpy  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    start = time.perf_counter()
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    scene.view_settings.view_transform = "AgX"
    scene.render.filepath = str(workdir / "clevr-image.png")
    bpy.ops.render.render(write_still=True)
    with Image.open(workdir / "clevr-image.png") as img:
        arr = np.asarray(img.convert("RGB")).copy()
    bpy.ops.wm.open_mainfile(filepath=str(blend))  # the visibility pass re-opens the file as well
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.view_settings.view_transform = "Standard"
    scene.render.filepath = str(workdir / "clevr-ids.png")
    bpy.ops.render.render(write_still=True)
    seconds = time.perf_counter() - start
    buf = io.BytesIO()
    Image.fromarray(arr, mode="RGB").save(buf, format="PNG")
    return buf.getvalue(), seconds
