"""The Blender session: one live scene per worker process that realises scene specs.

``sync`` mutates the scene to match a spec (the shell and every object whose signature changed are
rebuilt, the rest kept), so the before and after images of a pair come from one session. Two passes:

* ``render_image``: Cycles (profile samples, OpenImageDenoise, fixed seed), re-encoded as a PNG
  without Blender's date metadata so that the same spec gives the same bytes.
* ``render_ids``: the mask pass for Blender 5.0. Workbench with flat lighting and object colours,
  anti-aliasing off, dithering 0 and the Standard view transform: each object shows in its id
  colour (``masks.uid_color``), every part of it alike, its text in its text id colour. The
  compositor is left empty so that no post-processing alters either pass.
"""

from __future__ import annotations

import io
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from generators.synthetic.builders import build
from generators.synthetic.builders.shells import build_shell
from generators.synthetic.families import family_of
from generators.synthetic.masks import decode_ids, text_id, uid_color
from generators.synthetic.profiles import RenderProfile
from generators.synthetic.renderer.materials import MaterialLibrary
from generators.synthetic.renderer.realise import Primitives, Realiser, principled, world_matrix
from generators.synthetic.spec import LightSpec, SceneSpec
from generators.synthetic.vocabulary import srgb_to_linear

GROUND_SIZE = 120.0
FIXTURE_GLOW = 6.0  # emission strength of a switched-on ceiling fixture


class BlenderSession:
    """A live Blender scene that realises scene specs; create one per worker process."""

    def __init__(self, profile: RenderProfile, workdir: Path) -> None:
        import bpy  # noqa: PLC0415 - lazily, in the worker process only

        self.bpy = bpy
        self.profile = profile
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.render_seconds = 0.0  # time spent inside Blender's render calls (both passes)
        self.image_seconds = 0.0  # of which the Cycles pass
        self.sync_seconds = 0.0  # building and updating the scene from specs
        self._objects: dict[int, tuple[str, list[Any], Any]] = {}  # uid -> (signature, objects, their remover)
        self._shell: tuple[str, list[Any]] | None = None
        self._lights: dict[str, Any] = {}
        self._fixtures: dict[str, Any] = {}
        self.device = "CPU"
        self._reset_scene()
        self.materials = MaterialLibrary(bpy)
        self.realiser = Realiser(bpy, self.scene, self.materials)
        self.primitives = Primitives(bpy, self.scene, self.realiser)

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
            cy.denoising_prefilter = p.denoise_prefilter
        cy.max_bounces = 4
        cy.diffuse_bounces = 2
        cy.glossy_bounces = 2
        cy.transmission_bounces = 4
        cy.transparent_max_bounces = 4
        cy.caustics_reflective = False
        cy.caustics_refractive = False
        cy.blur_glossy = 1.0
        cy.sample_clamp_indirect = 10.0
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
        self._world_nodes(world)
        cam_data = bpy.data.cameras.new("camera")
        cam_data.sensor_fit = "HORIZONTAL"
        cam_data.sensor_width = 36.0
        cam_data.clip_start = 0.05
        cam_data.clip_end = 500.0
        self.camera = bpy.data.objects.new("camera", cam_data)
        scene.collection.objects.link(self.camera)
        scene.camera = self.camera
        plane = bpy.data.meshes.new("ground-plane")
        plane.from_pydata([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)], [], [(0, 1, 2, 3)])
        self.ground = bpy.data.objects.new("ground", plane)
        self.ground.scale = (GROUND_SIZE, GROUND_SIZE, 1.0)
        self.ground.color = (0.0, 0.0, 0.0, 1.0)
        scene.collection.objects.link(self.ground)
        self.ground_material = bpy.data.materials.new("ground")
        principled(self.ground_material, (0.3, 0.3, 0.3), 0.0, 0.8)
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

    def _world_nodes(self, world: Any) -> None:
        if hasattr(world, "use_nodes"):
            world.use_nodes = True
        tree = world.node_tree
        self._background = next((n for n in tree.nodes if n.type == "BACKGROUND"), None) or tree.nodes.new("ShaderNodeBackground")
        out = next((n for n in tree.nodes if n.type == "OUTPUT_WORLD"), None) or tree.nodes.new("ShaderNodeOutputWorld")
        tree.links.new(self._background.outputs["Background"], out.inputs["Surface"])
        self._sky = tree.nodes.new("ShaderNodeTexSky")
        self._sky.sky_type = "HOSEK_WILKIE"  # analytic: no per-render precomputation (the scattering models cost seconds)
        self._sky.turbidity = 4.0
        self._sky.ground_albedo = 0.3
        self._world_tree = tree
        self._sky_link = None

    # -- syncing a spec --------------------------------------------------------------------
    def sync(self, spec: SceneSpec) -> None:
        """Mutate the live scene to match ``spec``: rebuild what changed, move camera and lights."""
        start = time.perf_counter()
        self._sync(spec)
        self.sync_seconds += time.perf_counter() - start

    def _sync(self, spec: SceneSpec) -> None:
        self._sync_shell(spec)
        wanted = {o.uid: o for o in spec.objects}
        for uid in sorted(set(self._objects) - set(wanted)):
            self._drop(uid)
        for uid in sorted(wanted):
            obj = wanted[uid]
            sig = obj.signature()
            if uid in self._objects and self._objects[uid][0] == sig:
                continue
            if uid in self._objects:
                self._drop(uid)
            self._objects[uid] = (sig, *self._build(spec, obj))
        self._place_camera(spec)
        self._place_lights(spec.lights)
        self._sync_world(spec)
        cy = self.scene.cycles
        cy.use_fast_gi = spec.shell.kind == "room"  # closed rooms: AO after the first bounce, 2x faster on CPU
        if cy.use_fast_gi:
            cy.fast_gi_method = "REPLACE"
            cy.ao_bounces_render = 1
            self.scene.world.light_settings.distance = 2.5

    def _sync_shell(self, spec: SceneSpec) -> None:
        sig = repr((spec.shell.kind, sorted(spec.shell.params.items())))
        if self._shell is not None and self._shell[0] == sig:
            return
        if self._shell is not None:
            self.realiser.remove(self._shell[1])
        self.ground.hide_render = spec.shell.kind != "table"
        made = []
        if spec.shell.kind != "table":
            made = self.realiser.realise(build_shell(spec.shell), "shell", ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0)),
                                         (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
        self._shell = (sig, made)

    def _build(self, spec: SceneSpec, obj: Any) -> tuple[list[Any], Any]:
        if family_of(obj) is None:
            return self.primitives.build(spec, obj), self.primitives
        made = self.realiser.realise(build(obj), f"obj-{obj.uid}", world_matrix(obj), uid_color(obj.uid),
                                     uid_color(text_id(obj.uid)))
        return made, self.realiser

    def _drop(self, uid: int) -> None:
        _, blender_objects, remover = self._objects.pop(uid)
        remover.remove(blender_objects)

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
        names = {li.name for li in lights}
        for name in sorted(set(self._lights) - names):
            bobj = self._lights.pop(name)
            data = bobj.data
            bpy.data.objects.remove(bobj, do_unlink=True)
            bpy.data.lights.remove(data)
            fixture = self._fixtures.pop(name, None)
            if fixture is not None:
                self.realiser.remove([fixture])
        for li in lights:
            kind = li.kind.upper()
            if li.name in self._lights and self._lights[li.name].data.type != kind:
                old = self._lights.pop(li.name)
                bpy.data.objects.remove(old, do_unlink=True)
            if li.name not in self._lights:
                data = bpy.data.lights.new(f"light-{li.name}", type=kind)
                bobj = bpy.data.objects.new(f"light-{li.name}", data)
                self.scene.collection.objects.link(bobj)
                self._lights[li.name] = bobj
            bobj = self._lights[li.name]
            data = bobj.data
            data.color = srgb_to_linear(li.rgb)
            data.energy = li.energy if li.on else 0.0
            if kind == "SUN":
                data.angle = math.radians(li.size)
                az, el = math.radians(li.azimuth), math.radians(li.elevation)
                toward = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
                self._aim(bobj, (0.0, 0.0, 0.0), tuple(-c for c in toward))
                bobj.hide_render = not li.on
                continue
            if kind == "AREA":
                data.shape = "RECTANGLE" if li.size_y else "SQUARE"
                data.size = li.size
                if li.size_y:
                    data.size_y = li.size_y
                data.cycles.is_portal = li.portal
            else:
                data.shadow_soft_size = li.size
            self._aim(bobj, li.location, li.aim)
            bobj.hide_render = not li.on and not li.portal
            if li.name.startswith("ceiling"):
                self._fixture(li)

    def _fixture(self, li: LightSpec) -> None:
        """The visible lamp of a ceiling light: a disc just above it that glows when it is on."""
        if li.name not in self._fixtures:
            mesh = self.bpy.data.meshes.new(f"fixture-{li.name}")
            seg = 24
            r = max(0.12, li.size * 0.6)
            verts = [(r * math.cos(2 * math.pi * i / seg), r * math.sin(2 * math.pi * i / seg), 0.0) for i in range(seg)]
            mesh.from_pydata(verts, [], [tuple(range(seg))])
            fixture = self.bpy.data.objects.new(f"fixture-{li.name}", mesh)
            fixture.color = (0.0, 0.0, 0.0, 1.0)
            fixture.visible_shadow = False
            self.scene.collection.objects.link(fixture)
            mesh.materials.append(None)
            self._fixtures[li.name] = fixture
        fixture = self._fixtures[li.name]
        x, y, z = li.location
        fixture.location = (x, y, z + 0.015)
        lk = {"color": "white", "rgb": list(li.rgb), "material": "emission"}
        if li.on:
            lk["glow"] = FIXTURE_GLOW
        fixture.data.materials[0] = self.materials.get(lk)

    def _sync_world(self, spec: SceneSpec) -> None:
        w = spec.world
        tree, bg = self._world_tree, self._background
        if w.sky == "physical":
            az, el = math.radians(w.sun_azimuth), math.radians(w.sun_elevation)
            self._sky.sun_direction = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
            if self._sky_link is None:
                self._sky_link = tree.links.new(self._sky.outputs["Color"], bg.inputs["Color"])
        else:
            if self._sky_link is not None:
                tree.links.remove(self._sky_link)
                self._sky_link = None
            bg.inputs["Color"].default_value = (*srgb_to_linear(w.sky_rgb), 1.0)
        bg.inputs["Strength"].default_value = w.sky_strength
        principled(self.ground_material, srgb_to_linear(w.ground_rgb), 0.0, 0.8)
        self.exposure = w.exposure
        self.white_balance = w.white_balance

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
        scene.view_settings.exposure = self.exposure
        scene.view_settings.use_white_balance = self.white_balance is not None
        if self.white_balance is not None:
            scene.view_settings.white_balance_temperature = self.white_balance
        scene.render.dither_intensity = 0.0
        before = self.render_seconds
        arr = self._render_to_array(self.workdir / "image.png")
        self.image_seconds += self.render_seconds - before
        buf = io.BytesIO()
        Image.fromarray(arr, mode="RGB").save(buf, format="PNG")
        return buf.getvalue()

    def render_ids(self, spec: SceneSpec) -> np.ndarray:
        """(H, W) uint16 map of the id visible at each pixel (0 = ground, shell or background)."""
        self.sync(spec)
        scene = self.scene
        scene.render.engine = "BLENDER_WORKBENCH"
        scene.view_settings.view_transform = "Standard"
        scene.view_settings.look = "None"
        scene.view_settings.exposure = 0.0
        scene.view_settings.gamma = 1.0
        scene.view_settings.use_white_balance = False
        scene.render.dither_intensity = 0.0
        scene.display.render_aa = "OFF"
        return decode_ids(self._render_to_array(self.workdir / "ids.png"))

    def close(self) -> None:
        for uid in sorted(self._objects):
            self._drop(uid)


def bpy_version() -> str:
    import bpy  # noqa: PLC0415

    return bpy.app.version_string
