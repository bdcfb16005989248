"""Builder of the human figure: the posed pieces of ``figure.py`` as capsules and ellipsoids, dressed.

Every piece takes the look of what covers it (skin, the top and its sleeves, the bottom, shoes, hair),
so a colour change of the top repaints the torso and the sleeves together. The pieces are the ones the
family's extents come from, moved so that the footprint box is centred on the object's origin.
"""

from __future__ import annotations

from generators.synthetic.builders import builder
from generators.synthetic.figure import Piece, pose_figure
from generators.synthetic.meshes import Maker
from generators.synthetic.spec import ObjectSpec

LONG_SLEEVES = ("shirt", "sweater", "jacket", "hoodie")
FULL_LEGS = ("trousers", "jeans")


def _cover(obj: ObjectSpec, piece: Piece) -> str:
    """Which part's look covers a piece."""
    p = obj.params
    kind = piece.name.rsplit("_", 1)[0] if piece.name[-2:] in ("_l", "_r") else piece.name
    if kind in ("torso", "upper_arm"):
        return "top"
    if kind == "forearm":
        return "top" if p.get("top") in LONG_SLEEVES else "skin"
    if kind in ("pelvis", "thigh", "skirt"):
        return "bottom"
    if kind == "shin":
        return "bottom" if p.get("bottom") in FULL_LEGS else "skin"
    if kind == "foot":
        return "shoes"
    if kind == "hair":
        return "hair"
    return "skin"  # head, neck, hands


@builder("person")
def person(mk: Maker, obj: ObjectSpec) -> None:
    fig = pose_figure(obj.params)
    ox, oy = fig.offset

    def at(v):  # noqa: ANN001, ANN202 - body frame -> the object's frame (footprint centred on the origin)
        return (v[0] - ox, v[1] - oy, v[2])

    for piece in fig.pieces:
        lk = obj.parts[_cover(obj, piece)]
        if piece.kind == "ellipsoid":
            mk.sphere(lk, (0.0, 0.0, 0.0), piece.radii, 14, 8, m=_frame_at(piece, at(piece.p0)))
        elif piece.name == "skirt":  # an open cone from the waist down
            mk.capsule(lk, at(piece.p1), at(piece.p0), piece.r1, piece.r0, 16, flat=piece.flat, caps=False)
        else:
            mk.capsule(lk, at(piece.p0), at(piece.p1), piece.r0, piece.r1, 14 if piece.flat < 1 else 10, flat=piece.flat)


def _frame_at(piece: Piece, centre):  # noqa: ANN001, ANN202
    f = piece.frame
    return ((f[0][0], f[0][1], f[0][2], centre[0]), (f[1][0], f[1][1], f[1][2], centre[1]),
            (f[2][0], f[2][1], f[2][2], centre[2]))
