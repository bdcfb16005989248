"""Builders of cars, vans, buses and bicycles (nose towards local -y)."""

from __future__ import annotations

from generators.synthetic.builders import builder
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker, at, compose, rot_z, translate
from generators.synthetic.spec import ObjectSpec

HEAD = {"color": "white", "rgb": [250, 246, 232], "material": "plastic"}
TAIL = {"color": "red", "rgb": [170, 20, 20], "material": "plastic"}
INK = {"color": "black", "rgb": [24, 24, 26], "material": "ink"}


X_AXIS = ((0.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 0.0), (-1.0, 0.0, 0.0, 0.0))  # local z -> x
ACROSS = ((0.0, 0.0, 1.0, 0.0), (1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0))  # a side profile (y, z) extruded along x


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
    low = r * 0.45
    belt = low + (h - low) * (0.5 if p["style"] != "suv" else 0.55)
    half = length / 2
    # the lower body in side view (y forward = -y, z up), extruded across the width
    nose = {"sedan": 0.16, "hatchback": 0.12, "suv": 0.1}[p["style"]]
    side = [(-half, low + 0.12), (-half + 0.08, low), (half - 0.08, low), (half, low + 0.1), (half, belt - 0.06),
            (half - 0.12, belt), (-half + length * 0.25, belt), (-half + 0.05, belt - nose)]
    mk.prism(body, side, -w / 2, w / 2, ACROSS)
    # the glasshouse: windscreen and rear window sloped, roof panel and pillars in the body colour
    front, back = {"sedan": (-0.22, 0.2), "hatchback": (-0.12, 0.38), "suv": (-0.16, 0.42)}[p["style"]]
    f0, b0 = -half + length * 0.25, half - length * (0.5 - back) * 0.55 - 0.05
    f1, b1 = f0 + length * 0.14, b0 - length * (0.06 if p["style"] != "sedan" else 0.12)
    cabin = [(f0, belt), (b0, belt), (b1, h - 0.05), (f1, h - 0.05)]
    mk.prism(glass, cabin, -w * 0.43, w * 0.43, ACROSS)
    mk.prism(body, [(f1 - 0.02, h - 0.055), (b1 + 0.02, h - 0.055), (b1 - 0.02, h), (f1 + 0.02, h)], -w * 0.435, w * 0.435, ACROSS)
    for sx in (-1, 1):  # door pillars, standing just proud of the side glass
        x0 = sx * w * 0.432
        for y in (f0 + (b0 - f0) * 0.48,):
            mk.slab(body, min(x0, x0 + sx * 0.012), y - 0.04, belt, max(x0, x0 + sx * 0.012), y + 0.04, h - 0.05)
    for sx in (-1, 1):
        mk.box(HEAD, (sx * w * 0.33, -length / 2 + 0.02, belt - nose - 0.07), (w * 0.2, 0.04, 0.08))
        mk.box(TAIL, (sx * w * 0.36, length / 2 - 0.02, belt - 0.14), (w * 0.16, 0.04, 0.07))
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
