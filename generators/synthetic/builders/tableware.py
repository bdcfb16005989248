"""Builders of small things: mugs, bottles, bowls, vases, books, boxes, jars."""

from __future__ import annotations

import math

from generators.synthetic.builders import builder
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker, at, compose, scale, translate
from generators.synthetic.spec import ObjectSpec, look

WALL = 0.006
INK = {"color": "black", "rgb": [24, 24, 26], "material": "ink"}


def label_text(mk: Maker, body: str | None, front_y: float, z: float, width: float, height: float) -> None:
    """Printed text on a front face (local -y), slightly proud of it."""
    if body:
        mk.text(INK, body, at(0.0, front_y - 0.0015, z), width, height)


@builder("mug")
def mug(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    r, h = p["radius"], p["height"]
    mk.lathe(body, [(r * p["taper"], 0.0), (r, h), (r - WALL, h), (r - WALL, 0.012)], segments=28)
    mk.cylinder(look("dark brown", [52, 30, 18], "ceramic"), (0, 0, h * 0.7), r - WALL - 0.0005, 0.002, 20)
    if p["handle"] == "round":
        m = compose(translate(r - 0.004, 0.0, h * 0.52), scale(1.0, 1.0, 1.55))
        mk.torus(body, (0, 0, 0), 0.02, 0.0065, m, segments=16, sides=8, arc_deg=180, start_deg=-90)
    else:
        mk.slab(body, r - 0.004, -0.005, h * 0.78, r + 0.026, 0.005, h * 0.78 + 0.011)
        mk.slab(body, r - 0.004, -0.005, h * 0.22, r + 0.026, 0.005, h * 0.22 + 0.011)
        mk.slab(body, r + 0.016, -0.005, h * 0.22, r + 0.026, 0.005, h * 0.78 + 0.011)


@builder("bottle")
def bottle(mk: Maker, obj: ObjectSpec) -> None:
    p, body, cap = obj.params, obj.parts["body"], obj.parts["cap"]
    r, h, neck = p["radius"], p["height"], p["neck"]
    body_h = h * (1 - neck) - 0.02
    if p["variant"] == "square":
        mk.box(body, (0, 0, body_h / 2), (2 * r * 0.92, 2 * r * 0.92, body_h))
        mk.cylinder(body, (0, 0, body_h), r * 0.35, h - body_h - 0.02, 14)
    else:
        shoulder = body_h + (0.04 if p["variant"] == "wine" else 0.015)
        mk.lathe(body, [(r * 0.96, 0.0), (r, 0.006), (r, body_h), (r * 0.62, body_h + 0.025), (r * 0.34, shoulder + 0.01),
                        (r * 0.32, h - 0.02)], segments=24)
    mk.cylinder(cap, (0, 0, h - 0.022), r * 0.38, 0.022, 14)
    mk.cylinder(look("white", [240, 238, 232], "paper"), (0, 0, body_h * 0.35), r * 1.002 if p["variant"] != "square" else r * 0.1,
                body_h * 0.3, 24)


@builder("bowl")
def bowl(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    r, h = p["radius"], p["height"]
    mk.lathe(body, [(r * 0.45, 0.0), (r * 0.82, h * 0.45), (r, h), (r - WALL, h), (r * 0.8, h * 0.45), (r * 0.42, 0.01)],
             segments=32)
    if p["fruit"]:
        colours = ([200, 40, 30], [236, 170, 30], [110, 160, 40])
        for k in range(3):
            a = math.radians(120 * k + 20)
            fr = r * 0.32
            mk.sphere(look("red", colours[k], "plastic"), (r * 0.35 * math.cos(a), r * 0.35 * math.sin(a), h + 0.02 - fr),
                      (fr, fr, fr), 12, 6)


@builder("vase")
def vase(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    r, h = p["radius"], p["height"]
    vh = h * (0.7 if p["flowers"] else 1.0)
    profiles = {
        "round": [(r * 0.6, 0.0), (r * 1.2, vh * 0.35), (r * 0.9, vh * 0.75), (r * 0.5, vh * 0.92), (r * 0.6, vh)],
        "tall": [(r * 0.8, 0.0), (r, vh * 0.5), (r * 0.75, vh * 0.9), (r * 0.85, vh)],
        "amphora": [(r * 0.5, 0.0), (r * 1.15, vh * 0.45), (r * 0.55, vh * 0.8), (r * 0.45, vh * 0.9), (r * 0.7, vh)],
    }
    prof = profiles[p["variant"]]
    inner = [(max(0.01, rad - WALL), z) for rad, z in reversed(prof[-2:])]
    mk.lathe(body, prof + [(prof[-1][0] - WALL, vh), (inner[-1][0], vh - 0.05)], segments=28)
    if p["flowers"]:
        stem = look("green", [60, 110, 50], "foliage")
        heads = ([220, 60, 80], [240, 200, 60], [240, 240, 240], [150, 80, 190])
        for k in range(5):
            a = math.radians(72 * k)
            top = (r * 0.55 * math.cos(a), r * 0.55 * math.sin(a), h - 0.03)
            mk.rod(stem, (0, 0, vh * 0.7), top, 0.003, 6)
            mk.sphere(look("pink", heads[k % 4], "fabric"), top, (0.028, 0.028, 0.025), 10, 6)


@builder("book")
def book(mk: Maker, obj: ObjectSpec) -> None:
    p, cover = obj.params, obj.parts["cover"]
    w, h, t = p["width"], p["height"], p["thickness"]
    pages = fixed_look("pages")
    if p["lying"]:  # lying flat: x = height, y = width, z = thickness; spine towards -y
        mk.slab(cover, -h / 2, -w / 2, 0, h / 2, w / 2, 0.004)
        mk.slab(cover, -h / 2, -w / 2, t - 0.004, h / 2, w / 2, t)
        mk.slab(cover, -h / 2, -w / 2, 0, h / 2, -w / 2 + 0.004, t)
        mk.slab(pages, -h / 2 + 0.004, -w / 2 + 0.004, 0.004, h / 2 - 0.004, w / 2 - 0.002, t - 0.004)
        return
    # upright: x = thickness, y = width (spine at -y faces the room), z = height
    mk.slab(cover, -t / 2, -w / 2, 0, -t / 2 + 0.004, w / 2, h)
    mk.slab(cover, t / 2 - 0.004, -w / 2, 0, t / 2, w / 2, h)
    mk.slab(cover, -t / 2, -w / 2, 0, t / 2, -w / 2 + 0.004, h)
    mk.slab(pages, -t / 2 + 0.004, -w / 2 + 0.004, 0.004, t / 2 - 0.004, w / 2 - 0.002, h - 0.004)
    band = look("gold", [200, 170, 90], "paper")
    mk.slab(band, -t / 2 + 0.002, -w / 2 - 0.001, h * 0.8, t / 2 - 0.002, -w / 2 + 0.002, h * 0.83)


@builder("box")
def box(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    w, d, h = p["width"], p["depth"], p["height"]
    mk.slab(body, -w / 2, -d / 2, 0, w / 2, d / 2, h * (0.82 if p["lid"] else 1.0))
    if p["lid"]:
        mk.slab(body, -w / 2, -d / 2, h * 0.82, w / 2, d / 2, h)
        tape = look("tan", [190, 150, 100], "paper")
        mk.slab(tape, -0.025, -d / 2, h * 0.82 - 0.001, 0.025, d / 2, h * 0.82 + 0.001)
    label_text(mk, obj.text, -d / 2, h * 0.45, w * 0.8, h * 0.32)


@builder("jar")
def jar(mk: Maker, obj: ObjectSpec) -> None:
    p, body, lid = obj.params, obj.parts["body"], obj.parts["lid"]
    r, h = p["radius"], p["height"]
    mk.lathe(body, [(r * 0.95, 0.0), (r, 0.01), (r, h * 0.82), (r * 0.8, h * 0.88)], segments=24)
    mk.cylinder(lid, (0, 0, h * 0.88), r * 0.85, h * 0.12, 24)
    mk.cylinder(look("white", [244, 240, 228], "paper"), (0, 0, h * 0.3), r + 0.0008, h * 0.34, 24)
    label_text(mk, obj.text, -r - 0.0008, h * 0.47, r * 1.3, h * 0.2)


@builder("bag")
def bag(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    w, d, h = p["width"], p["depth"], p["height"]
    strap = {"color": "black", "rgb": [30, 30, 32], "material": "fabric"}
    if p["variant"] == "duffel":
        length, rad = p["height"] + 0.1, w / 2 * 0.8
        mk.rounded_box(body, (0, 0, rad), (length - 0.02, d, 2 * rad), min(rad, d / 2) * 0.9)
        mk.torus(strap, (0, 0, 0), 0.12, 0.012, compose(translate(0, 0, 2 * rad - 0.01), scale(1.0, 1.0, 0.45)),
                 segments=16, sides=6, arc_deg=180)
        return
    if p["variant"] == "tote":
        mk.slab(body, -w / 2, -d / 2 + 0.03, 0, w / 2, d / 2 - 0.03, h)
        for sx in (-1, 1):
            mk.torus(strap, (0, 0, 0), 0.07, 0.008, translate(sx * w / 4, 0, h), segments=12, sides=5, arc_deg=180)
        return
    mk.rounded_box(body, (0, 0.0, h / 2), (w, d, h), 0.06)
    mk.rounded_box(body, (0, -d / 2 - 0.0, h * 0.32), (w * 0.7, 0.06, h * 0.36), 0.025)
    mk.torus(strap, (0, 0, 0), 0.06, 0.01, translate(0, d / 4, h), segments=12, sides=5, arc_deg=180)
