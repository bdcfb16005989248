"""Procedural materials (Cycles node trees), one per (shader, colour, glow), cached per session.

Noise textures keep 2-4 octaves: each octave is evaluated at every shading point, and on a CPU twelve
of them made a room 40% slower to render for no visible gain at 480x320 (bench/render.py).

Every texture is driven by the mesh's box-projected UVs, which the builders lay out in metres, so
bricks, planks and wood grain keep their real size on any object. No image files are used.
"""

from __future__ import annotations

from typing import Any

from generators.synthetic.families import palette
from generators.synthetic.meshes import look_key
from generators.synthetic.vocabulary import srgb_to_linear

# shader of each material name: the palette's materials, the fixed looks and the shell's surfaces
EXTRA_SHADERS = {
    "window glass": "window", "screen": "screen", "ink": "ink", "emission": "emission", "soil": "soil", "bark": "bark",
    "asphalt": "asphalt", "grass": "grass", "tiles": "tiles", "planks": "planks", "paving": "paving",
    "carpet": "fabric", "road paint": "painted", "gravel": "concrete", "rubber": "rubber",
}


def shader_of(material: str) -> str:
    mats = palette()["materials"]
    if material in mats:
        return mats[material]["shader"]
    return EXTRA_SHADERS.get(material, "painted")


class MaterialLibrary:
    def __init__(self, bpy: Any) -> None:
        self.bpy = bpy
        self.cache: dict[str, Any] = {}

    def get(self, look: dict[str, Any]) -> Any:
        key = look_key(look)
        if key not in self.cache:
            self.cache[key] = self._make(key, shader_of(look["material"]), srgb_to_linear(look["rgb"]),
                                         float(look.get("glow", 0.0)))
        return self.cache[key]

    # -- node helpers ----------------------------------------------------------------------------
    def _make(self, name: str, shader: str, rgb: tuple[float, float, float], glow: float) -> Any:
        mat = self.bpy.data.materials.new(f"m:{name}")
        if hasattr(mat, "use_nodes") and not mat.use_nodes:
            mat.use_nodes = True
        nt = mat.node_tree
        bsdf = next(n for n in nt.nodes if n.type == "BSDF_PRINCIPLED")
        mat.diffuse_color = (*rgb, 1.0)
        build = getattr(self, f"_{shader}", self._painted)
        build(nt, bsdf, rgb)
        if glow:
            bsdf.inputs["Emission Color"].default_value = (*rgb, 1.0)
            bsdf.inputs["Emission Strength"].default_value = glow
        return mat

    @staticmethod
    def _set(bsdf: Any, **values: Any) -> None:
        names = {"base": "Base Color", "metallic": "Metallic", "roughness": "Roughness", "coat": "Coat Weight",
                 "coat_roughness": "Coat Roughness", "transmission": "Transmission Weight", "ior": "IOR",
                 "sheen": "Sheen Weight", "specular": "Specular IOR Level"}
        for key, value in values.items():
            socket = bsdf.inputs[names[key]]
            socket.default_value = (*value, 1.0) if key == "base" else value

    @staticmethod
    def _uv(nt: Any, scale: float = 1.0) -> Any:
        coord = nt.nodes.new("ShaderNodeTexCoord")
        if scale == 1.0:
            return coord.outputs["UV"]
        mapping = nt.nodes.new("ShaderNodeMapping")
        mapping.inputs["Scale"].default_value = (scale, scale, scale)
        nt.links.new(coord.outputs["UV"], mapping.inputs["Vector"])
        return mapping.outputs["Vector"]

    def _vary(self, nt: Any, bsdf: Any, rgb: tuple[float, float, float], scale: float, low: float, high: float,
              detail: float = 3.0, vector: Any = None) -> Any:
        """Base colour = rgb scaled between ``low`` and ``high`` by a noise texture."""
        noise = nt.nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = scale
        noise.inputs["Detail"].default_value = detail
        nt.links.new(vector if vector is not None else self._uv(nt), noise.inputs["Vector"])
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].position, ramp.color_ramp.elements[1].position = 0.3, 0.7
        ramp.color_ramp.elements[0].color = (*(c * low for c in rgb), 1.0)
        ramp.color_ramp.elements[1].color = (*(min(1.0, c * high) for c in rgb), 1.0)
        nt.links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
        nt.links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
        return ramp

    def _bricks(self, nt: Any, bsdf: Any, rgb: tuple[float, float, float], mortar: tuple[float, float, float],
                width: float, height: float, mortar_size: float, spread: float, offset: float = 0.5) -> Any:
        brick = nt.nodes.new("ShaderNodeTexBrick")
        brick.offset = offset
        brick.inputs["Scale"].default_value = 1.0
        brick.inputs["Brick Width"].default_value = width
        brick.inputs["Row Height"].default_value = height
        brick.inputs["Mortar Size"].default_value = mortar_size
        brick.inputs["Color1"].default_value = (*(c * (1 - spread) for c in rgb), 1.0)
        brick.inputs["Color2"].default_value = (*(min(1.0, c * (1 + spread)) for c in rgb), 1.0)
        brick.inputs["Mortar"].default_value = (*mortar, 1.0)
        nt.links.new(self._uv(nt), brick.inputs["Vector"])
        nt.links.new(brick.outputs["Color"], bsdf.inputs["Base Color"])
        bump = nt.nodes.new("ShaderNodeBump")
        bump.inputs["Strength"].default_value = 0.25
        nt.links.new(brick.outputs["Fac"], bump.inputs["Height"])
        nt.links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
        return brick

    # -- shaders ----------------------------------------------------------------------------------
    def _painted(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.42, metallic=0.0)

    def _plastic(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.32, specular=0.6)

    def _ceramic(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.12, coat=0.5, coat_roughness=0.05)

    def _metal(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, metallic=1.0, roughness=0.3)

    def _car_paint(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, metallic=0.4, roughness=0.3, coat=1.0, coat_roughness=0.04)

    def _rubber(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.8)

    def _glass(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.04, transmission=1.0, ior=1.45)

    def _window(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=(0.03, 0.035, 0.04), roughness=0.06, metallic=0.6, specular=1.0)

    def _screen(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.2)

    def _ink(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.5)

    def _emission(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.5)

    def _paper(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, base=rgb, roughness=0.75)

    def _plaster(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.9)
        self._vary(nt, bsdf, rgb, 3.0, 0.93, 1.03, detail=2.0)

    def _fabric(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.95, sheen=0.5)
        self._vary(nt, bsdf, rgb, 60.0, 0.86, 1.06, detail=2.0)

    def _leather(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.42, coat=0.15)
        self._vary(nt, bsdf, rgb, 25.0, 0.85, 1.05, detail=2.0)

    def _concrete(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.9)
        self._vary(nt, bsdf, rgb, 4.0, 0.82, 1.08, detail=3.0)

    def _asphalt(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.88)
        self._vary(nt, bsdf, rgb, 9.0, 0.8, 1.15, detail=3.0)

    def _grass(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.95)
        self._vary(nt, bsdf, rgb, 2.5, 0.7, 1.2, detail=4.0)

    def _soil(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=1.0)
        self._vary(nt, bsdf, rgb, 30.0, 0.7, 1.1, detail=2.0)

    def _bark(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.9)
        self._vary(nt, bsdf, rgb, 8.0, 0.6, 1.2, detail=3.0)

    def _foliage(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.65)
        self._vary(nt, bsdf, rgb, 7.0, 0.55, 1.25, detail=3.0)

    def _stone(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.2, coat=0.3)
        self._vary(nt, bsdf, rgb, 3.0, 0.82, 1.08, detail=4.0)

    def _wood(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.5)
        wave = nt.nodes.new("ShaderNodeTexWave")
        wave.inputs["Scale"].default_value = 9.0  # grain a few centimetres apart on the metre-scaled UVs
        wave.inputs["Distortion"].default_value = 4.0
        wave.inputs["Detail"].default_value = 2.0
        nt.links.new(self._uv(nt), wave.inputs["Vector"])
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = (*(c * 0.8 for c in rgb), 1.0)
        ramp.color_ramp.elements[1].color = (*(min(1.0, c * 1.06) for c in rgb), 1.0)
        nt.links.new(wave.outputs["Fac"], ramp.inputs["Fac"])
        nt.links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])

    def _brick(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.85)
        self._bricks(nt, bsdf, rgb, (0.42, 0.4, 0.37), 0.24, 0.08, 0.012, 0.12)

    def _tiles(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.25, coat=0.2)
        self._bricks(nt, bsdf, rgb, tuple(c * 0.6 for c in rgb), 0.4, 0.4, 0.006, 0.04, offset=0.0)

    def _paving(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.85)
        self._bricks(nt, bsdf, rgb, tuple(c * 0.7 for c in rgb), 0.6, 0.4, 0.01, 0.08, offset=0.5)

    def _planks(self, nt: Any, bsdf: Any, rgb: tuple) -> None:
        self._set(bsdf, roughness=0.45, coat=0.2)
        self._bricks(nt, bsdf, rgb, tuple(c * 0.45 for c in rgb), 1.2, 0.14, 0.003, 0.14, offset=0.37)
