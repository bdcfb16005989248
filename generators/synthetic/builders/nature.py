"""Builders of trees (round, conifer, tall) and bushes."""

from __future__ import annotations

import random

from generators.synthetic.builders import builder
from generators.synthetic.builders.decor import foliage_blobs
from generators.synthetic.families import fixed_look
from generators.synthetic.meshes import Maker
from generators.synthetic.spec import ObjectSpec


@builder("tree")
def tree(mk: Maker, obj: ObjectSpec) -> None:
    p, leaves = obj.params, obj.parts["leaves"]
    th, tr, cr, ch = p["trunk_h"], p["trunk_r"], p["crown_r"], p["crown_h"]
    top = th + ch * 0.85
    bark = fixed_look("bark")
    mk.cylinder(bark, (0, 0, 0), tr * 1.3, th + ch * 0.3, 10, radius_top=tr * 0.6)
    if p["variant"] == "conifer":
        rng = random.Random(p["leaf_seed"])
        tiers = 4
        z = th * 0.6
        span = top - z
        for k in range(tiers):
            z0 = z + k * span / (tiers + 0.5)
            r0 = cr * (1 - k / (tiers + 1)) * rng.uniform(0.9, 1.0)
            mk.lathe(leaves, [(r0, z0), (r0 * 0.2, min(top, z0 + span / tiers * 1.6))], segments=16, smooth=True)
        return
    center = th + (top - th) / 2
    foliage_blobs(mk, leaves, p["leaf_seed"], (0, 0, center), cr, top - th, 6 if p["variant"] == "round" else 4)


@builder("bush")
def bush(mk: Maker, obj: ObjectSpec) -> None:
    p, leaves = obj.params, obj.parts["leaves"]
    mk.cylinder(fixed_look("bark"), (0, 0, 0), 0.04, 0.12, 8)
    foliage_blobs(mk, leaves, p["leaf_seed"], (0, 0, p["height"] / 2), p["radius"], p["height"], 4)
