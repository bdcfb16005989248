"""People in the rich kits: where a figure may be (walking or standing on a floor zone, sitting on a seat,
standing at a counter) and the pose change's kit step.

A seated figure stands on the floor zone (its feet are there) and names its seat as ``support``: the
layout exempts the pair from collisions, the seat stays put while it is occupied, and the captions
say "on the bench". A figure at a counter records it in ``params["at"]``. The body box comes from
the posed figure (``figure.py``), so every placement is checked like any other object's.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from generators.synthetic.families import family_of, load_data, make_object, refresh_extents
from generators.synthetic.families.people import is_person, standing_pose
from generators.synthetic.figure import changed_joints, pose_figure, pose_names, poses, posture
from generators.synthetic.layout import surface_world
from generators.synthetic.spec import ObjectSpec, SceneSpec

if TYPE_CHECKING:
    from generators.synthetic.kits.base import SceneKit

DATA = load_data("people")["person"]
SEATED_WEIGHTS = {"sitting": 3}
AT_COUNTER = ("standing", "arms_crossed", "phone_to_ear", "hands_on_hips", "pointing")
TRIES = 8
LIMBS = {"shoulder": "arm", "elbow": "arm", "wrist": "arm", "hip": "leg", "knee": "leg", "ankle": "leg"}


def seated_pose(rng: random.Random) -> str:
    names = pose_names("sitting")
    return rng.choices(names, [SEATED_WEIGHTS.get(n, 1) for n in names])[0]


def root_world(obj: ObjectSpec) -> tuple[float, float]:
    """Where the figure's pelvis is above the ground, in the scene (the object's origin is its box centre)."""
    ox, oy = pose_figure(obj.params).offset
    t = math.radians(obj.rotation)
    return obj.x - (ox * math.cos(t) - oy * math.sin(t)), obj.y - (ox * math.sin(t) + oy * math.cos(t))


def put_root(obj: ObjectSpec, x: float, y: float) -> None:
    """Move the object so that its pelvis stands above (x, y)."""
    refresh_extents(obj)
    ox, oy = pose_figure(obj.params).offset
    t = math.radians(obj.rotation)
    obj.x = round(x + ox * math.cos(t) - oy * math.sin(t), 4)
    obj.y = round(y + ox * math.sin(t) + oy * math.cos(t), 4)


def set_pose(obj: ObjectSpec, pose: str, seat_h: float | None = None, mirror: bool | None = None) -> None:
    obj.params["pose"] = pose
    obj.params["blend"] = None
    if mirror is not None:
        obj.params["mirror"] = mirror
    if seat_h is None:
        obj.params.pop("seat_h", None)
    else:
        obj.params["seat_h"] = round(seat_h, 4)


def seats(scene: SceneSpec) -> list[tuple[ObjectSpec, Any]]:
    """(seat object, its seat surface) for every free seat in the scene."""
    taken = {o.support for o in scene.objects if is_person(o)}
    out = []
    for o in scene.objects:
        fam = family_of(o)
        surface_name = DATA["sits_on"].get(o.family)
        if fam is None or surface_name is None or o.uid in taken:
            continue
        surface = next((s for s in fam.surfaces(o.params) if s.name == surface_name), None)
        if surface is not None:
            out.append((o, surface))
    return out


def sit(kit: "SceneKit", scene: SceneSpec, person: ObjectSpec, seat: ObjectSpec, surface: Any, rng: random.Random,
        aspect: float | None, pose: str | None = None) -> bool:
    """Seat ``person`` on ``seat`` facing the way the seat faces: the knees just past the seat's front edge
    (or the pelvis at the back of a shallow seat), so that the shins hang in front of it, not through it."""
    scale = float(seat.params.get("scale", 1.0))
    rect, z, _ = surface_world(seat, surface, scale)
    ground = kit.ground_z(scene, seat)
    set_pose(person, pose or seated_pose(rng), seat_h=z - ground)
    person.rotation = seat.rotation
    person.support, person.surface, person.placement, person.z0 = seat.uid, surface.name, "floor", ground
    person.params.pop("at", None)
    knee = pose_figure(person.params).bones["thigh_l"]
    reach = abs(knee.tail[1] - knee.head[1]) + 0.05  # hip to the front of the knee
    front = -seat.half_extents[1] - (surface.y0 + surface.y1) / 2 * scale  # the seat's front face, from the rect centre
    v = min(rect.hy - 0.1, max(-rect.hy + 0.1, front + reach))
    span = max(0.0, rect.hx - 0.22)
    for _ in range(TRIES):
        u = rng.uniform(-span, span)
        put_root(person, *rect.to_world(u, v))
        if (aspect is None or kit.in_view(scene, person, aspect)) and kit.fits(scene, person) is None:
            return True
    return False


def stand_at(kit: "SceneKit", scene: SceneSpec, person: ObjectSpec, holder: ObjectSpec, rng: random.Random,
             aspect: float | None) -> bool:
    """Stand ``person`` at the front of a counter or a kiosk, facing it."""
    set_pose(person, rng.choice(AT_COUNTER))
    person.rotation = round((holder.rotation + 180.0) % 360.0, 3)
    person.support, person.surface, person.placement = None, None, "floor"
    t = math.radians(holder.rotation)
    hx, hy = holder.half_extents[0], holder.half_extents[1]
    for _ in range(TRIES):
        u = rng.uniform(-max(0.0, hx - 0.35), max(0.0, hx - 0.35))
        v = -hy - 0.24 - rng.uniform(0.0, 0.08)
        put_root(person, holder.x + u * math.cos(t) - v * math.sin(t), holder.y + u * math.sin(t) + v * math.cos(t))
        person.z0 = kit.ground_z(scene, person)
        person.params["at"] = holder.uid
        if (aspect is None or kit.in_view(scene, person, aspect)) and kit.fits(scene, person) is None:
            return True
    person.params.pop("at", None)
    return False


def on_foot(kit: "SceneKit", scene: SceneSpec, person: ObjectSpec, rng: random.Random, aspect: float | None,
            avoid: tuple[float, float, float] | None = None) -> bool:
    """Walking or standing somewhere on a floor zone that takes people."""
    if posture(person.params) == "sitting":
        set_pose(person, standing_pose(rng))
    person.params.pop("at", None)
    refresh_extents(person)
    return kit.place_on_floor(scene, person, rng, aspect, avoid=avoid)


def place(kit: "SceneKit", scene: SceneSpec, person: ObjectSpec, rng: random.Random, aspect: float | None,
          sit_share: float = 0.4, counter_share: float = 0.25) -> bool:
    """Somewhere a person would be: on a free seat, at a counter, or on foot (in that order of the draws)."""
    options = seats(scene)
    rng.shuffle(options)
    if options and rng.random() < sit_share:
        for seat, surface in options[:3]:
            if sit(kit, scene, person, seat, surface, rng, aspect):
                return True
    counters = [o for o in scene.objects if o.family in DATA["stands_at"]]
    if counters and rng.random() < counter_share:
        if stand_at(kit, scene, person, rng.choice(counters), rng, aspect):
            return True
    person.support, person.surface = None, None
    return on_foot(kit, scene, person, rng, aspect)


def populate(kit: "SceneKit", scene: SceneSpec, rng: random.Random, aspect: float, count: tuple[int, int],
             sit_share: float, counter_share: float) -> None:
    """A few people in view: the kits call this after the furniture is in place (a crowded room may take fewer)."""
    if not kit.with_people:
        return
    for _ in range(rng.randint(*count)):
        person = kit._new(scene, "person")
        if not any(place(kit, scene, person, rng, aspect, sit_share, counter_share) for _ in range(3)):
            scene.objects.remove(person)


def repose(kit: "SceneKit", scene: SceneSpec, person: ObjectSpec, rng: random.Random) -> dict[str, Any] | None:
    """Another pose for ``person``, the first of a few draws that fits where it is: a seated figure may take
    another seated pose or stand up in front of its seat; a standing one takes another standing pose on the
    same spot. Returns what the diff records, or None."""
    before = dict(person.params)
    start = (person.x, person.y, person.z0, person.rotation, person.support, person.surface, dict(person.params))
    root = root_world(person)
    seat = scene.get(person.support)
    was = posture(before)
    options: list[tuple[str, bool]] = []
    if was == "sitting" and seat is not None:
        options += [(p, False) for p in pose_names("sitting") if p != before["pose"]]
        options += [(p, True) for p in ("standing", "waving", "phone_to_ear", "arms_crossed")]
    else:
        keep = AT_COUNTER if "at" in before else pose_names("standing")
        options += [(p, False) for p in keep if p != before["pose"]]
    rng.shuffle(options)
    for pose, stand_up in options[:TRIES]:
        mirror = bool(before.get("mirror")) if rng.random() < 0.7 else not before.get("mirror")
        if stand_up:
            set_pose(person, pose, mirror=mirror)
            person.support, person.surface = None, None
            t = math.radians(seat.rotation)  # in front of the seat, where the feet were, the back clear of it
            dx, dy = root[0] - seat.x, root[1] - seat.y
            u = dx * math.cos(t) + dy * math.sin(t)
            v = -(seat.half_extents[1] + pose_figure(person.params).hi[1] + 0.06)
            put_root(person, seat.x + u * math.cos(t) - v * math.sin(t), seat.y + u * math.sin(t) + v * math.cos(t))
            person.z0 = kit.ground_z(scene, person)
        else:
            set_pose(person, pose, seat_h=before.get("seat_h") if was == "sitting" else None, mirror=mirror)
            put_root(person, *root)
        if kit.fits(scene, person) is None and changed_joints(before, person.params):
            return {"before": before["pose"], "after": pose, "posture_before": was, "posture_after": posture(person.params),
                    "joints": changed_joints(before, person.params), "limbs": limbs(changed_joints(before, person.params)),
                    "mirror_before": bool(before.get("mirror")), "mirror_after": mirror,
                    "seat": seat.uid if seat is not None else None, "stood_up": stand_up}
        person.x, person.y, person.z0, person.rotation, person.support, person.surface = start[:6]
        person.params = dict(start[6])
        refresh_extents(person)
    return None


def limbs(joints: list[str]) -> list[str]:
    """'right arm', 'legs', 'head': the visible limbs a set of changed joints moves."""
    out: list[str] = []
    sides: dict[str, set[str]] = {}
    for joint in joints:
        kind, _, tag = joint.rpartition("_") if joint[-2:] in ("_l", "_r") else (joint, "", "")
        if kind in LIMBS:
            sides.setdefault(LIMBS[kind], set()).add({"l": "left", "r": "right"}[tag])
        elif kind == "torso":
            out.append("upper body")
        elif kind in ("neck", "head") and "head" not in out:
            out.append("head")
    for limb in ("arm", "leg"):
        got = sides.get(limb, set())
        if len(got) == 2:
            out.insert(0, f"{limb}s")
        elif got:
            out.insert(0, f"{next(iter(got))} {limb}")
    return out


def pose_words(pose: str, mirror: bool) -> dict[str, str]:
    """The caption words of a pose; a mirrored pose uses the other hand."""
    words = dict(poses()[pose]["words"])
    if mirror:
        swap = {"right": "left", "left": "right"}
        words = {k: " ".join(swap.get(w, w) for w in v.split(" ")) for k, v in words.items()}
    return words


def new_person(kit: "SceneKit", scene: SceneSpec, rng: random.Random, aspect: float, stream: random.Random) -> ObjectSpec | None:
    """An added person, placed where people go."""
    uid = scene.next_uid()
    person = make_object("person", uid, stream)
    scene.objects.append(person)
    if place(kit, scene, person, rng, aspect):
        return person
    scene.objects.remove(person)
    return None
