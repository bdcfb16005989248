"""Buildings: a facade with a window grid, a ground floor with a shop front (sign, awning) or a door, a roof."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register

DATA = load_data("buildings")


def _building(rng: random.Random) -> dict:
    storeys = rng.choice([2, 3, 3, 4, 5])
    width = r(rng, 7.0, 13.0, 2)
    return {"width": width, "depth": r(rng, 7.0, 9.0, 2), "storeys": storeys, "storey_h": r(rng, 3.0, 3.4),
            "columns": max(2, int(width // rng.choice([2.2, 2.6, 3.0]))), "shop": rng.random() < 0.7,
            "roof": rng.choice(["flat", "flat", "pitched"]), "window": rng.choice(["tall", "square", "arched"]),
            "awning": rng.random() < 0.5, "balconies": rng.random() < 0.3}


def _building_extents(p: dict) -> tuple[float, float, float]:
    h = p["storeys"] * p["storey_h"] + (0.4 if p["roof"] == "flat" else 2.2)
    return (p["width"] / 2, p["depth"] / 2, round(h / 2, 4))


register("building", DATA, _building, _building_extents)
