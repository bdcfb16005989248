"""Builders of street furniture: benches, lamps, bins, cones, signs, traffic lights, hydrants, bollards, kiosks,
planters and mailboxes."""

from __future__ import annotations

from generators.synthetic.builders import builder
from generators.synthetic.builders.decor import foliage_blobs
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker, at, compose, rot_x, translate
from generators.synthetic.spec import ObjectSpec, look

INK = {"color": "black", "rgb": [24, 24, 26], "material": "ink"}
WHITE_INK = {"color": "white", "rgb": [245, 245, 242], "material": "ink"}
LAMP_GLOW = {"color": "white", "rgb": [255, 236, 200], "material": "plastic", "glow": 12.0}
LAMP_OFF = {"color": "white", "rgb": [220, 220, 214], "material": "glass"}


def ink_on(plate: dict) -> dict:
    return INK if plate["color"] in ("white", "yellow", "cream", "light grey", "silver", "orange") else WHITE_INK


@builder("bench")
def bench(mk: Maker, obj: ObjectSpec) -> None:
    p, seat, frame = obj.params, obj.parts["seat"], obj.parts["frame"]
    length, d, sh, h = p["length"], p["depth"], p["seat_h"], p["height"]
    for sx in (-1, 1):
        x = sx * (length / 2 - 0.12)
        mk.slab(frame, x - 0.03, -d / 2 + 0.03, 0, x + 0.03, -d / 2 + 0.09, sh - 0.04)
        mk.slab(frame, x - 0.03, d / 2 - 0.15, 0, x + 0.03, d / 2 - 0.09, sh - 0.04)
        mk.slab(frame, x - 0.03, -d / 2 + 0.03, sh - 0.06, x + 0.03, d / 2 - 0.06, sh - 0.03)
        if p["variant"] != "backless":
            mk.slab(frame, x - 0.03, d / 2 - 0.1, sh - 0.06, x + 0.03, d / 2 - 0.04, h)
    slats = 4
    for k in range(slats):
        y0 = -d / 2 + (k * (d - 0.16)) / slats
        mk.slab(seat, -length / 2, y0, sh - 0.03, length / 2, y0 + (d - 0.16) / slats - 0.015, sh)
    if p["variant"] != "backless":
        for k in range(3):
            z0 = sh + 0.08 + k * (h - sh - 0.1) / 3
            mk.slab(seat, -length / 2, d / 2 - 0.04, z0, length / 2, d / 2, z0 + (h - sh - 0.1) / 3 - 0.02)


@builder("street_lamp")
def street_lamp(mk: Maker, obj: ObjectSpec) -> None:
    p, pole = obj.params, obj.parts["pole"]
    h = p["height"]
    mk.cylinder(pole, (0, 0, 0), 0.12, 0.5, 16, radius_top=0.08)
    mk.cylinder(pole, (0, 0, 0.5), 0.06, h - 0.75, 12, radius_top=0.045)
    head = LAMP_GLOW if p["on"] else LAMP_OFF
    if p["variant"] == "arm":
        mk.rod(pole, (0, 0, h - 0.3), (-0.45, 0, h - 0.12), 0.035)
        mk.rounded_box(pole, (-0.4, 0, h - 0.08), (0.3, 0.2, 0.1), 0.03)
        mk.slab(head, -0.5, -0.07, h - 0.14, -0.3, 0.07, h - 0.12)
        if p["on"]:
            mk.bulb((-0.4, 0, h - 0.2), p["watts"], p["kelvin"], 0.08)
    elif p["variant"] == "lantern":
        mk.lathe(head, [(0.12, h - 0.55), (0.18, h - 0.2)], segments=6, smooth=False)
        mk.lathe(pole, [(0.22, h - 0.2), (0.05, h)], segments=6, smooth=False)
        if p["on"]:
            mk.bulb((0, 0, h - 0.38), p["watts"], p["kelvin"], 0.08)
    else:
        mk.sphere(head, (0, 0, h - 0.22), (0.2, 0.2, 0.2), 16, 8)
        if p["on"]:
            mk.bulb((0, 0, h - 0.5), p["watts"], p["kelvin"], 0.1)


@builder("bin")
def bin_(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    r, h = p["radius"], p["height"]
    dark = fixed_look("dark")
    if p["variant"] == "round":
        mk.lathe(body, [(r * 0.88, 0), (r, h * 0.92), (r, h)], segments=24)
        mk.cylinder(dark, (0, 0, h - 0.005), r * 0.8, 0.006, 24)
    elif p["variant"] == "square":
        mk.slab(body, -r, -r, 0.05, r, r, h)
        mk.slab(dark, -r * 0.9, -r * 0.9, 0, r * 0.9, r * 0.9, 0.05)
        mk.slab(dark, -r * 0.6, -r - 0.0, h * 0.72, r * 0.6, -r + 0.01, h * 0.86)
    else:  # wheelie bin: body, lid, two wheels at the back
        d = r * 1.2
        mk.slab(body, -r, -d, 0.06, r, d - 0.04, h - 0.05)
        mk.slab(body, -r, -d, h - 0.05, r, d, h)
        for sx in (-1, 1):
            mk.cylinder(fixed_look("tyre"), (0, 0, 0), 0.1, 0.05, 14,
                        m=compose(translate(sx * (r - 0.05) - 0.025, d - 0.1, 0.1), ((0, 0, 1, 0), (0, 1, 0, 0), (-1, 0, 0, 0))))


@builder("traffic_cone")
def traffic_cone(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    h = p["height"]
    base = h * 0.3
    mk.slab(body, -base, -base, 0, base, base, 0.03)
    mk.lathe(body, [(base * 0.72, 0.03), (base * 0.12, h)], segments=24)
    white = look("white", [240, 240, 236], "plastic")
    for k in range(p["stripes"]):
        z0 = 0.03 + (h - 0.03) * (0.35 + 0.25 * k)
        z1 = z0 + h * 0.1
        r0 = base * 0.72 + (base * 0.12 - base * 0.72) * (z0 - 0.03) / (h - 0.03) + 0.002
        r1 = base * 0.72 + (base * 0.12 - base * 0.72) * (z1 - 0.03) / (h - 0.03) + 0.002
        mk.lathe(white, [(r0, z0), (r1, z1)], segments=24, cap_bottom=False, cap_top=False)


@builder("street_sign")
def street_sign(mk: Maker, obj: ObjectSpec) -> None:
    p, plate = obj.params, obj.parts["plate"]
    ph = p["pole_h"]
    grey = look("grey", [120, 122, 124], "metal")
    mk.cylinder(grey, (0, 0.03, 0), 0.03, ph + 0.05, 10)
    if p["variant"] == "plate":
        w = p["plate_w"]
        mk.slab(plate, -w / 2, -0.02, ph - 0.02, w / 2, 0.0, ph + 0.28)
        mk.slab(WHITE_INK if plate["color"] not in ("white", "yellow") else INK, -w / 2 + 0.02, -0.022, ph,
                w / 2 - 0.02, -0.021, ph + 0.008)
        if obj.text:
            mk.text(ink_on(plate), obj.text, at(0, -0.0235, ph + 0.14), w * 0.86, 0.17)
        return
    m = compose(translate(0, 0.0, ph + 0.0), rot_x(90))
    mk.lathe(plate, [(0.35, 0.0), (0.35, 0.02)], segments=32, m=compose(translate(0, -0.0, 0), m), smooth=False)
    white = look("white", [240, 240, 236], "painted")
    mk.lathe(white, [(0.29, 0.0), (0.29, 0.0225)], segments=32, m=compose(translate(0, -0.001, 0), m), smooth=False)
    if obj.text:
        mk.text(INK, obj.text, at(0, -0.0245, ph), 0.44, 0.26)


@builder("traffic_light")
def traffic_light(mk: Maker, obj: ObjectSpec) -> None:
    p, housing = obj.params, obj.parts["housing"]
    ph = p["pole_h"]
    mk.cylinder(housing, (0, 0, 0), 0.07, ph, 12)
    mk.slab(housing, -0.15, -0.12, ph - 0.05, 0.15, 0.12, ph + 0.85)
    colours = {"red": [255, 40, 30], "amber": [255, 170, 20], "green": [40, 230, 90]}
    for k, name in enumerate(("red", "amber", "green")):
        z = ph + 0.68 - k * 0.27
        on = p["state"] == name
        lk = {"color": name, "rgb": colours[name] if on else [40, 40, 40], "material": "plastic", **({"glow": 6.0} if on else {})}
        mk.lathe(lk, [(0.09, 0.12), (0.09, 0.13)], segments=16, m=compose(translate(0, 0, z), rot_x(90)), smooth=False)


@builder("hydrant")
def hydrant(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    h, r = p["height"], p["radius"]
    mk.cylinder(body, (0, 0, 0), r * 1.4, 0.05, 16)
    if p["variant"] == "classic":
        mk.cylinder(body, (0, 0, 0.05), r, h * 0.72, 16)
        mk.lathe(body, [(r * 1.15, h * 0.72), (r * 1.15, h * 0.78), (r * 0.5, h * 0.97), (r * 0.25, h)], segments=16)
        for sx in (-1, 1):
            mk.rod(body, (sx * r * 0.8, 0, h * 0.55), (sx * r * 1.9, 0, h * 0.55), r * 0.35, 10)
        mk.rod(body, (0, -r * 0.8, h * 0.45), (0, -r * 1.9, h * 0.45), r * 0.45, 10)
    else:
        mk.cylinder(body, (0, 0, 0.05), r * 0.9, h - 0.12, 16)
        mk.sphere(body, (0, 0, h - 0.07), (r * 0.9, r * 0.9, 0.07), 16, 6)
        mk.rod(body, (0, -r * 0.6, h * 0.6), (0, -r * 1.8, h * 0.6), r * 0.3, 10)


@builder("bollard")
def bollard(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    h, r = p["height"], p["radius"]
    if p["variant"] == "square":
        mk.slab(body, -r, -r, 0, r, r, h)
        return
    mk.cylinder(body, (0, 0, 0), r, h - (0.05 if p["variant"] == "capped" else 0.0), 16)
    if p["variant"] == "capped":
        mk.lathe(body, [(r * 1.15, h - 0.05), (r * 1.15, h - 0.03), (r * 0.5, h)], segments=16)
        mk.cylinder(look("white", [240, 240, 236], "painted"), (0, 0, h * 0.7), r + 0.002, 0.05, 16)
    else:
        mk.sphere(body, (0, 0, h - 0.0001), (r, r, 0.0001), 16, 4)


@builder("kiosk")
def kiosk(mk: Maker, obj: ObjectSpec) -> None:
    p, body, roof = obj.params, obj.parts["body"], obj.parts["roof"]
    w, d, h, ch = p["width"], p["depth"], p["height"], p["counter_h"]
    front = -d / 2 + 0.35  # the serving hatch and its counter stand out in front of the body
    mk.slab(body, -w / 2 + 0.05, front, 0, w / 2 - 0.05, d / 2 - 0.05, ch)
    mk.slab(body, -w / 2 + 0.05, front + 0.6, ch, w / 2 - 0.05, d / 2 - 0.05, h - 0.3)
    for sx in (-1, 1):
        mk.slab(body, sx * (w / 2 - 0.05) - (0.15 if sx > 0 else 0), front, ch, sx * (w / 2 - 0.05) + (0.15 if sx < 0 else 0),
                d / 2 - 0.05, h - 0.3)
    mk.slab(look("dark grey", [60, 60, 62], "painted"), -w / 2 + 0.2, front + 0.55, ch, w / 2 - 0.2, front + 0.6, h - 0.3)
    mk.slab(body, -w / 2 + 0.2, -d / 2 + 0.02, ch - 0.03, w / 2 - 0.2, front + 0.02, ch)
    mk.slab(roof, -w / 2, -d / 2 + 0.15, h - 0.3, w / 2, d / 2, h - 0.05)
    board = look("white", [242, 240, 232], "painted")
    mk.slab(board, -w / 2 + 0.1, -d / 2 + 0.13, h - 0.28, w / 2 - 0.1, -d / 2 + 0.15, h - 0.05)
    if p["awning"]:
        mk.slab(roof, -w / 2 + 0.1, -d / 2, h - 0.5, w / 2 - 0.1, -d / 2 + 0.15, h - 0.44)
    if obj.text:
        mk.text(INK, obj.text, at(0, -d / 2 + 0.125, h - 0.165), w * 0.7, 0.17)


@builder("planter")
def planter(mk: Maker, obj: ObjectSpec) -> None:
    p, box, plants = obj.params, obj.parts["box"], obj.parts["plants"]
    w, d, h, ph = p["width"], p["depth"], p["height"], p["plant_h"]
    mk.slab(box, -w / 2, -d / 2, 0, w / 2, d / 2, h)
    mk.slab(fixed_look("soil"), -w / 2 + 0.05, -d / 2 + 0.05, h, w / 2 - 0.05, d / 2 - 0.05, h + 0.005)
    n = max(2, int(w / 0.45))
    for k in range(n):
        x = -w / 2 + (k + 0.5) * w / n
        foliage_blobs(mk, plants, p["leaf_seed"] + k, (x, 0, h + ph / 2), min(w / n, d) / 2 - 0.01, ph - 0.01, 2)


@builder("mailbox")
def mailbox(mk: Maker, obj: ObjectSpec) -> None:
    p, body = obj.params, obj.parts["body"]
    h, w = p["height"], p["width"]
    dark = fixed_look("dark")
    if p["variant"] == "pillar":
        r = w / 2
        mk.cylinder(dark, (0, 0, 0), r * 1.02, 0.08, 20)
        mk.cylinder(body, (0, 0, 0.08), r, h - 0.08 - r * 0.5, 20)
        mk.sphere(body, (0, 0, h - r * 0.5), (r, r, r * 0.5), 20, 8)
        mk.slab(dark, -r * 0.5, -r - 0.001, h * 0.72, r * 0.5, -r + 0.03, h * 0.77)
        return
    mk.cylinder(dark, (0, 0, 0), 0.05, h * 0.55, 10)
    mk.slab(body, -w / 2, -w / 2, h * 0.55, w / 2, w / 2, h - 0.04)
    mk.rounded_box(body, (0, 0, h - 0.06), (w, w, 0.12), 0.05)
    mk.slab(dark, -w * 0.3, -w / 2 - 0.001, h * 0.85, w * 0.3, -w / 2 + 0.02, h * 0.88)
