"""Building builder: a facade layer with real window openings (recessed panes), a ground floor with a shop
front (glazing, door, sign board with the text slot, optional awning) or a house door, and a roof."""

from __future__ import annotations

from generators.synthetic.builders import builder
from generators.synthetic.builders.furniture import shade
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker, at
from generators.synthetic.spec import ObjectSpec, look

FACADE_T = 0.25  # thickness of the facade layer the windows are cut into
PROUD = 0.6  # sills, sign and awning stand out up to this far in front of the facade plane
INK = {"color": "black", "rgb": [24, 24, 26], "material": "ink"}


def wall_with_holes(mk: Maker, lk: dict, x0: float, x1: float, z0: float, z1: float, y0: float, y1: float,
                    holes: list[tuple[float, float, float, float]]) -> None:
    """A rectangular wall slab (x0..x1, z0..z1, thickness y0..y1) with rectangular holes (hx0, hx1, hz0, hz1),
    built from solid pieces: rows between the holes' horizontal bands, piers between holes."""
    bands = sorted({z0, z1, *[h[2] for h in holes], *[h[3] for h in holes]})
    for za, zb in zip(bands, bands[1:]):
        cuts = sorted((h[0], h[1]) for h in holes if h[2] <= za + 1e-9 and h[3] >= zb - 1e-9)
        x = x0
        for ca, cb in cuts:
            if ca > x + 1e-9:
                mk.slab(lk, x, y0, za, ca, y1, zb)
            x = max(x, cb)
        if x1 > x + 1e-9:
            mk.slab(lk, x, y0, za, x1, y1, zb)


@builder("building")
def building(mk: Maker, obj: ObjectSpec) -> None:
    p, facade, trim = obj.params, obj.parts["facade"], obj.parts["trim"]
    w, d, n, sh = p["width"], p["depth"], p["storeys"], p["storey_h"]
    h = n * sh
    yf = -d / 2 + PROUD  # the facade plane
    glass = fixed_look("window")
    dark = look("dark grey", [40, 40, 42], "painted")
    mk.slab(facade, -w / 2, yf + FACADE_T, 0, w / 2, d / 2, h)  # the body behind the facade
    cols = p["columns"]
    bay = w / cols
    win_w = bay * (0.5 if p["window"] == "tall" else 0.58)
    win_h = sh * (0.55 if p["window"] == "tall" else 0.45)
    holes: list[tuple[float, float, float, float]] = []
    first = 1 if p["shop"] else 0
    for s in range(first, n):
        for c in range(cols):
            cx = -w / 2 + (c + 0.5) * bay
            z0 = s * sh + sh * (0.28 if s else 0.3)
            holes.append((cx - win_w / 2, cx + win_w / 2, z0, z0 + win_h))
    ground: list[tuple[float, float, float, float]] = []
    if p["shop"]:
        door_w = 1.1
        ground.append((-w / 2 + 0.6, w / 2 - 0.6 - door_w - 0.3, 0.45, sh * 0.72))  # shop window
        ground.append((w / 2 - 0.6 - door_w, w / 2 - 0.6, 0.0, sh * 0.72))  # shop door
    else:
        ground.append((-0.55, 0.55, 0.0, 2.2))
    wall_with_holes(mk, facade, -w / 2, w / 2, 0, h, yf, yf + FACADE_T, holes + ground)
    recess = yf + FACADE_T * 0.7
    for hx0, hx1, hz0, hz1 in holes:
        mk.slab(glass, hx0, recess, hz0, hx1, recess + 0.02, hz1)
        mk.slab(trim, hx0, recess - 0.03, hz0, hx1, recess, hz0 + 0.05)  # frame: bottom, top, sides, mullion
        mk.slab(trim, hx0, recess - 0.03, hz1 - 0.05, hx1, recess, hz1)
        mk.slab(trim, hx0, recess - 0.03, hz0, hx0 + 0.05, recess, hz1)
        mk.slab(trim, hx1 - 0.05, recess - 0.03, hz0, hx1, recess, hz1)
        mk.slab(trim, (hx0 + hx1) / 2 - 0.025, recess - 0.03, hz0, (hx0 + hx1) / 2 + 0.025, recess, hz1)
        mk.slab(trim, hx0 - 0.06, yf - 0.07, hz0 - 0.06, hx1 + 0.06, yf + 0.02, hz0)  # sill
        if p["window"] == "arched":
            mk.slab(shade(facade, 0.85), hx0 - 0.08, yf - 0.04, hz1, hx1 + 0.08, yf + 0.02, hz1 + 0.16)
    if p["balconies"]:
        for hx0, hx1, hz0, _ in holes:
            if hz0 > sh * 1.2 and int(hx0 * 10) % 2 == 0:
                mk.slab(dark, hx0 - 0.2, yf - 0.5, hz0 - 0.32, hx1 + 0.2, yf, hz0 - 0.2)
                mk.slab(dark, hx0 - 0.2, yf - 0.5, hz0 - 0.2, hx1 + 0.2, yf - 0.47, hz0 + 0.6)
    for hx0, hx1, hz0, hz1 in ground:
        pane = glass if hz0 > 0 else shade(trim, 0.8)
        mk.slab(pane, hx0, recess, hz0, hx1, recess + 0.02, hz1)
        mk.slab(trim, hx0, recess - 0.04, hz1 - 0.06, hx1, recess, hz1)
        mk.slab(trim, hx0, recess - 0.04, hz0, hx0 + 0.06, recess, hz1)
        mk.slab(trim, hx1 - 0.06, recess - 0.04, hz0, hx1, recess, hz1)
    mk.slab(shade(facade, 0.75), -w / 2, yf - 0.05, 0, w / 2, yf, 0.3)  # plinth
    if p["shop"]:
        band0, band1 = sh * 0.76, sh * 0.95
        mk.slab(trim, -w / 2 + 0.3, yf - 0.12, band0, w / 2 - 0.3, yf, band1)
        if obj.text:
            ink = INK if trim["color"] in ("white", "cream", "light grey") else {**INK, "color": "white", "rgb": [246, 244, 236]}
            mk.text(ink, obj.text, at(0, yf - 0.123, (band0 + band1) / 2), w * 0.62, (band1 - band0) * 0.72)
        if p["awning"]:
            cloth = shade(trim, 1.25)
            mk.slab(cloth, -w / 2 + 0.6, -d / 2, band0 - 0.42, w / 2 - 0.6 - 1.4, yf - 0.12, band0 - 0.3)
    if p["roof"] == "flat":
        mk.slab(trim, -w / 2, yf - 0.1, h, w / 2, d / 2, h + 0.1)
        mk.slab(facade, -w / 2, yf, h + 0.1, w / 2, yf + 0.2, h + 0.4)
        mk.slab(shade(facade, 0.8), -w / 2, yf - 0.12, h - 0.2, w / 2, yf, h)  # cornice
    else:
        roof = look("dark red", [120, 50, 40], "brick") if facade["material"] != "brick" else look("dark grey", [70, 70, 74], "concrete")
        depth = d / 2 - (yf - 0.1)
        ridge = 2.2
        # a gable roof along x: a triangular prism from the eaves line to the back
        mk.quad(roof, [(-w / 2, yf - 0.1, h), (w / 2, yf - 0.1, h), (w / 2, yf - 0.1 + depth / 2, h + ridge),
                       (-w / 2, yf - 0.1 + depth / 2, h + ridge)])
        mk.quad(roof, [(-w / 2, yf - 0.1 + depth / 2, h + ridge), (w / 2, yf - 0.1 + depth / 2, h + ridge),
                       (w / 2, d / 2, h), (-w / 2, d / 2, h)])
        for x in (-w / 2, w / 2):
            mk.polygon(facade, [(x, yf - 0.1, h), (x, d / 2, h), (x, yf - 0.1 + depth / 2, h + ridge)])
