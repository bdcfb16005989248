"""Screens on surfaces: monitors, televisions, laptops; each shows a word on its screen (its text slot)."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register

DATA = load_data("electronics")


def _monitor(rng: random.Random) -> dict:
    w = r(rng, 0.5, 0.66)
    return {"width": w, "screen_h": round(w * rng.choice([0.56, 0.6, 0.62]), 3), "stand_h": r(rng, 0.1, 0.16),
            "base_d": r(rng, 0.16, 0.2)}


register("monitor", DATA, _monitor, lambda p: (p["width"] / 2, p["base_d"] / 2, (p["stand_h"] + p["screen_h"]) / 2))


def _tv(rng: random.Random) -> dict:
    w = r(rng, 0.9, 1.3)
    return {"width": w, "screen_h": round(w * 0.57, 3), "stand_h": r(rng, 0.06, 0.1), "base_d": r(rng, 0.2, 0.26)}


register("tv", DATA, _tv, lambda p: (p["width"] / 2, p["base_d"] / 2, (p["stand_h"] + p["screen_h"]) / 2))


def _laptop(rng: random.Random) -> dict:
    w = r(rng, 0.31, 0.37)
    return {"width": w, "depth": round(w * 0.68, 3), "open_deg": r(rng, 100.0, 115.0, 1)}


register("laptop", DATA, _laptop, lambda p: (p["width"] / 2, round(p["depth"] * 0.74, 4), round(p["depth"] * 0.5 + 0.01, 4)))
