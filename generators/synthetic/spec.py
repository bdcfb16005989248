"""Scene specs: plain dataclasses that say everything the renderer needs, and no ``bpy``.

A spec is a value: changes copy it, captions read it, the renderer realises it. One spec serves
every setting (tabletop, indoor, outdoor): an object is an instance of a *family* (a seeded
factory, see ``families/``) with JSON-able ``params``, coloured per *part*; the *shell* is the room
or the street around the objects. Heights: ``z0`` is the absolute height of an object's bottom
(the floor, the top of its holder, or its place on a wall). The camera looks at ``target`` from
``azimuth``/``elevation``/``distance``.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

PLACEMENTS = ("floor", "surface", "wall")


def look(color: str, rgb: tuple[int, int, int] | list[int], material: str) -> dict[str, Any]:
    """The look of one part: a colour name, its display sRGB value and a material name."""
    return {"color": color, "rgb": [int(c) for c in rgb], "material": material}


@dataclass
class ObjectSpec:
    uid: int  # stable within a scene; masks and diffs refer to it; every part of the object carries it
    family: str  # registered family name: cube, sphere ... (tabletop), chair, mug, car ... (kits)
    noun: str  # the family's primary noun
    parts: dict[str, dict[str, Any]]  # part -> look(color, rgb, material)
    size: str  # size word: small or large (tabletop), "" for kit objects (their scale is in params)
    half_extents: tuple[float, float, float]  # x (width), y (depth), z (height) half sizes before rotation
    x: float
    y: float
    rotation: float = 0.0  # degrees about the vertical axis
    z0: float = 0.0  # height of the object's bottom in the scene
    support: int | None = None  # uid of the object this one rests on
    surface: str | None = None  # which surface of the holder (or of the shell: a sill, a wall) holds it
    placement: str = "floor"  # floor (or ground), surface, wall
    text: str | None = None  # the string of the object's text slot
    group: str | None = None  # counting group: instances of one kind that are counted together
    params: dict[str, Any] = field(default_factory=dict)  # family parameters: variant, sizes, switches
    main: str = "body"  # the part whose look names the object ("the red chair")

    # -- the main part's look, as the tabletop and the captions read it -------------------
    @property
    def color(self) -> str:
        return self.parts[self.main]["color"]

    @color.setter
    def color(self, value: str) -> None:
        self.parts[self.main]["color"] = value

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(self.parts[self.main]["rgb"])  # type: ignore[return-value]

    @rgb.setter
    def rgb(self, value: tuple[int, int, int]) -> None:
        self.parts[self.main]["rgb"] = [int(c) for c in value]

    @property
    def material(self) -> str:
        return self.parts[self.main]["material"]

    @material.setter
    def material(self, value: str) -> None:
        self.parts[self.main]["material"] = value

    @property
    def shape(self) -> str:
        """Tabletop name of the family (cube, sphere, ... tray, card)."""
        return self.family

    @property
    def z(self) -> float:
        """Height of the centre above the object's own bottom."""
        return self.half_extents[2]

    @property
    def top(self) -> float:
        return self.z0 + 2 * self.half_extents[2]

    @property
    def footprint(self) -> float:
        """Radius of the circle on the ground that the object covers."""
        hx, hy, _ = self.half_extents
        return math.hypot(hx, hy) if self.family in ("cube", "brick", "tray", "card") else max(hx, hy)

    def signature(self) -> str:
        """Everything that changes how the object looks: the renderer rebuilds it when this differs."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class CameraSpec:
    azimuth: float  # degrees, 0 = looking from +x toward the target
    elevation: float  # degrees above the horizontal
    distance: float
    lens: float = 35.0  # mm on a 36 mm wide sensor (horizontal fit)
    target: tuple[float, float, float] = (0.0, 0.0, 0.35)

    @property
    def location(self) -> tuple[float, float, float]:
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        tx, ty, tz = self.target
        return (
            tx + self.distance * math.cos(el) * math.cos(az),
            ty + self.distance * math.cos(el) * math.sin(az),
            tz + self.distance * math.sin(el),
        )


@dataclass
class LightSpec:
    name: str  # key, fill, back (tabletop); sun, ceiling-0, window-0 ... (kits)
    azimuth: float  # where it stands (or, for a sun, where it shines from)
    elevation: float
    distance: float
    energy: float  # watts (area, point, spot), W/m^2 (sun)
    size: float  # metres (area: edge; point/spot: radius); sun: angular diameter in degrees
    rgb: tuple[int, int, int] = (255, 255, 255)
    kind: str = "AREA"  # AREA, POINT, SPOT, SUN
    position: tuple[float, float, float] | None = None  # explicit location; else on a sphere around the origin
    target: tuple[float, float, float] | None = None  # what it points at; None: the origin, or straight down
    size_y: float | None = None  # a rectangular area light's second edge
    portal: bool = False  # a Cycles light portal (a window): guides sky light, emits nothing
    on: bool = True

    @property
    def location(self) -> tuple[float, float, float]:
        if self.position is not None:
            return tuple(self.position)  # type: ignore[return-value]
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return (
            self.distance * math.cos(el) * math.cos(az),
            self.distance * math.cos(el) * math.sin(az),
            self.distance * math.sin(el),
        )

    @property
    def aim(self) -> tuple[float, float, float]:
        if self.target is not None:
            return tuple(self.target)  # type: ignore[return-value]
        if self.position is not None:
            x, y, z = self.position
            return (x, y, z - 1.0)
        return (0.0, 0.0, 0.0)


@dataclass
class WorldSpec:
    ground_rgb: tuple[int, int, int] = (150, 150, 146)
    sky_rgb: tuple[int, int, int] = (200, 204, 210)
    sky_strength: float = 0.35
    sky: str = "flat"  # flat (one colour) or physical (Blender's sky texture, sun from sun_* below)
    sun_elevation: float = 45.0  # degrees, for the physical sky
    sun_azimuth: float = 0.0
    time_of_day: float | None = None  # hours (kits); what the captions call morning, noon, evening
    exposure: float = 0.0  # the film exposure in stops
    white_balance: float | None = None  # kelvin the camera treats as white (None: no white balance)


@dataclass
class ShellSpec:
    """The fixed surroundings: a table plane, a room or a street, as JSON-able parameters.

    ``params`` holds the derived geometry the layout checks and the renderer builds from (walls with
    their openings, floor zones, window sills), so that both read the same numbers.
    """

    kind: str = "table"  # table, room, street
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class SceneSpec:
    objects: list[ObjectSpec]
    camera: CameraSpec
    lights: list[LightSpec]
    world: WorldSpec = field(default_factory=WorldSpec)
    shell: ShellSpec = field(default_factory=ShellSpec)
    setting: str = "tabletop"
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # counting group -> family, free slots

    def copy(self) -> "SceneSpec":
        return copy.deepcopy(self)

    def by_uid(self, uid: int) -> ObjectSpec:
        for obj in self.objects:
            if obj.uid == uid:
                return obj
        raise KeyError(uid)

    def get(self, uid: int | None) -> ObjectSpec | None:
        return next((o for o in self.objects if o.uid == uid), None) if uid is not None else None

    def next_uid(self) -> int:
        return max((o.uid for o in self.objects), default=0) + 1

    def supported_by(self, uid: int) -> list[ObjectSpec]:
        return [o for o in self.objects if o.support == uid]

    def world_z(self, obj: ObjectSpec) -> float:
        """Centre height in the scene."""
        return obj.z0 + obj.half_extents[2]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SceneSpec":
        objects = [object_from_dict(o) for o in data["objects"]]
        camera = CameraSpec(**{k: _tup(v) for k, v in data["camera"].items()})
        lights = [LightSpec(**{k: _tup(v) for k, v in li.items()}) for li in data["lights"]]
        world = WorldSpec(**{k: _tup(v) for k, v in data["world"].items()})
        shell = ShellSpec(**data.get("shell", {}))
        return cls(objects, camera, lights, world, shell, data.get("setting", "tabletop"), data.get("groups", {}))


def _tup(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def object_from_dict(data: dict[str, Any]) -> ObjectSpec:
    """An ObjectSpec from its ``asdict`` form (a diff's object snapshot, a stored scene)."""
    return ObjectSpec(**{k: (_tup(v) if k == "half_extents" else copy.deepcopy(v)) for k, v in data.items()})
