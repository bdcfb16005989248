"""Asset families: seeded procedural factories in pure Python (Infinigen's idea; our own code).

A family is ``sample(rng) -> params`` (dimensions, shape variant, switches: a JSON-able dict), its
footprint and support surfaces as functions of those params, and what it declares in its data file
beside its module (nouns and synonyms, where it may be placed, which change types may touch it,
which parts may be recoloured and in which materials, the words of its text slot). The renderer
has one builder per family, registered by the same name (or ``builder``). An instance's stream is
derived from the scene seed and its index by the caller; nothing here keeps random state.

Adding a family touches its group module, the group's data file and its renderer builder only.
A user's imported asset becomes a family the same way (``register`` at run time).
"""

from __future__ import annotations

import importlib
import json
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from generators.synthetic.layout import Surface
from generators.synthetic.spec import ObjectSpec, look

HERE = Path(__file__).resolve().parent
GROUPS = ("furniture", "tableware", "decor", "electronics", "vehicles", "street", "nature", "buildings")
OBJECT_CHANGES = ("addition", "disappearance", "removal", "substitution", "size", "color", "material",
                  "orientation", "counting", "text", "movement", "pose")
DEFAULT_CHANGES = {  # what may happen to a family unless its data file says otherwise
    "floor": ("addition", "disappearance", "substitution", "size", "color", "material", "orientation", "movement",
              "counting"),
    "surface": ("addition", "removal", "substitution", "size", "color", "material", "orientation", "movement",
                "counting"),
    "wall": ("addition", "removal", "substitution", "size", "color", "material", "movement"),
}

SampleFn = Callable[[random.Random], dict[str, Any]]
ExtentsFn = Callable[[dict[str, Any]], tuple[float, float, float]]
SurfacesFn = Callable[[dict[str, Any]], list[Surface]]


@dataclass(frozen=True)
class Family:
    name: str
    group: str
    sample: SampleFn
    extents: ExtentsFn  # half extents at scale 1
    surfaces: SurfacesFn
    data: dict[str, Any] = field(hash=False, compare=False)
    builder: str = ""

    @property
    def nouns(self) -> list[str]:
        return list(self.data["nouns"])

    @property
    def plural(self) -> str:
        return self.data.get("plural") or plural_of(self.nouns[0])

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(self.data.get("settings", ()))

    @property
    def placement(self) -> str:
        return self.data.get("placement", "floor")

    @property
    def placements(self) -> tuple[str, ...]:
        """Every placement an instance may have (a frame hangs on a wall or stands on a shelf)."""
        return tuple(self.data.get("placements", [self.placement]))

    @property
    def changes(self) -> frozenset[str]:
        declared = self.data.get("changes")
        base = set(declared if declared is not None else DEFAULT_CHANGES[self.placement])
        if self.data.get("words"):
            base.add("text")
        if self.data.get("symmetric"):
            base.discard("orientation")
        for key in self.data.get("not", ()):
            base.discard(key)
        return frozenset(base)

    @property
    def parts(self) -> dict[str, dict[str, Any]]:
        return self.data.get("parts", {"body": {"materials": ["plastic"]}})

    @property
    def main(self) -> str:
        return self.data.get("main", next(iter(self.parts)))

    @property
    def recolourable(self) -> list[str]:
        return [p for p, spec in self.parts.items() if len(part_colors(spec, None)) > 1 and not spec.get("fixed_color")]

    @property
    def rematerialisable(self) -> list[str]:
        """Parts whose materials include two that look different (plastic and painted do not)."""
        return [p for p, spec in self.parts.items() if len({looks_like(m) for m in spec.get("materials", [])}) > 1]

    @property
    def words(self) -> list[str]:
        return list(self.data.get("words", []))

    @property
    def text_slot(self) -> str | None:
        return self.data.get("text_slot", "label" if self.words else None)

    @property
    def holds(self) -> list[str]:
        """Families that may stand on this one's surfaces."""
        return list(self.data.get("holds", []))


FAMILIES: dict[str, Family] = {}


def register(name: str, data: dict[str, Any], sample: SampleFn, extents: ExtentsFn,
             surfaces: SurfacesFn | None = None, builder: str | None = None) -> Family:
    if name in FAMILIES:
        raise ValueError(f"family {name!r} registered twice")
    entry = data[name]
    fam = Family(name, entry.get("group", ""), sample, extents, surfaces or (lambda p: []), entry, builder or name)
    FAMILIES[name] = fam
    return fam


@lru_cache(maxsize=None)
def load_data(group: str) -> dict[str, Any]:
    """A group's data file (nouns, placements, parts, words), each entry tagged with its group."""
    data = json.loads((HERE / f"{group}.json").read_text(encoding="utf-8"))
    return {name: {**entry, "group": group} for name, entry in data.items() if not name.startswith("_")}


@lru_cache(maxsize=1)
def palette() -> dict[str, Any]:
    return json.loads((HERE / "palette.json").read_text(encoding="utf-8"))


def load_all() -> dict[str, Family]:
    """Import every group module once (each registers its families)."""
    for group in GROUPS:
        importlib.import_module(f"generators.synthetic.families.{group}")
    return FAMILIES


def get(name: str) -> Family:
    if name not in FAMILIES:
        load_all()
    return FAMILIES[name]


def family_of(obj: ObjectSpec) -> Family | None:
    """The kit family of an object; None for tabletop primitives (their rules live in the tabletop kit)."""
    if obj.family not in FAMILIES:
        load_all()
    return FAMILIES.get(obj.family)


def plural_of(noun: str) -> str:
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith("f"):
        return noun[:-1] + "ves"
    return noun + "s"


# -- looks -----------------------------------------------------------------------------------
def part_colors(part: dict[str, Any], material: str | None) -> list[str]:
    """Colours a part may take in ``material`` (any of its materials when None)."""
    mats = palette()["materials"]
    materials = [material] if material else part.get("materials", [])
    allowed = part.get("colors")
    out: list[str] = []
    for m in materials:
        for c in mats[m]["colors"]:
            if (allowed is None or c in allowed) and c not in out:
                out.append(c)
    return out


def rgb_of(color: str) -> list[int]:
    return list(palette()["colors"][color])


def draw_look(rng: random.Random, part: dict[str, Any], material: str | None = None,
              avoid: str | None = None, initial: bool = False) -> dict[str, Any]:
    """A look for ``part``; a new instance takes its colour from ``initial_colors`` when the part lists them
    (trees start green; a colour change may still turn them orange)."""
    material = material or rng.choice(part["materials"])
    colors = [c for c in part_colors(part, material) if c != avoid] or part_colors(part, material)
    if initial and part.get("initial_colors"):
        colors = [c for c in part["initial_colors"] if c in colors] or colors
    color = rng.choice(colors)
    return look(color, rgb_of(color), material)


def fixed_look(name: str) -> dict[str, Any]:
    spec = palette()["fixed"][name]
    return look(spec["color"], rgb_of(spec["color"]), spec["material"])


def looks_like(material: str) -> str:
    return palette()["materials"].get(material, {}).get("looks_like", material)


def material_words(material: str) -> list[str]:
    mats = palette()["materials"]
    return list(mats[material]["adjectives"]) if material in mats else []


# -- instances -------------------------------------------------------------------------------
def scale_of(obj: ObjectSpec) -> float:
    return float(obj.params.get("scale", 1.0))


def extents_for(fam: Family, params: dict[str, Any]) -> tuple[float, float, float]:
    s = float(params.get("scale", 1.0))
    return tuple(round(v * s, 5) for v in fam.extents(params))  # type: ignore[return-value]


def surfaces_of(obj: ObjectSpec) -> list[Surface]:
    fam = family_of(obj)
    return [] if fam is None else fam.surfaces(obj.params)


def make_object(name: str, uid: int, rng: random.Random, placement: str | None = None,
                looks: dict[str, dict[str, Any]] | None = None, params: dict[str, Any] | None = None) -> ObjectSpec:
    """A new instance of family ``name``: sampled params and part looks; position left at the origin."""
    fam = get(name)
    params = dict(params) if params is not None else fam.sample(rng)
    params.setdefault("scale", 1.0)
    parts = {p: dict(looks[p]) if looks and p in looks else draw_look(rng, spec, initial=True) for p, spec in fam.parts.items()}
    # a text slot may depend on the shape variant ("text_if": a params flag, e.g. a building with a shop front)
    has_slot = fam.words and params.get(fam.data["text_if"], False) if "text_if" in fam.data else bool(fam.words)
    text = rng.choice(fam.words) if has_slot else None
    return ObjectSpec(uid=uid, family=name, noun=fam.nouns[0], parts=parts, size="", half_extents=extents_for(fam, params),
                      x=0.0, y=0.0, placement=placement or fam.placement, text=text, params=params, main=fam.main)


def refresh_extents(obj: ObjectSpec) -> None:
    fam = family_of(obj)
    if fam is not None:
        obj.half_extents = extents_for(fam, obj.params)


def for_setting(setting: str, placement: str | None = None) -> list[Family]:
    load_all()
    return [f for f in FAMILIES.values() if setting in f.settings and (placement is None or placement in f.placements)]


def r(rng: random.Random, lo: float, hi: float, nd: int = 3) -> float:
    """A rounded uniform draw: params stay short and exact in JSON."""
    return round(rng.uniform(lo, hi), nd)
