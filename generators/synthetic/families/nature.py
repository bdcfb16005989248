"""Trees (round, conifer, tall) and bushes: canopies are a few seeded blobs of foliage."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register

DATA = load_data("nature")


def _tree(rng: random.Random) -> dict:
    variant = rng.choice(["round", "round", "conifer", "tall"])
    crown = r(rng, 1.2, 2.0) if variant != "tall" else r(rng, 0.9, 1.3)
    return {"variant": variant, "trunk_h": r(rng, 1.8, 2.8), "trunk_r": r(rng, 0.1, 0.18), "crown_r": crown,
            "crown_h": round(crown * (2.6 if variant != "round" else 1.7), 3), "leaf_seed": rng.randrange(10 ** 6)}


register("tree", DATA, _tree, lambda p: (p["crown_r"], p["crown_r"], (p["trunk_h"] + p["crown_h"] * 0.85) / 2))


def _bush(rng: random.Random) -> dict:
    return {"radius": r(rng, 0.4, 0.75), "height": r(rng, 0.55, 1.1), "leaf_seed": rng.randrange(10 ** 6)}


register("bush", DATA, _bush, lambda p: (p["radius"], p["radius"], p["height"] / 2))
