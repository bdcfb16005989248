"""Catalog entries as families: probed once in a Blender child, registered in every process that samples.

An asset family declares its nouns, settings and placement from the catalog, one recolourable part per
declared material slot (palette colours, painted), the words its text objects may say, and its extents:
the model's stored proportions scaled to the catalog's real height. Its builder is the renderer's asset
library (``renderer/assets.py``), not the Python mesh builders.
"""

from __future__ import annotations

import multiprocessing as mp
import random
from dataclasses import replace
from functools import lru_cache

from generators.synthetic.assets.catalog import AssetEntry, Catalog, CatalogError
from generators.synthetic.families import FAMILIES, Family, load_all, palette, register

GROUP = "assets"
PAINT = ["painted"]


def probe_catalog(catalog: Catalog) -> Catalog:
    """Each file's size, material slots and text objects, read by Blender in a child process; a file it cannot
    import, a declared slot or text object that is not in the file: one error naming it, before any render."""
    from generators.synthetic.renderer.assets import probe_all

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        found = manager.dict()
        proc = ctx.Process(target=probe_all, args=([e.file for e in catalog.entries], found))
        proc.start()
        proc.join()
        found = dict(found)
    entries = []
    for e in catalog.entries:
        where = f"asset catalog {catalog.path}, asset {e.name!r}"
        info = found.get(e.file) or {"error": "the probe did not finish"}
        if "error" in info:
            raise CatalogError(f"{where}: cannot import file {e.file}: {info['error']}")
        size = tuple(float(v) for v in info["size"])
        if min(size[2], max(size[0], size[1])) <= 1e-6:
            raise CatalogError(f"{where}: file {e.file} has no extent (a flat or empty model)")
        for slot in e.recolour:
            if slot not in info["slots"]:
                raise CatalogError(f"{where}: material slot {slot!r} is not in {e.file} (it has: {', '.join(info['slots']) or 'none'})")
        for text in e.text:
            if text not in info["texts"]:
                raise CatalogError(f"{where}: text object {text!r} is not in {e.file} (it has: {', '.join(info['texts']) or 'none'})")
        entries.append(replace(e, size=size, slots=tuple(info["slots"]), texts=tuple(info["texts"]),
                               colour=tuple(info.get("colour") or ())))
    return replace(catalog, entries=tuple(entries))


def nearest_colour(rgb: tuple[int, ...]) -> str:
    """The palette colour (of painted things) nearest to an sRGB value: what captions call an unrecoloured model."""
    names = palette()["materials"]["painted"]["colors"]
    if not rgb:
        return "grey"
    return min(names, key=lambda n: sum((a - b) ** 2 for a, b in zip(palette()["colors"][n], rgb)))


def family_data(e: AssetEntry) -> dict:
    """Declared slots are recolourable parts; without any, one fixed part in the colour the file gives the model."""
    parts = {slot: {"materials": PAINT} for slot in e.recolour} or \
        {"body": {"materials": PAINT, "fixed_color": True, "colors": [nearest_colour(e.colour)]}}
    data = {"nouns": [e.noun, *e.synonyms], "settings": list(e.settings), "placement": e.placement, "group": GROUP,
            "parts": parts, "main": next(iter(parts)), "asset": e.to_dict()}
    if e.plural:
        data["plural"] = e.plural
    if e.words:
        data["words"] = list(e.words)
    return data


def _extents(e: AssetEntry):  # noqa: ANN202 - an ExtentsFn
    s = e.height / e.size[2]
    half = (round(e.size[0] * s / 2, 5), round(e.size[1] * s / 2, 5), round(e.height / 2, 5))
    return lambda params: half


def _sample(rng: random.Random) -> dict:
    return {}


def register_catalog(catalog: Catalog) -> list[Family]:
    """Register (once per process) the families of a probed catalog; a name taken by another family is refused."""
    return list(_register(catalog.to_json()))


@lru_cache(maxsize=8)
def _register(text: str) -> tuple[Family, ...]:
    catalog = Catalog.from_json(text)
    load_all()
    out = []
    for e in catalog.entries:
        existing = FAMILIES.get(e.name)
        if existing is not None:
            if existing.data.get("asset") == e.to_dict():
                out.append(existing)
                continue
            raise CatalogError(f"asset catalog {catalog.path}: asset {e.name!r} has the name of a built-in family; rename it")
        out.append(register(e.name, {e.name: family_data(e)}, _sample, _extents(e), builder="asset"))
    return tuple(out)


def asset_families(setting: str) -> list[Family]:
    return [f for f in FAMILIES.values() if f.group == GROUP and setting in f.settings]
