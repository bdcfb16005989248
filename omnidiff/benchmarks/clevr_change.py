"""CLEVR-Change (Park, Darrell and Rohrbach, ICCV 2019, "Robust Change Captioning"): prepare and export.

Native layout, as released: ``images/CLEVR_default_%06d.png`` (before), ``sc_images/CLEVR_semantic_%06d.png``
(after, one semantic change), ``nsc_images/CLEVR_nonsemantic_%06d.png`` (after, a distractor: the camera
moved or the lighting changed, or both), ``change_captions.json`` and ``no_change_captions.json`` (the
default image's file name -> captions), ``splits.json`` (integer image numbers per split) and
``type_mapping.json`` (``color``/``material``/``add``/``drop``/``move`` -> ``NNNNNN.png`` names).

Two kinds of code read it: RobustChangeCaptioning indexes the sorted listing of each image folder with
the ``splits.json`` numbers and parses ``type_mapping.json`` with ``int(x.split('.')[0])``; CLIP4IDC
resolves a number to ``CLEVR_default_%06d.png``. In the release the two agree (the numbers are dense).
``prepare`` resolves by number and checks that the listing agrees, so a damaged download (a missing or
an extra file) is named instead of silently shifting every pair. ``export`` writes that layout exactly.

Every before image gives two pairs, with the ids the authors' evaluation uses: ``NNNNNN.png``
(semantic) and ``NNNNNN.png_n`` (distractor). Protocol (RobustChangeCaptioning ``evaluate.py``):
semantic, distractor, total, and per change type. The headline is ``total``: the published numbers that
compare models on CLEVR-Change (FINER-MLLM's 137.2 CIDEr, CLIP4IDC's) score the semantic and the
distractor pairs together.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from annotations import SPLITS, TAXONOMY, PairRecord, Store
from omnidiff.benchmarks.base import (
    Benchmark,
    BenchmarkError,
    ExportSummary,
    PlannedPair,
    read_json,
    safe_path,
    semantic_distractor_subsets,
)
from omnidiff.benchmarks.native_files import check_listing, image_number, read_split_numbers, write_json, write_png
from omnidiff.benchmarks.staging import staged_folder

DISTRACTOR_SUFFIX = "_n"
DEFAULT, SEMANTIC, NONSEMANTIC = "CLEVR_default_{:06d}.png", "CLEVR_semantic_{:06d}.png", "CLEVR_nonsemantic_{:06d}.png"
FOLDERS = {"images": DEFAULT, "sc_images": SEMANTIC, "nsc_images": NONSEMANTIC}

SHORT_CLEVR_PROMPT = (
    "The first image shows a scene before a change and the second the same scene after it. "
    "In one short sentence, say what changed (an object's colour or material, an object added, "
    "removed or moved), or say that nothing has changed."
)


def semantic_labels() -> list[str]:
    """CLEVR-Change's own change types, in the release's order (from the taxonomy)."""
    return TAXONOMY.native_labels("clevr_change", distractors=False)


def semantic_change_keys() -> list[str]:
    return [TAXONOMY.map_native("clevr_change", t).change_types[0] for t in semantic_labels()]


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise BenchmarkError(f"{where}: expected a non-empty list of captions")
    return list(value)


def _type_by_number(source: Path, type_map: object) -> dict[int, str]:
    """``type_mapping.json`` read as RobustChangeCaptioning reads it: ``int(name.split('.')[0])`` per entry."""
    where = source / "type_mapping.json"
    if not isinstance(type_map, dict):
        raise BenchmarkError(f"{where}: expected a JSON object")
    found: dict[int, str] = {}
    for label, names in type_map.items():
        TAXONOMY.map_native("clevr_change", label)  # unknown labels are an error
        if not isinstance(names, list):
            raise BenchmarkError(f"{where}: {label!r} must list image names")
        for name in names:
            number = image_number(name)
            if number is None:
                raise BenchmarkError(f"{where}: {name!r} under {label!r} is not an image name like 000123.png")
            if number in found and found[number] != label:
                raise BenchmarkError(f"{where}: image {number} is listed as both {found[number]!r} and {label!r}")
            found[number] = label.strip().lower()
    return found


class ClevrChange(Benchmark):
    name = "clevr_change"
    title = "CLEVR-Change"
    short_title = "CLEVR-Change"
    citation = "Park, Darrell and Rohrbach. Robust Change Captioning. ICCV 2019."
    url = "https://github.com/Seth-Park/RobustChangeCaptioning"
    split_sizes = {"train": 67660, "val": 3976, "test": 7970}
    protocol = "semantic, distractor (ids suffixed _n), total, per change type (color, material, add, drop, move)"
    headline = "total"
    headline_note = ("semantic and distractor pairs scored together, as the numbers papers compare are "
                     "(FINER-MLLM's 137.2 CIDEr, CLIP4IDC's README)")
    table_views = {"semantic": "semantic pairs", "distractor": "distractor pairs"}
    source_hint = "the extracted clevr_change.tar.gz (its data/ folder)"
    export_format = "clevr-change"
    prompt = SHORT_CLEVR_PROMPT

    # -- prepare ------------------------------------------------------------------------------
    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        for folder in FOLDERS:
            if not (source / folder).is_dir():
                raise BenchmarkError(f"{source}: {folder}/ folder not found")
        change = read_json(source / "change_captions.json", "change_captions.json")
        no_change = read_json(source / "no_change_captions.json", "no_change_captions.json")
        for what, value in (("change_captions.json", change), ("no_change_captions.json", no_change)):
            if not isinstance(value, dict):
                raise BenchmarkError(f"{source / what}: expected a JSON object")
        chosen = read_split_numbers(source / "splits.json", splits)
        native_type = _type_by_number(source, read_json(source / "type_mapping.json", "type_mapping.json"))
        for folder, pattern in FOLDERS.items():
            listing = sorted(p.name for p in (source / folder).iterdir() if p.is_file())
            check_listing(source / folder, listing, [n for _, n in chosen], pattern.format, "splits.json")
        planned: list[PlannedPair] = []
        for split, number in chosen:
            planned.extend(self._pairs(source, number, split, change, no_change, native_type))
        return planned

    def _pairs(self, source: Path, number: int, split: str, change: dict, no_change: dict,
               native_type: dict[int, str]) -> list[PlannedPair]:
        before_name = DEFAULT.format(number)
        where = f"{source}: {before_name}"
        image_id = f"{number:06d}.png"  # as the authors' evaluation names pairs
        if before_name not in change or before_name not in no_change:
            raise BenchmarkError(f"{where}: no captions in change_captions.json / no_change_captions.json")
        label = native_type.get(number)
        if label is None:
            raise BenchmarkError(f"{where}: {image_id} is not in type_mapping.json")
        mapped = TAXONOMY.map_native("clevr_change", label)
        distractor = TAXONOMY.map_native("clevr_change", "distractor")
        common = dict(scene_id=f"{number:06d}", split=split, domain="render", setting="tabletop",
                      before=safe_path(source / "images", before_name, where),
                      license="CC BY 4.0 (CLEVR-Change)", source=self.url)
        return [
            PlannedPair(pair_id=image_id, after=safe_path(source / "sc_images", SEMANTIC.format(number), where),
                        captions=_string_list(change[before_name], where),
                        change_types=mapped.imported_change_types, native_change_type=label,
                        distractor=mapped.distractor,
                        provenance={"importer": self.name, "before": before_name, "native_type": label}, **common),
            PlannedPair(pair_id=image_id + DISTRACTOR_SUFFIX,
                        after=safe_path(source / "nsc_images", NONSEMANTIC.format(number), where),
                        captions=_string_list(no_change[before_name], where),
                        change_types=distractor.imported_change_types, native_change_type="distractor",
                        distractor=distractor.distractor,
                        provenance={"importer": self.name, "before": before_name, "native_type": "distractor",
                                    "change_types": "possible: the release does not say camera or lighting"},
                        **common),
        ]

    def subsets(self, records: list[PairRecord]) -> dict[str, list[str]]:
        return semantic_distractor_subsets(records, semantic_change_keys())

    # -- export -------------------------------------------------------------------------------
    def export(self, store: Store, out: Path) -> ExportSummary:
        """The released layout: one index per semantic pair, its scene's distractor beside it.

        A scene rendered with k semantic pairs gives k indices that share its before image and its
        distractor; scenes without a semantic or a distractor pair are skipped and counted.
        """
        items, skipped = self._export_items(store)
        wanted: dict[str, list[tuple[int, str]]] = {}  # pair id -> (index, role) it supplies
        for index, (sem, dis) in enumerate(items):
            wanted.setdefault(sem["pair_id"], []).append((index, "semantic"))
            wanted.setdefault(dis["pair_id"], []).append((index, "distractor"))
        with staged_folder(out, "exporting") as tmp:
            for folder in FOLDERS:
                (tmp / folder).mkdir()
            change: dict[str, list[str]] = {}
            no_change: dict[str, list[str]] = {}
            for record in store.records(pair_ids=set(wanted)):
                for index, role in wanted[record.pair_id]:
                    name = DEFAULT.format(index)
                    if role == "semantic":
                        write_png(tmp / "images" / name, record.image_before, record.pair_id)
                        write_png(tmp / "sc_images" / SEMANTIC.format(index), record.image_after, record.pair_id)
                        change[name] = list(record.captions)
                    else:
                        write_png(tmp / "nsc_images" / NONSEMANTIC.format(index), record.image_after, record.pair_id)
                        no_change[name] = list(record.captions)
            splits: dict[str, list[int]] = {s: [] for s in SPLITS}
            types: dict[str, list[str]] = {t: [] for t in semantic_labels()}
            for index, (sem, _) in enumerate(items):
                splits[sem["split"]].append(index)
                types[sem["native_change_type"]].append(f"{index:06d}.png")
            write_json(tmp / "change_captions.json", dict(sorted(change.items())))
            write_json(tmp / "no_change_captions.json", dict(sorted(no_change.items())))
            write_json(tmp / "splits.json", splits)
            write_json(tmp / "type_mapping.json", types)
            (tmp / "README.md").write_text(_export_readme(store, len(items), skipped), encoding="utf-8")
        return ExportSummary(Path(out), len(items), skipped)

    def _export_items(self, store: Store) -> tuple[list[tuple[dict, dict]], dict[str, int]]:
        rows = store.table(["pair_id", "scene_id", "benchmark", "native_change_type", "distractor", "split"]).to_pylist()
        scenes: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for row in rows:
            if row["benchmark"] == self.name:
                entry = scenes.setdefault(row["scene_id"], {"semantic": [], "distractor": []})
                entry["distractor" if row["distractor"] else "semantic"].append(row)
        if not scenes:
            raise BenchmarkError(f"{store.root}: no clevr_change pairs to export (render with --preset clevr-change)")
        labels = set(semantic_labels())
        skipped: Counter[str] = Counter()
        items = []
        for scene_id in sorted(scenes):
            entry = scenes[scene_id]
            semantic = sorted((r for r in entry["semantic"] if r["native_change_type"] in labels), key=lambda r: r["pair_id"])
            if len(semantic) < len(entry["semantic"]):
                skipped["semantic pairs whose change is not one of " + "/".join(sorted(labels))] += (
                    len(entry["semantic"]) - len(semantic))
            if not entry["distractor"]:
                skipped["scenes without a distractor pair"] += 1
                continue
            if not semantic:
                skipped["scenes without a semantic pair"] += 1
                continue
            distractor = sorted(entry["distractor"], key=lambda r: r["pair_id"])[0]
            items.extend((row, distractor) for row in semantic)
        if not items:
            raise BenchmarkError(f"{store.root}: nothing to export in CLEVR-Change's layout, which needs a semantic and "
                                 f"a distractor pair per scene ({'; '.join(f'{n} {r}' for r, n in skipped.items())}); "
                                 "render with --preset clevr-change and --pairs-per-scene 2 or more")
        return items, dict(skipped)


def _export_readme(store: Store, items: int, skipped: dict[str, int]) -> str:
    left_out = "".join(f"- {n} {reason}\n" for reason, n in skipped.items()) or "- nothing\n"
    return (
        f"# CLEVR-Change layout, exported from the store {store.manifest.get('name', store.root.name)!r}\n\n"
        f"{items} items in the layout of the CLEVR-Change release (Park et al., ICCV 2019), so that its training "
        "code reads them unchanged: `images/CLEVR_default_%06d.png` (before), `sc_images/CLEVR_semantic_%06d.png` "
        "(after, semantic change), `nsc_images/CLEVR_nonsemantic_%06d.png` (after, distractor), "
        "`change_captions.json` / `no_change_captions.json` (default image name -> captions), `splits.json` "
        "(integer image numbers, dense from 0, so a sorted folder listing indexed by them gives the same files) "
        "and `type_mapping.json` (change type -> `NNNNNN.png`).\n\nLeft out:\n" + left_out
    )
