"""Furniture builders: seating, tables, storage, beds, counters, wall shelves (local frame, front = -y)."""

from __future__ import annotations

import math

from generators.synthetic.builders import builder
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker
from generators.synthetic.spec import ObjectSpec, look


def shade(base: dict, factor: float) -> dict:
    """The same material a little darker or lighter (drawer fronts, plinths, seams)."""
    rgb = [max(0, min(255, round(c * factor))) for c in base["rgb"]]
    return look(base["color"], rgb, base["material"])


def legs4(mk: Maker, lk: dict, w: float, d: float, h: float, t: float, inset: float = 0.02, taper: bool = False) -> None:
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * (w / 2 - inset - t / 2), sy * (d / 2 - inset - t / 2)
            if taper:
                mk.cylinder(lk, (x, y, 0.0), t * 0.35, h, 10, radius_top=t / 2)
            else:
                mk.box(lk, (x, y, h / 2), (t, t, h))


@builder("chair")
def chair(mk: Maker, obj: ObjectSpec) -> None:
    p, seat, frame = obj.params, obj.parts["seat"], obj.parts["frame"]
    w, d, sh, bh, t = p["width"], p["depth"], p["seat_h"], p["back_h"], p["leg"]
    top = sh + bh
    if p["variant"] == "sled":  # tube frame: two runners, uprights and a back shell
        r = t / 3
        for sx in (-1, 1):
            x = sx * (w / 2 - r - 0.01)
            mk.rod(frame, (x, -d / 2 + r, r), (x, d / 2 - r, r), r)
            mk.rod(frame, (x, -d / 2 + r + 0.02, r), (x, -d / 2 + 0.05, sh - 0.04), r)
            mk.rod(frame, (x, d / 2 - r, r), (x, d / 2 - 0.05, top - 0.02), r)
        mk.rounded_box(seat, (0, 0, sh - 0.02), (w - 0.02, d - 0.04, 0.05), 0.02)
        mk.rounded_box(seat, (0, d / 2 - 0.06, sh + bh * 0.62), (w - 0.04, 0.04, bh * 0.6), 0.015)
        return
    legs4(mk, frame, w, d, sh - 0.04, t, 0.015)
    mk.slab(seat, -w / 2, -d / 2, sh - 0.045, w / 2, d / 2, sh)
    for sx in (-1, 1):  # back posts
        x = sx * (w / 2 - 0.015 - t / 2)
        mk.box(frame, (x, d / 2 - 0.015 - t / 2, sh + bh / 2), (t, t, bh))
    if p["variant"] == "spindle":
        mk.box(frame, (0, d / 2 - 0.015 - t / 2, top - 0.03), (w - 0.03, t, 0.06))
        n = 4
        for i in range(n):
            x = -w / 2 + 0.015 + t + (i + 1) * (w - 0.03 - 2 * t) / (n + 1)
            mk.box(frame, (x, d / 2 - 0.015 - t / 2, sh + (bh - 0.06) / 2), (0.015, 0.015, bh - 0.06))
    else:
        mk.box(seat if seat["material"] in ("fabric", "leather") else frame,
               (0, d / 2 - 0.015 - t / 2, sh + bh * 0.68), (w - 0.03 - 2 * t + 0.004, 0.022, bh * 0.55))


def _upholstered(mk: Maker, obj: ObjectSpec, width: float, depth: float, seat_h: float, height: float, arm_h: float,
                 seats: int, arm: float = 0.17) -> None:
    """Sofa and armchair: base on short legs, seat cushions, back, arms."""
    p, body, legs = obj.params, obj.parts["body"], obj.parts["legs"]
    leg_h = 0.08 if p["variant"] != "low" else 0.05
    legs4(mk, legs, width, depth, leg_h, 0.045, 0.06, taper=legs["material"] == "wood")
    rad = 0.06 if p["variant"] == "rounded" else 0.025
    base_top = seat_h - 0.08
    back_d = 0.22
    mk.rounded_box(body, (0, 0, (leg_h + base_top) / 2), (width, depth, base_top - leg_h), rad * 0.6)
    mk.rounded_box(body, (0, depth / 2 - back_d / 2, (base_top + height) / 2 - 0.001),
                   (width - 0.002, back_d, height - base_top - 0.002), rad)
    for sx in (-1, 1):
        mk.rounded_box(body, (sx * (width / 2 - arm / 2), 0, (base_top + arm_h) / 2), (arm, depth, arm_h - base_top), rad)
    inner = width - 2 * arm
    cw = inner / seats
    cushion = shade(body, 1.06)
    for i in range(seats):
        x = -inner / 2 + cw * (i + 0.5)
        mk.rounded_box(cushion, (x, -back_d / 2 + 0.0, seat_h), (cw - 0.01, depth - back_d - 0.02, 0.16), 0.04)
    if p["variant"] == "wing":
        for sx in (-1, 1):
            mk.rounded_box(body, (sx * (width / 2 - arm / 2), depth / 2 - 0.2, (arm_h + height) / 2 - 0.02),
                           (arm, 0.36, height - arm_h - 0.04), 0.04)


@builder("sofa")
def sofa(mk: Maker, obj: ObjectSpec) -> None:
    p = obj.params
    _upholstered(mk, obj, p["width"], p["depth"], p["seat_h"], p["height"], p["arm_h"], p["seats"])


@builder("armchair")
def armchair(mk: Maker, obj: ObjectSpec) -> None:
    p = obj.params
    _upholstered(mk, obj, p["width"], p["depth"], p["seat_h"], p["height"], p["arm_h"], 1, arm=0.16)


def _table_top(mk: Maker, lk: dict, p: dict) -> None:
    h, t = p["height"], p["top_t"]
    if p["shape"] == "round":
        mk.cylinder(lk, (0, 0, h - t), p["width"] / 2, t, 40, smooth=False)
    else:
        mk.slab(lk, -p["width"] / 2, -p["depth"] / 2, h - t, p["width"] / 2, p["depth"] / 2, h)


@builder("table")
def table(mk: Maker, obj: ObjectSpec) -> None:
    p, top, legs = obj.params, obj.parts["top"], obj.parts["legs"]
    h, t = p["height"], p["top_t"]
    _table_top(mk, top, p)
    if p["legs"] == "pedestal":
        mk.cylinder(legs, (0, 0, 0), p["width"] * 0.25, 0.04, 32)
        mk.cylinder(legs, (0, 0, 0.04), 0.05, h - t - 0.04, 16)
        return
    w, d = p["width"], p["depth"]
    if p["shape"] == "round":
        w = d = p["width"] * 0.68
    if p["legs"] == "trestle":
        for sx in (-1, 1):
            x = sx * (w / 2 - 0.16)
            mk.box(legs, (x, 0, (h - t) / 2), (0.06, 0.08, h - t))
            mk.box(legs, (x, 0, 0.03), (0.07, d - 0.12, 0.06))
            mk.box(legs, (x, 0, h - t - 0.03), (0.07, d - 0.16, 0.05))
        mk.box(legs, (0, 0, 0.25), (w - 0.32, 0.05, 0.05))
        return
    legs4(mk, legs, w, d, h - t, 0.05, 0.04)
    mk.box(legs, (0, d / 2 - 0.07, h - t - 0.04), (w - 0.16, 0.02, 0.07))
    mk.box(legs, (0, -d / 2 + 0.07, h - t - 0.04), (w - 0.16, 0.02, 0.07))


@builder("coffee_table")
def coffee_table(mk: Maker, obj: ObjectSpec) -> None:
    p, top, legs = obj.params, obj.parts["top"], obj.parts["legs"]
    h, t = p["height"], p["top_t"]
    d = p["width"] if p["shape"] == "round" else p["depth"]
    if p["shape"] == "round":
        mk.cylinder(top, (0, 0, h - t), p["width"] / 2, t, 40, smooth=False)
        for k in range(3):
            a = math.radians(90 + 120 * k)
            mk.cylinder(legs, (0.3 * p["width"] * math.cos(a), 0.3 * p["width"] * math.sin(a), 0), 0.022, h - t, 10)
        return
    mk.slab(top, -p["width"] / 2, -d / 2, h - t, p["width"] / 2, d / 2, h)
    legs4(mk, legs, p["width"], d, h - t, 0.045, 0.03, taper=legs["material"] == "wood")
    if p["shelf"]:
        mk.slab(top, -p["width"] / 2 + 0.06, -d / 2 + 0.06, 0.1, p["width"] / 2 - 0.06, d / 2 - 0.06, 0.125)


@builder("desk")
def desk(mk: Maker, obj: ObjectSpec) -> None:
    p, top, frame = obj.params, obj.parts["top"], obj.parts["frame"]
    w, d, h = p["width"], p["depth"], p["height"]
    mk.slab(top, -w / 2, -d / 2, h - 0.03, w / 2, d / 2, h)
    if p["variant"] == "legs":
        legs4(mk, frame, w, d, h - 0.03, 0.045, 0.03)
        mk.box(frame, (0, d / 2 - 0.05, h - 0.1), (w - 0.12, 0.02, 0.12))
    elif p["variant"] == "panel":
        for sx in (-1, 1):
            mk.slab(frame, sx * w / 2 - (0.03 if sx > 0 else 0), -d / 2 + 0.03, 0, sx * w / 2 + (0.03 if sx < 0 else 0),
                    d / 2 - 0.03, h - 0.03)
        mk.slab(frame, -w / 2 + 0.03, d / 2 - 0.05, 0.25, w / 2 - 0.03, d / 2 - 0.03, h - 0.03)
    else:  # drawer pedestal on the right, a leg pair on the left
        pw = 0.42
        mk.slab(frame, w / 2 - pw, -d / 2 + 0.02, 0, w / 2 - 0.01, d / 2 - 0.02, h - 0.03)
        front = shade(frame, 0.9)
        for i in range(3):
            z0 = 0.04 + i * (h - 0.1) / 3
            mk.slab(front, w / 2 - pw + 0.02, -d / 2 + 0.005, z0 + 0.01, w / 2 - 0.03, -d / 2 + 0.02, z0 + (h - 0.1) / 3 - 0.01)
            mk.box(fixed_look("chrome"), (w / 2 - pw / 2 - 0.01, -d / 2 + 0.003, z0 + (h - 0.1) / 6), (0.1, 0.01, 0.015))
        for sy in (-1, 1):
            mk.box(frame, (-w / 2 + 0.05, sy * (d / 2 - 0.05), (h - 0.03) / 2), (0.05, 0.05, h - 0.03))


@builder("shelf")
def shelf(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    w, d, h, t, n = p["width"], p["depth"], p["height"], p["t"], p["boards"]
    for sx in (-1, 1):
        mk.slab(body, sx * w / 2 - (t if sx > 0 else 0), -d / 2, 0, sx * w / 2 + (t if sx < 0 else 0), d / 2, h)
    mk.slab(body, -w / 2 + t, -d / 2, h - t, w / 2 - t, d / 2, h)
    mk.slab(shade(body, 0.85), -w / 2 + t, d / 2 - 0.012, 0, w / 2 - t, d / 2, h - t)
    gap = (h - t) / n
    for i in range(n):
        z = t + i * gap
        mk.slab(body, -w / 2 + t, -d / 2 + 0.01, z - t, w / 2 - t, d / 2 - 0.012, z)
    if p["variant"] == "doors":
        door = shade(body, 0.93)
        for sx in (-1, 1):
            mk.slab(door, (min(0, sx) * (w / 2 - t)) + 0.003, -d / 2, t, max(0, sx) * (w / 2 - t) - 0.003, -d / 2 + 0.018,
                    t + gap - t - 0.004)
            mk.box(fixed_look("chrome"), (sx * 0.05, -d / 2 + 0.005, t + gap * 0.7), (0.012, 0.012, 0.08))


def _fronts(mk: Maker, body: dict, w: float, d: float, z0: float, z1: float, columns: int, variant: str) -> None:
    """Door or drawer fronts with handles across a carcass front (slightly proud of it)."""
    front, chrome = shade(body, 0.94), fixed_look("chrome")
    cw = w / columns
    for c in range(columns):
        x0, x1 = -w / 2 + c * cw + 0.004, -w / 2 + (c + 1) * cw - 0.004
        kind = variant if variant != "mixed" else ("drawers" if c % 2 == 0 else "doors")
        if kind == "drawers":
            rows = 3
            for k in range(rows):
                za, zb = z0 + k * (z1 - z0) / rows + 0.004, z0 + (k + 1) * (z1 - z0) / rows - 0.004
                mk.slab(front, x0, -d / 2, za, x1, -d / 2 + 0.016, zb)
                mk.box(chrome, ((x0 + x1) / 2, -d / 2 + 0.003, (za + zb) / 2), (min(0.12, cw * 0.4), 0.008, 0.014))
        else:
            mk.slab(front, x0, -d / 2, z0 + 0.004, x1, -d / 2 + 0.016, z1 - 0.004)
            hx = x1 - 0.04 if c % 2 == 0 else x0 + 0.04
            mk.box(chrome, (hx, -d / 2 + 0.003, z1 - 0.12), (0.012, 0.008, 0.1))


@builder("cabinet")
def cabinet(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    w, d, h = p["width"], p["depth"], p["height"]
    mk.slab(shade(body, 0.7), -w / 2 + 0.04, -d / 2 + 0.04, 0, w / 2 - 0.04, d / 2 - 0.02, 0.08)
    mk.slab(body, -w / 2 + 0.01, -d / 2 + 0.016, 0.08, w / 2 - 0.01, d / 2, h - 0.03)
    mk.slab(body, -w / 2, -d / 2, h - 0.03, w / 2, d / 2, h)
    _fronts(mk, body, w - 0.02, d, 0.08, h - 0.03, p["columns"], p["variant"])


@builder("nightstand")
def nightstand(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    w, d, h = p["width"], p["depth"], p["height"]
    legs4(mk, body, w, d, 0.12, 0.035, 0.02)
    mk.slab(body, -w / 2, -d / 2 + 0.016, 0.12, w / 2, d / 2, h - 0.025)
    mk.slab(body, -w / 2, -d / 2, h - 0.025, w / 2, d / 2, h)
    front, chrome = shade(body, 0.94), fixed_look("chrome")
    n = p["drawers"]
    for k in range(n):
        za, zb = 0.12 + k * (h - 0.145) / n + 0.004, 0.12 + (k + 1) * (h - 0.145) / n - 0.004
        mk.slab(front, -w / 2 + 0.01, -d / 2, za, w / 2 - 0.01, -d / 2 + 0.016, zb)
        mk.box(chrome, (0, -d / 2 + 0.003, (za + zb) / 2), (0.08, 0.008, 0.014))


@builder("bed")
def bed(mk: Maker, obj: ObjectSpec) -> None:
    p, bedding, frame = obj.params, obj.parts["bedding"], obj.parts["frame"]
    w, length, top, head = p["width"], p["length"], p["top_h"], p["head_h"]
    fw = w + 0.08
    mk.slab(frame, -fw / 2, -length / 2, 0.08, fw / 2, length / 2 - 0.06, top - 0.2)
    legs4(mk, frame, fw, length - 0.06, 0.08, 0.06, 0.02)
    # the headboard stands at the back (local +y) against the wall
    if p["variant"] == "padded":
        mk.rounded_box(frame, (0, length / 2 - 0.05, head / 2 + 0.001), (fw, 0.1, head - 0.002), 0.04)
    elif p["variant"] == "slatted":
        mk.slab(frame, -fw / 2, length / 2 - 0.06, 0, -fw / 2 + 0.06, length / 2, head)
        mk.slab(frame, fw / 2 - 0.06, length / 2 - 0.06, 0, fw / 2, length / 2, head)
        mk.slab(frame, -fw / 2, length / 2 - 0.06, head - 0.08, fw / 2, length / 2, head)
        for i in range(7):
            x = -fw / 2 + 0.06 + (i + 0.5) * (fw - 0.12) / 7
            mk.box(frame, (x, length / 2 - 0.03, (top + head - 0.08) / 2), (0.05, 0.03, head - 0.08 - top))
    else:
        mk.slab(frame, -fw / 2, length / 2 - 0.06, 0, fw / 2, length / 2, head)
    mattress = fixed_look("pages")
    mk.rounded_box(mattress, (0, -0.03, top - 0.1), (w, length - 0.12, 0.2), 0.05)
    for sx in ((-1, 1) if w > 1.2 else (0,)):
        mk.rounded_box(look("white", [240, 240, 236], "fabric"), (sx * w / 4, length / 2 - 0.3, top + 0.06),
                       (min(0.62, w / 2 - 0.06), 0.36, 0.14), 0.06)
    # the duvet covers the lower two thirds and hangs over the sides
    y0, y1 = -length / 2 + 0.04, length / 2 - 0.62
    mk.rounded_box(bedding, (0, (y0 + y1) / 2, top - 0.06), (w + 0.06, y1 - y0, 0.12), 0.04)


@builder("counter")
def counter(mk: Maker, obj: ObjectSpec) -> None:
    p, cab, worktop = obj.params, obj.parts["cabinets"], obj.parts["worktop"]
    w, d, h, t = p["units"] * p["unit_w"], p["depth"], p["height"], p["worktop_t"]
    mk.slab(look("black", [34, 34, 34], "plastic"), -w / 2 + 0.01, -d / 2 + 0.06, 0, w / 2 - 0.01, d / 2, 0.1)
    mk.slab(cab, -w / 2, -d / 2 + 0.036, 0.1, w / 2, d / 2, h - t)
    _fronts(mk, cab, w, d - 0.02, 0.1, h - t, p["units"], p["variant"])
    mk.slab(worktop, -w / 2, -d / 2, h - t, w / 2, d / 2, h)
    if p["sink"]:
        metal = fixed_look("chrome")
        sx = w / 2 - p["unit_w"] * 0.5
        mk.slab(metal, sx - 0.22, -0.18, h - 0.004, sx + 0.22, 0.16, h + 0.002)
        mk.slab(look("dark grey", [70, 72, 76], "metal"), sx - 0.19, -0.15, h - 0.0, sx + 0.19, 0.13, h + 0.003)
        mk.cylinder(metal, (sx, d / 2 - 0.06, h), 0.018, 0.26, 12)
        mk.rod(metal, (sx, d / 2 - 0.06, h + 0.26), (sx, d / 2 - 0.22, h + 0.24), 0.012)


@builder("wall_shelf")
def wall_shelf(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    w, d, t = p["width"], p["depth"], p["t"]
    mk.slab(body, -w / 2, -d / 2, 0, w / 2, d / 2, t)
    if p["brackets"]:
        for sx in (-1, 1):
            mk.slab(fixed_look("dark"), sx * (w / 2 - 0.1) - 0.01, d / 2 - 0.02, 0.0, sx * (w / 2 - 0.1) + 0.01, d / 2, t)
