"""The tabletop kit: CLEVR-like primitives on a grey plane (the CLEVR presets and ``--setting tabletop``).

Its rules are CLEVR's: two sizes, rubber or metal, eight colours, a substitution keeps colour and
material and swaps the shape, a turn only for shapes whose turn shows, counting copies an identical
instance, objects keep a margin along both camera axes so that left/right and front/behind are
unambiguous. The sampler lives in ``sampling.py``; this module is the kit face of it.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Any

from generators.synthetic.geometry import in_frame
from generators.synthetic.kits.base import Context, Kit
from generators.synthetic.masks import text_id
from generators.synthetic.sampling import copy_object, fits, make_shape, place, recipe_for, sample_scene, shape_extents
from generators.synthetic.spec import ObjectSpec, SceneSpec
from generators.synthetic.vocabulary import vocabulary

TABLETOP_CHANGE_TYPES = (
    "viewpoint", "illumination", "addition", "disappearance", "removal", "substitution",
    "size", "color", "orientation", "counting", "text", "movement", "material",
)


class TabletopKit(Kit):
    name = "tabletop"
    scene_word = "table"
    change_types = TABLETOP_CHANGE_TYPES

    def __init__(self, preset: str = "omnidiff") -> None:
        self.preset = preset

    def sample_scene(self, rng: random.Random, aspect: float) -> SceneSpec:
        return sample_scene(self.preset, rng, aspect)

    def accept(self, scene: SceneSpec, counts: dict[int, int], min_pixels: int) -> str | None:
        hidden = [o.uid for o in scene.objects if counts.get(o.uid, 0) < min_pixels]
        return f"objects {hidden} cover fewer than {min_pixels} pixels" if hidden else None

    # -- change steps ----------------------------------------------------------------------
    def candidates(self, scene: SceneSpec, key: str, ctx: Context) -> list[ObjectSpec]:
        if key == "removal":
            return [o for o in scene.objects if o.support is not None and o.uid not in ctx.locked]
        if key == "text":
            return [o for o in scene.objects if o.text is not None and o.uid not in ctx.locked]
        held = {o.support for o in scene.objects if o.support is not None}
        free = [o for o in scene.objects if o.size != "prop" and o.support is None and o.uid not in held
                and o.uid not in ctx.locked and o.group is None]
        if key == "orientation":
            shapes = vocabulary()["shapes"]
            free = [o for o in free if shapes[o.family]["symmetry_deg"]]
        return free

    def fits(self, scene: SceneSpec, obj: ObjectSpec, ctx: Context) -> str | None:
        return fits(scene, obj, ctx.aspect)

    def place_like(self, scene: SceneSpec, obj: ObjectSpec, rng: random.Random, aspect: float,
                   avoid: tuple[float, float, float] | None = None) -> bool:
        return place(scene, obj, rng, aspect, avoid=(avoid[0], avoid[1], 1.2) if avoid else None)

    def new_object(self, scene: SceneSpec, rng: random.Random, ctx: Context) -> ObjectSpec | None:
        obj = make_shape(scene.next_uid(), rng, recipe_for(self.preset).shapes)
        scene.objects.append(obj)
        if place(scene, obj, rng, ctx.aspect):
            return obj
        scene.objects.remove(obj)
        return None

    def substitute(self, scene: SceneSpec, old: ObjectSpec, rng: random.Random, ctx: Context) -> ObjectSpec | None:
        shapes = [s for s in recipe_for(self.preset).shapes if s != old.family]
        new = make_shape(scene.next_uid(), rng, tuple(shapes), old.x, old.y, size=old.size)
        new.color, new.rgb, new.material = old.color, old.rgb, old.material
        index = scene.objects.index(old)
        scene.objects[index] = new
        if fits(scene, new, ctx.aspect):
            scene.objects[index] = old
            return None
        return new

    def resize(self, scene: SceneSpec, obj: ObjectSpec, rng: random.Random) -> tuple[str, str]:
        old = obj.size
        obj.size = "small" if old == "large" else "large"
        obj.half_extents = shape_extents(obj.family, obj.size)
        return old, obj.size

    def recolour(self, obj: ObjectSpec, rng: random.Random) -> tuple[str, str, str]:
        colors = vocabulary()["colors"]
        old = obj.color
        obj.color = rng.choice([c for c in sorted(colors) if c != old])
        obj.rgb = tuple(colors[obj.color])
        return "body", old, obj.color

    def rematerial(self, obj: ObjectSpec, rng: random.Random) -> tuple[str, str, str]:
        old = obj.material
        obj.material = rng.choice([m for m in sorted(vocabulary()["materials"]) if m != old])
        return "body", old, obj.material

    def turn(self, scene: SceneSpec, obj: ObjectSpec, rng: random.Random) -> float:
        sym = vocabulary()["shapes"][obj.family]["symmetry_deg"]
        angle = rng.choice((-1, 1)) * rng.uniform(0.3 * sym, 0.5 * sym if sym <= 90 else 0.4 * sym)
        obj.rotation = round((obj.rotation + angle) % 360.0, 4)
        return round(angle, 3)

    def retext(self, obj: ObjectSpec, rng: random.Random) -> tuple[str, str]:
        old = obj.text or ""
        obj.text = rng.choice([w for w in vocabulary()["words"] if w != old])
        return old, obj.text

    def text_visible(self, obj: ObjectSpec, ctx: Context) -> bool:
        return ctx.counts is None or ctx.counts.get(text_id(obj.uid), 0) >= max(4, ctx.min_pixels // 4)

    def move_camera(self, scene: SceneSpec, rng: random.Random, small: bool, aspect: float = 1.5) -> str | None:
        cam = scene.camera
        if small:  # a CLEVR-style distractor: a jitter, not a described move
            cam.azimuth = round(cam.azimuth + rng.choice((-1, 1)) * rng.uniform(1.5, 3.5), 4)
            cam.elevation = round(cam.elevation + rng.uniform(-1.0, 1.0), 4)
        else:
            cam.azimuth = round(cam.azimuth + rng.choice((-1, 1)) * rng.uniform(12.0, 22.0), 4)
            cam.elevation = round(cam.elevation + rng.uniform(-4.0, 4.0), 4)
            cam.distance = round(cam.distance * rng.uniform(0.95, 1.04), 4)
        return self.all_in_frame(scene, aspect)

    def ring_camera(self, scene: SceneSpec, rng: random.Random, aspect: float) -> str | None:
        """CLEVR-DC: the after camera stands at a random place on a ring around the scene."""
        cam = scene.camera
        cam.azimuth = round(cam.azimuth + rng.choice((-1, 1)) * rng.uniform(45.0, 160.0), 4)
        cam.elevation = round(rng.uniform(28.0, 40.0), 4)
        return self.all_in_frame(scene, aspect)

    @staticmethod
    def all_in_frame(scene: SceneSpec, aspect: float) -> str | None:
        for obj in scene.objects:
            if not in_frame(scene, obj, aspect, margin=0.0):
                return f"object {obj.uid} leaves the frame"
        return None

    def relight(self, scene: SceneSpec, rng: random.Random, ctx: Context | None = None) -> dict[str, Any]:
        moods = vocabulary()["light_moods"]
        mood = rng.choice(sorted(moods))
        spec = moods[mood]
        for li in scene.lights:
            if "color" in spec and li.name in ("key", "fill"):
                li.rgb = tuple(spec["color"])
            if "factor" in spec:
                li.energy = round(li.energy * spec["factor"], 2)
        return {"variant": "mood", "before": "neutral", "after": mood}

    def counting(self, scene: SceneSpec, rng: random.Random, ctx: Context) -> tuple | str:
        groups: dict[str, list[ObjectSpec]] = {}
        for o in scene.objects:
            if o.group:
                groups.setdefault(o.group, []).append(o)
        if not groups:
            return "no group of identical objects"
        group = sorted(groups)[0]
        members = groups[group]
        if any(m.uid in ctx.locked for m in members):
            return "the group was already changed"
        n = len(members)
        if n >= 2 and rng.random() < 0.5:
            gone = rng.choice(members)
            scene.objects.remove(gone)
            return gone, None, group, n, n - 1
        new = copy_object(members[0], uid=scene.next_uid())
        scene.objects.append(new)
        if not place(scene, new, rng, ctx.aspect):
            return "no free spot for one more instance"
        return None, new, group, n, n + 1

    def captions(self, diffs: list[dict[str, Any]], before: SceneSpec, after: SceneSpec, rng: random.Random,
                 aspect: float, clevr: bool = False, distractor: bool = False, visible: set[int] | None = None) -> list[str]:
        from generators.synthetic.captions import clevr_captions, omnidiff_captions

        if clevr:
            return clevr_captions(diffs[0], before, after, rng, aspect, distractor)
        return omnidiff_captions(diffs, before, after, rng, aspect)


def snapshot(obj: ObjectSpec | None) -> dict[str, Any] | None:
    return None if obj is None else asdict(obj)
