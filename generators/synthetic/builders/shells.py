"""Shell builders: the room (floor, walls with window and door openings, ceiling, frames, sills, the view
outside) and the street ground (road, pavements with kerbs, grass, markings, the land beyond).

The kits write the derived geometry into ``ShellSpec.params`` (walls with openings, zones, sills,
surfaces); the builders here only draw it, so that the layout checks and the pixels agree.
"""

from __future__ import annotations

import math
from typing import Any

from generators.synthetic.builders.buildings import wall_with_holes
from generators.synthetic.builders.decor import foliage_blobs
from generators.synthetic.meshes import Maker, Matrix
from generators.synthetic.spec import ShellSpec

WALL_T = 0.15
GROUND_EXTENT = 90.0


def build_shell(shell: ShellSpec) -> Maker:
    mk = Maker()
    if shell.kind == "room":
        room(mk, shell.params)
    elif shell.kind == "street":
        street(mk, shell.params)
    return mk


def _wall_matrix(wall: dict[str, Any]) -> Matrix:
    """Wall frame: x along the wall from ``a``, y out of the room (through the wall), z up."""
    (ax, ay), (bx, by) = wall["a"], wall["b"]
    length = math.hypot(bx - ax, by - ay)
    dx, dy = (bx - ax) / length, (by - ay) / length
    nx, ny = wall["normal"]
    return ((dx, -nx, 0.0, ax), (dy, -ny, 0.0, ay), (0.0, 0.0, 1.0, 0.0))


def room(mk: Maker, p: dict[str, Any]) -> None:
    w, d, h = p["width"], p["depth"], p["height"]
    t = WALL_T
    mk.slab(p["floor"], -w / 2 - t, -d / 2 - t, -0.1, w / 2 + t, d / 2 + t, 0.0)
    mk.slab(p["ceiling"], -w / 2 - t, -d / 2 - t, h, w / 2 + t, d / 2 + t, h + 0.12)
    trim, skirting = p["trim"], p["skirting"]
    for wall in p["walls"]:
        m = _wall_matrix(wall)
        (ax, ay), (bx, by) = wall["a"], wall["b"]
        length = math.hypot(bx - ax, by - ay)
        holes = [(o["s0"], o["s1"], o["z0"], o["z1"]) for o in wall["openings"]]
        wall_with_holes(_Framed(mk, m), wall["look"], -t, length + t, 0.0, h, 0.0, t, holes)
        doors = sorted((o["s0"], o["s1"]) for o in wall["openings"] if o["z0"] <= 0.0)
        s = 0.0
        for a, b in doors + [(length, length)]:
            if a > s:
                mk.slab(skirting, s, -0.015, 0.0, a, 0.0, 0.08, m)
            s = b
        for o in wall["openings"]:
            _opening(mk, m, o, trim, p.get("door", trim))
    outside = p.get("outside")
    if outside:
        _outside(mk, p, outside)


class _Framed:
    """A Maker view that draws slabs in a wall's frame."""

    def __init__(self, mk: Maker, m: Matrix) -> None:
        self.mk, self.m = mk, m

    def slab(self, lk: dict, x0: float, y0: float, z0: float, x1: float, y1: float, z1: float) -> None:
        self.mk.slab(lk, x0, y0, z0, x1, y1, z1, self.m)


def _opening(mk: Maker, m: Matrix, o: dict[str, Any], trim: dict, door: dict) -> None:
    s0, s1, z0, z1 = o["s0"], o["s1"], o["z0"], o["z1"]
    f = 0.05
    if o["kind"] == "door":
        mk.slab(trim, s0 - f, -0.02, 0.0, s0, 0.02, z1 + f, m)
        mk.slab(trim, s1, -0.02, 0.0, s1 + f, 0.02, z1 + f, m)
        mk.slab(trim, s0 - f, -0.02, z1, s1 + f, 0.02, z1 + f, m)
        mk.slab(door, s0 + 0.005, 0.04, 0.0, s1 - 0.005, 0.08, z1 - 0.005, m)
        mk.box({"color": "silver", "rgb": [190, 190, 194], "material": "metal"}, (s1 - 0.09, 0.03, 1.02), (0.12, 0.02, 0.025), m)
        return
    # window: frame inside the opening, a mullion and transom, an inner sill (a support surface)
    for a, b in ((s0, s0 + f), (s1 - f, s1)):
        mk.slab(trim, a, 0.06, z0, b, 0.1, z1, m)
    mk.slab(trim, s0, 0.06, z1 - f, s1, 0.1, z1, m)
    mk.slab(trim, s0, 0.06, z0, s1, 0.1, z0 + f, m)
    mid = (s0 + s1) / 2
    mk.slab(trim, mid - 0.025, 0.065, z0, mid + 0.025, 0.095, z1, m)
    mk.slab(trim, s0, 0.065, z0 + (z1 - z0) * 0.62, s1, 0.095, z0 + (z1 - z0) * 0.62 + 0.04, m)
    mk.slab(trim, s0 - 0.06, -0.2, z0 - 0.04, s1 + 0.06, 0.06, z0, m)
    if z0 > 0.3:
        mk.slab(trim, s0 - 0.06, -0.02, z0 - 0.12, s1 + 0.06, 0.0, z0 - 0.04, m)


def _outside(mk: Maker, p: dict[str, Any], outside: dict[str, Any]) -> None:
    """What the windows look out on: ground, a few facades and trees (all id 0)."""
    z = -outside.get("drop", 0.0) - 0.15  # below the room's floor slab, never coplanar with it
    mk.slab(outside["ground"], -GROUND_EXTENT, -GROUND_EXTENT, z - 0.1, GROUND_EXTENT, GROUND_EXTENT, z)
    for b in outside.get("blocks", []):
        _block(mk, b, z)
    for tr in outside.get("trees", []):
        mk.cylinder({"color": "dark brown", "rgb": [76, 48, 30], "material": "bark"}, (tr["x"], tr["y"], z), 0.18,
                    tr["h"] * 0.5, 8)
        foliage_blobs(mk, tr["look"], tr["seed"], (tr["x"], tr["y"], z + tr["h"] * 0.62), tr["r"], tr["h"] * 0.7, 4)


def street(mk: Maker, p: dict[str, Any]) -> None:
    mk.slab(p["land"], -GROUND_EXTENT, -GROUND_EXTENT, -0.3, GROUND_EXTENT, GROUND_EXTENT, -0.02)
    for s in p["surfaces"]:
        mk.slab(s["look"], s["x0"], s["y0"], -0.25, s["x1"], s["y1"], s["z"])
        if s.get("kerb"):
            kerb = {"color": "light grey", "rgb": [170, 170, 166], "material": "concrete"}
            for y in s["kerb"]:
                mk.slab(kerb, s["x0"], y - 0.09, -0.02, s["x1"], y + 0.09, s["z"] + 0.003)
    for mark in p.get("markings", []):
        mk.slab(mark["look"], mark["x0"], mark["y0"], mark["z"], mark["x1"], mark["y1"], mark["z"] + 0.004)
    for tr in p.get("trees", []):
        mk.cylinder({"color": "dark brown", "rgb": [76, 48, 30], "material": "bark"}, (tr["x"], tr["y"], tr["z"]), 0.2,
                    tr["h"] * 0.5, 8)
        foliage_blobs(mk, tr["look"], tr["seed"], (tr["x"], tr["y"], tr["z"] + tr["h"] * 0.62), tr["r"], tr["h"] * 0.7, 4)
    for b in p.get("blocks", []):
        _block(mk, b, 0.0)


def _block(mk: Maker, b: dict[str, Any], z: float) -> None:
    """A distant building of the backdrop (id 0): a box with rows of dark windows on the face the camera sees."""
    mk.slab(b["look"], b["x0"], b["y0"], z, b["x1"], b["y1"], z + b["h"])
    if not b.get("windows", True):
        return
    glass = {"color": "dark grey", "rgb": [60, 64, 70], "material": "window glass"}
    side = b["y0"] if b.get("face", -1) < 0 else b["y1"]
    out = -0.05 if b.get("face", -1) < 0 else 0.05
    for row in range(int(b["h"] // 3.2)):
        for k in range(int((b["x1"] - b["x0"] - 0.8) // 2.6)):
            wx = b["x0"] + 0.8 + k * 2.6
            mk.slab(glass, wx, min(side, side + out), z + 1.0 + row * 3.2, wx + 1.2, max(side, side + out), z + 2.5 + row * 3.2)
