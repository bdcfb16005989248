"""The change registry: one small function per change type, pure Python.

``apply(key, scene, rng, ctx)`` returns a ``Change`` (the changed scene copy and its structured
diff) or a ``Rejection`` with its reason. The diff says which object uids must show in the
before and the after masks; the renderer checks their visibility and the planner retries.
Pose needs an articulated figure and belongs to the scene kits, not to tabletop scenes.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from generators.synthetic.geometry import in_frame
from generators.synthetic.sampling import make_shape, place, recipe_for, shape_extents, fits
from generators.synthetic.spec import ObjectSpec, SceneSpec
from generators.synthetic.vocabulary import vocabulary

TABLETOP_CHANGE_TYPES = (
    "viewpoint", "illumination", "addition", "disappearance", "removal", "substitution",
    "size", "color", "orientation", "counting", "text", "movement", "material",
)
NOT_TABLETOP = {"pose": "needs an articulated figure: comes with the indoor/outdoor scene kits"}


@dataclass
class ChangeContext:
    preset: str
    aspect: float
    locked: set[int] = field(default_factory=set)  # uids an earlier change of the same pair touched


@dataclass
class Change:
    scene: SceneSpec
    diff: dict[str, Any]  # type, uid, attribute, before, after, object_before/after, mask uids

    @property
    def mask_before(self) -> list[int]:
        return list(self.diff.get("mask_before", []))

    @property
    def mask_after(self) -> list[int]:
        return list(self.diff.get("mask_after", []))


@dataclass(frozen=True)
class Rejection:
    change_type: str
    reason: str


ChangeFn = Callable[[SceneSpec, random.Random, ChangeContext], "Change | Rejection"]
REGISTRY: dict[str, ChangeFn] = {}


def register(key: str) -> Callable[[ChangeFn], ChangeFn]:
    def deco(fn: ChangeFn) -> ChangeFn:
        REGISTRY[key] = fn
        return fn

    return deco


def apply(key: str, scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    if key in NOT_TABLETOP:
        return Rejection(key, NOT_TABLETOP[key])
    if key not in REGISTRY:
        return Rejection(key, f"no change function for {key!r}")
    return REGISTRY[key](scene.copy(), rng, ctx)


def _free_shapes(scene: SceneSpec, ctx: ChangeContext, group_ok: bool = False) -> list[ObjectSpec]:
    """Free-standing shapes (not props, nothing on top) that no earlier change touched."""
    held = {o.support for o in scene.objects if o.support is not None}
    return [
        o for o in scene.objects
        if o.size != "prop" and o.support is None and o.uid not in held and o.uid not in ctx.locked
        and (group_ok or o.group is None)
    ]


def _snapshot(obj: ObjectSpec | None) -> dict[str, Any] | None:
    return None if obj is None else asdict(obj)


def _diff(key: str, obj: ObjectSpec | None, after: ObjectSpec | None, attribute: str | None,
          before_value: Any, after_value: Any, mask_before: list[int], mask_after: list[int],
          **extra: Any) -> dict[str, Any]:
    return {
        "type": key, "uid": (obj or after).uid if (obj or after) else None, "attribute": attribute,
        "before": before_value, "after": after_value, "object_before": _snapshot(obj),
        "object_after": _snapshot(after), "mask_before": mask_before, "mask_after": mask_after, **extra,
    }


@register("viewpoint")
def viewpoint(scene: SceneSpec, rng: random.Random, ctx: ChangeContext, small: bool = False) -> Change | Rejection:
    cam = scene.camera
    before = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    if small:  # a CLEVR-style distractor: a jitter, not a described move
        cam.azimuth = round(cam.azimuth + rng.choice((-1, 1)) * rng.uniform(1.5, 3.5), 4)
        cam.elevation = round(cam.elevation + rng.uniform(-1.0, 1.0), 4)
    else:
        cam.azimuth = round(cam.azimuth + rng.choice((-1, 1)) * rng.uniform(12.0, 22.0), 4)
        cam.elevation = round(cam.elevation + rng.uniform(-4.0, 4.0), 4)
        cam.distance = round(cam.distance * rng.uniform(0.95, 1.04), 4)
    for obj in scene.objects:
        if not in_frame(scene, obj, ctx.aspect, margin=0.0):
            return Rejection("viewpoint", f"object {obj.uid} leaves the frame")
    after = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    direction = "left" if after["azimuth"] < before["azimuth"] else "right"
    return Change(scene, _diff("viewpoint", None, None, "camera", before, after, [], [], direction=direction,
                               jitter=small))


def ring_viewpoint(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    """CLEVR-DC: the after camera stands at a random place on a ring around the scene."""
    cam = scene.camera
    before = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    cam.azimuth = round(cam.azimuth + rng.choice((-1, 1)) * rng.uniform(45.0, 160.0), 4)
    cam.elevation = round(rng.uniform(28.0, 40.0), 4)
    for obj in scene.objects:
        if not in_frame(scene, obj, ctx.aspect, margin=0.0):
            return Rejection("viewpoint", f"object {obj.uid} leaves the frame on the ring")
    after = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    return Change(scene, _diff("viewpoint", None, None, "camera", before, after, [], [], ring=True,
                               direction="left" if after["azimuth"] < before["azimuth"] else "right"))


@register("illumination")
def illumination(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    moods = vocabulary()["light_moods"]
    mood = rng.choice(sorted(moods))
    before = [asdict(li) for li in scene.lights]
    spec = moods[mood]
    for li in scene.lights:
        if "color" in spec and li.name in ("key", "fill"):
            li.rgb = tuple(spec["color"])
        if "factor" in spec:
            li.energy = round(li.energy * spec["factor"], 2)
    return Change(scene, _diff("illumination", None, None, "lighting", "neutral", mood, [], [],
                               lights_before=before, lights_after=[asdict(li) for li in scene.lights]))


@register("addition")
def addition(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    obj = make_shape(scene.next_uid(), rng, recipe_for(ctx.preset).shapes)
    scene.objects.append(obj)
    if not place(scene, obj, rng, ctx.aspect):
        return Rejection("addition", "no free spot for a new object")
    return Change(scene, _diff("addition", None, obj, None, None, obj.noun, [], [obj.uid]))


@register("disappearance")
def disappearance(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    candidates = _free_shapes(scene, ctx)
    if not candidates:
        return Rejection("disappearance", "no free-standing object to take away")
    obj = rng.choice(candidates)
    scene.objects.remove(obj)
    return Change(scene, _diff("disappearance", obj, None, None, obj.noun, None, [obj.uid], []))


@register("removal")
def removal(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    candidates = [o for o in scene.objects if o.support is not None and o.uid not in ctx.locked]
    if not candidates:
        return Rejection("removal", "no object rests on a holder")
    obj = rng.choice(candidates)
    holder = scene.by_uid(obj.support)  # type: ignore[arg-type]
    scene.objects.remove(obj)
    return Change(scene, _diff("removal", obj, None, None, obj.noun, None, [obj.uid], [], holder=_snapshot(holder)))


@register("substitution")
def substitution(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    candidates = _free_shapes(scene, ctx)
    if not candidates:
        return Rejection("substitution", "no object to replace")
    old = rng.choice(candidates)
    shapes = [s for s in recipe_for(ctx.preset).shapes if s != old.shape]
    new = make_shape(scene.next_uid(), rng, tuple(shapes), old.x, old.y, size=old.size)
    new.color, new.rgb, new.material = old.color, old.rgb, old.material
    scene.objects[scene.objects.index(old)] = new
    why = fits(scene, new, ctx.aspect)
    if why:
        return Rejection("substitution", f"the new {new.shape} {why}")
    return Change(scene, _diff("substitution", old, new, "shape", old.shape, new.shape, [old.uid], [new.uid]))


@register("size")
def size(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    candidates = _free_shapes(scene, ctx)
    if not candidates:
        return Rejection("size", "no object to resize")
    obj = rng.choice(candidates)
    before = asdict(obj)
    old_size = obj.size
    obj.size = "small" if old_size == "large" else "large"
    obj.half_extents = shape_extents(obj.shape, obj.size)
    why = fits(scene, obj, ctx.aspect)
    if why:
        return Rejection("size", f"the resized object {why}")
    return Change(scene, {**_diff("size", obj, obj, "size", old_size, obj.size, [obj.uid], [obj.uid]),
                          "object_before": before})


def _recolour(key: str, attribute: str, values: list[str]):
    def fn(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
        candidates = _free_shapes(scene, ctx)
        if not candidates:
            return Rejection(key, f"no object to change the {attribute} of")
        obj = rng.choice(candidates)
        before = asdict(obj)
        old = getattr(obj, attribute)
        new = rng.choice([v for v in values if v != old])
        setattr(obj, attribute, new)
        if attribute == "color":
            obj.rgb = tuple(vocabulary()["colors"][new])
        return Change(scene, {**_diff(key, obj, obj, attribute, old, new, [obj.uid], [obj.uid]), "object_before": before})

    return fn


register("color")(_recolour("color", "color", sorted(vocabulary()["colors"])))
register("material")(_recolour("material", "material", sorted(vocabulary()["materials"])))


@register("orientation")
def orientation(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    shapes = vocabulary()["shapes"]
    candidates = [o for o in _free_shapes(scene, ctx) if shapes[o.shape]["symmetry_deg"]]
    if not candidates:
        return Rejection("orientation", "no object whose turn would show (cube or brick)")
    obj = rng.choice(candidates)
    before = asdict(obj)
    sym = shapes[obj.shape]["symmetry_deg"]
    turn = rng.choice((-1, 1)) * rng.uniform(0.3 * sym, 0.5 * sym if sym <= 90 else 0.4 * sym)
    old = obj.rotation
    obj.rotation = round((old + turn) % 360.0, 4)
    why = fits(scene, obj, ctx.aspect)
    if why:
        return Rejection("orientation", f"the turned object {why}")
    return Change(scene, {**_diff("orientation", obj, obj, "rotation", old, obj.rotation, [obj.uid], [obj.uid],
                                  turn=round(turn, 3)), "object_before": before})


@register("counting")
def counting(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    groups: dict[str, list[ObjectSpec]] = {}
    for o in scene.objects:
        if o.group:
            groups.setdefault(o.group, []).append(o)
    if not groups:
        return Rejection("counting", "no group of identical objects")
    group = sorted(groups)[0]
    members = groups[group]
    if any(m.uid in ctx.locked for m in members):
        return Rejection("counting", "the group was already changed")
    n = len(members)
    if n >= 2 and rng.random() < 0.5:
        gone = rng.choice(members)
        scene.objects.remove(gone)
        return Change(scene, _diff("counting", gone, None, "count", n, n - 1, [gone.uid], [], group=group))
    proto = members[0]
    new = ObjectSpec(**{**proto.__dict__, "uid": scene.next_uid()})
    scene.objects.append(new)
    if not place(scene, new, rng, ctx.aspect):
        return Rejection("counting", "no free spot for one more instance")
    return Change(scene, _diff("counting", None, new, "count", n, n + 1, [], [new.uid], group=group))


@register("text")
def text(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    cards = [o for o in scene.objects if o.text is not None and o.uid not in ctx.locked]
    if not cards:
        return Rejection("text", "no card with text")
    card = cards[0]
    before = asdict(card)
    old = card.text
    card.text = rng.choice([w for w in vocabulary()["words"] if w != old])
    return Change(scene, {**_diff("text", card, card, "text", old, card.text, [card.uid], [card.uid]),
                          "object_before": before})


@register("movement")
def movement(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    candidates = _free_shapes(scene, ctx)
    if not candidates:
        return Rejection("movement", "no object to move")
    obj = rng.choice(candidates)
    before = asdict(obj)
    if not place(scene, obj, rng, ctx.aspect, avoid=(obj.x, obj.y, 1.2)):
        return Rejection("movement", "no free spot away from the old place")
    return Change(scene, {**_diff("movement", obj, obj, "position", [before["x"], before["y"]], [obj.x, obj.y],
                                  [obj.uid], [obj.uid]), "object_before": before})


def apply_many(keys: list[str], scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> tuple[SceneSpec, list[dict[str, Any]]] | Rejection:
    """Several changes in one pair, each on a different object, each recorded."""
    diffs: list[dict[str, Any]] = []
    current = scene
    for key in keys:
        result = apply(key, current, rng, ctx)
        if isinstance(result, Rejection):
            return result
        current = result.scene
        diffs.append(result.diff)
        ctx.locked.update(u for u in result.mask_before + result.mask_after)
        if result.diff.get("uid") is not None:
            ctx.locked.add(result.diff["uid"])
    return current, diffs
