"""Captions of the rich kits (rooms and streets), written from the structured diff.

A reference names the changed object by a referring expression that makes it unique among the
objects in view: its family noun (or a synonym), its colour and material, and a locator (the thing
it stands on, the wall it hangs on, a landmark beside it, its rank in a row, or the image region).
Each change type has several sentence frames that differ in structure (place first, object first,
before/after contrast, an observer's comparison), and each reference draws its own frame, wording,
locator and context sentence, so that the references of one pair do not repeat one template.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from generators.synthetic.families import family_of, material_words, plural_of
from generators.synthetic.geometry import CameraFrame, image_position, region_name, relation
from generators.synthetic.layout import walls
from generators.synthetic.spec import ObjectSpec, SceneSpec, object_from_dict

N_REFERENCES = 3
NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
PART_WORDS = {"art": "picture", "trim": "trim", "cabinets": "cupboard doors", "casing": "casing", "paper": "paper",
              "plants": "plants", "leaves": "leaves", "bedding": "bedding"}
MATERIAL_NOUNS = {"wood": "wood", "painted": "painted metal", "fabric": "fabric", "leather": "leather", "metal": "metal",
                  "plastic": "plastic", "ceramic": "ceramic", "glass": "glass", "paper": "cardboard", "stone": "stone",
                  "concrete": "concrete", "brick": "brick", "plaster": "painted plaster", "foliage": "leaves",
                  "car paint": "paint", "rubber": "rubber"}
SLOT_WORDS = {"screen": "screen", "label": "label", "side": "side", "destination": "destination display",
              "sign": "sign", "shop sign": "shop sign"}
BIG = 0.45  # metres: objects at least this big (half extent) serve as landmarks


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


class Describer:
    """Referring expressions in one scene, as seen from its camera."""

    def __init__(self, scene: SceneSpec, rng: random.Random, aspect: float, visible: set[int] | None,
                 exclude: set[int] = frozenset()) -> None:
        self.scene, self.rng, self.aspect = scene, rng, aspect
        self.visible = visible
        self.exclude = set(exclude)

    def shown(self, obj: ObjectSpec) -> bool:
        if self.visible is not None:
            return obj.uid in self.visible
        u, v = image_position(self.scene, obj, self.aspect)
        return 0.0 <= u <= 1.0 and 0.0 <= v <= 1.0

    def others(self, obj: ObjectSpec) -> list[ObjectSpec]:
        return [o for o in self.scene.objects if o.uid != obj.uid and self.shown(o)]

    # -- words -----------------------------------------------------------------------------
    def noun(self, obj: ObjectSpec, plain: bool = False) -> str:
        fam = family_of(obj)
        if fam is None:
            return obj.noun
        return fam.nouns[0] if plain else self.rng.choice(fam.nouns)

    def material_adj(self, obj: ObjectSpec, part: str | None = None) -> str:
        words = material_words(obj.parts[part or obj.main]["material"])
        return self.rng.choice(words) if words else ""

    def part_phrase(self, obj: ObjectSpec, part: str, noun: str) -> str:
        if part == obj.main:
            return f"the {noun}"
        return f"the {PART_WORDS.get(part, part)} of the {noun}"

    def np(self, obj: ObjectSpec, with_material: bool | None = None, noun: str | None = None) -> str:
        """Colour (and sometimes material) plus noun: 'blue ceramic mug'."""
        noun = noun or self.noun(obj)
        words = [obj.color]
        if with_material is None:
            with_material = self.rng.random() < 0.4
        mat = self.material_adj(obj) if with_material else ""
        if mat and mat not in ("painted", "leafy", "glossy", "shiny"):
            words.append(mat)
        return " ".join(words + [noun])

    # -- locators --------------------------------------------------------------------------
    def holder_phrase(self, obj: ObjectSpec) -> str | None:
        holder = self.scene.get(obj.support)
        if holder is not None:
            hn = self.noun(holder, plain=True)
            surface = obj.surface or ""
            if surface.startswith("board-"):
                index, total = int(surface[6:]), int(holder.params.get("boards", 4))
                pos = "bottom" if index == 0 else "top" if index == total - 1 else f"{ORDINALS[index]} from the bottom"
                return f"on the {pos} shelf of the {holder.color} {hn}"
            if surface == "seat":
                return f"on the seat of the {holder.color} {hn}"
            if surface == "mattress":
                return f"on the {hn}"
            if surface == "counter":
                return f"on the counter of the {hn}"
            return f"on the {self.rng.choice([holder.color + ' ', self.material_adj(holder) + ' ', ''])}{hn}".replace("  ", " ")
        if obj.placement == "surface" and (obj.surface or "").startswith("sill"):
            return "on the window sill"
        if obj.placement == "wall":
            return self.wall_phrase(obj)
        return None

    def wall_side(self, wall_name: str) -> str:
        wall = walls(self.scene)[wall_name]
        (ax, ay), (bx, by) = wall["a"], wall["b"]
        mx, my = (ax + bx) / 2, (ay + by) / 2
        right, away = CameraFrame.of(self.scene.camera).ground_axes()
        cx, cy, _ = self.scene.camera.location
        lr = (mx - cx) * right[0] + (my - cy) * right[1]
        fb = (mx - cx) * away[0] + (my - cy) * away[1]
        if fb > abs(lr):
            return "back"
        return "right" if lr > 0 else "left"

    def wall_phrase(self, obj: ObjectSpec) -> str:
        side = self.wall_side(obj.surface)
        below = [o for o in self.others(obj) if o.placement == "floor" and o.params.get("against") == obj.surface
                 and max(o.half_extents[:2]) >= BIG and abs(o.x - obj.x) + abs(o.y - obj.y) < 1.2]
        if below and self.rng.random() < 0.6:
            b = below[0]
            return f"on the {side} wall above the {b.color} {self.noun(b, plain=True)}"
        return f"on the {side} wall"

    def landmark(self, obj: ObjectSpec, avoid: set[int] = frozenset()) -> ObjectSpec | None:
        best = None
        for o in self.others(obj):
            if o.uid in self.exclude or o.uid in avoid or o.uid == obj.support or o.support == obj.uid:
                continue
            if max(o.half_extents[:2]) < BIG and o.family not in ("monitor", "tv", "laptop", "table_lamp", "vase"):
                continue
            if sum(1 for x in self.others(o) if x.family == o.family) > 0 and o.family != "building":
                continue  # a landmark must be the only one of its kind in view
            d = math.hypot(o.x - obj.x, o.y - obj.y)
            if best is None or (d, o.uid) < best[:2]:
                best = (d, o.uid, o)
        return None if best is None else best[2]

    def relation_phrase(self, obj: ObjectSpec, avoid: set[int] = frozenset()) -> str | None:
        lm = self.landmark(obj, avoid)
        if lm is None:
            return None
        rel = relation(self.scene, obj, lm)
        if lm.family == "building":
            rel = self.rng.choice(["in front of", "outside"]) if rel in ("in front of", "behind") else rel
        name = self.landmark_name(lm)
        if self.rng.random() < 0.3 and math.hypot(obj.x - lm.x, obj.y - lm.y) < 1.5 + max(lm.half_extents[:2]):
            rel = "next to"
        return f"{rel} the {name}"

    def landmark_name(self, lm: ObjectSpec) -> str:
        if lm.family == "building":
            mat = lm.parts["facade"]["material"]
            base = f"{lm.color} {'brick ' if mat == 'brick' and 'brick' not in lm.color else ''}building"
            if lm.text and self.rng.random() < 0.6:
                return f"{base} with the \"{lm.text}\" sign"
            return base
        return f"{lm.color} {self.noun(lm, plain=self.rng.random() < 0.5)}"

    def ordinal_phrase(self, obj: ObjectSpec) -> str | None:
        same = [o for o in self.scene.objects if o.family == obj.family and (self.shown(o) or o.uid == obj.uid)]
        if len(same) < 2:
            return None
        same.sort(key=lambda o: image_position(self.scene, o, self.aspect)[0])
        i = [o.uid for o in same].index(obj.uid)
        n = len(same)
        if i == 0:
            return "leftmost" if self.rng.random() < 0.5 else "first from the left"
        if i == n - 1:
            return "rightmost" if self.rng.random() < 0.5 else "first from the right"
        if i < 3:
            return f"{ORDINALS[i]} from the left"
        return f"{ORDINALS[n - 1 - i]} from the right" if n - 1 - i < 3 else None

    def region(self, obj: ObjectSpec) -> str:
        u, v = image_position(self.scene, obj, self.aspect)
        return region_name(min(max(u, 0.0), 1.0), min(max(v, 0.0), 1.0))

    def refer(self, obj: ObjectSpec, style: int | None = None) -> str:
        """'the blue mug on the wooden desk, left of the monitor' and its variants."""
        style = self.rng.randrange(4) if style is None else style % 4
        noun = self.noun(obj)
        same_kind = [o for o in self.others(obj) if o.family == obj.family]
        base = f"the {self.np(obj, noun=noun)}"
        if style == 2 and same_kind:
            order = self.ordinal_phrase(obj)
            if order and " from " in order:
                rank, side = order.split(" from ")
                return f"the {rank} {noun} from the {side.replace('the ', '')}"
            if order:
                return f"the {order} {noun}"
        holder = self.holder_phrase(obj)
        rel = self.relation_phrase(obj, {obj.support} if obj.support else set())
        if style == 0:
            parts = [p for p in (holder, rel) if p]
            return base + (" " + ", ".join(parts) if parts else f" in the {self.region(obj)} of the picture")
        if style == 1:
            loc = holder or rel
            return base + (f" {loc}" if loc else "")
        if style == 3:
            loc = rel or holder
            return base + (f" {loc}" if loc else f" in the {self.region(obj)}")
        return base + (f" {holder}" if holder else (f" {rel}" if rel else ""))


# -- sentence frames -----------------------------------------------------------------------------
Frame = Callable[[dict[str, Any]], str]


SENTENCES: dict[str, list[Frame]] = {
    "addition": [
        lambda v: f"{cap(article(v['np_new']))} has appeared {v['loc_new']}, where there was nothing before.",
        lambda v: f"Someone put {article(v['np_new'])} {v['loc_new']}; in the first picture that spot is empty.",
        lambda v: f"Comparing the two images, the second one shows an extra {v['noun_new']}: {article(v['np_new'])} now {v['verb']} {v['loc_new']}.",
        lambda v: f"{cap(v['loc_new'])} there is now {article(v['np_new'])} that was not there earlier.",
    ],
    "disappearance": [
        lambda v: f"{cap(v['ref'])} has disappeared, and the floor where it stood is now bare.",
        lambda v: f"In the second picture {v['ref']} is missing; nothing took its place in the {v['region']} of the view.",
        lambda v: f"Where {v['ref']} used to stand, there is only empty space now.",
        lambda v: f"The {v['noun']} is gone: the first image shows {v['ref']}, the second image no longer does.",
    ],
    "removal": [
        lambda v: f"{cap(v['ref'])} was taken {v['off']}; the {v['holder']} is still there without it.",
        lambda v: f"Someone removed the {v['np']} from the {v['holder']}, leaving its place empty.",
        lambda v: f"The {v['holder']} no longer holds the {v['np']} that was {v['on']} it in the first image.",
        lambda v: f"Comparing both pictures, the {v['np']} is missing from the {v['holder']}; nothing else there changed.",
    ],
    "substitution": [
        lambda v: f"{cap(v['ref'])} has been replaced by {article(v['np_new'])} standing in exactly the same place.",
        lambda v: f"Where the {v['np']} was, there is now {article(v['np_new'])}.",
        lambda v: f"{cap(article(v['np_new']))} now occupies the spot of {v['ref']}: one object was swapped for another kind.",
        lambda v: f"The {v['noun']} {v['loc']} is gone and {article(v['np_new'])} was put in its place.",
    ],
    "size": [
        lambda v: f"{cap(v['ref'])} has become {v['bigger']}, roughly {v['pct']} percent of its former size.",
        lambda v: f"The {v['noun']} {v['loc']} looks {v['much']} {v['bigger']} than before, although it {v['verb']} in the same place.",
        lambda v: f"Comparing the images, {v['ref']} {v['grew']} while keeping its colour and shape.",
        lambda v: f"Only the size of the {v['np']} changed: it is {v['bigger']} now, {v['loc']}.",
    ],
    "color": [
        lambda v: f"{cap(v['part_ref'])} {v['loc']} changed colour from {v['before']} to {v['after']}.",
        lambda v: f"The {v['noun']} {v['loc']} was {v['before_part']} and is now {v['after']}.",
        lambda v: f"In the second image the {v['before']} {v['part_noun']} has turned {v['after']}; the rest of the {v['noun']} looks as before.",
        lambda v: f"Someone repainted {v['part_ref']}: its {v['before']} colour became {v['after']}, {v['loc']}.",
    ],
    "material": [
        lambda v: f"{cap(v['part_ref'])} {v['loc']} is now made of {v['after_noun']} instead of {v['before_noun']}.",
        lambda v: f"The {v['before_adj']} {v['part_noun']}{v['of_noun']} was swapped for a {v['after_adj']} one.",
        lambda v: f"Comparing the pictures, the surface of {v['part_ref']} changed from {v['before_noun']} to {v['after_noun']} while its place stays the same.",
        lambda v: f"{cap(v['loc'])}, the {v['noun']} no longer looks like {v['before_noun']}: its {v['part_word']} now appears to be {v['after_noun']}.",
    ],
    "orientation": [
        lambda v: f"{cap(v['ref'])} has been turned by about {v['deg']} degrees {v['way']}.",
        lambda v: f"The {v['noun']} {v['loc']} now faces a different direction: it was rotated {v['way']} by roughly {v['deg']} degrees.",
        lambda v: f"Someone swivelled the {v['np']} in place; it points {v['deg']} degrees further {v['way']} than in the first image.",
        lambda v: f"Only the orientation of {v['ref']} changed, a turn of around {v['deg']} degrees {v['way']}.",
    ],
    "movement": [
        lambda v: f"{cap(v['ref'])} was moved from {v['from']} to {v['to']}.",
        lambda v: f"The {v['np']} no longer {v['verb']} {v['from_loc']}; in the second image it is {v['to_loc']}.",
        lambda v: f"Someone shifted the {v['noun']}: it used to be {v['from_loc']} and now it is {v['to_loc']}.",
        lambda v: f"Comparing both images, the {v['np']} changed its position and is now {v['to_loc']} instead of {v['from_loc']}.",
    ],
    "counting": [
        lambda v: f"There are now {v['n_after']} {v['plural']} {v['where']} instead of {v['n_before']}.",
        lambda v: f"The number of {v['plural']} {v['where']} went {v['updown']} from {v['n_before']} to {v['n_after']}.",
        lambda v: f"{cap(v['one'])}: the first image shows {v['n_before']} {v['plural']} {v['where']}, the second shows {v['n_after']}.",
        lambda v: f"Counting the {v['plural']} {v['where']}, I find {v['n_after']} now, where there were {v['n_before']}.",
    ],
    "text": [
        lambda v: f"The {v['slot']} of {v['ref']} changed from \"{v['before']}\" to \"{v['after']}\".",
        lambda v: f"{cap(v['ref'])} now reads \"{v['after']}\" instead of \"{v['before']}\".",
        lambda v: f"The word \"{v['before']}\" on the {v['noun']} {v['loc']} has been replaced by \"{v['after']}\".",
        lambda v: f"Only the writing differs: where the {v['noun']} said \"{v['before']}\", it now says \"{v['after']}\".",
    ],
}

DETAILS: dict[str, list[Frame]] = {
    "addition": [lambda v: f"It is {article(v['np_full'])}.", lambda v: f"The new {v['noun_new']} is the only addition.",
                 lambda v: f"Everything around it kept its place."],
    "disappearance": [lambda v: f"It was {article(v['np_full'])}.", lambda v: "No other object took its place.",
                      lambda v: f"It stood {v['loc_or_region']}."],
    "removal": [lambda v: v["holder_after"], lambda v: f"It was {article(v['np_full'])}.",
                lambda v: "Its place is empty now."],
    "substitution": [lambda v: f"The old {v['noun']} was {article(v['np_full'])}.",
                     lambda v: f"The new {v['noun_new']} is {v['new_color']}.", lambda v: "The two are of a similar size."],
    "size": [lambda v: "Its colour, shape and position did not change.", lambda v: f"It still {v['verb']} {v['loc_or_region']}.",
             lambda v: f"It is {article(v['np_full'])}."],
    "color": [lambda v: "Its shape and position stay the same.", lambda v: f"It still {v['verb']} {v['loc_or_region']}.",
              lambda v: "Only the colour is different."],
    "material": [lambda v: f"Its {v['color']} colour and its place did not change.", lambda v: "Nothing else about it changed.",
                 lambda v: f"It {v['verb']} {v['loc_or_region']}."],
    "orientation": [lambda v: "It did not move from its spot.", lambda v: f"Its colour stays {v['color']}.",
                    lambda v: "Only the direction it faces is different."],
    "movement": [lambda v: f"It is the same {v['np_full']}.", lambda v: "Its colour and size did not change.",
                 lambda v: "Its old place is empty now."],
    "counting": [lambda v: f"The other {v['plural']} kept their places.", lambda v: v["which"],
                 lambda v: v["alike"]],
    "text": [lambda v: f"The {v['noun']} itself is unchanged.", lambda v: "Only the letters differ.",
             lambda v: f"It {v['verb']} {v['loc_or_region']}."],
}

CONTEXT: list[Callable[[str, str, str], str]] = [
    lambda a, b, room: f"Everything else in the {room} stays the same, including {a} and {b}.",
    lambda a, b, room: f"{cap(a)} and {b} are unchanged.",
    lambda a, b, room: f"Nothing else moved: {a} and {b} are exactly where they were.",
    lambda a, b, room: f"The rest of the {room}, for example {a} and {b}, looks identical in both images.",
    lambda a, b, room: f"Apart from this, the {room} is unchanged; {a} is still there, and so is {b}.",
]


def _loc(d: Describer, obj: ObjectSpec) -> str:
    return d.holder_phrase(obj) or d.relation_phrase(obj) or f"in the {d.region(obj)} of the picture"


def _moved_places(d: Describer, da: Describer, ob: ObjectSpec, oa: ObjectSpec) -> dict[str, str]:
    """Where a moved object was and is, as places (from_loc, to_loc) and as nouns (from, to); when both
    land on one phrase ("behind the table" twice), the picture regions, or the way it went within one
    region, say it instead."""
    before, after = _loc(d, ob), _loc(da, oa)
    if before == after:
        rb, ra = d.region(ob), da.region(oa)
        before, after = f"in the {rb} of the picture", f"in the {ra} of the picture"
        if rb == ra:
            (ub, vb), (ua, va) = image_position(d.scene, ob, d.aspect), image_position(da.scene, oa, da.aspect)
            if abs(ua - ub) >= abs(va - vb):
                way = "further to the left" if ua < ub else "further to the right"
            elif ob.placement == "wall":
                way = "higher up" if va < vb else "lower down"
            else:
                way = "further back" if va < vb else "further forward"
            return {"from_loc": "at its old spot", "to_loc": f"a little {way} ({ra} of the picture)",
                    "from": "its old spot", "to": f"a place a little {way} ({ra} of the picture)"}

    def as_noun(place: str, lead: str) -> str:
        return place.replace("on the ", "the ", 1) if place.startswith("on the ") else f"{lead} {place}"

    return {"from_loc": before, "to_loc": after, "from": as_noun(before, "its spot"), "to": as_noun(after, "a new spot")}


def _object_values(key: str, diff: dict[str, Any], before: SceneSpec, after: SceneSpec, rng: random.Random,
                   aspect: float, visible: set[int] | None, style: int) -> dict[str, Any]:
    ob = object_from_dict(diff["object_before"]) if diff.get("object_before") else None
    oa = object_from_dict(diff["object_after"]) if diff.get("object_after") else None
    obj = ob or oa
    scene = before if ob is not None else after
    d = Describer(scene, rng, aspect, visible)
    v: dict[str, Any] = {"noun": d.noun(obj), "np": d.np(obj), "np_full": d.np(obj, True), "color": obj.color,
                         "ref": d.refer(obj, style), "region": d.region(obj)}
    v["loc"] = _loc(d, obj)
    v["loc_or_region"] = v["loc"]
    if oa is not None and ob is not None and key in ("substitution", "movement", "addition"):
        da = Describer(after, rng, aspect, visible)
        v["noun_new"] = da.noun(oa)
        v["np_new"] = da.np(oa)
        v["new_color"] = oa.color
        v["loc_new"] = _loc(da, oa)
    v["verb"] = "hangs" if obj.placement == "wall" else "stands"
    if key == "addition":
        da = Describer(after, rng, aspect, visible)
        v.update(noun_new=da.noun(oa), np_new=da.np(oa), loc_new=_loc(da, oa), np_full=da.np(oa, True))
    if key == "removal":
        holder = diff.get("holder", {})
        if holder.get("kind") == "object":
            h = object_from_dict(holder["object"])
            v["holder"] = f"{h.color} {d.noun(h, plain=True)}"
            v["off"] = f"off the {v['holder']}"
        elif holder.get("kind") == "wall":
            v["holder"] = f"{d.wall_side(holder['name'])} wall"
            v["off"] = f"down from the {v['holder']}"
        else:
            v["holder"] = "window sill"
            v["off"] = "off the window sill"
        v["on"] = "hanging on" if holder.get("kind") == "wall" else "standing on"
        v["holder_after"] = "That part of the wall is bare now." if holder.get("kind") == "wall" else \
            f"The {v['holder']} itself did not move."
    if key == "size":
        b, a = float(diff["before"]), float(diff["after"])
        grew = a > b
        v.update(bigger="larger" if grew else "smaller", grew="grew" if grew else "shrank", pct=int(round(a / b * 10)) * 10,
                 much="much" if abs(a / b - 1) > 0.35 else "clearly")
    if key in ("color", "material"):
        part = diff.get("part", obj.main)
        v["part_ref"] = d.part_phrase(obj, part, v["noun"])
        v["part_noun"] = v["noun"] if part == obj.main else PART_WORDS.get(part, part)
        v["part_word"] = "surface" if part == obj.main else PART_WORDS.get(part, part)
        v["of_noun"] = "" if part == obj.main else f" of the {v['noun']}"
        v["before"], v["after"] = diff["before"], diff["after"]
        v["before_part"] = diff["before"] if part == obj.main else f"{diff['before']} ({PART_WORDS.get(part, part)})"
        if key == "material":
            v["before_noun"], v["after_noun"] = MATERIAL_NOUNS.get(diff["before"], diff["before"]), MATERIAL_NOUNS.get(diff["after"], diff["after"])
            v["before_adj"] = (material_words(diff["before"]) or [diff["before"]])[0]
            v["after_adj"] = (material_words(diff["after"]) or [diff["after"]])[0]
    if key == "orientation":
        turn = float(diff.get("turn", 0.0))
        v.update(deg=int(abs(round(turn / 5.0)) * 5), way=rng.choice(["counter-clockwise" if turn > 0 else "clockwise",
                                                                    "to the left" if turn > 0 else "to the right"]))
    if key == "movement":
        da = Describer(after, rng, aspect, visible)
        v.update(_moved_places(d, da, ob, oa))
    if key == "text":
        fam = family_of(obj)
        v["slot"] = SLOT_WORDS.get(fam.text_slot if fam else "label", "text")
        v["before"], v["after"] = diff["before"], diff["after"]
    if key == "counting":
        fam = family_of(obj)
        plural = fam.plural if fam else plural_of(obj.noun)
        grp = (before if ob is not None else after).groups.get(diff.get("group", ""), {})
        holder = scene.get(grp.get("holder"))
        if holder is not None and grp.get("kind") == "around":
            where = f"around the {holder.color} {d.noun(holder, plain=True)}"
        elif holder is not None:
            where = f"on the {holder.color} {d.noun(holder, plain=True)}"
        elif obj.family in ("car", "van"):
            where = rng.choice(["parked along the kerb", "in the row of parked cars"]) if scene.shell.params.get("type") == "street" \
                else rng.choice(["in the parking bays", "parked in the row"])
        else:
            where = rng.choice(["in the row", "along the pavement", "standing in a line"])
        nb, na = int(diff["before"]), int(diff["after"])
        v.update(plural=plural, where=where, n_before=NUMBERS[nb] if nb < len(NUMBERS) else str(nb),
                 n_after=NUMBERS[na] if na < len(NUMBERS) else str(na), updown="up" if na > nb else "down",
                 one=f"one {v['noun']} was {'added' if na > nb else 'taken away'}",
                 alike=f"All the {plural} look alike." if grp.get("same", True) else f"The {plural} differ only in colour.",
                 which=f"The {'new one stands' if na > nb else 'missing one stood'} {_loc(d, obj)}.")
    return v


def _camera_values(diff: dict[str, Any], before: SceneSpec) -> dict[str, Any]:
    b, a = diff["before"], diff["after"]
    return {"deg": max(5, int(round(abs(a["azimuth"] - b["azimuth"]) / 5.0)) * 5), "dir": diff.get("direction", "left"),
            "height": "higher" if a["elevation"] > b["elevation"] else "lower",
            "closer": "closer" if a["distance"] < b["distance"] else "farther back"}


VIEW_FRAMES: list[Callable[[dict[str, Any], str], str]] = [
    lambda v, room: f"The camera moved: it swung about {v['deg']} degrees to the {v['dir']} and looks from slightly {v['height']}, so the whole {room} is seen from a new angle.",
    lambda v, room: f"Only the viewpoint changed. The photographer stepped to the {v['dir']}, turning the view by roughly {v['deg']} degrees, and stands a little {v['closer']}.",
    lambda v, room: f"Both pictures show the same {room} from different positions: in the second one the camera has circled around {v['deg']} degrees to the {v['dir']}.",
    lambda v, room: f"Comparing the images, every object shifts in the frame because the camera turned {v['deg']} degrees to the {v['dir']} and sits {v['height']}.",
]


def _light_sentence(diff: dict[str, Any], before: SceneSpec, rng: random.Random, aspect: float, visible: set[int] | None,
                    room: str, k: int) -> str:
    info = diff.get("light", {})
    variant = info.get("variant")
    if variant == "lamp":
        lamp = object_from_dict(info["object"])
        ref = Describer(before, rng, aspect, visible).refer(lamp, k)
        on = info["after"] == "on"
        frames = [
            f"{cap(ref)} was switched {info['after']}, so the corner around it is now {'lit by its warm glow' if on else 'darker'}.",
            f"Someone turned {info['after']} {ref}; {'its shade glows and the nearby furniture is brighter' if on else 'its shade no longer glows and the room looks dimmer'}.",
            f"The lighting changed because {ref} is {info['after']} in the second image and was {info['before']} in the first.",
        ]
    elif variant == "ceiling":
        on = info["after"] == "on"
        frames = [
            f"The ceiling light was switched {info['after']}, and the whole {room} looks {'brighter' if on else 'darker, lit mostly by the window'}.",
            f"In the second picture the lamp on the ceiling is {info['after']}: {'light now falls evenly on the floor and furniture' if on else 'only daylight and the lamps light the room'}.",
            f"The main difference is the overhead light, {'turned on' if on else 'turned off'}, which {'brightens' if on else 'dims'} every surface in the {room}.",
        ]
    elif variant == "warmth" and before.setting == "outdoor":
        warm = info["after"] == "warm"
        frames = [
            f"The sunlight changed colour: it is {'warmer and more golden' if warm else 'cooler and whiter'} in the second image, tinting the facades, the pavement and everything on it.",
            f"The {room} looks {'warmer, as in a late golden hour' if warm else 'colder and bluer'} than before, because the colour of the sunlight changed.",
            f"Comparing the pictures, the light falling on the {room} turned from {'cool white to warm orange' if warm else 'warm orange to cool white'}; the shadows stay where they were.",
        ]
    elif variant == "warmth":
        warm = info["after"] == "warm"
        frames = [
            f"The colour of the light changed: it is now {'warmer and more yellow' if warm else 'cooler and whiter'} than before, which tints every surface of the {room}.",
            f"The lamps give a {'warm orange' if warm else 'cold bluish'} light in the second image instead of the {'cool' if warm else 'warm'} light of the first.",
            f"Comparing the pictures, the whole {room} looks {'warmer' if warm else 'colder'} because the light's colour temperature changed.",
        ]
    elif variant == "daylight":
        b, a = info["before"], info["after"]
        higher = info.get("elevation_after", 0) > info.get("elevation_before", 0)
        lamps = " and the street lamps are lit" if info.get("street_lamps") == "on" and info.get("switched") else ""
        frames = [
            f"The time of day changed from {b} to {a}: the sunlight comes from another direction, so the shadows and bright patches moved{lamps}.",
            f"It is {a} in the second picture instead of {b}; the sun stands {'higher' if higher else 'lower'} and the light looks different{lamps}.",
            f"The {room} is lit by {a} light now rather than {b} light, which changes the shadows on every surface{lamps}.",
        ]
    else:  # the tabletop moods never reach here; a safe sentence
        frames = [f"The lighting of the {room} changed.", f"The light in the {room} is different now.",
                  f"The {room} is lit differently."]
    return frames[k % len(frames)]


def _context(before: SceneSpec, after: SceneSpec, changed: set[int], rng: random.Random, aspect: float,
             visible: set[int] | None, room: str, used: set[int], k: int) -> str:
    d = Describer(before, rng, aspect, visible, exclude=changed)
    pool = [o for o in before.objects if o.uid not in changed and d.shown(o) and after.get(o.uid) is not None
            and o.uid not in used]
    pool.sort(key=lambda o: (-max(o.half_extents[:2]), o.uid))
    pool = pool[:8]
    rng.shuffle(pool)
    picks = pool[:2]
    if len(picks) < 2:
        return f"Nothing else in the {room} changed."
    used.update(o.uid for o in picks)
    names = [f"the {d.np(o, with_material=rng.random() < 0.3)}" for o in picks]
    return CONTEXT[k % len(CONTEXT)](names[0], names[1], room)


def kit_captions(diffs: list[dict[str, Any]], before: SceneSpec, after: SceneSpec, rng: random.Random, aspect: float,
                 room: str, visible: set[int] | None = None) -> list[str]:
    """At least three references for one pair; each covers every change of the pair."""
    changed = {d["uid"] for d in diffs if d.get("uid") is not None}
    changed |= {u for d in diffs for u in d.get("mask_before", []) + d.get("mask_after", [])}
    frames = rng.sample(range(4), 3)
    contexts = rng.sample(range(len(CONTEXT)), 3)
    used: set[int] = set()
    out: list[str] = []
    for r, (k, c) in enumerate(zip(frames, contexts)):
        parts = []
        for diff in diffs:
            key = diff["type"]
            if key == "viewpoint":
                parts.append(VIEW_FRAMES[k % len(VIEW_FRAMES)](_camera_values(diff, before), room))
            elif key == "illumination":
                parts.append(_light_sentence(diff, before, rng, aspect, visible, room, k))
            else:
                v = _object_values(key, diff, before, after, rng, aspect, visible, k + r)
                parts.append(SENTENCES[key][k % len(SENTENCES[key])](v))
                if len(diffs) == 1:
                    details = DETAILS[key]
                    parts.append(details[r % len(details)](v))
                    if sum(len(p.split()) for p in parts) < 30:
                        parts.append(details[(r + 1) % len(details)](v))
        parts.append(_context(before, after, changed, rng, aspect, visible, room, used, c))
        if sum(len(p.split()) for p in parts) < 54:
            parts.append(_context(before, after, changed, rng, aspect, visible, room, used, c + 1))
        out.append(" ".join(parts))
    for i, caption in enumerate(out):  # wordings are drawn at random; references must differ
        while caption in out[:i]:
            caption += " " + rng.choice(("Nothing else differs.", "The rest is identical.", "No other change is visible."))
        out[i] = caption
    return out
