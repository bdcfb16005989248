"""Scene specs: plain dataclasses that say everything the renderer needs, and no ``bpy``.

A spec is a value: changes copy it, captions read it, the renderer realises it. The ground is
the plane z = 0; the camera looks at ``target`` from ``azimuth``/``elevation``/``distance``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ObjectSpec:
    uid: int  # stable within a scene; masks and diffs refer to it
    shape: str  # cube, sphere, cylinder, cone, brick, tray, card
    noun: str
    color: str
    rgb: tuple[int, int, int]  # display sRGB 0-255
    material: str  # rubber or metal
    size: str  # small or large (props: "prop")
    half_extents: tuple[float, float, float]  # x, y, z half sizes before rotation
    x: float
    y: float
    rotation: float = 0.0  # degrees about the vertical axis
    support: int | None = None  # uid of the object this one rests on
    text: str | None = None  # the printed word of a card
    group: str | None = None  # counting group: instances of one kind share it

    @property
    def z(self) -> float:
        """Height of the centre; a supported object stands on its holder's top face."""
        return self.half_extents[2]

    @property
    def footprint(self) -> float:
        """Radius of the circle on the ground that the object covers."""
        hx, hy, _ = self.half_extents
        return math.hypot(hx, hy) if self.shape in ("cube", "brick", "tray", "card") else max(hx, hy)

    def signature(self) -> tuple:
        """Everything that changes how the object looks: the renderer rebuilds it when this differs."""
        return tuple(sorted(asdict(self).items()))


@dataclass
class CameraSpec:
    azimuth: float  # degrees, 0 = looking from +x toward the target
    elevation: float  # degrees above the ground
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
    name: str  # key, fill, back
    azimuth: float
    elevation: float
    distance: float
    energy: float  # watts of an area light
    size: float
    rgb: tuple[int, int, int] = (255, 255, 255)

    @property
    def location(self) -> tuple[float, float, float]:
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return (
            self.distance * math.cos(el) * math.cos(az),
            self.distance * math.cos(el) * math.sin(az),
            self.distance * math.sin(el),
        )


@dataclass
class WorldSpec:
    ground_rgb: tuple[int, int, int] = (150, 150, 146)
    sky_rgb: tuple[int, int, int] = (200, 204, 210)
    sky_strength: float = 0.35


@dataclass
class SceneSpec:
    objects: list[ObjectSpec]
    camera: CameraSpec
    lights: list[LightSpec]
    world: WorldSpec = field(default_factory=WorldSpec)

    def copy(self) -> "SceneSpec":
        return copy.deepcopy(self)

    def by_uid(self, uid: int) -> ObjectSpec:
        for obj in self.objects:
            if obj.uid == uid:
                return obj
        raise KeyError(uid)

    def next_uid(self) -> int:
        return max((o.uid for o in self.objects), default=0) + 1

    def supported_by(self, uid: int) -> list[ObjectSpec]:
        return [o for o in self.objects if o.support == uid]

    def world_z(self, obj: ObjectSpec) -> float:
        """Centre height in the scene, counting the holder it stands on."""
        if obj.support is None:
            return obj.z
        holder = self.by_uid(obj.support)
        return 2 * holder.half_extents[2] + obj.z

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SceneSpec":
        def tup(v: Any) -> Any:
            return tuple(v) if isinstance(v, list) else v

        objects = [ObjectSpec(**{k: tup(v) for k, v in o.items()}) for o in data["objects"]]
        camera = CameraSpec(**{k: tup(v) for k, v in data["camera"].items()})
        lights = [LightSpec(**{k: tup(v) for k, v in li.items()}) for li in data["lights"]]
        world = WorldSpec(**{k: tup(v) for k, v in data["world"].items()})
        return cls(objects, camera, lights, world)
