"""Camera geometry in pure Python: projection to the image, camera-relative directions, regions.

The renderer sets Blender's camera from the same numbers (horizontal sensor fit, 36 mm sensor),
so the sampler can check framing and the captions can name image regions without rendering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generators.synthetic.spec import CameraSpec, ObjectSpec, SceneSpec

SENSOR_WIDTH_MM = 36.0
Vec = tuple[float, float, float]


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm(a: Vec) -> Vec:
    n = math.sqrt(_dot(a, a))
    return (a[0] / n, a[1] / n, a[2] / n)


@dataclass(frozen=True)
class CameraFrame:
    location: Vec
    forward: Vec
    right: Vec
    up: Vec
    tan_half_fov: float  # horizontal

    @classmethod
    def of(cls, cam: CameraSpec) -> "CameraFrame":
        loc = cam.location
        forward = _norm(_sub(cam.target, loc))
        right = _norm(_cross(forward, (0.0, 0.0, 1.0)))
        up = _cross(right, forward)
        return cls(loc, forward, right, up, (SENSOR_WIDTH_MM / 2) / cam.lens)

    def project(self, point: Vec, aspect: float) -> tuple[float, float, float]:
        """(u, v, depth): u, v in 0..1 from the top-left corner; aspect = width / height."""
        d = _sub(point, self.location)
        depth = _dot(d, self.forward)
        if depth <= 1e-6:
            return (-1.0, -1.0, depth)
        x = _dot(d, self.right) / depth / self.tan_half_fov
        y = _dot(d, self.up) / depth / self.tan_half_fov * aspect
        return (0.5 + x / 2, 0.5 - y / 2, depth)

    def ground_axes(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Unit vectors on the ground: to the camera's right, and away from the camera (behind)."""
        r = _norm((self.right[0], self.right[1], 0.0))
        f = _norm((self.forward[0], self.forward[1], 0.0))
        return (r[0], r[1]), (f[0], f[1])


def object_points(scene: SceneSpec, obj: ObjectSpec) -> list[Vec]:
    """Corners of the object's upright bounding box (rotation ignored: the circle bound is used)."""
    z = scene.world_z(obj)
    r = obj.footprint
    h = obj.half_extents[2]
    return [(obj.x + dx * r, obj.y + dy * r, z + dz * h) for dx in (-1, 1) for dy in (-1, 1) for dz in (-1, 1)]


def in_frame(scene: SceneSpec, obj: ObjectSpec, aspect: float, margin: float = 0.03) -> bool:
    frame = CameraFrame.of(scene.camera)
    for p in object_points(scene, obj):
        u, v, depth = frame.project(p, aspect)
        if depth <= 0 or not (margin <= u <= 1 - margin and margin <= v <= 1 - margin):
            return False
    return True


def image_position(scene: SceneSpec, obj: ObjectSpec, aspect: float) -> tuple[float, float]:
    frame = CameraFrame.of(scene.camera)
    u, v, _ = frame.project((obj.x, obj.y, scene.world_z(obj)), aspect)
    return u, v


def region_name(u: float, v: float) -> str:
    """Nine regions: 'top left' ... 'centre' ... 'bottom right'."""
    col = "left" if u < 1 / 3 else ("right" if u > 2 / 3 else "middle")
    row = "top" if v < 1 / 3 else ("bottom" if v > 2 / 3 else "centre")
    if row == "centre" and col == "middle":
        return "centre"
    if col == "middle":
        return f"{row} middle" if row != "centre" else "centre"
    return f"{row} {col}" if row != "centre" else f"middle {col}"


def relation(scene: SceneSpec, obj: ObjectSpec, landmark: ObjectSpec) -> str:
    """The strongest camera-relative relation of obj to landmark: left of, right of, in front of, behind."""
    right, away = CameraFrame.of(scene.camera).ground_axes()
    dx, dy = obj.x - landmark.x, obj.y - landmark.y
    lr = dx * right[0] + dy * right[1]
    fb = dx * away[0] + dy * away[1]
    if abs(lr) >= abs(fb):
        return "right of" if lr > 0 else "left of"
    return "behind" if fb > 0 else "in front of"


def separated(scene: SceneSpec, a: ObjectSpec, b: ObjectSpec, margin: float) -> bool:
    """Directional margin: a and b differ by at least ``margin`` along both camera ground axes."""
    right, away = CameraFrame.of(scene.camera).ground_axes()
    dx, dy = a.x - b.x, a.y - b.y
    return abs(dx * right[0] + dy * right[1]) >= margin and abs(dx * away[0] + dy * away[1]) >= margin
