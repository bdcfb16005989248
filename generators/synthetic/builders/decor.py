"""Builders of lamps (with their bulbs), plants, rugs, cushions, pictures, posters and clocks."""

from __future__ import annotations

import math
import random

from generators.synthetic.builders import builder
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker, at, compose, rot_y, translate
from generators.synthetic.spec import ObjectSpec, look

INK = {"color": "black", "rgb": [24, 24, 26], "material": "ink"}


def lit(shade: dict, on: bool) -> dict:
    """A lamp shade that glows when its bulb is on."""
    return {**shade, "glow": 2.5} if on else shade


@builder("table_lamp")
def table_lamp(mk: Maker, obj: ObjectSpec) -> None:
    p, shade, base = obj.params, obj.parts["shade"], obj.parts["base"]
    h, sr, sh = p["height"], p["shade_r"], p["shade_h"]
    stem_top = h - sh * 0.75
    if p["base"] == "round":
        mk.cylinder(base, (0, 0, 0), sr * 0.7, 0.025, 24)
        mk.cylinder(base, (0, 0, 0.025), 0.012, stem_top - 0.025, 10)
    elif p["base"] == "column":
        mk.cylinder(base, (0, 0, 0), sr * 0.55, 0.02, 24)
        mk.cylinder(base, (0, 0, 0.02), sr * 0.25, stem_top - 0.02, 16)
    else:
        bh = stem_top * 0.7
        mk.lathe(base, [(sr * 0.35, 0), (sr * 0.8, bh * 0.4), (sr * 0.55, bh * 0.85), (sr * 0.15, bh)], segments=24)
        mk.cylinder(fixed_look("chrome"), (0, 0, bh), 0.01, stem_top - bh, 8)
    mk.lathe(lit(shade, p["on"]), [(sr, h - sh), (sr * 0.72, h)], segments=28, cap_bottom=False, cap_top=False,
             shadow=False)
    if p["on"]:
        mk.bulb((0, 0, h - sh * 0.55), p["watts"], p["kelvin"], 0.03)


@builder("floor_lamp")
def floor_lamp(mk: Maker, obj: ObjectSpec) -> None:
    p, shade, stand = obj.params, obj.parts["shade"], obj.parts["stand"]
    h, sr, sh = p["height"], p["shade_r"], p["shade_h"]
    mk.cylinder(stand, (0, 0, 0), min(0.16, sr * 0.9), 0.025, 24)
    mk.cylinder(stand, (0, 0, 0.025), 0.013, h - sh * 0.7 - 0.025, 10)
    profile = {"drum": [(sr, h - sh), (sr, h)], "cone": [(sr * 1.15, h - sh), (sr * 0.6, h)],
               "dome": [(sr * 1.15, h - sh), (sr * 0.95, h - sh * 0.4), (sr * 0.4, h)]}[p["variant"]]
    mk.lathe(lit(shade, p["on"]), profile, segments=32, cap_bottom=False, cap_top=p["variant"] == "dome", shadow=False)
    if p["on"]:
        mk.bulb((0, 0, h - sh * 0.5), p["watts"], p["kelvin"], 0.04)


def foliage_blobs(mk: Maker, leaves: dict, seed: int, center: tuple[float, float, float], radius: float, height: float,
                  count: int, noise: float = 0.12) -> None:
    """A canopy of seeded blobs inside a cylinder of ``radius`` x ``height`` centred at ``center``."""
    rng = random.Random(seed)
    grow = 1 + 2 * noise
    cx, cy, cz = center
    for k in range(count):
        br = radius * rng.uniform(0.45, 0.62)
        bz = height * rng.uniform(0.35, 0.55)
        a = rng.uniform(0, 2 * math.pi)
        off = (radius - br) * rng.uniform(0.3, 1.0)
        zc = cz + rng.uniform(-(height / 2 - bz), height / 2 - bz)
        mk.sphere(leaves, (cx + off * math.cos(a), cy + off * math.sin(a), zc), (br / grow, br / grow, bz / grow), 14, 7,
                  noise=noise, seed=rng.randrange(10 ** 6))


def _pot_plant(mk: Maker, obj: ObjectSpec, pot_r: float, pot_h: float, height: float, spread: float) -> None:
    p, pot, leaves = obj.params, obj.parts["pot"], obj.parts["leaves"]
    mk.lathe(pot, [(pot_r * 0.72, 0), (pot_r, pot_h), (pot_r - 0.008, pot_h), (pot_r - 0.01, pot_h - 0.03)], segments=24)
    mk.cylinder(fixed_look("soil"), (0, 0, pot_h - 0.03), pot_r - 0.009, 0.005, 20)
    rng = random.Random(p["leaf_seed"])
    top = height - pot_h
    if p["variant"] in ("palm", "spiky"):
        n = 9 if p["variant"] == "palm" else 12
        for k in range(n):
            a = 2 * math.pi * k / n + rng.uniform(-0.2, 0.2)
            tilt = rng.uniform(15, 50)
            length = top * rng.uniform(0.75, 0.95)
            reach = min(spread - 0.02, length * math.sin(math.radians(tilt)))
            tip = (reach * math.cos(a), reach * math.sin(a), pot_h + length * math.cos(math.radians(tilt)))
            w = length * (0.05 if p["variant"] == "palm" else 0.025)
            mk.rod(leaves, (0, 0, pot_h - 0.02), tip, w, 6, radius_top=0.004)
        return
    if p["variant"] == "tall":
        mk.cylinder(fixed_look("bark"), (0, 0, pot_h - 0.03), pot_r * 0.12, top * 0.5, 8)
        foliage_blobs(mk, leaves, p["leaf_seed"], (0, 0, pot_h + top * 0.62), spread * 0.85, top * 0.74, 4)
        return
    foliage_blobs(mk, leaves, p["leaf_seed"], (0, 0, pot_h + top / 2 - 0.01), spread, top - 0.02, 5)


@builder("plant")
def plant(mk: Maker, obj: ObjectSpec) -> None:
    p = obj.params
    _pot_plant(mk, obj, p["pot_r"], p["pot_h"], p["height"], p["pot_r"] * 2.0)


@builder("small_plant")
def small_plant(mk: Maker, obj: ObjectSpec) -> None:
    p = obj.params
    _pot_plant(mk, obj, p["pot_r"], p["pot_h"], p["height"], p["pot_r"] * 1.7)


@builder("rug")
def rug(mk: Maker, obj: ObjectSpec) -> None:
    p, body, border = obj.params, obj.parts["body"], obj.parts["border"]
    w, d, t = p["width"], p["depth"], 0.012
    if p["shape"] == "oval":
        mk.lathe(border, [(w / 2, 0.0), (w / 2, t * 0.5)], segments=48, scale_y=d / w, smooth=False)
        mk.lathe(body, [(w / 2 - 0.1, t * 0.5), (w / 2 - 0.1, t)], segments=48, scale_y=(d - 0.2) / (w - 0.2), smooth=False)
        return
    if p["pattern"] == "stripes":
        n = 7
        for i in range(n):
            mk.slab(body if i % 2 == 0 else border, -w / 2 + i * w / n, -d / 2, 0, -w / 2 + (i + 1) * w / n, d / 2, t)
        return
    mk.slab(border, -w / 2, -d / 2, 0, w / 2, d / 2, t * 0.5)
    inset = 0.12 if p["pattern"] == "border" else 0.0
    mk.slab(body, -w / 2 + inset, -d / 2 + inset, t * 0.5, w / 2 - inset, d / 2 - inset, t)


@builder("cushion")
def cushion(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    s, t = p["size"], p["thickness"]
    if p["upright"]:
        mk.rounded_box(body, (0, 0.02, s / 2), (s, t, s), t * 0.45)
    else:
        mk.rounded_box(body, (0, 0, t / 2), (s, s, t), t * 0.45)


def _art(mk: Maker, obj: ObjectSpec, w: float, h: float, y: float) -> None:
    """Seeded flat artwork inside a frame: abstract blocks, a landscape, stripes."""
    p, art = obj.params, obj.parts["art"]
    rng = random.Random(p["art_seed"])
    base = look("cream", [236, 230, 214], "paper")
    mk.slab(base, -w / 2, y, -h / 2, w / 2, y + 0.004, h / 2)
    if p["art"] == "landscape":
        sky = look("light blue", [150, 190, 225], "paper")
        mk.slab(sky, -w / 2, y - 0.001, 0.0, w / 2, y + 0.002, h / 2)
        mk.slab(art, -w / 2, y - 0.002, -h / 2, w / 2, y + 0.001, -h / 8)
        mk.slab(look("yellow", [240, 200, 60], "paper"), w / 5, y - 0.003, h / 8, w / 5 + h / 6, y, h / 8 + h / 6)
    elif p["art"] == "stripes":
        for i in range(5):
            if i % 2 == 0:
                mk.slab(art, -w / 2 + i * w / 5, y - 0.002, -h / 2, -w / 2 + (i + 1) * w / 5, y + 0.001, h / 2)
    else:
        for _ in range(4):
            bw, bh = w * rng.uniform(0.2, 0.5), h * rng.uniform(0.2, 0.5)
            x0, z0 = rng.uniform(-w / 2, w / 2 - bw), rng.uniform(-h / 2, h / 2 - bh)
            mk.slab(art, x0, y - 0.002, z0, x0 + bw, y + 0.001, z0 + bh)
        mk.slab(look("black", [30, 30, 30], "paper"), -w / 6, y - 0.003, -h / 2, -w / 6 + 0.02, y, h / 2)


@builder("picture_frame")
def picture_frame(mk: Maker, obj: ObjectSpec) -> None:
    p, frame = obj.params, obj.parts["frame"]
    w, h, b = p["width"], p["height"], p["border"]
    zc = h / 2
    mk.slab(frame, -w / 2, -0.02, h - b, w / 2, 0.02, h)
    mk.slab(frame, -w / 2, -0.02, 0, w / 2, 0.02, b)
    mk.slab(frame, -w / 2, -0.02, b, -w / 2 + b, 0.02, h - b)
    mk.slab(frame, w / 2 - b, -0.02, b, w / 2, 0.02, h - b)
    mk.slab(look("white", [240, 238, 232], "paper"), -w / 2 + b, 0.0, b, w / 2 - b, 0.015, h - b)
    sub = _Shift(mk, zc)
    _art(sub, obj, w - 2 * b - 0.06, h - 2 * b - 0.06, -0.006)


class _Shift:
    """A Maker view that lifts slabs by dz (the art is drawn about its centre)."""

    def __init__(self, mk: Maker, dz: float) -> None:
        self.mk, self.dz = mk, dz

    def slab(self, lk: dict, x0: float, y0: float, z0: float, x1: float, y1: float, z1: float) -> None:
        self.mk.slab(lk, x0, y0, z0 + self.dz, x1, y1, z1 + self.dz)


@builder("poster")
def poster(mk: Maker, obj: ObjectSpec) -> None:
    p, paper = obj.params, obj.parts["paper"]
    w, h = p["width"], p["height"]
    mk.slab(paper, -w / 2, -0.006, 0, w / 2, 0.006, h)
    if p["stripe"]:
        mk.slab(look("black", [30, 30, 34], "paper"), -w / 2, -0.0075, h * 0.12, w / 2, 0.0, h * 0.2)
    if obj.text:
        mk.text(INK, obj.text, at(0.0, -0.0075, h * 0.6), w * 0.9, h * 0.42)


@builder("clock")
def clock(mk: Maker, obj: ObjectSpec) -> None:
    p, rim = obj.params, obj.parts["rim"]
    rad = p["radius"]
    zc = rad
    m = translate(0, 0, zc)
    mk.torus(rim, (0, 0, 0), rad - 0.02, 0.02, m, segments=32, sides=8)
    mk.lathe(look("white", [244, 244, 240], "plastic"), [(rad - 0.02, -0.012), (rad - 0.02, 0.012)], segments=32,
             m=compose(m, ((1, 0, 0, 0), (0, 0, -1, 0), (0, 1, 0, 0))))
    dark = look("black", [20, 20, 22], "plastic")
    for k in range(12):
        a = math.radians(30 * k)
        x, z = (rad - 0.045) * math.sin(a), (rad - 0.045) * math.cos(a)
        mk.box(dark, (x, -0.0135, zc + z), (0.008, 0.002, 0.02))
    for value, length, width in ((p["hour"] * 30 + p["minute"] * 0.5, 0.5, 0.012), (p["minute"] * 6, 0.75, 0.007)):
        lr = (rad - 0.04) * length
        mk.box(dark, (0, -0.016, lr / 2), (width, 0.002, lr), m=compose(m, rot_y(value)))
