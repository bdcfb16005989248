"""Pure-Python geometry for the family and shell builders: meshes grouped by look, texts, bulbs.

A builder writes an object's parts into a ``Maker`` in the object's local frame (metres, origin at
the centre of the footprint on its bottom face, front towards -y). The renderer turns each look's
mesh into one Blender object that carries the object's id colour, each text into a font object and
each bulb into a light. Nothing here imports ``bpy``: tests check the geometry against the
family's declared extents (the layout's collision checks rely on them).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

Vec = tuple[float, float, float]
Matrix = tuple[tuple[float, float, float, float], tuple[float, float, float, float], tuple[float, float, float, float]]
IDENTITY: Matrix = ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0))


# -- affine transforms (3x4) ------------------------------------------------------------------
def compose(a: Matrix, b: Matrix) -> Matrix:
    """a after b."""
    rows = []
    for i in range(3):
        row = [sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)]
        row.append(sum(a[i][k] * b[k][3] for k in range(3)) + a[i][3])
        rows.append(tuple(row))
    return tuple(rows)  # type: ignore[return-value]


def translate(x: float, y: float, z: float) -> Matrix:
    return ((1.0, 0.0, 0.0, x), (0.0, 1.0, 0.0, y), (0.0, 0.0, 1.0, z))


def rot_x(deg: float) -> Matrix:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((1.0, 0.0, 0.0, 0.0), (0.0, c, -s, 0.0), (0.0, s, c, 0.0))


def rot_y(deg: float) -> Matrix:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, 0.0, s, 0.0), (0.0, 1.0, 0.0, 0.0), (-s, 0.0, c, 0.0))


def rot_z(deg: float) -> Matrix:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, -s, 0.0, 0.0), (s, c, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0))


def scale(sx: float, sy: float, sz: float) -> Matrix:
    return ((sx, 0.0, 0.0, 0.0), (0.0, sy, 0.0, 0.0), (0.0, 0.0, sz, 0.0))


def apply(m: Matrix, p: Sequence[float]) -> Vec:
    return (m[0][0] * p[0] + m[0][1] * p[1] + m[0][2] * p[2] + m[0][3],
            m[1][0] * p[0] + m[1][1] * p[1] + m[1][2] * p[2] + m[1][3],
            m[2][0] * p[0] + m[2][1] * p[1] + m[2][2] * p[2] + m[2][3])


def at(x: float, y: float, z: float, yaw: float = 0.0, pitch: float = 0.0) -> Matrix:
    """Translate to (x, y, z), turned by ``yaw`` about z after tilting by ``pitch`` about x."""
    return compose(translate(x, y, z), compose(rot_z(yaw), rot_x(pitch)))


# -- buffers ------------------------------------------------------------------------------------
@dataclass
class MeshBuffer:
    verts: list[Vec] = field(default_factory=list)
    faces: list[tuple[int, ...]] = field(default_factory=list)
    smooth: list[bool] = field(default_factory=list)

    def add(self, verts: Iterable[Vec], faces: Iterable[Sequence[int]], smooth: bool = False) -> None:
        base = len(self.verts)
        self.verts.extend(verts)
        for f in faces:
            self.faces.append(tuple(base + i for i in f))
            self.smooth.append(smooth)

    def uvs(self) -> list[tuple[float, float]]:
        """Box-projected UVs per face corner, in metres (the procedural materials are scaled in metres)."""
        out = []
        for face in self.faces:
            pts = [self.verts[i] for i in face]
            n = _normal(pts)
            ax = max(range(3), key=lambda k: abs(n[k]))
            u_axis, v_axis = {0: (1, 2), 1: (0, 2), 2: (0, 1)}[ax]
            out.extend((p[u_axis], p[v_axis]) for p in pts)
        return out


def _normal(pts: list[Vec]) -> Vec:
    nx = ny = nz = 0.0
    for i, a in enumerate(pts):  # Newell's method: robust for quads and n-gons
        b = pts[(i + 1) % len(pts)]
        nx += (a[1] - b[1]) * (a[2] + b[2])
        ny += (a[2] - b[2]) * (a[0] + b[0])
        nz += (a[0] - b[0]) * (a[1] + b[1])
    return (nx, ny, nz)


@dataclass
class TextItem:
    body: str
    look: dict[str, Any]
    matrix: Matrix  # local placement of the text's centre; the text faces local -y of this frame
    width: float  # the box the text is fitted into
    height: float


@dataclass
class Bulb:
    position: Vec
    watts: float
    kelvin: float
    radius: float = 0.03
    kind: str = "POINT"
    direction: Vec | None = None  # spot lights: where they point (local)
    spot_deg: float = 90.0


def look_key(look: dict[str, Any]) -> str:
    parts = [look["material"], "-".join(str(c) for c in look["rgb"])]
    if look.get("glow"):
        parts.append(f"glow{look['glow']:g}")
    return "/".join(parts)


class Maker:
    """Collects one object's (or the shell's) geometry; see the module docstring."""

    def __init__(self) -> None:
        self.meshes: dict[str, MeshBuffer] = {}
        self.looks: dict[str, dict[str, Any]] = {}
        self.no_shadow: set[str] = set()  # looks that light passes through (lamp shades)
        self.texts: list[TextItem] = []
        self.bulbs: list[Bulb] = []

    def _buf(self, look: dict[str, Any], shadow: bool = True) -> MeshBuffer:
        key = look_key(look)
        if key not in self.meshes:
            self.meshes[key] = MeshBuffer()
            self.looks[key] = look
        if not shadow:
            self.no_shadow.add(key)
        return self.meshes[key]

    def verts(self) -> list[Vec]:
        return [v for buf in self.meshes.values() for v in buf.verts]

    # -- primitives ------------------------------------------------------------------------
    def box(self, look: dict[str, Any], center: Sequence[float], size: Sequence[float], m: Matrix = IDENTITY) -> None:
        cx, cy, cz = center
        hx, hy, hz = (s / 2 for s in size)
        pts = [apply(m, (cx + sx * hx, cy + sy * hy, cz + sz * hz))
               for sz in (-1, 1) for sy in (-1, 1) for sx in (-1, 1)]
        faces = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
        self._buf(look).add(pts, faces)

    def slab(self, look: dict[str, Any], x0: float, y0: float, z0: float, x1: float, y1: float, z1: float,
             m: Matrix = IDENTITY) -> None:
        """A box given by two corners."""
        self.box(look, ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2), (x1 - x0, y1 - y0, z1 - z0), m)

    def rounded_box(self, look: dict[str, Any], center: Sequence[float], size: Sequence[float], radius: float,
                    m: Matrix = IDENTITY, segments: int = 12) -> None:
        """A box with rounded edges (an inner box grown by a sphere): cushions, upholstery, car bodies."""
        hx, hy, hz = (s / 2 for s in size)
        radius = min(radius, hx, hy, hz)
        ix, iy, iz = hx - radius, hy - radius, hz - radius
        rings = max(4, segments // 2)
        cx, cy, cz = center
        pts: list[Vec] = []
        for j in range(rings):
            theta = (j + 0.5) * math.pi / rings
            st, ct = math.sin(theta), math.cos(theta)
            for i in range(segments):
                phi = (i + 0.5) * 2 * math.pi / segments
                dx, dy, dz = st * math.cos(phi), st * math.sin(phi), ct
                pts.append(apply(m, (cx + math.copysign(ix, dx) + radius * dx, cy + math.copysign(iy, dy) + radius * dy,
                                     cz + math.copysign(iz, dz) + radius * dz)))
        top, bottom = len(pts), len(pts) + 1
        pts.append(apply(m, (cx, cy, cz + hz)))
        pts.append(apply(m, (cx, cy, cz - hz)))
        faces: list[tuple[int, ...]] = []
        for j in range(rings - 1):
            for i in range(segments):
                a, b = j * segments + i, j * segments + (i + 1) % segments
                faces.append((a, a + segments, b + segments, b))
        for i in range(segments):
            faces.append((top, i, (i + 1) % segments))
            last = (rings - 1) * segments
            faces.append((bottom, last + (i + 1) % segments, last + i))
        self._buf(look).add(pts, faces, smooth=True)

    def lathe(self, look: dict[str, Any], profile: Sequence[tuple[float, float]], center: Sequence[float] = (0, 0, 0),
              segments: int = 24, m: Matrix = IDENTITY, smooth: bool = True, cap_bottom: bool = True,
              cap_top: bool = True, shadow: bool = True, scale_y: float = 1.0) -> None:
        """A surface of revolution about the local z axis: profile = [(radius, z), ...] bottom to top."""
        cx, cy, cz = center
        pts: list[Vec] = []
        for rad, z in profile:
            for i in range(segments):
                phi = 2 * math.pi * i / segments
                pts.append(apply(m, (cx + rad * math.cos(phi), cy + rad * math.sin(phi) * scale_y, cz + z)))
        faces: list[tuple[int, ...]] = []
        for j in range(len(profile) - 1):
            for i in range(segments):
                a, b = j * segments + i, j * segments + (i + 1) % segments
                faces.append((a, b, b + segments, a + segments))
        if cap_bottom and profile[0][0] > 0:
            faces.append(tuple(range(segments - 1, -1, -1)))
        if cap_top and profile[-1][0] > 0:
            last = (len(profile) - 1) * segments
            faces.append(tuple(range(last, last + segments)))
        self._buf(look, shadow).add(pts, faces, smooth=smooth)

    def cylinder(self, look: dict[str, Any], base: Sequence[float], radius: float, height: float,
                 segments: int = 20, m: Matrix = IDENTITY, radius_top: float | None = None, smooth: bool = True) -> None:
        top = radius if radius_top is None else radius_top
        self.lathe(look, [(radius, 0.0), (top, height)], base, segments, m, smooth)

    def rod(self, look: dict[str, Any], p0: Sequence[float], p1: Sequence[float], radius: float, segments: int = 10,
            radius_top: float | None = None) -> None:
        """A cylinder from p0 to p1 (tubes of frames, poles, arms)."""
        dx, dy, dz = p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]
        length = math.sqrt(dx * dx + dy * dy + dz * dz)
        yaw = math.degrees(math.atan2(dx, -dy)) if abs(dx) + abs(dy) > 1e-9 else 0.0
        pitch = math.degrees(math.atan2(math.hypot(dx, dy), dz))
        m = compose(translate(*p0), compose(rot_z(yaw), rot_x(pitch)))
        self.cylinder(look, (0, 0, 0), radius, length, segments, m, radius_top)

    def sphere(self, look: dict[str, Any], center: Sequence[float], radii: Sequence[float], segments: int = 16,
               rings: int = 8, m: Matrix = IDENTITY, noise: float = 0.0, seed: int = 0, shadow: bool = True) -> None:
        """An ellipsoid; ``noise`` > 0 displaces it radially with seeded waves (foliage blobs)."""
        waves = _waves(seed) if noise else []
        cx, cy, cz = center
        rx, ry, rz = radii
        pts: list[Vec] = []
        for j in range(1, rings):
            theta = j * math.pi / rings
            for i in range(segments):
                phi = 2 * math.pi * i / segments
                d = (math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta))
                k = 1.0 + noise * sum(a * math.sin(f * (d[0] * u + d[1] * v + d[2] * w) + ph) for a, f, u, v, w, ph in waves)
                pts.append(apply(m, (cx + rx * d[0] * k, cy + ry * d[1] * k, cz + rz * d[2] * k)))
        top, bottom = len(pts), len(pts) + 1
        pts.append(apply(m, (cx, cy, cz + rz)))
        pts.append(apply(m, (cx, cy, cz - rz)))
        faces: list[tuple[int, ...]] = []
        for j in range(rings - 2):
            for i in range(segments):
                a, b = j * segments + i, j * segments + (i + 1) % segments
                faces.append((a, a + segments, b + segments, b))
        last = (rings - 2) * segments
        for i in range(segments):
            faces.append((top, i, (i + 1) % segments))
            faces.append((bottom, last + (i + 1) % segments, last + i))
        self._buf(look, shadow).add(pts, faces, smooth=True)

    def torus(self, look: dict[str, Any], center: Sequence[float], major: float, minor: float, m: Matrix = IDENTITY,
              segments: int = 24, sides: int = 8, arc_deg: float = 360.0, start_deg: float = 0.0) -> None:
        """A ring in the local xz plane (a mug handle, a wheel, a clock rim): axis along local y."""
        cx, cy, cz = center
        closed = arc_deg >= 360.0
        n = segments if closed else segments + 1
        pts: list[Vec] = []
        for i in range(n):
            a = math.radians(start_deg + arc_deg * i / segments)
            for k in range(sides):
                b = 2 * math.pi * k / sides
                rr = major + minor * math.cos(b)
                pts.append(apply(m, (cx + rr * math.cos(a), cy + minor * math.sin(b), cz + rr * math.sin(a))))
        faces: list[tuple[int, ...]] = []
        for i in range(segments):
            i2 = (i + 1) % n if closed else i + 1
            for k in range(sides):
                k2 = (k + 1) % sides
                faces.append((i * sides + k, i2 * sides + k, i2 * sides + k2, i * sides + k2))
        self._buf(look).add(pts, faces, smooth=True)

    def prism(self, look: dict[str, Any], polygon: Sequence[tuple[float, float]], z0: float, z1: float,
              m: Matrix = IDENTITY) -> None:
        """A convex polygon (counter-clockwise, local xy) extruded from z0 to z1."""
        n = len(polygon)
        pts = [apply(m, (x, y, z0)) for x, y in polygon] + [apply(m, (x, y, z1)) for x, y in polygon]
        faces: list[tuple[int, ...]] = [tuple(range(n - 1, -1, -1)), tuple(range(n, 2 * n))]
        faces += [(i, (i + 1) % n, n + (i + 1) % n, n + i) for i in range(n)]
        self._buf(look).add(pts, faces)

    def polygon(self, look: dict[str, Any], corners: Sequence[Sequence[float]], m: Matrix = IDENTITY) -> None:
        """One flat face (a roof plane, a gable)."""
        self._buf(look).add([apply(m, c) for c in corners], [tuple(range(len(corners)))])

    quad = polygon

    def text(self, look: dict[str, Any], body: str, m: Matrix, width: float, height: float) -> None:
        """Text fitted into a width x height box centred at ``m``'s origin, facing its local -y."""
        self.texts.append(TextItem(body, look, m, width, height))

    def bulb(self, position: Sequence[float], watts: float, kelvin: float, radius: float = 0.03, kind: str = "POINT",
             direction: Vec | None = None, spot_deg: float = 90.0) -> None:
        self.bulbs.append(Bulb(tuple(position), watts, kelvin, radius, kind, direction, spot_deg))  # type: ignore[arg-type]


def _waves(seed: int, n: int = 5) -> list[tuple[float, float, float, float, float, float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        u, v, w = rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1)
        norm = math.sqrt(u * u + v * v + w * w) or 1.0
        out.append((rng.uniform(0.3, 1.0) / n * 2, rng.uniform(2.0, 5.0), u / norm, v / norm, w / norm, rng.uniform(0, 6.3)))
    return out


def text_bounds(item: TextItem) -> list[Vec]:
    """The corners of a text's box (for bound checks; the renderer fits the glyphs inside it)."""
    w, h = item.width / 2, item.height / 2
    return [apply(item.matrix, (sx * w, 0.0, sz * h)) for sx in (-1, 1) for sz in (-1, 1)]
