"""Builders of cars, vans, buses and bicycles (nose towards local -y)."""

from __future__ import annotations

from generators.synthetic.builders import builder
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker, at, compose, rot_z, translate
from generators.synthetic.spec import ObjectSpec, look

HEAD = {"color": "white", "rgb": [250, 246, 232], "material": "plastic"}
TAIL = {"color": "red", "rgb": [170, 20, 20], "material": "plastic"}
INK = {"color": "black", "rgb": [24, 24, 26], "material": "ink"}


X_AXIS = ((0.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 0.0), (-1.0, 0.0, 0.0, 0.0))  # local z -> x


def wheels(mk: Maker, half_w: float, axles: list[float], r: float, width: float = 0.22) -> None:
    tyre, hub = fixed_look("tyre"), fixed_look("chrome")
    for y in axles:
        for sx in (-1, 1):
            inner = half_w - width if sx > 0 else -half_w
            mk.cylinder(tyre, (0, 0, 0), r, width, 20, m=compose(translate(inner, y, r), X_AXIS))
            outer = half_w - 0.01 if sx > 0 else -half_w - 0.002
            mk.cylinder(hub, (0, 0, 0), r * 0.55, 0.012, 16, m=compose(translate(outer, y, r), X_AXIS))


def side_glass(mk: Maker, glass: dict, half_w: float, y0: float, y1: float, z0: float, z1: float) -> None:
    """Window panes flush with both flanks."""
    for sx in (-1, 1):
        x0, x1 = (half_w - 0.015, half_w + 0.002) if sx > 0 else (-half_w - 0.002, -half_w + 0.015)
        mk.slab(glass, x0, y0, z0, x1, y1, z1)


@builder("car")
def car(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    length, w, h, r = p["length"], p["width"], p["height"], p["wheel_r"]
    glass = fixed_look("window")
    belt = r * 0.45 + (h - r * 0.45) * (0.48 if p["style"] != "suv" else 0.52)
    mk.rounded_box(body, (0, 0, (r * 0.45 + belt) / 2), (w, length, belt - r * 0.45), 0.12)
    cabin = {"sedan": (-0.05, 0.5), "hatchback": (0.12, 0.62), "suv": (0.08, 0.7)}[p["style"]]
    cl = length * cabin[1]
    cy = length * cabin[0]
    ch = h - belt
    mk.rounded_box(glass, (0, cy, belt + ch / 2 - 0.01), (w * 0.86, cl, ch + 0.02), 0.1)
    mk.rounded_box(body, (0, cy, h - 0.035), (w * 0.86 + 0.01, cl * 0.86, 0.07), 0.03)
    for y in (cy - cl * 0.12, cy + cl * 0.32):  # B and C pillars
        mk.box(body, (0, y, belt + ch / 2), (w * 0.865, 0.07, ch - 0.04))
    for sx in (-1, 1):
        mk.box(HEAD, (sx * w * 0.33, -length / 2 + 0.02, belt - 0.12), (w * 0.2, 0.04, 0.08))
        mk.box(TAIL, (sx * w * 0.36, length / 2 - 0.02, belt - 0.1), (w * 0.16, 0.04, 0.07))
    mk.box(fixed_look("dark"), (0, -length / 2 + 0.03, r * 0.7), (w * 0.5, 0.06, 0.16))
    wheels(mk, w / 2, [-length / 2 + length * 0.18, length / 2 - length * 0.19], r)


@builder("van")
def van(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    length, w, h, r = p["length"], p["width"], p["height"], p["wheel_r"]
    glass = fixed_look("window")
    nose = 0.9
    mk.rounded_box(body, (0, nose / 2, (r * 0.45 + h) / 2), (w, length - nose, h - r * 0.45), 0.08)
    mk.rounded_box(body, (0, -length / 2 + nose / 2 + 0.05, (r * 0.45 + h * 0.5) / 2), (w, nose + 0.1, h * 0.5 - r * 0.45), 0.1)
    mk.slab(glass, -w * 0.44, -length / 2 + nose - 0.02, h * 0.5, w * 0.44, -length / 2 + nose + 0.02, h * 0.9)
    side_glass(mk, glass, w / 2, -length / 2 + nose + 0.08, -length / 2 + nose + 0.75, h * 0.52, h * 0.86)
    for sx in (-1, 1):
        mk.box(HEAD, (sx * w * 0.33, -length / 2 + 0.02, h * 0.36), (w * 0.2, 0.04, 0.1))
        mk.box(TAIL, (sx * w * 0.42, length / 2 - 0.02, h * 0.4), (w * 0.1, 0.04, 0.25))
    if obj.text:
        for sx in (-1, 1):
            face = at(sx * (w / 2 + 0.002), 0.45, h * 0.6, yaw=90.0 * sx)
            mk.text(INK if body["color"] in ("white", "silver", "yellow", "orange", "light grey") else
                    {"color": "white", "rgb": [245, 245, 245], "material": "ink"}, obj.text, face, length * 0.55, h * 0.2)
    wheels(mk, w / 2, [-length / 2 + 0.85, length / 2 - 0.9], r)


@builder("bus")
def bus(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    length, w, h, r = p["length"], p["width"], p["height"], p["wheel_r"]
    glass = fixed_look("window")
    mk.rounded_box(body, (0, 0, (0.3 + h) / 2), (w, length, h - 0.3), 0.12)
    side_glass(mk, glass, w / 2, -length / 2 + 0.5, length / 2 - 0.6, h * 0.45, h * 0.85)
    for sx in (-1, 1):
        mk.box(HEAD, (sx * w * 0.35, -length / 2 + 0.02, 0.7), (0.3, 0.04, 0.14))
    mk.slab(glass, -w * 0.45, -length / 2 - 0.002, h * 0.35, w * 0.45, -length / 2 + 0.02, h * 0.8)
    board = {"color": "black", "rgb": [20, 20, 20], "material": "plastic"}
    amber = {"color": "orange", "rgb": [255, 170, 40], "material": "ink", "glow": 2.0}
    mk.slab(board, -w * 0.4, -length / 2 - 0.002, h * 0.82, w * 0.4, -length / 2 + 0.02, h * 0.95)
    mk.slab(board, w / 2 - 0.01, -length / 2 + 0.6, h * 0.86, w / 2 + 0.002, -length / 2 + 3.4, h * 0.97)
    mk.slab(board, -w / 2 - 0.002, -length / 2 + 0.6, h * 0.86, -w / 2 + 0.01, -length / 2 + 3.4, h * 0.97)
    if obj.text:
        mk.text(amber, obj.text, at(0, -length / 2 - 0.0028, h * 0.885), w * 0.76, h * 0.1)
        for sx in (-1, 1):
            mk.text(amber, obj.text, at(sx * (w / 2 + 0.0028), -length / 2 + 2.0, h * 0.915, yaw=90.0 * sx), 2.6, h * 0.09)
    wheels(mk, w / 2, [-length / 2 + 2.3, length / 2 - 2.8], r, 0.3)


@builder("bicycle")
def bicycle(mk: Maker, obj: ObjectSpec) -> None:
    p, frame = obj.params, obj.parts["frame"]
    r, length = p["wheel_r"], p["length"]
    tyre, metal, dark = fixed_look("tyre"), fixed_look("chrome"), fixed_look("dark")
    front, back = -length / 2 + r + 0.02, length / 2 - r - 0.02
    for y in (front, back):
        ring = compose(translate(0, y, r + 0.02), rot_z(90))
        mk.torus(tyre, (0, 0, 0), r, 0.02, ring, segments=28, sides=6)
        mk.rod(metal, (-0.03, y, r + 0.02), (0.03, y, r + 0.02), 0.02, 8)
    seat = (0, back - 0.32, r + 0.6)
    head = (0, front + 0.2, r + 0.62)
    crank = (0, back - 0.42, r * 0.9)
    tube = 0.018
    mk.rod(frame, crank, seat, tube)
    mk.rod(frame, crank, head, tube)
    mk.rod(frame, (0, seat[1] + 0.03, seat[2] - 0.06), (0, head[1], head[2] - 0.02) if p["style"] == "sport"
           else (0, head[1], head[2] - 0.2), tube)
    for sx in (-1, 1):
        mk.rod(frame, (sx * 0.05, back, r + 0.02), crank, 0.012)
        mk.rod(frame, (sx * 0.05, back, r + 0.02), (0, seat[1], seat[2] - 0.05), 0.011)
        mk.rod(frame, (sx * 0.05, front, r + 0.02), head, 0.013)
    mk.rod(metal, head, (0, head[1] - 0.05, head[2] + 0.16), 0.014)
    bar = head[2] + 0.16
    mk.rod(dark, (-0.26, head[1] - 0.06, bar), (0.26, head[1] - 0.06, bar), 0.012)
    mk.rounded_box(dark, (0, seat[1] + 0.02, seat[2] + 0.05), (0.12, 0.25, 0.05), 0.02)
    mk.rod(metal, seat, (0, seat[1] + 0.02, seat[2] + 0.03), 0.012)
    if p["basket"]:
        mk.slab({"color": "light brown", "rgb": [180, 140, 90], "material": "wood"}, -0.16, front - 0.12, bar - 0.3,
                0.16, front + 0.16, bar - 0.06)
