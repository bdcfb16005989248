"""The articulated human figure in pure Python: a joint hierarchy, named poses as data, forward kinematics.

A figure is a tree of bones (pelvis, torso, neck, head, upper and lower arms, hands, thighs, shins,
feet) whose rest frames are aligned with the body (x to the figure's left, y to its back, z up: the
front faces -y like every family). A pose gives joint angles in degrees (``poses.json`` beside the
families): ``flex`` bends a joint forward (a knee backward, as knees do), ``abduct`` raises a limb
away from the body's midline, ``twist`` turns it about its own axis (outward for the limbs), the
same numbers for both sides. Forward kinematics turns proportions and angles into *pieces*
(capsules and ellipsoids in the figure's frame); the family's extents, the renderer's builder and
the pose checks all read the same pieces, so the layout's boxes are honest and a pose can be checked
for limbs through the body or the floor without Blender.

Standing poses are grounded (the lowest sole at z = 0); seated poses put the pelvis on ``seat_h``
and solve hips and knees so that the soles reach the floor (or hang, on a high seat).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

Vec = tuple[float, float, float]
Mat = tuple[Vec, Vec, Vec]  # rows

POSES_FILE = Path(__file__).resolve().parent / "families" / "poses.json"
ANGLES = ("flex", "abduct", "twist")
FLEX_SIGN = {"torso": 1.0, "neck": 1.0, "head": 1.0, "shoulder": -1.0, "elbow": -1.0, "wrist": -1.0, "hip": -1.0,
             "knee": 1.0, "ankle": 1.0}  # + flex about x: the sign that bends each joint the natural way


# -- small linear algebra ------------------------------------------------------------------------
def _mul(a: Mat, b: Mat) -> Mat:
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))  # type: ignore[return-value]


def _apply(m: Mat, v: Vec) -> Vec:
    return (m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2], m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
            m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2])


def _add(a: Vec, b: Vec, k: float = 1.0) -> Vec:
    return (a[0] + k * b[0], a[1] + k * b[1], a[2] + k * b[2])


def _rx(deg: float) -> Mat:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((1.0, 0.0, 0.0), (0.0, c, -s), (0.0, s, c))


def _ry(deg: float) -> Mat:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, 0.0, s), (0.0, 1.0, 0.0), (-s, 0.0, c))


def _rz(deg: float) -> Mat:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))


IDENTITY: Mat = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def segment_distance(p0: Vec, p1: Vec, q0: Vec, q1: Vec) -> float:
    """Shortest distance between two segments (sampled finely enough for capsule checks)."""
    best = float("inf")
    n = 12
    for i in range(n + 1):
        a = _add(p0, _add(p1, p0, -1.0), i / n)
        d = _point_segment(a, q0, q1)
        best = min(best, d)
    for j in range(n + 1):
        b = _add(q0, _add(q1, q0, -1.0), j / n)
        best = min(best, _point_segment(b, p0, p1))
    return best


def _point_segment(p: Vec, a: Vec, b: Vec) -> float:
    ab = _add(b, a, -1.0)
    ap = _add(p, a, -1.0)
    den = sum(c * c for c in ab)
    t = 0.0 if den < 1e-12 else max(0.0, min(1.0, sum(x * y for x, y in zip(ap, ab)) / den))
    q = _add(a, ab, t)
    return math.dist(p, q)


# -- the skeleton --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bone:
    name: str  # pelvis, torso, neck, head, upper_arm_l, ..., foot_r
    parent: str | None
    joint: str  # the key of its angles in a pose: torso, shoulder_l, knee_r ...
    at: str  # where on the parent it starts: "head" or "tail" of the parent bone
    offset: Vec  # from that point, in the parent's frame, in metres
    direction: Vec  # rest direction in the parent's frame
    length: float
    side: int = 0  # +1 left, -1 right, 0 midline


@dataclass(frozen=True)
class Proportions:
    height: float
    shoulders: float  # half width of the shoulders, metres
    hips: float  # half distance between the hip joints
    girth: float  # scales every radius

    @classmethod
    def of(cls, params: dict[str, Any]) -> "Proportions":
        h = float(params["height"])
        return cls(h, h * 0.104 * float(params.get("shoulder_w", 1.0)), h * 0.05 * float(params.get("hip_w", 1.0)),
                   h * float(params.get("girth", 1.0)))


def skeleton(pr: Proportions) -> list[Bone]:
    """The bones in parent-first order, lengths from the figure's height (a canon of adult proportions)."""
    h = pr.height
    bones = [
        Bone("pelvis", None, "pelvis", "head", (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 0.07 * h),
        Bone("torso", "pelvis", "torso", "head", (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 0.285 * h),
        Bone("neck", "torso", "neck", "tail", (0.0, 0.004 * h, 0.0), (0.0, 0.0, 1.0), 0.05 * h),
        Bone("head", "neck", "head", "tail", (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 0.13 * h),
    ]
    for side, tag in ((1, "l"), (-1, "r")):
        bones += [
            Bone(f"upper_arm_{tag}", "torso", f"shoulder_{tag}", "tail", (side * pr.shoulders, 0.004 * h, -0.03 * h),
                 (0.0, 0.0, -1.0), 0.172 * h, side),
            Bone(f"forearm_{tag}", f"upper_arm_{tag}", f"elbow_{tag}", "tail", (0.0, 0.0, 0.0), (0.0, 0.0, -1.0), 0.148 * h, side),
            Bone(f"hand_{tag}", f"forearm_{tag}", f"wrist_{tag}", "tail", (0.0, 0.0, 0.0), (0.0, 0.0, -1.0), 0.09 * h, side),
            Bone(f"thigh_{tag}", "pelvis", f"hip_{tag}", "head", (side * pr.hips, 0.0, 0.0), (0.0, 0.0, -1.0), 0.245 * h, side),
            Bone(f"shin_{tag}", f"thigh_{tag}", f"knee_{tag}", "tail", (0.0, 0.0, 0.0), (0.0, 0.0, -1.0), 0.24 * h, side),
            Bone(f"foot_{tag}", f"shin_{tag}", f"ankle_{tag}", "tail", (0.0, 0.0, 0.0), (0.0, -1.0, 0.0), 0.115 * h, side),
        ]
    return bones


def joint_rotation(bone: Bone, angles: dict[str, float]) -> Mat:
    """flex about x (the joint's natural sign), abduct about y (away from the midline), twist about z (outward)."""
    kind = bone.joint.rsplit("_", 1)[0] if bone.side else bone.joint
    flex = FLEX_SIGN.get(kind, 1.0) * float(angles.get("flex", 0.0))
    side = bone.side or 1
    abduct = -side * float(angles.get("abduct", 0.0))
    twist = side * float(angles.get("twist", 0.0))
    return _mul(_rx(flex), _mul(_ry(abduct), _rz(twist)))


@dataclass(frozen=True)
class Posed:
    """A bone in the figure's frame: where it starts and ends, and its frame."""

    head: Vec
    tail: Vec
    frame: Mat


def forward(bones: list[Bone], angles: dict[str, dict[str, float]], root: Vec = (0.0, 0.0, 0.0),
            yaw: float = 0.0) -> dict[str, Posed]:
    out: dict[str, Posed] = {}
    for b in bones:
        if b.parent is None:
            base, frame = root, _rz(yaw)
        else:
            par = out[b.parent]
            base = _add(par.head if b.at == "head" else par.tail, _apply(par.frame, b.offset))
            frame = par.frame
        frame = _mul(frame, joint_rotation(b, angles.get(b.joint, {})))
        tail = _add(base, _apply(frame, b.direction), b.length)
        out[b.name] = Posed(base, tail, frame)
    return out


# -- poses as data -------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def poses() -> dict[str, dict[str, Any]]:
    data = json.loads(POSES_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in data["poses"].items()}


def pose_names(posture: str | None = None) -> list[str]:
    return [k for k, v in poses().items() if posture is None or v["posture"] == posture]


def blend(a: dict[str, dict[str, float]], b: dict[str, dict[str, float]], t: float) -> dict[str, dict[str, float]]:
    """Joint angles between two poses: (1 - t) a + t b, joint by joint."""
    out: dict[str, dict[str, float]] = {}
    for joint in sorted(set(a) | set(b)):
        ja, jb = a.get(joint, {}), b.get(joint, {})
        out[joint] = {k: (1 - t) * float(ja.get(k, 0.0)) + t * float(jb.get(k, 0.0)) for k in ANGLES if k in ja or k in jb}
    return out


def mirrored(angles: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The same pose with left and right swapped (a wave of the left hand from the right-hand wave)."""
    swap = {"_l": "_r", "_r": "_l"}
    return {(j[:-2] + swap[j[-2:]]) if j[-2:] in swap else j: dict(v) for j, v in angles.items()}


def pose_angles(params: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The joint angles of a figure's params: its named pose, mirrored if asked, blended with another."""
    table = poses()
    angles = {j: dict(v) for j, v in table[params["pose"]]["joints"].items()}
    if params.get("mirror"):
        angles = mirrored(angles)
    mix = params.get("blend")
    if mix:
        other = {j: dict(v) for j, v in table[mix["with"]]["joints"].items()}
        if params.get("mirror"):
            other = mirrored(other)
        angles = blend(angles, other, float(mix["t"]))
    return angles


def posture(params: dict[str, Any]) -> str:
    return poses()[params["pose"]]["posture"]


# -- pieces --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """A capsule (p0 -> p1, radii r0, r1) or an ellipsoid (centre p0, radii in the bone frame) of one body part."""

    name: str  # the bone it belongs to
    kind: str  # capsule or ellipsoid
    p0: Vec
    p1: Vec
    r0: float
    r1: float
    radii: Vec = (0.0, 0.0, 0.0)
    frame: Mat = IDENTITY
    flat: float = 1.0  # capsules: depth / width of the cross-section (the torso is flatter than round)

    @property
    def reach(self) -> float:
        return max(self.r0, self.r1, *self.radii)

    def bounds(self) -> tuple[Vec, Vec]:
        r = self.reach
        if self.kind == "ellipsoid":
            return (tuple(c - r for c in self.p0), tuple(c + r for c in self.p0))  # type: ignore[return-value]
        lo = tuple(min(a, b) - r for a, b in zip(self.p0, self.p1))
        hi = tuple(max(a, b) + r for a, b in zip(self.p0, self.p1))
        return lo, hi  # type: ignore[return-value]


def radii_of(pr: Proportions) -> dict[str, tuple[float, float]]:
    g = pr.girth
    return {"neck": (0.029 * g, 0.027 * g), "upper_arm": (0.027 * g, 0.022 * g), "forearm": (0.021 * g, 0.016 * g),
            "thigh": (0.046 * g, 0.032 * g), "shin": (0.03 * g, 0.021 * g), "torso": (0.074 * g, 0.088 * g),
            "pelvis": (0.082 * g, 0.074 * g)}


def _root_for(params: dict[str, Any], bones: list[Bone], angles: dict[str, dict[str, float]], pr: Proportions) -> tuple[Vec, dict]:
    """Where the pelvis goes: on the seat for seated poses, else so that the lowest sole touches z = 0."""
    if posture(params) == "sitting":
        seat = float(params.get("seat_h", 0.45))
        thigh_r = radii_of(pr)["thigh"][0]
        root_z = seat + thigh_r
        angles = fit_legs_to_seat(bones, angles, root_z, pr)
        return (0.0, 0.0, root_z), angles
    posed = forward(bones, angles)
    low = min(p.bounds()[0][2] for p in _pieces(posed, pr) if p.name.startswith("foot"))
    return (0.0, 0.0, -low), angles


def fit_legs_to_seat(bones: list[Bone], angles: dict[str, dict[str, float]], root_z: float, pr: Proportions) -> dict:
    """Thighs from the seat forward, shins down to the floor: solve hip and knee flex for each leg."""
    by = {b.name: b for b in bones}
    thigh, shin = by["thigh_l"].length, by["shin_l"].length
    sole = _sole_drop(pr)
    out = {j: dict(v) for j, v in angles.items()}
    for tag in ("l", "r"):
        hip = dict(out.get(f"hip_{tag}", {}))
        spread = float(hip.get("abduct", 0.0))
        knee_target = shin + sole  # knee height when the shin is vertical and the sole is on the floor
        drop = root_z - knee_target
        if drop >= 0:  # the thigh slopes down to the knee, the shin stands upright
            delta = math.degrees(math.asin(min(0.9, drop / thigh)))
            hip_flex, knee_flex = 90.0 - delta, 90.0 - delta
        else:  # the seat is low: the shin leans forward so the foot reaches the floor
            phi = math.degrees(math.acos(max(0.2, min(1.0, (root_z - sole) / shin))))
            hip_flex, knee_flex = 90.0, 90.0 - phi
        hip["flex"] = hip_flex + float(hip.get("flex_extra", 0.0))
        hip["abduct"] = spread
        out[f"hip_{tag}"] = {k: v for k, v in hip.items() if k in ANGLES}
        knee = dict(out.get(f"knee_{tag}", {}))
        knee["flex"] = knee_flex
        out[f"knee_{tag}"] = knee
        out[f"ankle_{tag}"] = {"flex": hip["flex"] - knee_flex}  # the sole flat on the floor
    return out


def _sole_drop(pr: Proportions) -> float:
    """How far below the ankle joint the sole is (the shoe's height)."""
    return 0.042 * pr.height


def _pieces(posed: dict[str, Posed], pr: Proportions, params: dict[str, Any] | None = None) -> list[Piece]:
    """The body's capsules and ellipsoids; with ``params``, also the hair and a skirt's flare (``DRESS`` pieces)."""
    rad = radii_of(pr)
    h = pr.height
    out: list[Piece] = []
    if params is not None:
        out += _dress(posed, pr, params)
    for name, b in posed.items():
        kind = name.rsplit("_", 1)[0] if name[-2:] in ("_l", "_r") else name
        if kind == "head":
            c = _add(b.head, _add(b.tail, b.head, -1.0), 0.5)
            c = _add(c, _apply(b.frame, (0.0, -0.008 * h, 0.0)))
            out.append(Piece(name, "ellipsoid", c, c, 0.0, 0.0, (0.05 * h, 0.058 * h, 0.066 * h), b.frame))
        elif kind == "hand":
            c = _add(b.head, _add(b.tail, b.head, -1.0), 0.45)
            out.append(Piece(name, "ellipsoid", c, c, 0.0, 0.0, (0.021 * pr.girth, 0.011 * h, 0.047 * h),
                             b.frame))
        elif kind == "foot":
            heel = _add(b.head, _apply(b.frame, (0.0, 0.03 * h, -_sole_drop(pr) + 0.016 * h)))
            toe = _add(b.tail, _apply(b.frame, (0.0, 0.0, -_sole_drop(pr) + 0.016 * h)))
            out.append(Piece(name, "capsule", heel, toe, 0.016 * h, 0.016 * h))
        elif kind == "pelvis":
            out.append(Piece(name, "capsule", b.head, b.tail, rad["pelvis"][0] * (pr.hips / (0.05 * h)) ** 0.5 * 1.0,
                             rad["pelvis"][1], flat=0.7))
        elif kind == "torso":
            w = pr.shoulders / (0.104 * h)
            out.append(Piece(name, "capsule", _add(b.head, _add(b.tail, b.head, -1.0), 0.08),
                             _add(b.head, _add(b.tail, b.head, -1.0), 0.86), rad["torso"][0], rad["torso"][1] * w, flat=0.62))
        else:
            r0, r1 = rad[kind]
            out.append(Piece(name, "capsule", b.head, b.tail, r0, r1))
    return out


DRESS = ("hair", "skirt")  # pieces that are not body parts: the checks for limbs through the body skip them


def _dress(posed: dict[str, Posed], pr: Proportions, params: dict[str, Any]) -> list[Piece]:
    h = pr.height
    head = posed["head"]
    c = _add(_add(head.head, _add(head.tail, head.head, -1.0), 0.5), _apply(head.frame, (0.0, -0.008 * h, 0.0)))
    style = params.get("hair", "short")
    out = []
    if style != "bald":  # a cap over the crown and the back of the head
        cap = _add(c, _apply(head.frame, (0.0, 0.006 * h, 0.008 * h)))
        out.append(Piece("hair", "ellipsoid", cap, cap, 0.0, 0.0, (0.053 * h, 0.06 * h, 0.064 * h), head.frame))
    if style == "long":  # hair down to the shoulders, behind the neck
        top = _add(c, _apply(head.frame, (0.0, 0.03 * h, 0.0)))
        low = _add(c, _apply(head.frame, (0.0, 0.034 * h, -0.085 * h)))
        out.append(Piece("hair", "capsule", top, low, 0.045 * h, 0.04 * h, flat=0.6))
    elif style == "bun":
        bun = _add(c, _apply(head.frame, (0.0, 0.05 * h, 0.045 * h)))
        out.append(Piece("hair", "ellipsoid", bun, bun, 0.0, 0.0, (0.024 * h, 0.024 * h, 0.024 * h), head.frame))
    if params.get("bottom") == "skirt":  # a flared skirt from the waist, over the thighs when they hang down
        hips = [posed[f"thigh_{t}"] for t in ("l", "r")]
        down = all(b.tail[2] < b.head[2] - 0.8 * (0.245 * h) for b in hips)
        waist = _add(posed["pelvis"].head, (0.0, 0.0, 0.06 * h))
        hem = _add(posed["pelvis"].head, (0.0, 0.0, -0.13 * h)) if down else None
        if hem is not None:
            out.append(Piece("skirt", "capsule", waist, hem, 0.08 * pr.girth, 0.11 * pr.girth, flat=0.78))
    return out


@dataclass(frozen=True)
class Figure:
    """A posed figure in its body frame: the pelvis above (0, 0), the lowest sole (standing) or the seat (sitting)
    at its height; ``offset`` is the centre of its footprint box, where the object's origin goes."""

    pieces: tuple[Piece, ...]
    bones: dict[str, Posed]
    lo: Vec
    hi: Vec
    seat_h: float | None

    @property
    def offset(self) -> tuple[float, float]:
        return ((self.lo[0] + self.hi[0]) / 2, (self.lo[1] + self.hi[1]) / 2)

    @property
    def half_extents(self) -> Vec:
        return (round((self.hi[0] - self.lo[0]) / 2, 5), round((self.hi[1] - self.lo[1]) / 2, 5), round(self.hi[2] / 2, 5))


def pose_figure(params: dict[str, Any]) -> Figure:
    return _posed(json.dumps({k: params[k] for k in sorted(params) if k in SHAPE_KEYS}, sort_keys=True))


SHAPE_KEYS = ("height", "shoulder_w", "hip_w", "girth", "pose", "mirror", "blend", "seat_h", "hair", "bottom")


@lru_cache(maxsize=512)
def _posed(key: str) -> Figure:
    params = json.loads(key)
    pr = Proportions.of(params)
    bones = skeleton(pr)
    angles = pose_angles(params)
    root, angles = _root_for(params, bones, angles, pr)
    posed = forward(bones, angles, root)
    pieces = _pieces(posed, pr, params)
    lo = [min(p.bounds()[0][i] for p in pieces) for i in range(3)]
    hi = [max(p.bounds()[1][i] for p in pieces) for i in range(3)]
    lo[2] = 0.0  # the box stands on the floor even when feet dangle from a seat
    r = lambda v: round(v, 5)  # noqa: E731
    return Figure(tuple(pieces), posed, (r(lo[0]) - 1e-4, r(lo[1]) - 1e-4, 0.0), (r(hi[0]) + 1e-4, r(hi[1]) + 1e-4, r(hi[2]) + 1e-4),
                  float(params["seat_h"]) if posture(params) == "sitting" else None)


# -- checks (tests and the pose change use them) ------------------------------------------------
ADJACENT_OK = 0.35  # share of the smaller radius two touching parts may overlap (a hand on a hip, crossed arms)


def _family_tree(bones: list[Bone]) -> dict[str, str | None]:
    return {b.name: b.parent for b in bones}


def self_intersections(params: dict[str, Any]) -> list[tuple[str, str, float]]:
    """Pairs of body parts that pass through each other (beyond touching), with their overlap in metres.

    Parts that share a joint are exempt; everything else must keep its surfaces apart, up to
    ``ADJACENT_OK`` of the thinner part (arms crossed, hands on hips and legs side by side touch).
    """
    fig = pose_figure(params)
    pr = Proportions.of(params)
    parents = _family_tree(skeleton(pr))
    near = set()
    for child, parent in parents.items():
        if parent:
            near.add(frozenset((child, parent)))
            grand = parents.get(parent)
            if grand and child.startswith(("upper_arm", "thigh", "neck")):
                near.add(frozenset((child, grand)))
    for tag in ("l", "r"):
        near.add(frozenset((f"thigh_{tag}", "torso")))  # the hip joint sits at the pelvis-torso seam
        near.add(frozenset((f"upper_arm_{tag}", "neck")))
    near.add(frozenset(("head", "torso")))
    out = []
    pieces = [p for p in fig.pieces if p.name not in DRESS]
    for i, a in enumerate(pieces):
        for b in pieces[i + 1:]:
            if frozenset((a.name, b.name)) in near:
                continue
            d = segment_distance(*_axis(a), *_axis(b))
            ra, rb = _radius(a), _radius(b)
            overlap = ra + rb - d
            if overlap > ADJACENT_OK * min(ra, rb):
                out.append((a.name, b.name, round(overlap, 4)))
    return out


def _axis(p: Piece) -> tuple[Vec, Vec]:
    if p.kind == "capsule":
        return p.p0, p.p1
    long_axis = max(range(3), key=lambda i: p.radii[i])
    u = tuple(p.frame[k][long_axis] for k in range(3))
    half = p.radii[long_axis] - min(p.radii)
    return _add(p.p0, u, -half), _add(p.p0, u, half)  # type: ignore[arg-type]


def _radius(p: Piece) -> float:
    if p.kind == "capsule":
        r = (p.r0 + p.r1) / 2
        return r * (1 + p.flat) / 2  # a flat torso is thinner front to back than across
    return sorted(p.radii)[1] * 0.9


def lowest_parts(params: dict[str, Any], tolerance: float = 0.004) -> list[str]:
    """The parts that reach the floor (z <= tolerance): the feet for a standing figure."""
    fig = pose_figure(params)
    return sorted({p.name for p in fig.pieces if _lowest_z(p) <= tolerance})


def _lowest_z(p: Piece) -> float:
    if p.kind == "capsule":
        return min(p.p0[2] - p.r0, p.p1[2] - p.r1)
    # an ellipsoid: the lowest point of a turned ellipsoid along z
    return p.p0[2] - math.sqrt(sum((p.frame[2][i] * p.radii[i]) ** 2 for i in range(3)))


def floor_penetration(params: dict[str, Any]) -> float:
    """How far the lowest part dips below the floor (0 when nothing does)."""
    fig = pose_figure(params)
    return max(0.0, -min(_lowest_z(p) for p in fig.pieces))


def seat_contact(params: dict[str, Any]) -> float:
    """Height of the underside of the thighs near the hips above the seat (0 when the figure sits on it)."""
    fig = pose_figure(params)
    r = radii_of(Proportions.of(params))["thigh"][0]
    hips = [fig.bones[f"thigh_{t}"].head[2] for t in ("l", "r")]
    return round(min(hips) - r - float(params["seat_h"]), 5)


def changed_joints(a: dict[str, Any], b: dict[str, Any], threshold: float = 12.0) -> list[str]:
    """Joints whose angles differ by more than ``threshold`` degrees between two figures' params."""
    fa, fb = _angles_for(a), _angles_for(b)
    out = []
    for joint in sorted(set(fa) | set(fb)):
        ja, jb = fa.get(joint, {}), fb.get(joint, {})
        if any(abs(float(ja.get(k, 0.0)) - float(jb.get(k, 0.0))) > threshold for k in ANGLES):
            out.append(joint)
    return out


def _angles_for(params: dict[str, Any]) -> dict[str, dict[str, float]]:
    pr = Proportions.of(params)
    angles = pose_angles(params)
    if posture(params) == "sitting":
        _, angles = _root_for(params, skeleton(pr), angles, pr)
    return angles
