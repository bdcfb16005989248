"""The outdoor kit: streets, plazas, parks and parking lots under the sun and a physical sky.

The ground is a set of zones (road, parking lane or bays, pavements with kerbs, grass, the frontage
where the buildings stand), each taking the families that belong there. The camera stands at eye
height on the near side, looking across at the far pavement and the facades; what changes stands
there. Counting groups are rows: parked cars, street trees, bollards.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from generators.synthetic.families import make_object, r, refresh_extents
from generators.synthetic.kits.base import SceneKit, instance_rng
from generators.synthetic.kits.indoor import KIT_CHANGE_TYPES, _spherical
from generators.synthetic.kits.relight import outdoor_relight
from generators.synthetic.layout import Rect, zone_rect, zones
from generators.synthetic.lighting import daylight_kelvin, kelvin_to_rgb, sun_for
from generators.synthetic.sampling import SamplingError
from generators.synthetic.spec import CameraSpec, LightSpec, ObjectSpec, SceneSpec, ShellSpec, WorldSpec, look

DATA = json.loads(Path(__file__).with_name("outdoor.json").read_text(encoding="utf-8"))
VEHICLES = ["car", "van", "bus"]
STREET_THINGS = ["bench", "bin", "street_lamp", "hydrant", "street_sign", "mailbox", "bicycle", "planter", "traffic_light",
                 "bollard", "kiosk", "bush", "tree", "traffic_cone", "table", "chair", "box"]
KERB = 0.12  # pavements stand this high above the road


def _zone(name: str, x0: float, y0: float, x1: float, y1: float, z: float, kinds: list[str]) -> dict[str, Any]:
    return {"name": name, "x0": round(x0, 3), "y0": round(y0, 3), "x1": round(x1, 3), "y1": round(y1, 3), "z": z,
            "kinds": kinds}


class OutdoorKit(SceneKit):
    name = "outdoor"
    scene_word = "street"
    change_types = KIT_CHANGE_TYPES
    camera_swing = (7.0, 12.0)
    min_visible_objects = 7

    def recipe(self, scene: SceneSpec) -> dict[str, Any]:
        return DATA["scenes"][scene.shell.params["type"]]

    def sample_scene(self, rng: random.Random, aspect: float) -> SceneSpec:
        kind = rng.choice(sorted(DATA["scenes"]))
        shell, camera = getattr(self, f"_{kind}")(rng)
        dusk = False  # a scene starts in daylight; dusk (street lamps on) comes as an illumination change
        hour = r(rng, 8.5, 16.5, 2)
        elevation, azimuth = sun_for(hour, rng.uniform(250, 290))  # the sun behind the camera lights the facades
        world = WorldSpec(sky="physical", sun_elevation=elevation, sun_azimuth=azimuth, sky_strength=0.3 if dusk else 0.9,
                          time_of_day=hour, exposure=2.2 if dusk else -0.2, white_balance=6000.0,
                          ground_rgb=(110, 110, 110))
        scene = SceneSpec([], camera, [], world, shell, "outdoor")
        cx, cy, _ = camera.location
        shell.params["keepouts"].append([round(cx, 3), round(cy, 3), 1.0, 1.0, 0.0])
        self._populate(scene, DATA["scenes"][kind], rng, aspect)
        for o in scene.objects:
            if o.family == "street_lamp":
                o.params["on"] = dusk
        scene.lights = [LightSpec("sun", azimuth, elevation, 0.0, round(4.5 * max(0.0, math.sin(math.radians(elevation))) ** 0.5, 3),
                                  1.0, kelvin_to_rgb(daylight_kelvin(elevation)), kind="SUN", on=elevation > 0)]
        return scene

    # -- shells ----------------------------------------------------------------------------
    @staticmethod
    def _looks(rng: random.Random) -> dict[str, dict[str, Any]]:
        fin = DATA["finishes"]
        return {"paving": look("grey", rng.choice(fin["pavement"]), "paving"),
                "asphalt": look("dark grey", rng.choice(fin["asphalt"]), "asphalt"),
                "grass": look("green", rng.choice(fin["grass"]), "grass"),
                "marking": look("white", fin["marking"], "road paint")}

    @staticmethod
    def _camera(rng: random.Random, y: tuple[float, float], target_y: tuple[float, float], lens: tuple[float, float],
                z: float = 0.0, along: tuple[float, float] = (0.0, 2.5)) -> CameraSpec:
        """At eye height on the near side; ``along``: how far the view looks along the street (x)."""
        location = (r(rng, -3.0, 3.0), r(rng, *y), round(z + r(rng, 1.5, 1.75), 3))
        target = (round(location[0] + rng.choice((-1, 1)) * r(rng, *along), 3), r(rng, *target_y), round(z + r(rng, 1.2, 1.9), 3))
        az, el, dist = _spherical(location, target)
        return CameraSpec(az, el, dist, lens=r(rng, *lens, 2), target=target)

    def _street(self, rng: random.Random) -> tuple[ShellSpec, CameraSpec]:
        lk = self._looks(rng)
        half, pave, near = r(rng, 3.2, 3.8), r(rng, 4.2, 5.4), r(rng, 3.0, 4.0)
        back = half + pave
        zs = [_zone("road", -40, -half, 40, half - 2.3, 0.0, VEHICLES + ["traffic_cone"]),
              _zone("parking", -40, half - 2.3, 40, half, 0.0, VEHICLES + ["traffic_cone"]),
              _zone("far", -40, half, 40, back, KERB, STREET_THINGS),
              _zone("near", -40, -half - near, 40, -half, KERB, ["bin", "street_lamp", "bollard", "street_sign"]),
              _zone("frontage", -40, back, 40, back + 14, KERB, ["building"])]
        surfaces = [{"x0": -40, "y0": -half, "x1": 40, "y1": half, "z": 0.0, "look": lk["asphalt"]},
                    {"x0": -40, "y0": half, "x1": 40, "y1": back + 14, "z": KERB, "look": lk["paving"], "kerb": [half]},
                    {"x0": -40, "y0": -half - near, "x1": 40, "y1": -half, "z": KERB, "look": lk["paving"], "kerb": [-half]}]
        marks = [{"x0": x, "y0": -0.06, "x1": x + 3.0, "y1": 0.06, "z": 0.0, "look": lk["marking"]} for x in range(-40, 40, 6)]
        marks.append({"x0": -40, "y0": half - 2.36, "x1": 40, "y1": half - 2.26, "z": 0.0, "look": lk["marking"]})
        zx = r(rng, -4.0, 4.0)
        marks += [{"x0": round(zx + k * 0.8, 3), "y0": -half + 0.3, "x1": round(zx + k * 0.8 + 0.45, 3), "y1": half - 2.5,
                   "z": 0.0, "look": lk["marking"]} for k in range(5)] if rng.random() < 0.4 else []
        params = {"type": "street", "seed": rng.getrandbits(62), "zones": zs, "surfaces": surfaces, "markings": marks,
                  "land": lk["grass"], "keepouts": [], "frontage": back, "rows": {"parking": half - 1.15, "far": half + pave / 2},
                  "camera_zone": "near"}
        return ShellSpec("street", params), self._camera(rng, (-half - near + 0.6, -half - 0.9), (half + 1.0, half + 2.8),
                                                        (26.0, 30.0), KERB, along=(3.5, 7.0))

    def _plaza(self, rng: random.Random) -> tuple[ShellSpec, CameraSpec]:
        lk = self._looks(rng)
        back = r(rng, 10.0, 12.5)
        zs = [_zone("far", -22, -1.5, 22, min(back, 6.5), 0.0, STREET_THINGS),
              _zone("square", -22, min(back, 6.5), 22, back, 0.0, ["tree", "bollard", "street_lamp", "kiosk", "bench"]),
              _zone("near", -22, -8, 22, -1.5, 0.0, ["bin", "street_lamp", "bollard"]),
              _zone("frontage", -40, back, 40, back + 14, 0.0, ["building"])]
        surfaces = [{"x0": -40, "y0": -12, "x1": 40, "y1": back + 14, "z": 0.0, "look": lk["paving"]}]
        params = {"type": "plaza", "seed": rng.getrandbits(62), "zones": zs, "surfaces": surfaces, "markings": [],
                  "land": lk["paving"], "keepouts": [], "frontage": back, "rows": {"far": r(rng, 1.5, 3.5)}, "camera_zone": "near"}
        return ShellSpec("street", params), self._camera(rng, (-4.5, -3.0), (3.0, 5.5), (27.0, 31.0))

    def _park(self, rng: random.Random) -> tuple[ShellSpec, CameraSpec]:
        lk = self._looks(rng)
        zs = [_zone("far", -25, 1.2, 25, 16, 0.0, STREET_THINGS),
              _zone("path", -25, -1.0, 25, 1.2, 0.0, ["bench", "bin", "street_lamp", "bicycle", "traffic_cone"]),
              _zone("near", -25, -6, 25, -1.0, 0.0, ["bush", "tree", "bin"])]
        surfaces = [{"x0": -40, "y0": -1.0, "x1": 40, "y1": 1.2, "z": 0.003, "look": lk["paving"]}]
        blocks = [{"x0": x, "y0": r(rng, 30, 38), "x1": x + r(rng, 8, 14), "y1": 48, "h": r(rng, 7, 16), "face": -1,
                   "windows": True,
                   "look": look("beige", rng.choice([[188, 170, 150], [170, 160, 156], [200, 190, 170], [176, 120, 100]]), "plaster")}
                  for x in range(-45, 45, 16)]
        trees = [{"x": round(x + rng.uniform(-3, 3), 2), "y": r(rng, 20, 27), "z": 0.0, "h": r(rng, 6, 10), "r": r(rng, 2.0, 3.2),
                  "seed": rng.randrange(10 ** 6), "look": look("green", rng.choice([[70, 110, 50], [50, 90, 40], [95, 120, 55]]), "foliage")}
                 for x in range(-40, 40, 7)]
        params = {"type": "park", "seed": rng.getrandbits(62), "zones": zs, "surfaces": surfaces, "markings": [],
                  "land": lk["grass"], "keepouts": [], "blocks": blocks, "trees": trees, "rows": {"far": r(rng, 8.0, 10.5)}, "camera_zone": "path"}
        return ShellSpec("street", params), self._camera(rng, (-0.6, 0.6), (5.0, 7.0), (27.0, 31.0))

    def _parking_lot(self, rng: random.Random) -> tuple[ShellSpec, CameraSpec]:
        lk = self._looks(rng)
        bay0, bay1, back = 3.8, 9.0, 11.5
        zs = [_zone("lot", -30, -4, 30, bay0, 0.0, ["traffic_cone", "car", "van"]),
              _zone("bays", -30, bay0, 30, bay1, 0.0, ["car", "van"]),
              _zone("far", -30, bay1 + 0.3, 30, back, KERB, STREET_THINGS),
              _zone("frontage", -40, back, 40, back + 14, KERB, ["building"])]
        surfaces = [{"x0": -40, "y0": -12, "x1": 40, "y1": bay1 + 0.3, "z": 0.0, "look": lk["asphalt"]},
                    {"x0": -40, "y0": bay1 + 0.3, "x1": 40, "y1": back + 14, "z": KERB, "look": lk["paving"], "kerb": [bay1 + 0.3]}]
        pitch = 2.7
        marks = [{"x0": round(-30 + k * pitch - 0.05, 3), "y0": bay0 + 0.3, "x1": round(-30 + k * pitch + 0.05, 3), "y1": bay1,
                  "z": 0.0, "look": lk["marking"]} for k in range(23)]
        params = {"type": "parking_lot", "seed": rng.getrandbits(62), "zones": zs, "surfaces": surfaces, "markings": marks,
                  "land": lk["asphalt"], "keepouts": [], "frontage": back, "rows": {"bays": (bay0 + bay1) / 2},
                  "bay_pitch": pitch, "camera_zone": "lot"}
        return ShellSpec("street", params), self._camera(rng, (-3.0, -1.5), (5.0, 7.5), (27.0, 31.0))

    # -- population ------------------------------------------------------------------------
    def _populate(self, scene: SceneSpec, recipe: dict[str, Any], rng: random.Random, aspect: float) -> None:
        if "frontage" in scene.shell.params:
            self._buildings(scene, rng)
        for row in recipe["rows"]:
            self._row(scene, row, rng, aspect)
        for name, (lo, hi) in sorted(recipe["far"]["families"].items()):
            for _ in range(rng.randint(lo, hi)):
                obj = self._new(scene, name)
                if not self.place_on_floor(scene, obj, rng, aspect):
                    scene.objects.remove(obj)
                elif name in ("table",):
                    self._group(scene, obj, {"kind": "around", "family": "chair", "count": [1, 3]}, rng, aspect)
        for name, (lo, hi) in sorted(recipe.get("road", {}).get("families", {}).items()):
            for _ in range(rng.randint(lo, hi)):
                obj = self._new(scene, name)
                if not self.place_on_floor(scene, obj, rng, aspect):
                    scene.objects.remove(obj)
        movers = recipe.get("movers")
        if movers:
            for _ in range(rng.randint(*movers["count"])):
                self._mover(scene, rng.choice(movers["families"]), rng, aspect)
        holders = [o for o in scene.objects if o.family in ("bench", "kiosk", "table")]
        items = recipe.get("surface_items", {})
        for _ in range(rng.randint(*items.get("count", [0, 0])) if holders else 0):
            holder = rng.choice(holders)
            obj = self._new(scene, rng.choice(items["families"]), placement="surface")
            if obj.family == "box":  # parcels and crates: things that show at street distances
                obj.params["scale"] = round(rng.uniform(1.5, 1.9), 3)
                refresh_extents(obj)
            surfaces = [s.name for s in self.surfaces_of(holder)]
            if not any(self.place_on_surface(scene, obj, holder, s, rng, aspect) for s in surfaces):
                scene.objects.remove(obj)
        if sum(1 for o in scene.objects if self.in_view(scene, o, aspect)) < self.min_visible_objects:
            raise SamplingError(f"the {scene.shell.params['type']} has too few things in view")

    @staticmethod
    def surfaces_of(obj: ObjectSpec) -> list:
        from generators.synthetic.families import surfaces_of

        return surfaces_of(obj)

    def _buildings(self, scene: SceneSpec, rng: random.Random) -> None:
        front = scene.shell.params["frontage"]
        z = zones(scene)["frontage"]["z"]
        x = -32.0 + rng.uniform(0, 4)
        while x < 32.0:
            obj = self._new(scene, "building")
            w = 2 * obj.half_extents[0]
            obj.x, obj.y, obj.z0, obj.rotation = round(x + w / 2, 3), round(front + obj.half_extents[1] + 0.02, 3), z, 0.0
            if self.fits(scene, obj) is not None:
                scene.objects.remove(obj)
            x += w + rng.choice([0.06, 0.1, 0.6])

    def _row(self, scene: SceneSpec, row: dict[str, Any], rng: random.Random, aspect: float) -> None:
        """A counting group laid out along x: parked cars, street trees, bollards."""
        p = scene.shell.params
        zone = zones(scene)[row["zone"]]
        y = p["rows"][row["zone"]]
        template = make_object(row["family"], 0, instance_rng(scene, 0, f"row-{row['family']}"))
        if row["family"] == "car":
            spacing = 2 * template.half_extents[1] + 1.4 if row["zone"] != "bays" else p["bay_pitch"]
            rotation = 90.0 if row["zone"] != "bays" else rng.choice((0.0, 180.0))
            offset = -30 + p["bay_pitch"] / 2 if row["zone"] == "bays" else rng.uniform(-3, 3)
        else:
            spacing = {"tree": rng.uniform(6.5, 8.0), "bollard": rng.uniform(1.4, 1.9)}.get(row["family"], 3.0)
            rotation, offset = 0.0, rng.uniform(-spacing / 2, spacing / 2)
        cx = scene.camera.location[0]
        slots = []
        k0 = math.ceil((cx - 16 - offset) / spacing)
        for k in range(k0, k0 + int(32 / spacing) + 1):
            x = offset + k * spacing
            slots.append({"x": round(x, 3), "y": round(y, 3), "z0": zone["z"], "rotation": rotation, "placement": "floor",
                          "support": None, "surface": None})
        probe = make_object(row["family"], 0, instance_rng(scene, 0, "probe"), params=template.params)
        probe.rotation = rotation
        in_view = []
        for slot in slots:
            probe.x, probe.y, probe.z0 = slot["x"], slot["y"], slot["z0"]
            if self.in_view(scene, probe, aspect):
                in_view.append(slot)
        if len(in_view) < 2:
            return
        gid = f"{row['family']}s-row-{row['zone']}"
        scene.groups[gid] = {"family": row["family"], "kind": "row", "slots": in_view, "same": row.get("same", True)}
        k = min(rng.randint(*row["count"]), len(in_view) - 1)
        start = rng.randint(0, len(in_view) - k)
        self.reserve(scene, in_view[:start] + in_view[start + k:], template)
        for slot in in_view[start:start + k]:
            obj = self._new(scene, row["family"], params=template.params if row.get("same", True) else None,
                            looks=template.parts if row.get("same", True) else None)
            if row["family"] == "car" and row.get("same") is False and 2 * obj.half_extents[1] > spacing - 0.6:
                obj.params = dict(template.params)
                obj.half_extents = template.half_extents
            obj.group = gid
            obj.x, obj.y, obj.z0, obj.rotation = slot["x"], slot["y"], slot["z0"], slot["rotation"]
            if self.fits(scene, obj) is not None:
                scene.objects.remove(obj)

    def _mover(self, scene: SceneSpec, family: str, rng: random.Random, aspect: float) -> None:
        """A vehicle in the driving lane."""
        road = zones(scene).get("road")
        if road is None:
            return
        obj = self._new(scene, family)
        obj.rotation = rng.choice((90.0, 270.0))
        tx = scene.camera.target[0]
        for _ in range(20):  # in the far lane and off to one side, so that it does not hide the far pavement
            obj.x = round(tx + rng.choice((-1, 1)) * rng.uniform(4.5, 10.0), 3)
            obj.y = round(road["y1"] - obj.half_extents[0] - 0.3 - rng.uniform(0, 0.4), 3)
            obj.z0 = 0.0
            if self.in_view(scene, obj, aspect, 0.0) and self.fits(scene, obj) is None:
                return
        scene.objects.remove(obj)

    def floor_rotation(self, scene: SceneSpec, obj: ObjectSpec, zone: dict[str, Any], rng: random.Random) -> float:
        if obj.family in VEHICLES:
            return rng.choice((0.0, 180.0)) if zone["name"] in ("bays", "lot") else rng.choice((90.0, 270.0))
        return super().floor_rotation(scene, obj, zone, rng)

    def camera_region_ok(self, scene: SceneSpec) -> str | None:
        x, y, z = scene.camera.location
        near = zones(scene).get(scene.shell.params.get("camera_zone", ""))
        if near is not None and not zone_rect(near).contains(Rect(x, y, 0.2, 0.2)):
            return "the camera would leave the pavement"
        return None

    def relight(self, scene: SceneSpec, rng: random.Random, ctx: Any) -> dict[str, Any] | None:
        return outdoor_relight(scene, rng, ctx)
