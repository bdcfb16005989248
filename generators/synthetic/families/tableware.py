"""Tableware and small things: mugs, bottles, bowls, vases, books, boxes, jars (on surfaces)."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register

DATA = load_data("tableware")


def _mug(rng: random.Random) -> dict:
    return {"radius": r(rng, 0.045, 0.058), "height": r(rng, 0.1, 0.125), "handle": rng.choice(["round", "square"]),
            "taper": r(rng, 0.85, 1.0)}


register("mug", DATA, _mug, lambda p: (p["radius"] + 0.03, p["radius"], p["height"] / 2))


def _bottle(rng: random.Random) -> dict:
    return {"radius": r(rng, 0.035, 0.05), "height": r(rng, 0.24, 0.33), "neck": r(rng, 0.3, 0.42),
            "variant": rng.choice(["wine", "water", "square"])}


register("bottle", DATA, _bottle, lambda p: (p["radius"], p["radius"], p["height"] / 2))


def _bowl(rng: random.Random) -> dict:
    return {"radius": r(rng, 0.08, 0.13), "height": r(rng, 0.06, 0.1), "fruit": rng.random() < 0.5}


register("bowl", DATA, _bowl, lambda p: (p["radius"], p["radius"], p["height"] / 2 + (0.02 if p["fruit"] else 0.0)))


def _vase(rng: random.Random) -> dict:
    return {"radius": r(rng, 0.05, 0.09), "height": r(rng, 0.2, 0.36), "variant": rng.choice(["round", "tall", "amphora"]),
            "flowers": rng.random() < 0.5}


register("vase", DATA, _vase, lambda p: (p["radius"] * 1.25, p["radius"] * 1.25, p["height"] / 2))


def _book(rng: random.Random) -> dict:
    return {"width": r(rng, 0.14, 0.2), "height": r(rng, 0.2, 0.28), "thickness": r(rng, 0.025, 0.05),
            "lying": rng.random() < 0.35}


def _book_extents(p: dict) -> tuple[float, float, float]:
    if p["lying"]:  # flat on its back cover
        return (p["height"] / 2, p["width"] / 2, p["thickness"] / 2)
    return (p["thickness"] / 2, p["width"] / 2, p["height"] / 2)  # upright, spine facing the front


register("book", DATA, _book, _book_extents)


def _box(rng: random.Random) -> dict:
    return {"width": r(rng, 0.16, 0.34), "depth": r(rng, 0.14, 0.28), "height": r(rng, 0.1, 0.26), "lid": rng.random() < 0.5}


register("box", DATA, _box, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2))


def _jar(rng: random.Random) -> dict:
    return {"radius": r(rng, 0.05, 0.07), "height": r(rng, 0.12, 0.2)}


register("jar", DATA, _jar, lambda p: (p["radius"], p["radius"], p["height"] / 2))


def _bag(rng: random.Random) -> dict:
    return {"variant": rng.choice(["backpack", "tote", "duffel"]), "width": r(rng, 0.3, 0.45), "depth": r(rng, 0.16, 0.26),
            "height": r(rng, 0.34, 0.5)}


def _bag_extents(p: dict) -> tuple[float, float, float]:
    if p["variant"] == "duffel":  # lying along x
        return (p["height"] / 2 + 0.05, p["depth"] / 2 + 0.02, p["width"] / 2 * 0.8 + 0.04)
    return (p["width"] / 2, p["depth"] / 2 + 0.03, p["height"] / 2 + 0.05)


register("bag", DATA, _bag, _bag_extents)
