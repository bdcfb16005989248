"""The change registry: one small function per change type, pure Python, the same for every kit.

``apply(key, scene, rng, ctx)`` returns a ``Change`` (the changed scene copy and its structured
diff) or a ``Rejection`` with its reason. Each function picks a candidate the kit allows (visible in
the before image when the context carries the id pass's pixel counts), edits the spec through the
kit's steps (``kits/base.py``: where things may go, whether they fit, how the camera and the light
may change) and records what changed. The diff says which ids must show in the before and the after
masks; the renderer checks their visibility and the planner retries. Pose needs an articulated figure:
no kit offers it yet, so it is rejected with that reason.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from generators.synthetic.kits.base import Kit
from generators.synthetic.kits.tabletop import TABLETOP_CHANGE_TYPES  # noqa: F401 - the tabletop's list, as before
from generators.synthetic.masks import text_id
from generators.synthetic.spec import ObjectSpec, SceneSpec, object_from_dict

NEEDS_A_FIGURE = {"pose": "needs an articulated figure: comes with the people of the scene kits"}


@dataclass
class ChangeContext:
    preset: str
    aspect: float
    kit: Kit | None = None
    locked: set[int] = field(default_factory=set)  # uids an earlier change of the same pair touched
    counts: dict[int, int] | None = None  # id -> pixels in the before image (None: no visibility filter)
    min_pixels: int = 0

    def __post_init__(self) -> None:
        if self.kit is None:
            from generators.synthetic.kits import get_kit

            self.kit = get_kit("tabletop", self.preset)


@dataclass
class Change:
    scene: SceneSpec
    diff: dict[str, Any]  # type, uid, attribute, before, after, object_before/after, mask ids

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
    if key in NEEDS_A_FIGURE and key not in REGISTRY:
        return Rejection(key, NEEDS_A_FIGURE[key])
    if key not in REGISTRY:
        return Rejection(key, f"no change function for {key!r}")
    return REGISTRY[key](scene.copy(), rng, ctx)


def _snapshot(obj: ObjectSpec | None) -> dict[str, Any] | None:
    return None if obj is None else asdict(obj)


def _holder(scene: SceneSpec, obj: ObjectSpec) -> dict[str, Any]:
    """What held a removed object: its holder object, a window sill or a wall of the shell."""
    holder = scene.get(obj.support)
    if holder is not None:
        return {"kind": "object", "object": _snapshot(holder), "surface": obj.surface}
    return {"kind": "wall" if obj.placement == "wall" else "sill", "name": obj.surface}


def _diff(key: str, obj: ObjectSpec | None, after: ObjectSpec | None, attribute: str | None,
          before_value: Any, after_value: Any, mask_before: list[int], mask_after: list[int],
          **extra: Any) -> dict[str, Any]:
    return {
        "type": key, "uid": (obj or after).uid if (obj or after) else None, "attribute": attribute,
        "before": before_value, "after": after_value, "object_before": _snapshot(obj),
        "object_after": _snapshot(after), "mask_before": mask_before, "mask_after": mask_after, **extra,
    }


def _pick(scene: SceneSpec, key: str, rng: random.Random, ctx: ChangeContext) -> ObjectSpec | Rejection:
    candidates = ctx.kit.candidates(scene, key, ctx)
    if not candidates:
        return Rejection(key, f"no object in view that a {key} change may touch")
    return rng.choice(candidates)


@register("viewpoint")
def viewpoint(scene: SceneSpec, rng: random.Random, ctx: ChangeContext, small: bool = False) -> Change | Rejection:
    cam = scene.camera
    before = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    why = ctx.kit.move_camera(scene, rng, small, ctx.aspect)
    if why:
        return Rejection("viewpoint", why)
    after = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    direction = "left" if after["azimuth"] < before["azimuth"] else "right"
    return Change(scene, _diff("viewpoint", None, None, "camera", before, after, [], [], direction=direction,
                               jitter=small))


def ring_viewpoint(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    """CLEVR-DC: the after camera stands at a random place on a ring around the scene."""
    cam = scene.camera
    before = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    why = ctx.kit.ring_camera(scene, rng, ctx.aspect)
    if why:
        return Rejection("viewpoint", f"{why} on the ring")
    after = {"azimuth": cam.azimuth, "elevation": cam.elevation, "distance": cam.distance}
    return Change(scene, _diff("viewpoint", None, None, "camera", before, after, [], [], ring=True,
                               direction="left" if after["azimuth"] < before["azimuth"] else "right"))


@register("illumination")
def illumination(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    lights_before, world_before = [asdict(li) for li in scene.lights], asdict(scene.world)
    info = ctx.kit.relight(scene, rng, ctx)
    if info is None:
        return Rejection("illumination", "no light in this scene can change")
    return Change(scene, _diff("illumination", None, None, "lighting", info.get("before"), info.get("after"), [], [],
                               variant=info["variant"], light=info, lights_before=lights_before,
                               lights_after=[asdict(li) for li in scene.lights], world_before=world_before,
                               world_after=asdict(scene.world)))


@register("addition")
def addition(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    obj = ctx.kit.new_object(scene, rng, ctx)
    if obj is None:
        return Rejection("addition", "no free spot for a new object")
    return Change(scene, _diff("addition", None, obj, None, None, obj.noun, [], [obj.uid]))


@register("disappearance")
def disappearance(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    obj = _pick(scene, "disappearance", rng, ctx)
    if isinstance(obj, Rejection):
        return obj
    scene.objects.remove(obj)
    return Change(scene, _diff("disappearance", obj, None, None, obj.noun, None, [obj.uid], []))


@register("removal")
def removal(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    obj = _pick(scene, "removal", rng, ctx)
    if isinstance(obj, Rejection):
        return obj
    holder = _holder(scene, obj)
    scene.objects.remove(obj)
    return Change(scene, _diff("removal", obj, None, None, obj.noun, None, [obj.uid], [], holder=holder))


@register("substitution")
def substitution(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    old = _pick(scene, "substitution", rng, ctx)
    if isinstance(old, Rejection):
        return old
    new = ctx.kit.substitute(scene, old, rng, ctx)
    if new is None:
        return Rejection("substitution", f"no other kind of object fits where the {old.noun} stands")
    return Change(scene, _diff("substitution", old, new, "family", old.family, new.family, [old.uid], [new.uid]))


@register("size")
def size(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    candidates = ctx.kit.candidates(scene, "size", ctx)
    rng.shuffle(candidates)
    why = "no object in view that a size change may touch"
    for obj in candidates[:6]:  # the first one that has room to grow or shrink
        before = asdict(obj)
        index = scene.objects.index(obj)
        old, new = ctx.kit.resize(scene, obj, rng)
        why = ctx.kit.fits(scene, obj, ctx)
        if not why:
            return Change(scene, {**_diff("size", obj, obj, "size", old, new, [obj.uid], [obj.uid]), "object_before": before})
        scene.objects[index] = object_from_dict(before)
        why = f"the resized object {why}"
    return Rejection("size", why)


def _restyle(key: str) -> ChangeFn:
    """Colour or material of one part (the whole object for one-part things)."""

    def fn(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
        obj = _pick(scene, key, rng, ctx)
        if isinstance(obj, Rejection):
            return obj
        before = asdict(obj)
        step = ctx.kit.recolour if key == "color" else ctx.kit.rematerial
        result = step(obj, rng)
        if result is None:
            return Rejection(key, f"the {obj.noun} has no other {key} to take")
        part, old, new = result
        diff = _diff(key, obj, obj, key, old, new, [obj.uid], [obj.uid], part=part, main=part == obj.main)
        return Change(scene, {**diff, "object_before": before})

    return fn


register("color")(_restyle("color"))
register("material")(_restyle("material"))


@register("orientation")
def orientation(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    candidates = ctx.kit.candidates(scene, "orientation", ctx)
    rng.shuffle(candidates)
    why = "no object in view that an orientation change may touch"
    for obj in candidates[:6]:  # the first one that has room to turn
        before = asdict(obj)
        old = obj.rotation
        turn = ctx.kit.turn(scene, obj, rng)
        why = ctx.kit.fits(scene, obj, ctx)
        if not why:
            return Change(scene, {**_diff("orientation", obj, obj, "rotation", old, obj.rotation, [obj.uid], [obj.uid],
                                          turn=turn), "object_before": before})
        obj.rotation = old
        why = f"the turned object {why}"
    return Rejection("orientation", why)


@register("counting")
def counting(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    result = ctx.kit.counting(scene, rng, ctx)
    if isinstance(result, str):
        return Rejection("counting", result)
    gone, new, group, n_before, n_after = result
    mask_before, mask_after = ([gone.uid], []) if gone is not None else ([], [new.uid])
    return Change(scene, _diff("counting", gone, new, "count", n_before, n_after, mask_before, mask_after, group=group))


@register("text")
def text(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    cards = [o for o in ctx.kit.candidates(scene, "text", ctx) if ctx.kit.text_visible(o, ctx)]
    if not cards:
        return Rejection("text", "no readable text in view")
    card = cards[0] if ctx.kit.name == "tabletop" else rng.choice(cards)
    before = asdict(card)
    result = ctx.kit.retext(card, rng)
    if result is None:
        return Rejection("text", f"the {card.noun} has no other text")
    old, new = result
    tid = text_id(card.uid)
    return Change(scene, {**_diff("text", card, card, "text", old, new, [tid], [tid]), "object_before": before})


@register("movement")
def movement(scene: SceneSpec, rng: random.Random, ctx: ChangeContext) -> Change | Rejection:
    obj = _pick(scene, "movement", rng, ctx)
    if isinstance(obj, Rejection):
        return obj
    before = asdict(obj)
    reach = max(0.35, 2.2 * max(obj.half_extents[0], obj.half_extents[1]))
    if not ctx.kit.place_like(scene, obj, rng, ctx.aspect, avoid=(obj.x, obj.y, reach)):
        return Rejection("movement", "no free spot away from the old place")
    return Change(scene, {**_diff("movement", obj, obj, "position", [before["x"], before["y"]], [obj.x, obj.y],
                                  [obj.uid], [obj.uid], holder_before=before["support"], holder_after=obj.support),
                          "object_before": before})


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
