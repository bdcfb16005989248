"""The indoor kit: living rooms, kitchens, offices, bedrooms and shops.

A room is a box of walls with window and door openings (window sills are support surfaces), lit by
daylight through the windows (sun, physical sky, light portals), ceiling lights and the lamps in it.
The camera stands in the room at eye height and frames the far wall, where the anchors of the room's
recipe stand (``indoor.json``): furniture against walls, a table in the middle, things on every
surface, pictures on the walls, a counting group (chairs around the table, books on a shelf).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from generators.synthetic.families import family_of, r, rgb_of
from generators.synthetic.kits.base import SceneKit
from generators.synthetic.layout import facing_wall, on_wall_position, wall_coordinate, wall_frame, wall_spans, walls
from generators.synthetic.kits.relight import indoor_relight
from generators.synthetic.lighting import daylight_kelvin, kelvin_to_rgb, sun_for
from generators.synthetic.sampling import SamplingError
from generators.synthetic.spec import CameraSpec, LightSpec, ObjectSpec, SceneSpec, ShellSpec, WorldSpec, look

DATA = json.loads(Path(__file__).with_name("indoor.json").read_text(encoding="utf-8"))
KIT_CHANGE_TYPES = ("viewpoint", "illumination", "addition", "disappearance", "removal", "substitution", "size",
                    "color", "orientation", "counting", "text", "movement", "material")
WALL_NAMES = ("north", "east", "south", "west")


def _spherical(location: tuple[float, float, float], target: tuple[float, float, float]) -> tuple[float, float, float]:
    dx, dy, dz = (location[i] - target[i] for i in range(3))
    dist = math.sqrt(dx * dx + dy * dy + dz * dz)
    return round(math.degrees(math.atan2(dy, dx)), 4), round(math.degrees(math.asin(dz / dist)), 4), round(dist, 4)


class IndoorKit(SceneKit):
    name = "indoor"
    scene_word = "room"
    change_types = KIT_CHANGE_TYPES
    camera_swing = (8.0, 13.0)

    def recipe(self, scene: SceneSpec) -> dict[str, Any]:
        return DATA["rooms"][scene.shell.params["type"]]

    # -- the room --------------------------------------------------------------------------
    def sample_scene(self, rng: random.Random, aspect: float) -> SceneSpec:
        kind = rng.choice(sorted(DATA["rooms"]))
        shell = self._shell(rng, kind)
        camera = self._camera(rng, shell.params)
        hour = r(rng, 8.0, 17.5, 2) if rng.random() < 0.8 else r(rng, 18.6, 20.4, 2)
        elevation, azimuth = sun_for(hour, rng.uniform(0, 360))
        world = WorldSpec(sky="physical", sun_elevation=elevation, sun_azimuth=azimuth, sky_strength=0.6,
                          time_of_day=hour, exposure=1.35 if hour < 18 else 1.5, ground_rgb=(120, 120, 120),
                          white_balance=5600.0 if hour < 18 else 4300.0)
        scene = SceneSpec([], camera, [], world, shell, "indoor")
        cx, cy, _ = camera.location
        shell.params["keepouts"].append([round(cx, 4), round(cy, 4), 0.45, 0.45, 0.0])
        self._furnish(scene, rng, DATA["rooms"][kind], aspect)
        scene.lights = self._lights(scene, rng)
        return scene

    def _shell(self, rng: random.Random, kind: str) -> ShellSpec:
        fin = DATA["finishes"]
        w, d, h = r(rng, 4.6, 6.2, 2), r(rng, 5.2, 6.6, 2), r(rng, 2.65, 3.0, 2)
        corners = {"north": ((-w / 2, d / 2), (w / 2, d / 2), (0, -1)), "east": ((w / 2, d / 2), (w / 2, -d / 2), (-1, 0)),
                   "south": ((w / 2, -d / 2), (-w / 2, -d / 2), (0, 1)), "west": ((-w / 2, -d / 2), (-w / 2, d / 2), (1, 0))}
        wall_colour = rng.choice(fin["walls"])
        plaster = look(wall_colour, rgb_of(wall_colour), "plaster")
        wall_specs = []
        for name in WALL_NAMES:
            a, b, n = corners[name]
            wall_specs.append({"name": name, "a": [round(a[0], 4), round(a[1], 4)], "b": [round(b[0], 4), round(b[1], 4)],
                               "normal": list(n), "height": h, "openings": [], "look": plaster})
        byname = {wl["name"]: wl for wl in wall_specs}
        if rng.random() < 0.2:
            material, colours = rng.choice(fin["feature_walls"])
            colour = rng.choice(colours)
            byname["north"]["look"] = look(colour, rgb_of(colour), material)
        # windows: the far wall and/or one side wall, on the half of the room the camera sees
        sills = []
        places = []
        if rng.random() < 0.55:
            places.append("north")
        if rng.random() < 0.75 or not places:
            places.append(rng.choice(("east", "west")))
        for name in places:
            wall = byname[name]
            length = d if name in ("east", "west") else w
            width = min(r(rng, 1.0, 1.7), length - 1.4)
            if name == "north":
                s0 = r(rng, 0.5, length - 0.5 - width)
            elif name == "east":
                s0 = r(rng, 0.5, max(0.5, length / 2 - width))
            else:
                s0 = r(rng, length / 2, length - 0.5 - width)
            z0 = r(rng, 1.05, 1.15) if (kind in ("kitchen", "shop") and name == "north") else r(rng, 0.85, 1.0)
            z1 = round(min(h - 0.3, z0 + r(rng, 1.1, 1.35)), 3)
            wall["openings"].append({"kind": "window", "s0": s0, "s1": round(s0 + width, 3), "z0": z0, "z1": z1})
            mid = s0 + width / 2
            cxy = on_wall_position(wall, mid, 0.065)
            sills.append({"name": f"sill-{name}", "rect": [round(cxy[0], 4), round(cxy[1], 4), round(width / 2 - 0.03, 4),
                                                           0.11, facing_wall(wall)], "z": z0, "clear": round(z1 - z0 - 0.12, 3)})
        keepouts = []
        door_wall = "south" if rng.random() < 0.4 else rng.choice([n for n in ("east", "west") if n not in places] or ["south"])
        wall = byname[door_wall]
        length = w if door_wall == "south" else d
        if door_wall == "east":
            s0 = r(rng, length / 2 + 0.3, length - 1.3)
        elif door_wall == "west":
            s0 = r(rng, 0.4, length / 2 - 1.2)
        else:
            s0 = r(rng, 0.4, length - 1.3)
        wall["openings"].append({"kind": "door", "s0": s0, "s1": round(s0 + 0.9, 3), "z0": 0.0, "z1": 2.1})
        kx, ky = on_wall_position(wall, s0 + 0.45, 0.55)
        keepouts.append([round(kx, 4), round(ky, 4), 0.6, 0.55, facing_wall(wall)])
        floor_kind, floor_colours = rng.choice(fin["floors"])
        floor_colour = rng.choice(floor_colours)
        trim_colour = rng.choice(fin["trim"])
        ground_kind, ground_rgb = rng.choice(fin["outside_ground"])
        params = {
            "type": kind, "seed": rng.getrandbits(62), "width": w, "depth": d, "height": h, "walls": wall_specs,
            "zones": [{"name": "floor", "x0": round(-w / 2, 4), "y0": round(-d / 2, 4), "x1": round(w / 2, 4),
                       "y1": round(d / 2, 4), "z": 0.0}],
            "sills": sills, "keepouts": keepouts,
            "floor": look(floor_colour, rgb_of(floor_colour), floor_kind),
            "ceiling": look("white", rgb_of("white"), "plaster"),
            "trim": look(trim_colour, rgb_of(trim_colour), "painted"),
            "skirting": look(trim_colour, rgb_of(trim_colour), "painted"),
            "door": look("light brown", rgb_of("light brown"), "wood") if rng.random() < 0.5 else look("white", rgb_of("white"), "painted"),
            "outside": self._outside(rng, w, d, ground_kind, ground_rgb),
        }
        return ShellSpec("room", params)

    def _outside(self, rng: random.Random, w: float, d: float, ground_kind: str, ground_rgb: list[int]) -> dict[str, Any]:
        drop = rng.choice([0.0, 0.0, 3.2, 6.4])
        blocks, trees = [], []
        for side in ("north", "east", "west"):
            for k in range(rng.randint(1, 3)):
                dist, size, height = rng.uniform(9, 22), rng.uniform(6, 14), rng.uniform(6, 18)
                along = rng.uniform(-12, 12)
                if side == "north":
                    x0, y0 = along - size / 2, d / 2 + dist
                    box = (x0, y0, x0 + size, y0 + rng.uniform(6, 10), -1)
                else:
                    sx = 1 if side == "east" else -1
                    x0 = sx * (w / 2 + dist)
                    y0 = along - size / 2
                    box = (min(x0, x0 + sx * 8), y0, max(x0, x0 + sx * 8), y0 + size, -1)
                rgb = rng.choice(DATA["finishes"]["outside_blocks"])
                blocks.append({"x0": round(box[0], 3), "y0": round(box[1], 3), "x1": round(box[2], 3), "y1": round(box[3], 3),
                               "h": round(height + drop, 3), "face": box[4], "windows": rng.random() < 0.7,
                               "look": look("beige", rgb, "plaster")})
            for k in range(rng.randint(0, 2)):
                ang = {"north": 90, "east": 0, "west": 180}[side] + rng.uniform(-35, 35)
                dist = rng.uniform(5, 9) + (d / 2 if side == "north" else w / 2)
                trees.append({"x": round(dist * math.cos(math.radians(ang)), 3), "y": round(dist * math.sin(math.radians(ang)), 3),
                              "h": round(rng.uniform(4, 8) + drop * 0.5, 3), "r": round(rng.uniform(1.5, 2.5), 3),
                              "seed": rng.randrange(10 ** 6), "look": look("green", rng.choice([[70, 110, 50], [50, 90, 40], [95, 120, 55]]), "foliage")})
        return {"drop": drop, "ground": look("green", ground_rgb, ground_kind), "blocks": blocks, "trees": trees}

    def _camera(self, rng: random.Random, p: dict[str, Any]) -> CameraSpec:
        w, d = p["width"], p["depth"]
        side = rng.choice((-1, 1))  # a photographer's diagonal view: from one side towards the other
        location = (round(side * r(rng, 0.08, 0.26) * w, 3), round(max(-d / 2 + 0.45, d / 2 - r(rng, 3.9, 4.5)), 3),
                    r(rng, 1.45, 1.7))
        target = (round(-side * r(rng, 0.0, 0.1) * w, 3), round(d / 2 - r(rng, 1.2, 1.6), 3), r(rng, 0.72, 0.9))
        az, el, dist = _spherical(location, target)
        return CameraSpec(az, el, dist, lens=r(rng, 27.0, 31.0, 2), target=target)

    def camera_region_ok(self, scene: SceneSpec) -> str | None:
        p = scene.shell.params
        x, y, z = scene.camera.location
        if abs(x) > p["width"] / 2 - 0.3 or abs(y) > p["depth"] / 2 - 0.3 or not 0.6 < z < p["height"] - 0.3:
            return "the camera would leave the room"
        return None

    # -- furnishing ------------------------------------------------------------------------
    def _furnish(self, scene: SceneSpec, rng: random.Random, recipe: dict[str, Any], aspect: float) -> None:
        placed: dict[str, ObjectSpec] = {}
        for i, spec in enumerate(recipe["anchors"]):
            if rng.random() >= spec.get("prob", 1.0):
                continue
            obj = self._new(scene, spec["family"])
            if not self._place_anchor(scene, obj, spec, placed, rng, aspect):
                scene.objects.remove(obj)
                if i == 0:
                    raise SamplingError(f"no place for the {obj.noun} of the {scene.shell.params['type']}")
                continue
            placed[spec["id"]] = obj
            if "group" in spec:
                self._group(scene, obj, spec["group"], rng, aspect)
            if "items" in spec:
                self._items(scene, obj, spec["items"], rng, aspect, spec.get("first_item"))
        extras = recipe.get("extras", {"families": [], "count": [0, 0]})
        for _ in range(rng.randint(*extras["count"])):
            name = rng.choice(extras["families"])
            obj = self._new(scene, name, placement="floor")
            if not self._place_anchor(scene, obj, {"free": True}, placed, rng, aspect):
                scene.objects.remove(obj)
        self._wall_items(scene, recipe["wall_items"], rng, aspect)
        sills = sorted(scene.shell.params["sills"], key=lambda s: s["name"])
        for _ in range(rng.randint(*recipe["sill_items"]["count"]) if sills else 0):
            obj = self._new(scene, rng.choice(recipe["sill_items"]["families"]), placement="surface")
            sill = rng.choice(sills)
            if not self.place_on_surface(scene, obj, None, sill["name"], rng, aspect):
                scene.objects.remove(obj)

    def _place_anchor(self, scene: SceneSpec, obj: ObjectSpec, spec: dict[str, Any], placed: dict[str, ObjectSpec],
                      rng: random.Random, aspect: float) -> bool:
        p = scene.shell.params
        for attempt in range(30):
            view = aspect if attempt < 20 else None
            if "wall" in spec:
                name = spec["wall"][0] if attempt < 8 and len(spec["wall"]) == 1 else rng.choice(spec["wall"])
                wall = walls(scene)[name]
                spans = [s for s in wall_spans(wall, 0.0, 2 * obj.half_extents[2], 0.08) if s[1] - s[0] >= 2 * obj.half_extents[0]]
                if not spans:
                    continue
                a, b = rng.choice(spans)
                lo, hi = a + obj.half_extents[0], b - obj.half_extents[0]
                _, _, _, length = wall_frame(wall)
                if spec.get("near") == "north" and name in ("east", "west"):
                    lo, hi = (lo, min(hi, length * 0.55)) if name == "east" else (max(lo, length * 0.45), hi)
                if hi < lo:
                    continue
                self.against_wall(scene, obj, name, rng.uniform(lo, hi), 0.03)
                if spec.get("turn"):
                    self._angle_out(scene, obj, spec["turn"])
            elif "front_of" in spec or "beside" in spec:
                anchor = placed.get(spec.get("front_of") or spec.get("beside"))
                if anchor is None:
                    return False
                if "front_of" in spec:
                    t = math.radians(anchor.rotation)
                    gap = rng.uniform(*spec.get("gap", [0.3, 0.5]))
                    off = anchor.half_extents[1] + gap + obj.half_extents[1]
                    obj.x, obj.y = round(anchor.x + off * math.sin(t), 4), round(anchor.y - off * math.cos(t), 4)
                    obj.rotation = round((anchor.rotation + (180.0 if spec.get("face") == "toward" else 0.0)) % 360, 3)
                    obj.z0 = 0.0
                    obj.params.pop("against", None)
                else:
                    side = spec.get("side") or rng.choice((-1, 1))
                    side = side if attempt % 2 == 0 else -side
                    wall_name = anchor.params.get("against")
                    if wall_name is None:
                        return False
                    s, _ = wall_coordinate(walls(scene)[wall_name], anchor.x, anchor.y)
                    self.against_wall(scene, obj, wall_name, s + side * (anchor.half_extents[0] + 0.06 + obj.half_extents[0]), 0.03)
            elif spec.get("free"):
                return self.place_on_floor(scene, obj, rng, view)
            elif spec.get("corner"):
                wall = walls(scene)["north"]
                _, _, _, length = wall_frame(wall)
                end = rng.choice((0, 1))
                s = obj.half_extents[0] + 0.12 if end == 0 else length - obj.half_extents[0] - 0.12
                self.against_wall(scene, obj, "north", s, 0.1)
            else:  # in the middle of the room, between the camera and the far wall
                w, d = p["width"], p["depth"]
                _, cy, _ = scene.camera.location
                obj.rotation = round((rng.choice((0.0, 90.0)) + rng.uniform(-6, 6)) % 360, 3)
                obj.x = r(rng, -w / 2 + 1.0, w / 2 - 1.0)
                obj.y = r(rng, min(cy + 1.6, d / 2 - 1.3), d / 2 - 1.3)
                obj.z0 = 0.0
                obj.params.pop("against", None)
            if view is not None and not self.in_view(scene, obj, view, 0.02):
                continue
            if self.fits(scene, obj) is None:
                return True
        return False

    def _angle_out(self, scene: SceneSpec, obj: ObjectSpec, degrees: float) -> None:
        """Turn an armchair towards the room's centre and pull it off the wall so its corners stay clear."""
        wall = walls(scene)[obj.params["against"]]
        s, _ = wall_coordinate(wall, obj.x, obj.y)
        _, _, _, length = wall_frame(wall)
        toward = -1 if s > length / 2 else 1
        obj.rotation = round((obj.rotation + toward * degrees) % 360, 3)
        hx, hy = obj.half_extents[0], obj.half_extents[1]
        t = math.radians(degrees)
        reach = abs(hx * math.sin(t)) + abs(hy * math.cos(t))
        obj.x, obj.y = (round(v, 4) for v in on_wall_position(wall, s, reach, 0.05))
        obj.params.pop("against", None)

    def _wall_items(self, scene: SceneSpec, spec: dict[str, Any], rng: random.Random, aspect: float) -> None:
        """Pictures, posters, clocks, wall shelves; the first (a poster: text to read) on the far wall if it fits."""
        for k in range(rng.randint(*spec["count"])):
            name = spec["first"] if k == 0 and spec.get("first") else rng.choice(spec["families"])
            obj = self._new(scene, name, placement="wall")
            heights = (1.6, 1.95) if name == "clock" else ((1.15, 1.45) if name == "wall_shelf" else (1.15, 1.6))
            names = ["north", "east", "west"]
            rng.shuffle(names)
            if k == 0:
                names.remove("north")
                names.insert(0, "north")
            if not any(self.place_on_wall(scene, obj, wall, rng, heights, aspect) for wall in names):
                scene.objects.remove(obj)
                continue
            if name == "wall_shelf":
                self._items(scene, obj, {"families": family_of(obj).holds, "count": [1, 3]}, rng, aspect, None)

    # -- light -----------------------------------------------------------------------------
    def _lights(self, scene: SceneSpec, rng: random.Random) -> list[LightSpec]:
        p, w = scene.shell.params, scene.world
        lights: list[LightSpec] = []
        el, az = w.sun_elevation, w.sun_azimuth
        lights.append(LightSpec("sun", az, el, 0.0, round(4.0 * max(0.0, math.sin(math.radians(el))) ** 0.5, 3), 1.2,
                                kelvin_to_rgb(daylight_kelvin(el)), kind="SUN", on=el > 0))
        for wall in p["walls"]:
            for o in wall["openings"]:
                if o["kind"] != "window":
                    continue
                mid = (o["s0"] + o["s1"]) / 2
                x, y = on_wall_position(wall, mid, 0.02)
                n = wall["normal"]
                zc = (o["z0"] + o["z1"]) / 2
                lights.append(LightSpec(f"window-{wall['name']}", 0.0, 0.0, 0.0, 0.0, round(o["s1"] - o["s0"], 3),
                                        kind="AREA", position=(round(x, 4), round(y, 4), zc),
                                        target=(round(x + n[0], 4), round(y + n[1], 4), zc), size_y=round(o["z1"] - o["z0"], 3),
                                        portal=True))
        evening = (w.time_of_day or 12) >= 18
        kelvin = rng.choice([2700, 3000, 3500, 4000])
        n_ceiling = 2 if p["width"] > 5.4 else 1
        on = evening or rng.random() < 0.85
        for i in range(n_ceiling):
            x = 0.0 if n_ceiling == 1 else (-p["width"] / 4 if i == 0 else p["width"] / 4)
            lights.append(LightSpec(f"ceiling-{i}", 0.0, 0.0, 0.0, r(rng, 240.0, 340.0, 1), 0.6, kelvin_to_rgb(kelvin),
                                    kind="AREA", position=(round(x, 3), round(p["depth"] * 0.12, 3), round(p["height"] - 0.03, 3)),
                                    on=on))
        for o in scene.objects:
            if "on" in o.params and o.family.endswith("lamp"):
                o.params["on"] = evening or rng.random() < 0.6
        return lights

    def relight(self, scene: SceneSpec, rng: random.Random, ctx: Any) -> dict[str, Any] | None:
        return indoor_relight(scene, rng, ctx)
