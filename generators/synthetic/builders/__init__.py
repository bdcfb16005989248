"""The renderer's builders: one per family, registered by name, writing geometry into a ``Maker``.

Builders are pure Python (no ``bpy``): the renderer converts what they make into Blender objects
that all carry the object's id, so masks cover every part. A builder reads only the object's
``params``, part looks and text; it must keep its geometry inside the family's declared extents
(tests check this for every family), because the layout's collision checks trust those boxes.
"""

from __future__ import annotations

import importlib
from typing import Callable

from generators.synthetic.families import family_of
from generators.synthetic.meshes import Maker
from generators.synthetic.spec import ObjectSpec

BuildFn = Callable[[Maker, ObjectSpec], None]
BUILDERS: dict[str, BuildFn] = {}
MODULES = ("furniture", "tableware", "decor", "electronics", "vehicles", "street", "nature", "buildings")


def builder(name: str) -> Callable[[BuildFn], BuildFn]:
    def deco(fn: BuildFn) -> BuildFn:
        if name in BUILDERS:
            raise ValueError(f"builder {name!r} registered twice")
        BUILDERS[name] = fn
        return fn

    return deco


def load_builders() -> dict[str, BuildFn]:
    for module in MODULES:
        importlib.import_module(f"generators.synthetic.builders.{module}")
    return BUILDERS


def build(obj: ObjectSpec) -> Maker:
    """The geometry of ``obj`` in its local frame at scale 1."""
    fam = family_of(obj)
    if fam is None:
        raise KeyError(f"{obj.family!r} is not a kit family")
    if fam.builder not in BUILDERS:
        load_builders()
    maker = Maker()
    BUILDERS[fam.builder](maker, obj)
    return maker
