"""Seeded scene sampler with CLEVR-style placement constraints (no ``bpy``).

Constraints: objects do not overlap (minimum gap between footprints), every pair of free-standing
objects is separated by a margin along both camera ground axes (so left/right and front/behind
are unambiguous), and every object projects inside the image with a border. A placement that
fails is retried a bounded number of times; a scene that cannot be completed raises
``SamplingError`` and the caller resamples with the next attempt's stream.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from annotations.errors import OmniDiffError
from generators.synthetic.geometry import in_frame, separated
from generators.synthetic.spec import CameraSpec, LightSpec, ObjectSpec, SceneSpec, WorldSpec, look, object_from_dict
from generators.synthetic.vocabulary import vocabulary

GROUND_HALF = 3.0
MIN_GAP = 0.22
DIRECTION_MARGIN = 0.3
PLACEMENT_TRIES = 80


class SamplingError(OmniDiffError):
    """A scene or a change could not be placed within its bounded number of tries."""


@dataclass(frozen=True)
class SceneRecipe:
    """How many objects of which families a preset's scenes hold."""

    shapes: tuple[str, ...]
    free_objects: tuple[int, int]  # inclusive range
    counting_group: tuple[int, int] | None  # instances of one kind, or None
    tray: bool
    card: bool
    base_azimuth: float = -40.0
    camera_jitter: float = 4.0  # degrees of azimuth jitter of the before camera


def recipe_for(preset: str) -> SceneRecipe:
    vocab = vocabulary()
    if preset == "omnidiff":
        return SceneRecipe(tuple(sorted(vocab["shapes"])), (3, 4), (2, 3), tray=True, card=True)
    clevr_shapes = tuple(sorted(k for k, v in vocab["shapes"].items() if v["clevr"]))
    return SceneRecipe(clevr_shapes, (3, 6), None, tray=False, card=False)


def make_shape(uid: int, rng: random.Random, shapes: tuple[str, ...], x: float = 0.0, y: float = 0.0,
               shape: str | None = None, size: str | None = None) -> ObjectSpec:
    vocab = vocabulary()
    shape = shape or rng.choice(shapes)
    color = rng.choice(sorted(vocab["colors"]))
    material = rng.choice(sorted(vocab["materials"]))
    size = size or rng.choice(sorted(vocab["sizes"]))
    sym = vocab["shapes"][shape]["symmetry_deg"]
    rotation = round(rng.uniform(0, sym), 3) if sym else 0.0
    return ObjectSpec(
        uid=uid, family=shape, noun=vocab["shapes"][shape]["nouns"][0],
        parts={"body": look(color, vocab["colors"][color], material)}, size=size,
        half_extents=shape_extents(shape, size), x=x, y=y, rotation=rotation,
    )


def copy_object(obj: ObjectSpec, **changes: object) -> ObjectSpec:
    """An independent copy (parts and params are not shared) with some fields changed."""
    return object_from_dict({**asdict(obj), **changes})


def shape_extents(shape: str, size: str) -> tuple[float, float, float]:
    r = vocabulary()["sizes"][size]["radius"]
    if shape == "brick":
        return (round(r * 1.6, 4), round(r * 0.7, 4), round(r * 0.7, 4))
    return (r, r, r)


def fits(scene: SceneSpec, obj: ObjectSpec, aspect: float, ignore: set[int] = frozenset()) -> str | None:
    """Why ``obj`` cannot stand where it is (None when it can)."""
    if obj.support is None and (abs(obj.x) > GROUND_HALF or abs(obj.y) > GROUND_HALF):
        return "off the table"
    for other in scene.objects:
        if other.uid == obj.uid or other.uid in ignore or other.support is not None or obj.support is not None:
            continue
        dist = ((obj.x - other.x) ** 2 + (obj.y - other.y) ** 2) ** 0.5
        if dist < obj.footprint + other.footprint + MIN_GAP:
            return f"overlaps object {other.uid}"
        if not separated(scene, obj, other, DIRECTION_MARGIN):
            return f"too close to object {other.uid} along a camera axis"
    if not in_frame(scene, obj, aspect):
        return "out of frame"
    return None


def place(scene: SceneSpec, obj: ObjectSpec, rng: random.Random, aspect: float,
          ignore: set[int] = frozenset(), avoid: tuple[float, float, float] | None = None) -> bool:
    """Put ``obj`` (already in ``scene.objects``) at a random free spot; False after the bounded tries.

    ``avoid`` = (x, y, radius): a disc the new spot must stay out of (a move must go somewhere else).
    """
    for _ in range(PLACEMENT_TRIES):
        obj.x = round(rng.uniform(-GROUND_HALF, GROUND_HALF), 4)
        obj.y = round(rng.uniform(-GROUND_HALF, GROUND_HALF), 4)
        if avoid is not None and ((obj.x - avoid[0]) ** 2 + (obj.y - avoid[1]) ** 2) ** 0.5 < avoid[2]:
            continue
        if fits(scene, obj, aspect, ignore) is None:
            return True
    return False


def sample_camera(rng: random.Random, recipe: SceneRecipe) -> CameraSpec:
    return CameraSpec(
        azimuth=round(recipe.base_azimuth + rng.uniform(-recipe.camera_jitter, recipe.camera_jitter), 4),
        elevation=round(rng.uniform(31.0, 37.0), 4),
        distance=round(rng.uniform(10.6, 11.4), 4),
    )


def sample_lights(rng: random.Random, camera: CameraSpec) -> list[LightSpec]:
    az = camera.azimuth
    return [
        LightSpec("key", round(az + 40 + rng.uniform(-8, 8), 3), round(rng.uniform(45, 60), 3), 9.0,
                  round(rng.uniform(550, 650), 2), 3.0),
        LightSpec("fill", round(az - 70 + rng.uniform(-8, 8), 3), round(rng.uniform(25, 35), 3), 9.0,
                  round(rng.uniform(180, 230), 2), 4.0),
        LightSpec("back", round(az + 180 + rng.uniform(-10, 10), 3), round(rng.uniform(50, 65), 3), 9.0,
                  round(rng.uniform(280, 340), 2), 3.0),
    ]


def sample_scene(preset: str, rng: random.Random, aspect: float) -> SceneSpec:
    """One scene for ``preset``; raises SamplingError when the objects do not fit."""
    vocab = vocabulary()
    recipe = recipe_for(preset)
    camera = sample_camera(rng, recipe)
    world = WorldSpec(ground_rgb=tuple(vocab["ground_color"]))
    scene = SceneSpec([], camera, sample_lights(rng, camera), world)

    def add(obj: ObjectSpec, what: str) -> ObjectSpec:
        scene.objects.append(obj)
        if not place(scene, obj, rng, aspect):
            raise SamplingError(f"could not place the {what}")
        return obj

    if recipe.card:
        card_ext = tuple(vocab["props"]["card"]["half_extents"])
        card = ObjectSpec(scene.next_uid(), "card", vocab["props"]["card"]["nouns"][0],
                          {"body": look("white", vocab["card_color"], "rubber")}, "prop", card_ext, 0.0, 0.0,
                          rotation=round(camera.azimuth + 90.0, 4), text=rng.choice(vocab["words"]))
        add(card, "card")
    if recipe.tray:
        tray_color = rng.choice(vocab["tray_colors"])
        tray = ObjectSpec(scene.next_uid(), "tray", vocab["props"]["tray"]["nouns"][0],
                          {"body": look(tray_color, vocab["colors"][tray_color], "rubber")}, "prop",
                          tuple(vocab["props"]["tray"]["half_extents"]), 0.0, 0.0)
        add(tray, "tray")
        item = make_shape(scene.next_uid(), rng, recipe.shapes, size="small")
        item.family = item.family if item.family != "brick" else "cube"
        item.noun = vocab["shapes"][item.family]["nouns"][0]
        item.half_extents = shape_extents(item.family, "small")
        item.support, item.x, item.y = tray.uid, tray.x, tray.y
        item.z0, item.placement, item.surface = 2 * tray.half_extents[2], "surface", "top"
        scene.objects.append(item)
    if recipe.counting_group:
        n = rng.randint(*recipe.counting_group)
        proto = make_shape(0, rng, recipe.shapes, size="small")
        for i in range(n):
            inst = copy_object(proto, uid=scene.next_uid(), group=f"{proto.color}-{proto.family}")
            add(inst, f"counted {proto.shape} {i + 1}")
    for i in range(rng.randint(*recipe.free_objects)):
        # the omnidiff preset needs one object whose turn shows (orientation changes)
        shape = rng.choice(("brick", "cube")) if i == 0 and recipe.card else None
        add(make_shape(scene.next_uid(), rng, recipe.shapes, shape=shape), f"object {i + 1}")
    return scene
