"""Furniture: seating, tables, storage, beds and counters (floor), and wall shelves."""

from __future__ import annotations

import random

from generators.synthetic.families import load_data, r, register
from generators.synthetic.layout import Surface

DATA = load_data("furniture")


def top_surface(w: float, d: float, h: float, inset: float = 0.03, clear: float = 1.0, name: str = "top") -> Surface:
    return Surface(name, h, -w / 2 + inset, -d / 2 + inset, w / 2 - inset, d / 2 - inset, clear)


def _chair(rng: random.Random) -> dict:
    return {"variant": rng.choice(["four_leg", "sled", "spindle"]), "width": r(rng, 0.42, 0.5), "depth": r(rng, 0.44, 0.52),
            "seat_h": r(rng, 0.44, 0.48), "back_h": r(rng, 0.36, 0.5), "leg": r(rng, 0.028, 0.04)}


register("chair", DATA, _chair, lambda p: (p["width"] / 2, p["depth"] / 2, (p["seat_h"] + p["back_h"]) / 2))


def _armchair(rng: random.Random) -> dict:
    return {"variant": rng.choice(["boxy", "rounded", "wing"]), "width": r(rng, 0.76, 0.94), "depth": r(rng, 0.76, 0.88),
            "seat_h": r(rng, 0.4, 0.46), "height": r(rng, 0.78, 1.02), "arm_h": r(rng, 0.56, 0.66)}


register("armchair", DATA, _armchair, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2),
         lambda p: [Surface("seat", p["seat_h"] + 0.08, -p["width"] / 2 + 0.16, -p["depth"] / 2 + 0.06,
                            p["width"] / 2 - 0.16, p["depth"] / 2 - 0.2, 0.5)])


def _sofa(rng: random.Random) -> dict:
    seats = rng.choice([2, 3, 3])
    return {"variant": rng.choice(["boxy", "low", "rounded"]), "seats": seats, "width": r(rng, 0.62, 0.75) * seats + 0.3,
            "depth": r(rng, 0.84, 0.96), "seat_h": r(rng, 0.4, 0.46), "height": r(rng, 0.76, 0.9), "arm_h": r(rng, 0.55, 0.66)}


def _sofa_surfaces(p: dict) -> list[Surface]:
    arm = 0.17
    return [Surface("seat", p["seat_h"] + 0.08, -p["width"] / 2 + arm + 0.02, -p["depth"] / 2 + 0.06,
                    p["width"] / 2 - arm - 0.02, p["depth"] / 2 - 0.24, 0.5)]


register("sofa", DATA, _sofa, lambda p: (round(p["width"] / 2, 4), p["depth"] / 2, p["height"] / 2), _sofa_surfaces)


def _table(rng: random.Random) -> dict:
    shape = rng.choice(["rect", "rect", "round"])
    w = r(rng, 1.2, 1.7) if shape == "rect" else r(rng, 0.9, 1.15)
    d = r(rng, 0.8, 0.95) if shape == "rect" else w
    return {"shape": shape, "width": w, "depth": d, "height": r(rng, 0.73, 0.77), "top_t": r(rng, 0.03, 0.05),
            "legs": rng.choice(["four", "four", "pedestal"]) if shape == "round" else rng.choice(["four", "trestle"])}


def _table_surfaces(p: dict) -> list[Surface]:
    if p["shape"] == "round":  # the inscribed square of the round top
        h = p["width"] / 2 * 0.7
        return [Surface("top", p["height"], -h, -h, h, h, 1.0)]
    return [top_surface(p["width"], p["depth"], p["height"])]


register("table", DATA, _table, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2), _table_surfaces)


def _coffee_table(rng: random.Random) -> dict:
    return {"shape": rng.choice(["rect", "rect", "round"]), "width": r(rng, 0.9, 1.25), "depth": r(rng, 0.5, 0.68),
            "height": r(rng, 0.38, 0.46), "top_t": r(rng, 0.03, 0.05), "shelf": rng.random() < 0.5}


def _coffee_extents(p: dict) -> tuple[float, float, float]:
    d = p["width"] if p["shape"] == "round" else p["depth"]
    return (p["width"] / 2, d / 2, p["height"] / 2)


def _coffee_surfaces(p: dict) -> list[Surface]:
    if p["shape"] == "round":
        h = p["width"] / 2 * 0.7
        return [Surface("top", p["height"], -h, -h, h, h, 1.0)]
    return [top_surface(p["width"], p["depth"], p["height"])]


register("coffee_table", DATA, _coffee_table, _coffee_extents, _coffee_surfaces)


def _desk(rng: random.Random) -> dict:
    return {"variant": rng.choice(["legs", "drawers", "panel"]), "width": r(rng, 1.1, 1.6), "depth": r(rng, 0.6, 0.75),
            "height": r(rng, 0.73, 0.76)}


register("desk", DATA, _desk, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2),
         lambda p: [top_surface(p["width"], p["depth"], p["height"], clear=0.9)])


def _shelf(rng: random.Random) -> dict:
    boards = rng.choice([4, 5])
    return {"variant": rng.choice(["open", "open", "doors"]), "width": r(rng, 0.8, 1.2), "depth": r(rng, 0.3, 0.38),
            "height": r(rng, 1.5, 1.95), "boards": boards, "t": 0.025}


def _shelf_surfaces(p: dict) -> list[Surface]:
    """Boards at equal spacing; the bottom compartment is closed when the unit has doors."""
    n, h, t, w, d = p["boards"], p["height"], p["t"], p["width"], p["depth"]
    gap = (h - t) / n
    out = []
    first = 1 if p["variant"] == "doors" else 0
    for i in range(first, n):
        z = t + i * gap
        out.append(Surface(f"board-{i}", round(z, 4), -w / 2 + t + 0.01, -d / 2 + 0.02, w / 2 - t - 0.01, d / 2 - 0.02,
                           round(gap - t - 0.02, 4)))
    out.append(top_surface(w, d, h, 0.02, 0.5))
    return out


register("shelf", DATA, _shelf, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2), _shelf_surfaces)


def _cabinet(rng: random.Random) -> dict:
    return {"variant": rng.choice(["doors", "drawers", "mixed"]), "width": r(rng, 0.9, 1.7), "depth": r(rng, 0.4, 0.5),
            "height": r(rng, 0.55, 0.9), "columns": rng.choice([2, 3])}


register("cabinet", DATA, _cabinet, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2),
         lambda p: [top_surface(p["width"], p["depth"], p["height"], 0.03, 1.2)])


def _nightstand(rng: random.Random) -> dict:
    return {"width": r(rng, 0.4, 0.52), "depth": r(rng, 0.36, 0.42), "height": r(rng, 0.48, 0.6),
            "drawers": rng.choice([1, 2])}


register("nightstand", DATA, _nightstand, lambda p: (p["width"] / 2, p["depth"] / 2, p["height"] / 2),
         lambda p: [top_surface(p["width"], p["depth"], p["height"], 0.03, 1.0)])


def _bed(rng: random.Random) -> dict:
    return {"width": rng.choice([1.4, 1.6, 1.8]), "length": r(rng, 2.0, 2.12), "top_h": r(rng, 0.5, 0.58),
            "head_h": r(rng, 0.95, 1.2), "variant": rng.choice(["panel", "slatted", "padded"])}


def _bed_surfaces(p: dict) -> list[Surface]:
    w, length = p["width"], p["length"]
    return [Surface("mattress", p["top_h"] + 0.03, -w / 2 + 0.12, -length / 2 + 0.2, w / 2 - 0.12, length / 2 - 0.55, 0.6)]


register("bed", DATA, _bed, lambda p: (p["width"] / 2 + 0.04, p["length"] / 2, p["head_h"] / 2), _bed_surfaces)


def _counter(rng: random.Random) -> dict:
    units = rng.choice([3, 4, 5])
    return {"units": units, "unit_w": r(rng, 0.5, 0.62), "depth": 0.62, "height": 0.9, "worktop_t": 0.04,
            "variant": rng.choice(["doors", "drawers", "mixed"]), "sink": rng.random() < 0.5}


register("counter", DATA, _counter,
         lambda p: (round(p["units"] * p["unit_w"] / 2, 4), p["depth"] / 2, (p["height"] + (0.29 if p["sink"] else 0.0)) / 2),
         lambda p: [_counter_top(p)])


def _counter_top(p: dict) -> Surface:
    """The worktop, without the sink unit at the right-hand end."""
    w = p["units"] * p["unit_w"]
    x1 = w / 2 - (p["unit_w"] if p["sink"] else 0.0) - 0.04
    return Surface("top", p["height"], -w / 2 + 0.04, -p["depth"] / 2 + 0.04, x1, p["depth"] / 2 - 0.04, 0.7)


def _wall_shelf(rng: random.Random) -> dict:
    return {"width": r(rng, 0.6, 1.0), "depth": r(rng, 0.2, 0.26), "t": r(rng, 0.03, 0.045),
            "brackets": rng.random() < 0.5}


register("wall_shelf", DATA, _wall_shelf, lambda p: (p["width"] / 2, p["depth"] / 2, p["t"] / 2),
         lambda p: [Surface("top", p["t"], -p["width"] / 2 + 0.02, -p["depth"] / 2 + 0.02, p["width"] / 2 - 0.02,
                            p["depth"] / 2 - 0.02, 0.4)])
