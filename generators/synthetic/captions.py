"""Captions from the structured diff: referring expressions, one sentence per change, 3+ wordings.

``omnidiff`` style: fine-grained, multi-sentence (image region, landmark relation, attributes
before and after, what stayed the same nearby), about 60 words. ``clevr`` style: short captions in
the CLEVR-Change vocabulary (its synonyms for shapes, sizes and materials) and distractor captions
of the "no change was made" family. Wording choices come from a seeded stream.
"""

from __future__ import annotations

import math
import random
from itertools import combinations
from typing import Any

from generators.synthetic.geometry import image_position, region_name, relation
from generators.synthetic.spec import ObjectSpec, SceneSpec, object_from_dict
from generators.synthetic.vocabulary import vocabulary

N_REFERENCES = 3
ATTRIBUTES = ("color", "size", "material", "shape")
NO_CHANGE = (
    "no change was made",
    "nothing has changed",
    "the scene is the same as before",
    "there is no difference",
    "the two scenes look identical",
    "nothing was changed",
)
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven")


def _obj(data: dict[str, Any] | None) -> ObjectSpec | None:
    return None if data is None else object_from_dict(data)


def noun_of(obj: ObjectSpec, rng: random.Random, clevr: bool) -> str:
    vocab = vocabulary()
    if obj.shape in vocab["props"]:
        return rng.choice(vocab["props"][obj.shape]["nouns"])
    key = "clevr_nouns" if clevr else "nouns"
    return rng.choice(vocab["shapes"][obj.shape][key])


def _adjective(kind: str, value: str, rng: random.Random, clevr: bool) -> str:
    vocab = vocabulary()
    if kind == "color":
        return value
    table = vocab["sizes"] if kind == "size" else vocab["materials"]
    key = "clevr_adjectives" if clevr else "adjectives"
    return rng.choice(table[value][key])


def phrase(obj: ObjectSpec, attrs: tuple[str, ...], rng: random.Random, clevr: bool) -> str:
    words = [_adjective(a, getattr(obj, a), rng, clevr) for a in ("size", "color", "material") if a in attrs and obj.size != "prop"]
    if obj.size == "prop" and "color" in attrs:
        words = [obj.color]
    return " ".join(words + [noun_of(obj, rng, clevr)])


def _matches(obj: ObjectSpec, other: ObjectSpec, attrs: tuple[str, ...]) -> bool:
    return all(getattr(obj, a) == getattr(other, a) for a in attrs)


def unique_attributes(obj: ObjectSpec, scene: SceneSpec, base: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The smallest attribute set (always containing ``base`` and the shape) that no other object shares."""
    others = [o for o in scene.objects if o.uid != obj.uid]
    if obj.size == "prop":
        return ("shape",) if not any(o.shape == obj.shape for o in others) else None
    rest = [a for a in ATTRIBUTES if a not in base and a != "shape"]
    for n in range(len(rest) + 1):
        for extra in combinations(rest, n):
            attrs = tuple(base) + extra + ("shape",)
            if not any(_matches(obj, o, attrs) for o in others):
                return attrs
    return None


def refer(obj: ObjectSpec, scene: SceneSpec, rng: random.Random, clevr: bool, aspect: float,
          full: bool = False) -> str:
    """A referring expression that makes ``obj`` unique in ``scene`` (attributes, then a landmark)."""
    base = ("size", "color", "material") if full or clevr else ("color",)
    attrs = unique_attributes(obj, scene, base)
    if attrs is not None:
        return "the " + phrase(obj, attrs, rng, clevr)
    text = "the " + phrase(obj, tuple(base) + ("shape",), rng, clevr)
    landmark = nearest_landmark(obj, scene)
    if landmark is not None:
        lm_attrs = unique_attributes(landmark, scene, ("color",)) or ("color", "shape")
        return f"{text} {relation(scene, obj, landmark)} the {phrase(landmark, lm_attrs, rng, clevr)}"
    u, v = image_position(scene, obj, aspect)
    return f"{text} in the {region_name(u, v)}"


def nearest_landmark(obj: ObjectSpec, scene: SceneSpec) -> ObjectSpec | None:
    best: tuple[float, int, ObjectSpec] | None = None
    for other in scene.objects:
        if other.uid == obj.uid or other.support is not None or other.group is not None:
            continue
        if unique_attributes(other, scene, ("color",)) is None:
            continue
        d = math.hypot(other.x - obj.x, other.y - obj.y)
        if best is None or (d, other.uid) < best[:2]:
            best = (d, other.uid, other)
    return None if best is None else best[2]


def neighbours(obj: ObjectSpec, scene: SceneSpec, k: int = 2, exclude: set[int] = frozenset()) -> list[ObjectSpec]:
    others = [o for o in scene.objects if o.uid != obj.uid and o.uid not in exclude and o.support is None]
    others.sort(key=lambda o: (math.hypot(o.x - obj.x, o.y - obj.y), o.uid))
    return others[:k]


# -- CLEVR style -----------------------------------------------------------------------------
CLEVR_TEMPLATES: dict[str, tuple[str, ...]] = {
    "color": ("{ref} changed to {after}", "{ref} turned {after}", "{ref} became {after}",
              "the color of {ref} changed to {after}"),
    "material": ("{ref} changed to {after_mat}", "{ref} became {after_mat}", "{ref} is now {after_mat}",
                 "{ref} turned {after_mat}"),
    "addition": ("{ref} has been newly placed", "{ref} has been added", "someone added {ref_a}",
                 "there is a new {ref_bare}"),
    "disappearance": ("{ref} has disappeared", "{ref} is missing", "{ref} is no longer there",
                      "someone removed {ref}"),
    "movement": ("{ref} changed its location", "{ref} moved", "{ref} is in a different location",
                 "someone moved {ref}"),
}


def clevr_captions(diff: dict[str, Any], before: SceneSpec, after: SceneSpec, rng: random.Random,
                   aspect: float, distractor: bool) -> list[str]:
    if distractor:
        return rng.sample(NO_CHANGE, N_REFERENCES)
    key = diff["type"]
    obj = _obj(diff["object_before"]) or _obj(diff["object_after"])
    scene = before if diff["object_before"] is not None else after
    templates = list(CLEVR_TEMPLATES[key])
    rng.shuffle(templates)
    out = []
    for tpl in templates[:N_REFERENCES]:
        ref = refer(obj, scene, rng, True, aspect, full=True)
        bare = ref[4:]
        mat = diff["after"] if key == "material" else ""
        after_mat = _adjective("material", mat, rng, True) if mat else ""
        out.append(tpl.format(ref=ref, ref_a=("an " if bare[0] in "aeiou" else "a ") + bare, ref_bare=bare,
                              after=diff["after"], after_mat=after_mat))
    return out


# -- OmniDiff style --------------------------------------------------------------------------
# Every builder below takes ``k``, the reference's frame: the references of one pair use different
# frames (different sentence structures), so they do not differ by one swapped word.
def _pick(options: tuple[str, ...], k: int) -> str:
    return options[k % len(options)]


def _where(obj: ObjectSpec, scene: SceneSpec, aspect: float, k: int) -> str:
    u, v = image_position(scene, obj, aspect)
    return _pick(("In the {r} of the image", "Towards the {r} of the picture", "At the {r} of the frame"), k).format(
        r=region_name(u, v))


def _unchanged(obj: ObjectSpec | None, scene: SceneSpec, rng: random.Random, aspect: float, exclude: set[int], k: int) -> str:
    anchor = obj if obj is not None else scene.objects[0]
    near = neighbours(anchor, scene, 2, exclude | ({anchor.uid} if obj is not None else set()))
    if not near:
        return "Everything else on the table stays as it was."
    listed = " and ".join(refer(n, scene, rng, False, aspect) for n in near)
    others = len([o for o in scene.objects if o.uid not in exclude and o.uid not in {n.uid for n in near}
                  and (obj is None or o.uid != obj.uid)])
    rest = (f"the other {NUMBER_WORDS[others] if others < len(NUMBER_WORDS) else others} objects on the table"
            if others > 1 else "everything else on the table")
    template = _pick((
        "{L} nearby stay exactly as they were, and {rest} did not change either.",
        "Nothing happened to {l}, which are close by, nor to {rest}.",
        "The rest of the scene, including {l} close by and {rest}, is the same in both images.",
    ), k)
    return template.format(l=listed, L=listed[0].upper() + listed[1:], rest=rest)


def _obj_sentence(diff: dict[str, Any], before: SceneSpec, after: SceneSpec, rng: random.Random, aspect: float, k: int) -> str:
    key = diff["type"]
    ob, oa = _obj(diff["object_before"]), _obj(diff["object_after"])
    obj = ob or oa
    scene = before if ob is not None else after
    ref = refer(obj, scene, rng, False, aspect)
    lm = nearest_landmark(obj, scene)
    near = f", {relation(scene, obj, lm)} the {phrase(lm, unique_attributes(lm, scene, ('color',)) or ('color', 'shape'), rng, False)}," if lm else ""
    where = _where(obj, scene, aspect, k)
    low = where[0].lower() + where[1:]
    region = region_name(*image_position(scene, obj, aspect))
    full_b = phrase(ob, ("size", "color", "material"), rng, False) if ob else ""
    full_a = phrase(oa, ("size", "color", "material"), rng, False) if oa else ""
    cref = ref[0].upper() + ref[1:]
    if key == "color":
        return _pick((
            f"{where}, {ref}{near} changed colour from {diff['before']} to {diff['after']}. It keeps its {ob.size} size, its {ob.material} surface and its place; only the paint is different.",
            f"{cref} was repainted: it was {diff['before']} in the first image and is {diff['after']} in the second. Its shape, {ob.material} material and {ob.size} size did not change.",
            f"Comparing both pictures, the {diff['before']} {noun_of(ob, rng, False)} {low} has turned {diff['after']}, while staying on the same spot of the table.",
        ), k)
    if key == "material":
        return _pick((
            f"{where}, {ref}{near} changed material from {diff['before']} to {diff['after']}: it was {_adjective('material', diff['before'], rng, False)} and now looks {_adjective('material', diff['after'], rng, False)}. Its {ob.color} colour and position are the same.",
            f"The surface of {ref} is different now: its {diff['before']} finish became {diff['after']}, although the object kept its {ob.color} colour, shape and place.",
            f"What changed is the material of the {ob.color} {noun_of(ob, rng, False)} {low}: formerly {_adjective('material', diff['before'], rng, False)}, it is {_adjective('material', diff['after'], rng, False)} in the second picture.",
        ), k)
    if key == "size":
        grew = diff["after"] == "large"
        return _pick((
            f"{where}, {ref}{near} {'grew' if grew else 'shrank'} from {diff['before']} to {diff['after']}. It stays on the same spot and keeps its {ob.color} colour and {ob.material} material.",
            f"{cref} is now {'much bigger' if grew else 'much smaller'} than before, {diff['after']} instead of {diff['before']}, in the same place and with the same {ob.color} {ob.material} look.",
            f"Only the size of one object differs: the {ob.color} {noun_of(ob, rng, False)} {low} has become {'larger' if grew else 'smaller'}.",
        ), k)
    if key == "orientation":
        side = "clockwise" if diff.get("turn", 0) < 0 else "counter-clockwise"
        deg = abs(round(diff.get("turn", 0) / 5) * 5)
        return _pick((
            f"{where}, {ref}{near} was rotated {side} by about {deg} degrees. It did not move away from its spot, and its colour, size and material are unchanged.",
            f"{cref} turned in place ({side}, roughly {deg} degrees), so its edges now point in another direction; it is otherwise the same {full_b}.",
            f"Someone twisted the {full_b} {low} by around {deg} degrees {side}, leaving it where it stood.",
        ), k)
    if key == "text":
        return _pick((
            f"{where}, the word printed on {ref}{near} changed from \"{diff['before']}\" to \"{diff['after']}\". The card itself stands in the same place and faces the camera as before.",
            f"{cref} now reads \"{diff['after']}\" instead of \"{diff['before']}\"; only the printed text differs, the card is unchanged.",
            f"The sign {low} used to say \"{diff['before']}\", and in the second image its text is \"{diff['after']}\".",
        ), k)
    if key == "addition":
        return _pick((
            f"{where}, a {full_a} has been added{near.rstrip(',')}. There was nothing at this spot in the first image.",
            f"A new {full_a} appeared {low}{near.rstrip(',')}, on a spot of the table that was empty before.",
            f"Someone put one more object on the table: the second picture shows a {full_a} {low}.",
        ), k)
    if key == "disappearance":
        return _pick((
            f"{where}, {ref}{near} is gone. The spot where this {full_b} stood on the table is empty in the second image.",
            f"{cref}{near} disappeared from the {region} of the picture; the {full_b} is no longer there.",
            f"In the second image the table has lost its {full_b}, which used to stand {low}.",
        ), k)
    if key == "removal":
        holder = _obj(diff["holder"]["object"])
        hname = phrase(holder, ("color",), rng, False)
        return _pick((
            f"{where}, {ref} was taken off the {hname}. The {full_b} sat on the {hname} before; now the {hname} is empty.",
            f"The {hname} no longer holds {ref}: the {full_b} that rested on it was removed, and the tray is left empty.",
            f"Someone lifted the {full_b} from the {hname} {low}, so only the empty {hname} remains there.",
        ), k)
    if key == "substitution":
        return _pick((
            f"{where}, {ref}{near} was replaced by a {full_a}. The new {diff['after']} stands in exactly the same place as the old {diff['before']} and keeps its colour and material.",
            f"The {full_b} was swapped for a {full_a} at the same spot{near.rstrip(',')}.",
            f"A {full_a} now occupies the place {low} where a {full_b} used to be; only the shape changed.",
        ), k)
    if key == "movement":
        frm = region_name(*image_position(before, ob, aspect))
        to = region_name(*image_position(after, oa, aspect))
        return _pick((
            f"{cref} moved from the {frm} of the image to the {to}. It is the same {full_b}, only its position on the table changed.",
            f"The {full_b} was moved: it stood in the {frm} before and now stands in the {to} of the picture.",
            f"Someone pushed the {full_b} across the table, from the {frm} of the frame over to the {to}.",
        ), k)
    if key == "counting":
        noun = noun_of(obj, rng, False)
        plural = noun + ("es" if noun.endswith(("sh", "ch", "x", "s")) else "s")
        b, a = NUMBER_WORDS[diff["before"]], NUMBER_WORDS[diff["after"]]
        more = diff["after"] > diff["before"]
        if diff["after"] == 1:
            return _pick((
                f"Only one {obj.color} {noun} is left instead of {b}: the one {low} was taken away, while the remaining {noun} stays where it was.",
                f"One of the two {obj.color} {plural} is gone; the missing one stood {low}.",
                f"The pair of {obj.color} {plural} became a single {noun}, since the one {low} was removed.",
            ), k)
        return _pick((
            f"The number of {obj.size} {obj.color} {plural} changed from {b} to {a}: {'one more was added ' + low if more else 'one of them, ' + low + ', is gone'}. The other {plural} stay where they were.",
            f"There are now {a} {obj.color} {plural} instead of {b}; {'a new one appeared ' + low if more else 'the one ' + low + ' was taken away'}.",
            f"Counting the identical {obj.color} {plural} gives {a} in the second image and {b} in the first, because one was {'added' if more else 'removed'} {low}.",
        ), k)
    raise KeyError(key)


def _scene_sentence(diff: dict[str, Any], before: SceneSpec, rng: random.Random, aspect: float, k: int) -> str:
    key = diff["type"]
    n = len(before.objects)
    if key == "viewpoint":
        b, a = diff["before"], diff["after"]
        higher = "higher" if a["elevation"] > b["elevation"] else "lower"
        turn = abs(round(a["azimuth"] - b["azimuth"]))
        return _pick((
            f"The camera moved: it circled about {turn} degrees to the {diff['direction']} around the table and looks from slightly {higher}, so every object is seen from a new angle. All {n} objects stay where they were and none of them was added, removed or altered.",
            f"Only the viewpoint is different. The camera swung roughly {turn} degrees to the {diff['direction']} and sits a little {higher}, which shifts the whole table in the frame, but the {n} objects on it are exactly the same.",
            f"Both images show the same {n} objects, photographed from two positions: between them the camera went {turn} degrees to the {diff['direction']}.",
        ), k)
    if key == "illumination":
        words = vocabulary()["light_moods"][diff["after"]]["words"]
        return _pick((
            f"The lighting changed: the whole scene looks {words[0]} than before, which alters the shading and highlights on every surface. No object was moved, added, removed or recoloured.",
            f"The scene became {words[1]}, so the table and all {n} objects appear {words[0]} in the second image. Apart from the illumination nothing changed.",
            f"Compared with the first picture, the light on the table is {words[0]}; the {n} objects themselves are untouched.",
        ), k)
    raise KeyError(key)


def _still_there(before: SceneSpec, rng: random.Random, aspect: float, k: int) -> str:
    """A sentence naming a few objects that kept their place (scene-wide changes)."""
    picks = sorted(before.objects, key=lambda o: (o.support is not None, o.group is not None, o.uid))[:3]
    names = [refer(o, before, rng, False, aspect) for o in picks]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    return _pick((
        f"For example, {listed} are still in the same places.",
        f"In particular, {listed} have not moved.",
        f"Every object keeps its place, among them {listed}.",
    ), k)


def omnidiff_captions(diffs: list[dict[str, Any]], before: SceneSpec, after: SceneSpec, rng: random.Random,
                      aspect: float) -> list[str]:
    """At least three multi-sentence references; each covers every change of the pair, each in its own frame."""
    changed = {u for d in diffs for u in d["mask_before"] + d["mask_after"]}
    frames = rng.sample(range(3), N_REFERENCES)
    out = []
    for k in frames:
        parts = []
        for diff in diffs:
            if diff["type"] in ("viewpoint", "illumination"):
                parts.append(_scene_sentence(diff, before, rng, aspect, k))
                if len(diffs) == 1:
                    parts.append(_still_there(before, rng, aspect, k))
            else:
                parts.append(_obj_sentence(diff, before, after, rng, aspect, k))
        object_diffs = [d for d in diffs if d["type"] not in ("viewpoint", "illumination")]
        if object_diffs:
            anchor = _obj(object_diffs[0]["object_before"]) or _obj(object_diffs[0]["object_after"])
            scene = after if object_diffs[0]["object_after"] is not None else before
            parts.append(_unchanged(anchor, scene, rng, aspect, changed, k + 1))
        out.append(" ".join(parts))
    seen: list[str] = []
    for caption in out:  # wordings are drawn at random; force distinct references
        if caption in seen:
            caption = caption + " " + rng.choice(("Nothing else differs.", "The rest is identical.", "No other change is visible."))
        seen.append(caption)
    return seen
