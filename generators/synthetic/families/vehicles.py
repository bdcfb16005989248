"""Vehicles: cars (three body styles), vans, buses and bicycles, facing along the street (local -y is the nose)."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register

DATA = load_data("vehicles")


def _car(rng: random.Random) -> dict:
    style = rng.choice(["sedan", "hatchback", "suv"])
    length = {"sedan": (4.3, 4.8), "hatchback": (3.8, 4.2), "suv": (4.4, 4.8)}[style]
    height = {"sedan": (1.38, 1.48), "hatchback": (1.42, 1.52), "suv": (1.62, 1.78)}[style]
    return {"style": style, "length": r(rng, *length), "width": r(rng, 1.72, 1.88), "height": r(rng, *height),
            "wheel_r": r(rng, 0.3, 0.36)}


register("car", DATA, _car, lambda p: (p["width"] / 2, p["length"] / 2, p["height"] / 2))


def _van(rng: random.Random) -> dict:
    return {"length": r(rng, 4.9, 5.5), "width": r(rng, 1.95, 2.05), "height": r(rng, 2.0, 2.35), "wheel_r": r(rng, 0.34, 0.38)}


register("van", DATA, _van, lambda p: (p["width"] / 2, p["length"] / 2, p["height"] / 2))


def _bus(rng: random.Random) -> dict:
    return {"length": r(rng, 10.5, 12.0), "width": 2.5, "height": r(rng, 2.95, 3.15), "wheel_r": 0.5,
            "doors": rng.choice([2, 3])}


register("bus", DATA, _bus, lambda p: (p["width"] / 2, p["length"] / 2, p["height"] / 2))


def _bicycle(rng: random.Random) -> dict:
    return {"wheel_r": r(rng, 0.33, 0.36), "length": r(rng, 1.65, 1.8), "style": rng.choice(["city", "sport"]),
            "basket": rng.random() < 0.3}


register("bicycle", DATA, _bicycle, lambda p: (0.3, p["length"] / 2, 0.6))
