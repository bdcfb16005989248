"""Decor: table and floor lamps (they carry lights), plants, rugs, cushions, pictures, posters, clocks."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register

DATA = load_data("decor")


def lamp_light(rng: random.Random) -> dict:
    """The bulb: switched on, colour temperature (K) and power (W); illumination changes edit these."""
    return {"on": True, "kelvin": rng.choice([2700, 3000, 3000, 3500, 4000]), "watts": r(rng, 25.0, 40.0, 1)}


def _table_lamp(rng: random.Random) -> dict:
    return {"height": r(rng, 0.36, 0.52), "shade_r": r(rng, 0.1, 0.15), "shade_h": r(rng, 0.14, 0.2),
            "base": rng.choice(["round", "column", "bulb"]), **lamp_light(rng)}


register("table_lamp", DATA, _table_lamp, lambda p: (p["shade_r"] * 1.15, p["shade_r"] * 1.15, p["height"] / 2))


def _floor_lamp(rng: random.Random) -> dict:
    light = lamp_light(rng)
    light["watts"] = r(rng, 35.0, 55.0, 1)
    return {"height": r(rng, 1.45, 1.7), "shade_r": r(rng, 0.17, 0.24), "shade_h": r(rng, 0.22, 0.3),
            "variant": rng.choice(["drum", "cone", "dome"]), **light}


register("floor_lamp", DATA, _floor_lamp, lambda p: (p["shade_r"] * 1.2, p["shade_r"] * 1.2, p["height"] / 2))


def _plant(rng: random.Random) -> dict:
    return {"pot_r": r(rng, 0.14, 0.22), "pot_h": r(rng, 0.25, 0.4), "height": r(rng, 0.8, 1.4),
            "variant": rng.choice(["bush", "palm", "tall"]), "leaf_seed": rng.randrange(10 ** 6)}


register("plant", DATA, _plant, lambda p: (p["pot_r"] * 2.0, p["pot_r"] * 2.0, p["height"] / 2))


def _small_plant(rng: random.Random) -> dict:
    return {"pot_r": r(rng, 0.05, 0.075), "pot_h": r(rng, 0.07, 0.11), "height": r(rng, 0.18, 0.32),
            "variant": rng.choice(["bush", "spiky", "round"]), "leaf_seed": rng.randrange(10 ** 6)}


register("small_plant", DATA, _small_plant, lambda p: (p["pot_r"] * 1.7, p["pot_r"] * 1.7, p["height"] / 2))


def _rug(rng: random.Random) -> dict:
    return {"width": r(rng, 1.4, 2.4), "depth": r(rng, 1.0, 1.7), "pattern": rng.choice(["border", "stripes", "plain"]),
            "shape": rng.choice(["rect", "rect", "oval"])}


register("rug", DATA, _rug, lambda p: (p["width"] / 2, p["depth"] / 2, 0.006))


def _cushion(rng: random.Random) -> dict:
    return {"size": r(rng, 0.36, 0.46), "thickness": r(rng, 0.1, 0.15), "upright": rng.random() < 0.6}


def _cushion_extents(p: dict) -> tuple[float, float, float]:
    if p["upright"]:  # leaning against the back rest
        return (p["size"] / 2, p["thickness"] / 2 + 0.04, p["size"] / 2)
    return (p["size"] / 2, p["size"] / 2, p["thickness"] / 2)


register("cushion", DATA, _cushion, _cushion_extents)


def _frame(rng: random.Random) -> dict:
    portrait = rng.random() < 0.4
    a, b = r(rng, 0.45, 0.9), r(rng, 0.35, 0.65)
    w, h = (min(a, b), max(a, b)) if portrait else (max(a, b), min(a, b))
    return {"width": w, "height": h, "border": r(rng, 0.03, 0.06), "art": rng.choice(["abstract", "landscape", "stripes"]),
            "art_seed": rng.randrange(10 ** 6)}


register("picture_frame", DATA, _frame, lambda p: (p["width"] / 2, 0.02, p["height"] / 2))


def _poster(rng: random.Random) -> dict:
    return {"width": r(rng, 0.5, 0.8), "height": r(rng, 0.6, 0.95), "stripe": rng.random() < 0.5}


register("poster", DATA, _poster, lambda p: (p["width"] / 2, 0.006, p["height"] / 2))


def _clock(rng: random.Random) -> dict:
    return {"radius": r(rng, 0.14, 0.22), "hour": rng.randrange(12), "minute": rng.randrange(0, 60, 5)}


register("clock", DATA, _clock, lambda p: (p["radius"], 0.025, p["radius"]))
