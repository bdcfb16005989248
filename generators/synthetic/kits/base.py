"""What a scene kit provides: scene sampling, and the kit-specific steps of the kit-agnostic changes.

The change registry (``changes.py``) picks candidates and records diffs the same way for every kit;
it asks the kit for the few things that depend on the setting: where a new object may go, whether
an object fits, how the camera may move, how the light may change. ``SceneKit`` implements these
over the asset families and the layout geometry for the rich kits (indoor, outdoor); the tabletop
kit keeps its CLEVR rules.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict
from typing import Any, Protocol

from generators.synthetic import families as fam_mod
from generators.synthetic.families import FAMILIES, family_of, make_object, refresh_extents
from generators.synthetic.geometry import CameraFrame
from generators.synthetic.layout import (
    Rect,
    conflicts,
    facing_wall,
    footprint,
    keepouts,
    on_wall_position,
    overlap,
    rests,
    sample_in_rect,
    shell_surfaces,
    surface_world,
    wall_coordinate,
    wall_frame,
    wall_spans,
    walls,
    zone_rect,
    zones,
)
from generators.synthetic.masks import text_id
from generators.synthetic.seeding import stream
from generators.synthetic.spec import ObjectSpec, SceneSpec, object_from_dict

GAPS = {"floor": 0.04, "surface": 0.012, "wall": 0.05}
WALL_FRONT = 0.3  # metres in front of a wall object that must stay clear at its height
CAMERA_ROOM = 1.8  # metres between the camera and the near edge of anything standing on the floor
MOVES_THE_OBJECT = ("disappearance", "removal", "substitution", "size", "orientation", "movement")
TRIES = 40
CAMERA_CLEARANCE = 0.35  # metres between the camera and any object's box


class Context(Protocol):
    aspect: float
    locked: set[int]
    counts: dict[int, int] | None
    min_pixels: int


def turned_half(obj: ObjectSpec, degrees: float) -> tuple[float, float]:
    """Half sizes, along the axes of a frame turned by ``degrees``, of the box around obj's footprint."""
    t = math.radians(degrees)
    hx, hy = obj.half_extents[0], obj.half_extents[1]
    return abs(hx * math.cos(t)) + abs(hy * math.sin(t)), abs(hx * math.sin(t)) + abs(hy * math.cos(t))


def visible(ctx: Context, uid: int) -> bool:
    return ctx.counts is None or ctx.counts.get(uid, 0) >= ctx.min_pixels


def instance_rng(scene: SceneSpec, uid: int, purpose: str = "") -> random.Random:
    """The stream of one instance: derived from the scene's own seed and the instance's uid."""
    return stream(scene.shell.params.get("seed", 0), "instance", uid, purpose)


class Kit:
    """The interface every kit offers (``TabletopKit`` and ``SceneKit`` implement it)."""

    name = "kit"
    change_types: tuple[str, ...] = ()
    scene_word = "scene"

    def sample_scene(self, rng: random.Random, aspect: float) -> SceneSpec:
        raise NotImplementedError

    def accept(self, scene: SceneSpec, counts: dict[int, int], min_pixels: int) -> str | None:
        """Why the sampled scene cannot be used given its id-pass pixel counts (None when it can)."""
        return None

    def feasible(self, scene: SceneSpec, keys: list[str], aspect: float, counts: dict[int, int] | None = None,
                 min_pixels: int = 1) -> str | None:
        """Which planned change type has no candidate in this scene (None: all have one)."""
        return None


class _Probe:
    """A change context for feasibility checks: visibility from pixel counts, or from the camera's frame."""

    def __init__(self, aspect: float, counts: dict[int, int], min_pixels: int) -> None:
        self.aspect, self.counts, self.min_pixels, self.locked = aspect, counts, min_pixels, set()


class SceneKit(Kit):
    """The rich kits' common steps: families, surfaces, walls, zones."""

    min_visible_objects = 6

    # -- recipes ---------------------------------------------------------------------------
    def recipe(self, scene: SceneSpec) -> dict[str, Any]:
        raise NotImplementedError

    def accept(self, scene: SceneSpec, counts: dict[int, int], min_pixels: int) -> str | None:
        seen = [o for o in scene.objects if counts.get(o.uid, 0) >= min_pixels]
        if len(seen) < self.min_visible_objects:
            return f"only {len(seen)} objects are visible enough"
        return None

    def feasible(self, scene: SceneSpec, keys: list[str], aspect: float, counts: dict[int, int] | None = None,
                 min_pixels: int = 1) -> str | None:
        if counts is None:  # before rendering: what projects into the frame counts as visible
            counts = {}
            for o in scene.objects:
                if self.in_view(scene, o, aspect, 0.0):
                    counts[o.uid] = counts[text_id(o.uid)] = 10 ** 6
        probe = _Probe(aspect, counts, min_pixels)
        for key in keys:
            if key in ("viewpoint", "illumination", "addition"):
                continue
            if key == "counting":
                if not any(any(visible(probe, o.uid) for o in scene.objects if o.group == g) for g in scene.groups):
                    return "no counting group in view"
                continue
            found = self.candidates(scene, key, probe)
            if key == "text":
                found = [o for o in found if self.text_visible(o, probe)]
            if not found:
                return f"nothing in view that a {key} change may touch"
        return None

    # -- geometry checks -------------------------------------------------------------------
    def in_view(self, scene: SceneSpec, obj: ObjectSpec, aspect: float, margin: float = 0.04) -> bool:
        frame = CameraFrame.of(scene.camera)
        hx, hy, hz = obj.half_extents
        rect = footprint(obj)
        cx, cy = rect.cx, rect.cy
        u, v, depth = frame.project((cx, cy, obj.z0 + hz), aspect)
        if depth < 0.6 or not (margin <= u <= 1 - margin and margin <= v <= 1 - margin):
            return False
        if obj.top - obj.z0 > 2.5:  # trees, lamp posts, buildings: their tops may leave the frame
            return True
        top = frame.project((cx, cy, obj.top), aspect)
        return margin * 0.5 <= top[1] <= 1.0

    def camera_ok(self, scene: SceneSpec) -> str | None:
        x, y, z = scene.camera.location
        for o in scene.objects:
            grown = Rect(o.x, o.y, o.half_extents[0] + CAMERA_CLEARANCE, o.half_extents[1] + CAMERA_CLEARANCE, o.rotation)
            if o.z0 - CAMERA_CLEARANCE < z < o.top + CAMERA_CLEARANCE and overlap(grown, Rect(x, y, 0.01, 0.01)):
                return f"the camera would stand inside object {o.uid}"
        return self.camera_region_ok(scene)

    def camera_region_ok(self, scene: SceneSpec) -> str | None:
        return None

    def fits(self, scene: SceneSpec, obj: ObjectSpec, ctx: Context | None = None, ignore: tuple[int, ...] = ()) -> str | None:
        """Why ``obj`` cannot be where it is: not resting, overlapping, blocking a door or the camera."""
        why = rests(scene, obj)
        if why:
            return why
        hits = conflicts(scene, obj, GAPS.get(obj.placement, 0.02), ignore)
        if hits:
            return f"overlaps object {hits[0]}"
        if obj.placement == "wall":  # nothing may stand in front of a picture and hide it
            t = math.radians(obj.rotation)
            probe = object_from_dict({**asdict(obj), "uid": -1, "support": None,
                                      "x": obj.x + WALL_FRONT * math.sin(t), "y": obj.y - WALL_FRONT * math.cos(t),
                                      "half_extents": (obj.half_extents[0], obj.half_extents[1] + WALL_FRONT, obj.half_extents[2])})
            hits = [u for u in conflicts(scene, probe, 0.0, ignore) if u != obj.uid and scene.get(u).support != obj.uid]
            if hits:
                return f"is hidden behind object {hits[0]}"
        rect = footprint(obj)
        if obj.placement == "floor" and any(overlap(rect, k) for k in keepouts(scene)):
            return "stands in a kept-free area (a door, the camera)"
        if obj.group is None:
            for res in scene.shell.params.get("reserved", []):
                if res["support"] == obj.support and overlap(rect, Rect(*res["rect"])):
                    return "stands where a counted group has room for one more"
        x, y, z = scene.camera.location
        grown = Rect(obj.x, obj.y, obj.half_extents[0] + CAMERA_CLEARANCE, obj.half_extents[1] + CAMERA_CLEARANCE, obj.rotation)
        if obj.z0 - CAMERA_CLEARANCE < z < obj.top + CAMERA_CLEARANCE and overlap(grown, Rect(x, y, 0.01, 0.01)):
            return "would touch the camera"
        return None

    # -- placing ---------------------------------------------------------------------------
    def holders(self, scene: SceneSpec, obj: ObjectSpec) -> list[tuple[ObjectSpec | None, str]]:
        """(holder, surface name) pairs where ``obj``'s family may stand; None = a shell sill."""
        out: list[tuple[ObjectSpec | None, str]] = []
        for h in scene.objects:
            hf = family_of(h)
            if hf is None or obj.family not in hf.holds:
                continue
            out += [(h, s.name) for s in hf.surfaces(h.params)]
        if obj.family in self.recipe(scene).get("sill_items", {}).get("families", []):
            out += [(None, name) for name in shell_surfaces(scene)]
        return out

    def place_on_surface(self, scene: SceneSpec, obj: ObjectSpec, holder: ObjectSpec | None, surface: str,
                         rng: random.Random, aspect: float | None = None, align: bool = False,
                         avoid: tuple[float, float, float] | None = None) -> bool:
        if holder is None:
            sill = shell_surfaces(scene)[surface]
            rect, z, clear = Rect(*sill["rect"]), sill["z"], sill.get("clear", 1.5)
            base_rot = rect.yaw
        else:
            s = next(x for x in family_of(holder).surfaces(holder.params) if x.name == surface)
            rect, z, clear = surface_world(holder, s, float(holder.params.get("scale", 1.0)))
            base_rot = holder.rotation
        if 2 * obj.half_extents[2] > clear:
            return False
        obj.support, obj.surface, obj.placement, obj.z0 = (holder.uid if holder else None), surface, "surface", round(z, 5)
        for _ in range(TRIES):
            obj.rotation = round((base_rot + (0.0 if align else rng.uniform(-25, 25))) % 360.0, 3)
            spot = sample_in_rect(rect, *turned_half(obj, obj.rotation - base_rot), rng)
            if spot is None:
                return False
            obj.x, obj.y = round(spot[0], 4), round(spot[1], 4)
            moved = math.hypot(obj.x - avoid[0], obj.y - avoid[1]) if avoid is not None else 0.0
            if self._spot_ok(scene, obj, aspect, avoid, moved):
                return True
        return False

    def _spot_ok(self, scene: SceneSpec, obj: ObjectSpec, aspect: float | None,
                 avoid: tuple[float, float, float] | None, moved: float) -> bool:
        """A candidate spot: away from ``avoid`` (a move must go somewhere else), in view, fitting."""
        if avoid is not None and moved < avoid[2]:
            return False
        if aspect is not None and not self.in_view(scene, obj, aspect):
            return False
        return self.fits(scene, obj) is None

    def place_on_wall(self, scene: SceneSpec, obj: ObjectSpec, wall_name: str, rng: random.Random,
                      heights: tuple[float, float], aspect: float | None = None,
                      avoid: tuple[float, float, float] | None = None) -> bool:
        wall = walls(scene)[wall_name]
        _, _, _, length = wall_frame(wall)
        hx, hy, hz = obj.half_extents
        obj.support, obj.surface, obj.placement = None, wall_name, "wall"
        obj.rotation = facing_wall(wall)
        for _ in range(TRIES):
            z0 = round(rng.uniform(*heights), 3)
            spans = [s for s in wall_spans(wall, z0, z0 + 2 * hz) if s[1] - s[0] >= 2 * hx]
            if not spans:
                continue
            a, b = rng.choice(spans)
            s = rng.uniform(a + hx, b - hx)
            obj.x, obj.y = (round(v, 4) for v in on_wall_position(wall, s, hy))
            obj.z0 = z0
            moved = math.hypot(obj.x - avoid[0], obj.y - avoid[1]) if avoid is not None else 0.0
            if self._spot_ok(scene, obj, aspect, avoid, moved):
                return True
        return False

    def against_wall(self, scene: SceneSpec, obj: ObjectSpec, wall_name: str, s: float, gap: float = 0.02) -> None:
        """Stand ``obj`` on the floor with its back to ``wall_name`` at wall coordinate ``s``."""
        wall = walls(scene)[wall_name]
        obj.rotation = facing_wall(wall)
        obj.x, obj.y = (round(v, 4) for v in on_wall_position(wall, s, obj.half_extents[1], gap))
        obj.z0, obj.support, obj.surface, obj.placement = self.ground_z(scene, obj), None, None, "floor"
        obj.params["against"] = wall_name

    def ground_z(self, scene: SceneSpec, obj: ObjectSpec) -> float:
        for zone in zones(scene).values():
            if zone_rect(zone).contains(footprint(obj)):
                return zone["z"]
        return 0.0

    def floor_zones(self, scene: SceneSpec, obj: ObjectSpec) -> list[dict[str, Any]]:
        """The zones where ``obj``'s family may stand (all of them unless the zone names kinds)."""
        return [z for z in zones(scene).values() if not z.get("kinds") or obj.family in z["kinds"]]

    def place_on_floor(self, scene: SceneSpec, obj: ObjectSpec, rng: random.Random, aspect: float | None = None,
                       avoid: tuple[float, float, float] | None = None, keep_rotation: bool = False) -> bool:
        options = self.floor_zones(scene, obj)
        if not options:
            return False
        obj.support, obj.surface, obj.placement = None, None, "floor"
        obj.params.pop("against", None)
        for _ in range(TRIES):
            zone = rng.choice(options)
            if not keep_rotation:
                obj.rotation = self.floor_rotation(scene, obj, zone, rng)
            spot = sample_in_rect(zone_rect(zone), *turned_half(obj, obj.rotation), rng, 0.02)
            if spot is None:
                continue
            obj.x, obj.y, obj.z0 = round(spot[0], 4), round(spot[1], 4), zone["z"]
            cx, cy, _ = scene.camera.location
            if math.hypot(obj.x - cx, obj.y - cy) < CAMERA_ROOM + 1.2 * max(obj.half_extents[:2]) + 0.5 * obj.half_extents[2]:
                continue  # nothing looms in front of the lens (tall things stand farther off)
            moved = math.hypot(obj.x - avoid[0], obj.y - avoid[1]) if avoid is not None else 0.0
            if self._spot_ok(scene, obj, aspect, avoid, moved):
                return True
        return False

    def floor_rotation(self, scene: SceneSpec, obj: ObjectSpec, zone: dict[str, Any], rng: random.Random) -> float:
        """Free-standing things face the camera, give or take."""
        cx, cy, _ = scene.camera.location
        toward = math.degrees(math.atan2(cx - obj.x, -(cy - obj.y)))
        return round((toward + rng.uniform(-35, 35)) % 360.0, 3)

    def place_like(self, scene: SceneSpec, obj: ObjectSpec, rng: random.Random, aspect: float,
                   avoid: tuple[float, float, float] | None = None) -> bool:
        """Put ``obj`` somewhere in view of the same kind of place it is meant for (floor, a holder, a wall)."""
        if obj.placement == "surface":
            options = [hs for hs in self.holders(scene, obj) if hs[0] is None or hs[0].uid != obj.uid]
            rng.shuffle(options)
            for holder, surface in options[:8]:
                if self.place_on_surface(scene, obj, holder, surface, rng, aspect, avoid=avoid):
                    return True
            return False
        if obj.placement == "wall":
            names = sorted(walls(scene))
            rng.shuffle(names)
            lo, hi = self.recipe(scene).get("wall_heights", [1.1, 1.7])
            for name in names:
                if self.place_on_wall(scene, obj, name, rng, (lo, hi), aspect, avoid=avoid):
                    return True
            return False
        return self.place_on_floor(scene, obj, rng, aspect, avoid=avoid)

    # -- change steps ----------------------------------------------------------------------
    def candidates(self, scene: SceneSpec, key: str, ctx: Context) -> list[ObjectSpec]:
        """Objects in view that a ``key`` change may touch, by what their family declares."""
        held = {o.support for o in scene.objects if o.support is not None}
        out = []
        for o in scene.objects:
            fam = family_of(o)
            if fam is None or key not in fam.changes or o.uid in ctx.locked or not visible(ctx, o.uid):
                continue
            if key in MOVES_THE_OBJECT and o.uid in held:
                continue  # what holds other things stays put
            if o.group and key in ("disappearance", "removal", "substitution", "movement"):
                continue  # a counted instance coming or going is a counting change
            if key == "disappearance" and o.placement != "floor":
                continue
            if key == "removal" and o.placement not in ("surface", "wall"):
                continue
            if key == "text" and o.text is None:
                continue
            if (key == "color" and not fam.recolourable) or (key == "material" and not fam.rematerialisable):
                continue
            out.append(o)
        return out

    def text_visible(self, obj: ObjectSpec, ctx: Context) -> bool:
        """Letters are thin: a quarter of an object's pixel minimum (see RenderProfile.min_pixels_of)."""
        return ctx.counts is None or ctx.counts.get(text_id(obj.uid), 0) >= max(4, ctx.min_pixels // 4)

    def counting(self, scene: SceneSpec, rng: random.Random, ctx: Context) -> tuple | str:
        """Take one instance away from a counting group in view, or add one in a free slot."""
        names = []
        for gid in sorted(scene.groups):
            members = [o for o in scene.objects if o.group == gid]
            if members and not any(m.uid in ctx.locked for m in members) and any(visible(ctx, m.uid) for m in members):
                names.append(gid)
        if not names:
            return "no counting group in view"
        gid = rng.choice(names)
        members = [o for o in scene.objects if o.group == gid]
        n = len(members)
        if n >= 2 and (rng.random() < 0.5 or not self.count_slots(scene, gid)):
            shown = [m for m in members if visible(ctx, m.uid)] or members
            gone = rng.choice(shown)
            scene.objects.remove(gone)
            return gone, None, gid, n, n - 1
        new = self.grow_group(scene, gid, rng, ctx)
        if new is None:
            return "no free place for one more in the group"
        return None, new, gid, n, n + 1

    def addable(self, scene: SceneSpec) -> list[str]:
        return list(self.recipe(scene).get("add", []))

    def new_object(self, scene: SceneSpec, rng: random.Random, ctx: Context) -> ObjectSpec | None:
        names = self.addable(scene)
        rng.shuffle(names)
        for name in names[:6]:
            fam = FAMILIES[name] if name in FAMILIES else fam_mod.get(name)
            uid = scene.next_uid()
            obj = make_object(name, uid, instance_rng(scene, uid, "added"), placement=fam.placement)
            scene.objects.append(obj)
            if self.place_like(scene, obj, rng, ctx.aspect):
                return obj
            scene.objects.remove(obj)
        return None

    def substitute(self, scene: SceneSpec, old: ObjectSpec, rng: random.Random, ctx: Context) -> ObjectSpec | None:
        """Another family of a similar size standing in the same place."""
        ofam = family_of(old)
        ox, oy, oz = old.half_extents
        options = []
        for name in sorted(set(self.addable(scene)) | set(self.recipe(scene).get("substitutes", []))):
            fam = fam_mod.get(name)
            if name == old.family or "substitution" not in fam.changes or old.placement not in fam.placements:
                continue
            if ofam is not None and ofam.group == "vehicles" and fam.group != "vehicles":
                continue
            options.append(name)
        rng.shuffle(options)
        index = scene.objects.index(old)
        for name in options:
            for k in range(3):
                new = make_object(name, scene.next_uid(), instance_rng(scene, scene.next_uid(), f"substitute-{k}"),
                                  placement=old.placement)
                nx, ny, nz = new.half_extents
                ratio = (nx * ny * nz) / max(ox * oy * oz, 1e-9)
                if not (0.3 <= ratio <= 3.0 and 0.5 <= nz / max(oz, 1e-9) <= 2.0):
                    continue
                new.x, new.y, new.z0, new.rotation = old.x, old.y, old.z0, old.rotation
                new.support, new.surface, new.placement = old.support, old.surface, old.placement
                if "against" in old.params:
                    self.against_wall(scene, new, old.params["against"], wall_coordinate(walls(scene)[old.params["against"]], old.x, old.y)[0])
                if old.placement == "wall":
                    wall = walls(scene)[old.surface]
                    s, _ = wall_coordinate(wall, old.x, old.y)
                    new.x, new.y = (round(v, 4) for v in on_wall_position(wall, s, new.half_extents[1]))
                    new.z0 = round(old.z0 + old.half_extents[2] - new.half_extents[2], 4)
                scene.objects[index] = new
                if self.fits(scene, new) is None:
                    return new
                scene.objects[index] = old
        return None

    def resize(self, scene: SceneSpec, obj: ObjectSpec, rng: random.Random) -> tuple[float, float] | None:
        """Scale an object up or down about its base, whichever fits; (scale before, scale after)."""
        before = float(obj.params.get("scale", 1.0))
        factors = [rng.uniform(1.3, 1.55), rng.uniform(0.6, 0.75)]
        rng.shuffle(factors)
        start = (obj.x, obj.y, obj.z0, obj.rotation, dict(obj.params), obj.half_extents)
        for factor in factors:
            obj.x, obj.y, obj.z0, obj.rotation, obj.half_extents = start[0], start[1], start[2], start[3], start[5]
            obj.params = dict(start[4])
            after = round(before * factor, 3)
            if 0.45 <= after <= 1.9:
                self._scale_to(scene, obj, after)
                if self.fits(scene, obj) is None:
                    break
        return before, float(obj.params.get("scale", 1.0))

    def _scale_to(self, scene: SceneSpec, obj: ObjectSpec, after: float) -> None:
        obj.params["scale"] = after
        centre_z = obj.z0 + obj.half_extents[2]
        refresh_extents(obj)
        if obj.placement == "wall":
            wall = walls(scene)[obj.surface]
            s, _ = wall_coordinate(wall, obj.x, obj.y)
            obj.x, obj.y = (round(v, 4) for v in on_wall_position(wall, s, obj.half_extents[1]))
            obj.z0 = round(centre_z - obj.half_extents[2], 4)
        elif "against" in obj.params:
            wall = walls(scene)[obj.params["against"]]
            self.against_wall(scene, obj, obj.params["against"], wall_coordinate(wall, obj.x, obj.y)[0])

    def recolour(self, obj: ObjectSpec, rng: random.Random) -> tuple[str, str, str] | None:
        fam = family_of(obj)
        parts = [p for p in fam.recolourable] if fam else []
        if not parts:
            return None
        part = obj.main if obj.main in parts and rng.random() < 0.7 else rng.choice(parts)
        old = obj.parts[part]
        new = fam_mod.draw_look(rng, fam.parts[part], old["material"], avoid=old["color"])
        if new["color"] == old["color"]:
            return None
        obj.parts[part] = new
        return part, old["color"], new["color"]

    def rematerial(self, obj: ObjectSpec, rng: random.Random) -> tuple[str, str, str] | None:
        """Another material that looks different (not painted for plastic), keeping the colour where it exists."""
        fam = family_of(obj)
        parts = fam.rematerialisable if fam else []
        if not parts:
            return None
        part = obj.main if obj.main in parts and rng.random() < 0.7 else rng.choice(parts)
        old = obj.parts[part]
        choices = [m for m in fam.parts[part]["materials"] if fam_mod.looks_like(m) != fam_mod.looks_like(old["material"])]
        if not choices:
            return None
        material = rng.choice(choices)
        colours = fam_mod.part_colors(fam.parts[part], material)
        colour = old["color"] if old["color"] in colours else rng.choice(colours)
        obj.parts[part] = fam_mod.look(colour, fam_mod.rgb_of(colour), material)
        return part, old["material"], material

    def turn(self, scene: SceneSpec, obj: ObjectSpec, rng: random.Random) -> float:
        """Turn by 35-80 degrees either way, the first of a few draws that fits where the object stands."""
        start = obj.rotation
        against = obj.params.pop("against", None)
        angle = 0.0
        for _ in range(6):
            angle = rng.choice((-1, 1)) * rng.uniform(35.0, 80.0)
            obj.rotation = round((start + angle) % 360.0, 3)
            if self.fits(scene, obj) is None:
                break
        if against is not None and obj.rotation == start:
            obj.params["against"] = against
        return round(angle, 3)

    def retext(self, obj: ObjectSpec, rng: random.Random) -> tuple[str, str] | None:
        """Another word of the family; of a similar length, so that the new text is as legible as the old."""
        fam = family_of(obj)
        words = [w for w in (fam.words if fam else []) if w != obj.text]
        close = [w for w in words if abs(len(w) - len(obj.text or "")) <= 2]
        words = close or words
        if not words:
            return None
        old, obj.text = obj.text, rng.choice(words)
        return old or "", obj.text

    def move_camera(self, scene: SceneSpec, rng: random.Random, small: bool, aspect: float) -> str | None:
        cam = scene.camera
        step = (1.5, 3.0) if small else self.camera_swing
        cam.azimuth = round(cam.azimuth + rng.choice((-1, 1)) * rng.uniform(*step), 4)
        cam.elevation = round(cam.elevation + rng.uniform(-1.5, 1.5), 4)
        if not small:
            cam.distance = round(cam.distance * rng.uniform(0.93, 1.04), 4)
        return self.camera_ok(scene)

    camera_swing = (9.0, 15.0)

    def relight(self, scene: SceneSpec, rng: random.Random, ctx: Context) -> dict[str, Any] | None:
        raise NotImplementedError

    def captions(self, diffs: list[dict[str, Any]], before: SceneSpec, after: SceneSpec, rng: random.Random,
                 aspect: float, clevr: bool = False, distractor: bool = False, visible: set[int] | None = None) -> list[str]:
        from generators.synthetic.scene_captions import kit_captions

        room = rng.choice(self.recipe(before)["words"])
        return kit_captions(diffs, before, after, rng, aspect, room, visible)

    def count_slots(self, scene: SceneSpec, group: str) -> list[dict[str, Any]]:
        """Free slots of a counting group (slots that no member occupies)."""
        spec = scene.groups.get(group, {})
        members = [o for o in scene.objects if o.group == group]
        free = []
        for slot in spec.get("slots", []):
            if all(math.hypot(m.x - slot["x"], m.y - slot["y"]) > 0.05 or abs(m.z0 - slot["z0"]) > 0.05 for m in members):
                free.append(slot)
        return free

    def grow_group(self, scene: SceneSpec, group: str, rng: random.Random, ctx: Context) -> ObjectSpec | None:
        spec = scene.groups[group]
        members = [o for o in scene.objects if o.group == group]
        if not members:
            return None
        template = members[0]
        slots = self.count_slots(scene, group)
        rng.shuffle(slots)
        for slot in slots:
            uid = scene.next_uid()
            srng = instance_rng(scene, uid, "counted")
            if spec.get("same", True):
                new = make_object(template.family, uid, srng, looks=template.parts, params=template.params)
            else:
                new = make_object(template.family, uid, srng, params=template.params)
            new.group = group
            new.x, new.y, new.z0, new.rotation = slot["x"], slot["y"], slot["z0"], slot["rotation"]
            new.support, new.surface, new.placement = slot.get("support"), slot.get("surface"), slot.get("placement", "floor")
            if slot.get("against"):
                new.params["against"] = slot["against"]
            scene.objects.append(new)
            if self.fits(scene, new) is None and self.in_view(scene, new, ctx.aspect):
                return new
            scene.objects.remove(new)
        return None

    # -- layout helpers shared by the rich kits ---------------------------------------------
    def _new(self, scene: SceneSpec, family: str, **kw: Any) -> ObjectSpec:
        uid = scene.next_uid()
        obj = make_object(family, uid, instance_rng(scene, uid), **kw)
        scene.objects.append(obj)
        return obj

    def _items(self, scene: SceneSpec, holder: ObjectSpec, spec: dict[str, Any], rng: random.Random, aspect: float,
               first: str | None) -> None:
        fam = family_of(holder)
        surfaces = [s.name for s in fam.surfaces(holder.params)]
        n = rng.randint(*spec["count"])
        for k in range(n):
            name = first if (k == 0 and first) else rng.choice(spec["families"])
            obj = self._new(scene, name, placement="surface")
            order = surfaces[:]
            rng.shuffle(order)
            if not any(self.place_on_surface(scene, obj, holder, s, rng, aspect, align=name in ("book", "monitor", "tv"))
                       for s in order[:3]):
                scene.objects.remove(obj)

    def _group(self, scene: SceneSpec, holder: ObjectSpec, spec: dict[str, Any], rng: random.Random, aspect: float) -> None:
        gid = f"{spec['family']}s-{spec['kind']}-{holder.uid}"
        template = make_object(spec["family"], 0, instance_rng(scene, holder.uid, "group"),
                               placement="floor" if spec["kind"] == "around" else "surface")
        if spec.get("params"):
            template.params.update(spec["params"])
            refresh_extents(template)
        same = spec["family"] != "book"
        slots = self._around_slots(scene, holder, template) if spec["kind"] == "around" else \
            self._row_slots(scene, holder, template, rng, spec.get("at", "front"))
        if len(slots) < 2:
            return
        scene.groups[gid] = {"family": spec["family"], "kind": spec["kind"], "holder": holder.uid, "slots": slots, "same": same}
        k = min(rng.randint(*spec["count"]), len(slots) - 1)
        self.reserve(scene, slots[k:], template)
        for slot in slots[:k]:
            obj = self._new(scene, spec["family"], placement=slot["placement"], params=template.params,
                            looks=template.parts if same else None)
            obj.group = gid
            obj.x, obj.y, obj.z0, obj.rotation = slot["x"], slot["y"], slot["z0"], slot["rotation"]
            obj.support, obj.surface = slot.get("support"), slot.get("surface")
            if self.fits(scene, obj) is not None:
                scene.objects.remove(obj)

    def reserve(self, scene: SceneSpec, slots: list[dict[str, Any]], template: ObjectSpec) -> None:
        """Keep the free slots of a counting group free of other things, so that counting can add one."""
        hx, hy = template.half_extents[0], template.half_extents[1]
        reserved = scene.shell.params.setdefault("reserved", [])
        for slot in slots:
            reserved.append({"rect": [slot["x"], slot["y"], hx + 0.08, hy + 0.08, slot["rotation"]], "support": slot.get("support")})

    def _around_slots(self, scene: SceneSpec, table: ObjectSpec, chair: ObjectSpec) -> list[dict[str, Any]]:
        """Places for chairs around a table, the far side first (chairs on the near side hide the table)."""
        hx, hy = table.half_extents[0], table.half_extents[1]
        reach = chair.half_extents[1] + 0.06
        local: list[tuple[float, float]] = []
        if table.params.get("shape") == "round":
            for a in (90, 30, 150, 210, 330):
                rr = hx + reach
                local.append((rr * math.cos(math.radians(a)), rr * math.sin(math.radians(a))))
        else:
            xs = (-hx / 2, hx / 2) if hx * 2 >= 1.3 else (0.0,)
            local += [(x, hy + reach) for x in xs]
            local += [(-hx - reach, 0.0), (hx + reach, 0.0)]
            local += [(x, -hy - reach) for x in xs]
        t = math.radians(table.rotation)
        out = []
        cx, cy, _ = scene.camera.location
        for u, v in local:
            x = table.x + u * math.cos(t) - v * math.sin(t)
            y = table.y + u * math.sin(t) + v * math.cos(t)
            facing = math.degrees(math.atan2(table.x - x, -(table.y - y)))
            out.append({"x": round(x, 4), "y": round(y, 4), "z0": 0.0, "rotation": round(facing % 360, 3), "placement": "floor",
                        "support": None, "surface": None, "dist": math.hypot(x - cx, y - cy)})
        out.sort(key=lambda s: -s.pop("dist"))
        return out

    def _row_slots(self, scene: SceneSpec, shelf: ObjectSpec, item: ObjectSpec, rng: random.Random,
                   at: str = "front") -> list[dict[str, Any]]:
        """Places side by side along one surface of the holder (a shelf board, a seat, a desk), from its left end."""
        fam = family_of(shelf)
        boards = [s for s in fam.surfaces(shelf.params) if s.clear >= 2 * item.half_extents[2] + 0.01
                  and not (s.name == "top" and shelf.family == "shelf")]
        if not boards:
            return []
        board = rng.choice(boards)
        rect, z, _ = surface_world(shelf, board, float(shelf.params.get("scale", 1.0)))
        step = 2 * item.half_extents[0] + (0.004 if item.family == "book" else 0.03)
        n = int((rect.hx * 2 * (0.7 if item.family == "book" else 1.0)) // step)
        out = []
        for i in range(n):
            u = -rect.hx + item.half_extents[0] + 0.01 + i * step
            v = rect.hy - item.half_extents[1] - 0.005 if at == "back" else -rect.hy + item.half_extents[1] + 0.005
            x, y = rect.to_world(u, v)
            out.append({"x": round(x, 4), "y": round(y, 4), "z0": round(z, 5), "rotation": shelf.rotation, "placement": "surface",
                        "support": shelf.uid, "surface": board.name})
        return out
