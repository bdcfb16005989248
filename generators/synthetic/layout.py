"""Layout geometry in pure Python: oriented footprints, support surfaces, walls, zones, rest checks.

Conventions (shared with the renderer's builders): an object's local frame has its origin at the
centre of its footprint on its bottom face; its front faces local -y, so its back is at local
+y = half depth. ``rotation`` turns the local frame about the vertical axis (counter-clockwise,
degrees). Two objects interpenetrate when their height spans overlap and their footprints (oriented
rectangles) overlap; an object and its holder are exempt (the mug stands in the table's box).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Iterable

from generators.synthetic.spec import ObjectSpec, SceneSpec

EPS = 1e-6
REST_TOLERANCE = 1e-3  # metres: how exactly an object must sit on its floor, holder or wall


@dataclass(frozen=True)
class Rect:
    """An oriented rectangle on the ground: centre, half sizes, yaw in degrees."""

    cx: float
    cy: float
    hx: float
    hy: float
    yaw: float = 0.0

    def axes(self) -> tuple[tuple[float, float], tuple[float, float]]:
        t = math.radians(self.yaw)
        return (math.cos(t), math.sin(t)), (-math.sin(t), math.cos(t))

    def corners(self) -> list[tuple[float, float]]:
        (ux, uy), (vx, vy) = self.axes()
        return [(self.cx + sx * self.hx * ux + sy * self.hy * vx, self.cy + sx * self.hx * uy + sy * self.hy * vy)
                for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        (ux, uy), (vx, vy) = self.axes()
        dx, dy = x - self.cx, y - self.cy
        return dx * ux + dy * uy, dx * vx + dy * vy

    def to_world(self, u: float, v: float) -> tuple[float, float]:
        (ux, uy), (vx, vy) = self.axes()
        return self.cx + u * ux + v * vx, self.cy + u * uy + v * vy

    def contains(self, other: "Rect", margin: float = 0.0) -> bool:
        """Every corner of ``other`` lies inside this rectangle shrunk by ``margin``."""
        for x, y in other.corners():
            u, v = self.to_local(x, y)
            if abs(u) > self.hx - margin + EPS or abs(v) > self.hy - margin + EPS:
                return False
        return True


def overlap(a: Rect, b: Rect, gap: float = 0.0) -> bool:
    """Separating-axis test: True when the rectangles (grown by ``gap``/2 each) overlap."""
    ca, cb = a.corners(), b.corners()
    for rect in (a, b):
        for ax, ay in rect.axes():
            pa = [x * ax + y * ay for x, y in ca]
            pb = [x * ax + y * ay for x, y in cb]
            if max(pa) + gap / 2 <= min(pb) - gap / 2 + EPS or max(pb) + gap / 2 <= min(pa) - gap / 2 + EPS:
                return False
    return True


def footprint(obj: ObjectSpec) -> Rect:
    hx, hy, _ = obj.half_extents
    return Rect(obj.x, obj.y, hx, hy, obj.rotation)


def z_span(obj: ObjectSpec) -> tuple[float, float]:
    return obj.z0, obj.z0 + 2 * obj.half_extents[2]


def related(a: ObjectSpec, b: ObjectSpec) -> bool:
    """One holds the other (directly): their boxes may overlap."""
    return a.support == b.uid or b.support == a.uid


def collide(a: ObjectSpec, b: ObjectSpec, gap: float = 0.0) -> bool:
    if related(a, b):
        return False
    (a0, a1), (b0, b1) = z_span(a), z_span(b)
    if a1 <= b0 + EPS or b1 <= a0 + EPS:
        return False
    return overlap(footprint(a), footprint(b), gap)


def conflicts(scene: SceneSpec, obj: ObjectSpec, gap: float = 0.0, ignore: Iterable[int] = ()) -> list[int]:
    skip = set(ignore) | {obj.uid}
    return [o.uid for o in scene.objects if o.uid not in skip and collide(obj, o, gap)]


def interpenetrations(scene: SceneSpec) -> list[tuple[int, int]]:
    objs = scene.objects
    return [(a.uid, b.uid) for i, a in enumerate(objs) for b in objs[i + 1:] if collide(a, b)]


# -- surfaces ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Surface:
    """A support surface in the holder's local frame: height above its bottom, a rectangle, free height."""

    name: str
    z: float
    x0: float
    y0: float
    x1: float
    y1: float
    clear: float = 1.5  # how tall an item standing on it may be (shelf boards)


def surface_world(holder: ObjectSpec, surface: Surface, scale: float = 1.0) -> tuple[Rect, float, float]:
    """The surface as a world rectangle, its world height and its free height."""
    cu, cv = (surface.x0 + surface.x1) / 2 * scale, (surface.y0 + surface.y1) / 2 * scale
    t = math.radians(holder.rotation)
    cx = holder.x + cu * math.cos(t) - cv * math.sin(t)
    cy = holder.y + cu * math.sin(t) + cv * math.cos(t)
    rect = Rect(cx, cy, (surface.x1 - surface.x0) / 2 * scale, (surface.y1 - surface.y0) / 2 * scale, holder.rotation)
    return rect, holder.z0 + surface.z * scale, surface.clear * scale


def shell_surfaces(scene: SceneSpec) -> dict[str, dict[str, Any]]:
    """Surfaces of the shell (window sills): name -> {"rect": [cx, cy, hx, hy, yaw], "z", "clear"}."""
    return {s["name"]: s for s in scene.shell.params.get("sills", [])}


# -- walls and zones -----------------------------------------------------------------------------
def walls(scene: SceneSpec) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in scene.shell.params.get("walls", [])}


def wall_frame(wall: dict[str, Any]) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float], float]:
    """(start point, unit direction along the wall, inward normal, length)."""
    (ax, ay), (bx, by) = wall["a"], wall["b"]
    length = math.hypot(bx - ax, by - ay)
    d = ((bx - ax) / length, (by - ay) / length)
    return (ax, ay), d, tuple(wall["normal"]), length  # type: ignore[return-value]


def facing_wall(wall: dict[str, Any]) -> float:
    """The rotation that puts an object's back (local +y) against ``wall``."""
    nx, ny = wall["normal"]
    return round(math.degrees(math.atan2(nx, -ny)) % 360.0, 4)


def on_wall_position(wall: dict[str, Any], s: float, depth_half: float, gap: float = 0.0) -> tuple[float, float]:
    (ax, ay), (dx, dy), (nx, ny), _ = wall_frame(wall)
    off = depth_half + gap
    return ax + s * dx + off * nx, ay + s * dy + off * ny


def wall_coordinate(wall: dict[str, Any], x: float, y: float) -> tuple[float, float]:
    """(s along the wall, distance from the wall plane into the room) of a point."""
    (ax, ay), (dx, dy), (nx, ny), _ = wall_frame(wall)
    return (x - ax) * dx + (y - ay) * dy, (x - ax) * nx + (y - ay) * ny


def zones(scene: SceneSpec) -> dict[str, dict[str, Any]]:
    """Ground zones: name -> {"x0", "y0", "x1", "y1", "z", "kinds"} (axis-aligned rectangles)."""
    return {z["name"]: z for z in scene.shell.params.get("zones", [])}


def zone_rect(zone: dict[str, Any]) -> Rect:
    return Rect((zone["x0"] + zone["x1"]) / 2, (zone["y0"] + zone["y1"]) / 2,
                (zone["x1"] - zone["x0"]) / 2, (zone["y1"] - zone["y0"]) / 2)


def keepouts(scene: SceneSpec) -> list[Rect]:
    """Floor areas nothing may stand on (in front of doors, around the camera)."""
    return [Rect(*k) for k in scene.shell.params.get("keepouts", [])]


# -- resting -------------------------------------------------------------------------------------
def holder_surface(scene: SceneSpec, obj: ObjectSpec) -> tuple[Rect, float, float] | None:
    """The world rectangle, height and free height of the surface ``obj`` stands on."""
    from generators.synthetic.families import surfaces_of  # noqa: PLC0415 - families import layout

    if obj.support is None:
        sill = shell_surfaces(scene).get(obj.surface or "")
        return None if sill is None else (Rect(*sill["rect"]), sill["z"], sill.get("clear", 1.5))
    holder = scene.get(obj.support)
    if holder is None:
        return None
    for surface in surfaces_of(holder):
        if surface.name == obj.surface:
            return surface_world(holder, surface, holder.params.get("scale", 1.0))
    return None


def rests(scene: SceneSpec, obj: ObjectSpec) -> str | None:
    """Why ``obj`` does not rest on its floor zone, its holder or its wall (None when it does)."""
    if obj.placement == "surface":
        found = holder_surface(scene, obj)
        if found is None:
            return f"object {obj.uid} names a missing holder surface {obj.support}/{obj.surface}"
        rect, z, clear = found
        if abs(obj.z0 - z) > REST_TOLERANCE:
            return f"object {obj.uid} floats {obj.z0 - z:+.3f} m above its surface"
        if not rect.contains(footprint(obj)):
            return f"object {obj.uid} overhangs its surface"
        if 2 * obj.half_extents[2] > clear + EPS:
            return f"object {obj.uid} is taller than the room above its surface"
        return None
    if obj.placement == "wall":
        wall = walls(scene).get(obj.surface or "")
        if wall is None:
            return f"object {obj.uid} hangs on a missing wall {obj.surface!r}"
        s, off = wall_coordinate(wall, obj.x, obj.y)
        if abs(off - obj.half_extents[1]) > REST_TOLERANCE:
            return f"object {obj.uid} is {off - obj.half_extents[1]:+.3f} m off its wall"
        if abs((obj.rotation - facing_wall(wall) + 180) % 360 - 180) > 0.01:
            return f"object {obj.uid} is not turned flat against its wall"
        _, _, _, length = wall_frame(wall)
        hx = obj.half_extents[0]
        if s - hx < -EPS or s + hx > length + EPS or obj.z0 < -EPS or obj.top > wall["height"] + EPS:
            return f"object {obj.uid} sticks out of its wall"
        for op in wall.get("openings", []):
            if s + hx > op["s0"] and s - hx < op["s1"] and obj.top > op["z0"] and obj.z0 < op["z1"]:
                return f"object {obj.uid} hangs over a {op['kind']}"
        return None
    # floor or ground: inside a zone, at its height
    rect = footprint(obj)
    for zone in zones(scene).values():
        if zone_rect(zone).contains(rect) and abs(obj.z0 - zone["z"]) <= REST_TOLERANCE:
            return None
    return f"object {obj.uid} ({obj.family}) does not stand inside a floor zone at its height"


# -- sampling spots ------------------------------------------------------------------------------
def sample_in_rect(rect: Rect, hx: float, hy: float, rng: random.Random, margin: float = 0.0) -> tuple[float, float] | None:
    """A random centre for an (hx, hy) footprint aligned with ``rect`` that keeps it inside."""
    su, sv = rect.hx - hx - margin, rect.hy - hy - margin
    if su < 0 or sv < 0:
        return None
    return rect.to_world(rng.uniform(-su, su), rng.uniform(-sv, sv))


def wall_spans(wall: dict[str, Any], z0: float, z1: float, margin: float = 0.1) -> list[tuple[float, float]]:
    """Free intervals along ``wall`` for something spanning heights z0..z1 (openings cut out)."""
    _, _, _, length = wall_frame(wall)
    spans = [(margin, length - margin)]
    for op in wall.get("openings", []):
        if z1 <= op["z0"] or z0 >= op["z1"]:
            continue
        cut0, cut1 = op["s0"] - margin, op["s1"] + margin
        spans = [piece for a, b in spans for piece in ((a, min(b, cut0)), (max(a, cut1), b)) if piece[1] - piece[0] > EPS]
    return spans
