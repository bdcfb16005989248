"""People: the articulated human figure as a family (a man or a woman, sampled proportions, clothes and pose).

The skeleton, the poses and the forward kinematics live in ``figure.py``; the family's extents are the
posed figure's box, so a pose change or a seat changes the box the layout checks. ``params["pose"]``
names a pose of ``poses.json``; ``blend`` mixes in another pose a little (no two people stand alike);
``seat_h`` is the height of the seat a seated figure sits on.
"""

from __future__ import annotations

import random

from generators.synthetic.families import Family, load_data, r, register
from generators.synthetic.figure import pose_figure, pose_names
from generators.synthetic.spec import ObjectSpec

DATA = load_data("people")
STANDING_WEIGHTS = {"standing": 4, "walking": 4}  # the other standing poses weigh 1 each


def standing_pose(rng: random.Random) -> str:
    names = pose_names("standing")
    return rng.choices(names, [STANDING_WEIGHTS.get(n, 1) for n in names])[0]


def _person(rng: random.Random) -> dict:
    sex = rng.choice(["man", "woman"])
    tall = (1.66, 1.92) if sex == "man" else (1.55, 1.78)
    params = {
        "sex": sex, "height": r(rng, *tall), "shoulder_w": r(rng, 0.97, 1.1) if sex == "man" else r(rng, 0.88, 0.98),
        "hip_w": r(rng, 0.92, 1.02) if sex == "man" else r(rng, 1.0, 1.12), "girth": r(rng, 0.9, 1.15),
        "top": rng.choice(sorted(DATA["person"]["garments"]["top"])),
        "bottom": rng.choice(["trousers", "jeans", "skirt", "shorts"] if sex == "woman" else ["trousers", "jeans", "jeans", "shorts"]),
        "hair": rng.choice(["short", "long", "bun", "short"] if sex == "woman" else ["short", "short", "bald"]),
        "pose": standing_pose(rng), "mirror": rng.random() < 0.5, "blend": None,
    }
    if params["sex"] == "woman" and params["hair"] == "short" and rng.random() < 0.5:
        params["hair"] = "long"
    if rng.random() < 0.6:  # a touch of another pose: no two people stand exactly alike
        params["blend"] = {"with": "standing" if params["pose"] != "standing" else "walking", "t": r(rng, 0.05, 0.25, 2)}
    return params


FAMILY: Family = register("person", DATA, _person, lambda p: pose_figure(p).half_extents)


def garment_word(obj: ObjectSpec, part: str) -> str:
    """'T-shirt', 'skirt': what captions call the garment of ``part``."""
    words = DATA["person"]["garments"]
    return words.get(part, {}).get(obj.params.get(part, ""), part)


def is_person(obj: ObjectSpec | None) -> bool:
    return obj is not None and obj.family == "person"
