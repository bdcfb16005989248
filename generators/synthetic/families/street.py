"""Street furniture: benches, lamps, bins, cones, signs, traffic lights, hydrants, bollards, kiosks, planters, mailboxes."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register
from generators.synthetic.layout import Surface

DATA = load_data("street")


def _bench(rng: random.Random) -> dict:
    return {"length": r(rng, 1.5, 2.0), "depth": r(rng, 0.55, 0.65), "seat_h": r(rng, 0.43, 0.47), "height": r(rng, 0.78, 0.86),
            "variant": rng.choice(["slats", "backless", "slats"])}


def _bench_surfaces(p: dict) -> list[Surface]:
    back = 0.12 if p["variant"] != "backless" else 0.0
    return [Surface("seat", p["seat_h"], -p["length"] / 2 + 0.12, -p["depth"] / 2 + 0.05, p["length"] / 2 - 0.12,
                    p["depth"] / 2 - 0.05 - back, 0.5)]


register("bench", DATA, _bench, lambda p: (p["length"] / 2, p["depth"] / 2, p["height"] / 2), _bench_surfaces)


def _street_lamp(rng: random.Random) -> dict:
    return {"height": r(rng, 4.0, 5.6), "variant": rng.choice(["arm", "lantern", "globe"]), "on": False,
            "kelvin": rng.choice([2200, 3000, 4000]), "watts": r(rng, 300.0, 500.0, 1)}


register("street_lamp", DATA, _street_lamp, lambda p: (0.55 if p["variant"] == "arm" else 0.25, 0.25, p["height"] / 2))


def _bin(rng: random.Random) -> dict:
    return {"variant": rng.choice(["round", "square", "wheelie"]), "radius": r(rng, 0.24, 0.32), "height": r(rng, 0.8, 1.05)}


register("bin", DATA, _bin, lambda p: (p["radius"], p["radius"] * (1.2 if p["variant"] == "wheelie" else 1.0), p["height"] / 2))


def _cone(rng: random.Random) -> dict:
    return {"height": r(rng, 0.55, 0.78), "stripes": rng.choice([1, 2])}


register("traffic_cone", DATA, _cone, lambda p: (p["height"] * 0.3, p["height"] * 0.3, p["height"] / 2))


def _sign(rng: random.Random) -> dict:
    return {"variant": rng.choice(["plate", "plate", "round"]), "pole_h": r(rng, 2.1, 2.5), "plate_w": r(rng, 0.7, 1.0)}


def _sign_extents(p: dict) -> tuple[float, float, float]:
    w = p["plate_w"] if p["variant"] == "plate" else 0.7
    return (w / 2, 0.06, (p["pole_h"] + (0.3 if p["variant"] == "plate" else 0.35)) / 2)


register("street_sign", DATA, _sign, _sign_extents)


def _traffic_light(rng: random.Random) -> dict:
    return {"pole_h": r(rng, 2.6, 3.1), "state": rng.choice(["red", "green", "amber"])}


register("traffic_light", DATA, _traffic_light, lambda p: (0.2, 0.2, (p["pole_h"] + 0.9) / 2))


def _hydrant(rng: random.Random) -> dict:
    return {"height": r(rng, 0.6, 0.8), "radius": r(rng, 0.1, 0.13), "variant": rng.choice(["classic", "pillar"])}


register("hydrant", DATA, _hydrant, lambda p: (p["radius"] * 2.0, p["radius"] * 2.0, p["height"] / 2))


def _bollard(rng: random.Random) -> dict:
    return {"height": r(rng, 0.8, 1.05), "radius": r(rng, 0.07, 0.12), "variant": rng.choice(["round", "capped", "square"])}


register("bollard", DATA, _bollard, lambda p: (p["radius"] * 1.2, p["radius"] * 1.2, p["height"] / 2))


def _kiosk(rng: random.Random) -> dict:
    return {"width": r(rng, 2.2, 3.0), "depth": r(rng, 1.6, 2.1), "height": r(rng, 2.5, 2.8), "counter_h": r(rng, 1.0, 1.1),
            "awning": rng.random() < 0.6}


def _kiosk_surfaces(p: dict) -> list[Surface]:
    w, d = p["width"], p["depth"]
    return [Surface("counter", p["counter_h"], -w / 2 + 0.2, -d / 2 + 0.02, w / 2 - 0.2, -d / 2 + 0.32, 0.6)]


register("kiosk", DATA, _kiosk, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2), _kiosk_surfaces)


def _planter(rng: random.Random) -> dict:
    return {"width": r(rng, 0.9, 1.6), "depth": r(rng, 0.5, 0.8), "height": r(rng, 0.4, 0.6), "plant_h": r(rng, 0.35, 0.8),
            "leaf_seed": rng.randrange(10 ** 6)}


register("planter", DATA, _planter, lambda p: (p["width"] / 2, p["depth"] / 2, (p["height"] + p["plant_h"]) / 2))


def _mailbox(rng: random.Random) -> dict:
    return {"variant": rng.choice(["pillar", "box"]), "height": r(rng, 1.1, 1.35), "width": r(rng, 0.42, 0.55)}


register("mailbox", DATA, _mailbox, lambda p: (p["width"] / 2 + 0.01, p["width"] / 2 + 0.01, p["height"] / 2))
