"""Builders of screens: monitors, televisions and laptops; the screen glows and shows the text slot."""

from __future__ import annotations

from generators.synthetic.builders import builder
from generators.synthetic.meshes import Maker, at, compose, rot_x, translate
from generators.synthetic.spec import ObjectSpec, look

SCREEN_BG = {"color": "light blue", "rgb": [196, 222, 246], "material": "screen", "glow": 1.6}
SCREEN_INK = {"color": "navy", "rgb": [20, 34, 80], "material": "ink"}


def screen(mk: Maker, obj: ObjectSpec, width: float, height: float, m) -> None:
    """A glowing panel of width x height centred at ``m``, facing its local -y, with the text on it."""
    mk.box(SCREEN_BG, (0, 0, 0), (width, 0.004, height), m)
    if obj.text:
        mk.text(SCREEN_INK, obj.text, compose(m, translate(0, -0.0035, 0)), width * 0.9, height * 0.62)


def _stand_screen(mk: Maker, obj: ObjectSpec, bezel: float) -> None:
    p, casing = obj.params, obj.parts["casing"]
    w, sh, stand, bd = p["width"], p["screen_h"], p["stand_h"], p["base_d"]
    mk.slab(casing, -w * 0.18, -bd / 2, 0, w * 0.18, bd / 2, 0.015)
    mk.slab(casing, -0.03, bd / 2 - 0.06, 0.015, 0.03, bd / 2 - 0.035, stand + sh * 0.3)
    mk.slab(casing, -w / 2, -0.0, stand, w / 2, 0.035, stand + sh)
    screen(mk, obj, w - 2 * bezel, sh - 2 * bezel, at(0, -0.002, stand + sh / 2))


@builder("monitor")
def monitor(mk: Maker, obj: ObjectSpec) -> None:
    _stand_screen(mk, obj, 0.015)


@builder("tv")
def tv(mk: Maker, obj: ObjectSpec) -> None:
    _stand_screen(mk, obj, 0.02)


@builder("laptop")
def laptop(mk: Maker, obj: ObjectSpec) -> None:
    p, casing = obj.params, obj.parts["casing"]
    w, d = p["width"], p["depth"]
    y0 = -d * 0.71  # the base sits at the front; the open lid leans back past it
    mk.slab(casing, -w / 2, y0, 0, w / 2, y0 + d, 0.016)
    mk.slab(look("black", [36, 36, 40], "plastic"), -w / 2 + 0.02, y0 + d * 0.45, 0.016, w / 2 - 0.02, y0 + d - 0.02, 0.0175)
    mk.slab(look("dark grey", [70, 70, 74], "plastic"), -w * 0.15, y0 + 0.02, 0.016, w * 0.15, y0 + d * 0.3, 0.0172)
    tilt = p["open_deg"] - 90.0  # degrees the lid leans back from vertical
    hinge = compose(translate(0, y0 + d, 0.016), rot_x(-tilt))
    mk.box(casing, (0, 0.006, d / 2), (w, 0.008, d), hinge)
    screen(mk, obj, w - 0.03, d - 0.04, compose(hinge, translate(0, 0.0, d / 2)))
