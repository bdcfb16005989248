"""CLEVR-Change (Park, Darrell and Rohrbach, ICCV 2019, "Robust Change Captioning").

Native layout: ``images/CLEVR_default_<n>.png`` (before), ``sc_images/CLEVR_semantic_<n>.png``
(after, one semantic change), ``nsc_images/CLEVR_nonsemantic_<n>.png`` (after, camera jitter only),
``change_captions.json`` and ``no_change_captions.json`` (before-image file name -> captions),
``splits.json`` (indices into the sorted ``images/`` listing, as the authors' preprocessing reads it)
and ``type_mapping.json`` (change type -> ids ``<n>.png``). Every before image gives two pairs, with
the ids the authors' evaluation uses: ``<n>.png`` (semantic) and ``<n>.png_n`` (distractor).
Protocol (RobustChangeCaptioning ``evaluate.py``): semantic, distractor, total, and per change type.
"""

from __future__ import annotations

from pathlib import Path

from annotations import TAXONOMY, PairRecord
from omnidiff.benchmarks.base import (
    Benchmark,
    BenchmarkError,
    PlannedPair,
    semantic_distractor_subsets,
    read_json,
    safe_path,
)

NATIVE_TYPES = ("color", "material", "add", "drop", "move")
DISTRACTOR_SUFFIX = "_n"


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise BenchmarkError(f"{where}: expected a non-empty list of captions")
    return list(value)


def semantic_change_keys() -> list[str]:
    return [TAXONOMY.map_native("clevr_change", t).change_types[0] for t in NATIVE_TYPES]


class ClevrChange(Benchmark):
    name = "clevr_change"
    title = "CLEVR-Change"
    citation = "Park, Darrell and Rohrbach. Robust Change Captioning. ICCV 2019."
    url = "https://github.com/Seth-Park/RobustChangeCaptioning"
    split_sizes = {"train": 67660, "val": 3976, "test": 7970}
    protocol = "semantic, distractor (ids suffixed _n), total, per change type (color, material, add, drop, move)"

    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        image_dir = source / "images"
        if not image_dir.is_dir():
            raise BenchmarkError(f"{source}: images/ folder not found")
        listing = sorted(p.name for p in image_dir.iterdir() if p.is_file())
        change = read_json(source / "change_captions.json", "change_captions.json")
        no_change = read_json(source / "no_change_captions.json", "no_change_captions.json")
        split_ids = read_json(source / "splits.json", "splits.json")
        type_map = read_json(source / "type_mapping.json", "type_mapping.json")
        for what, value in (("change_captions.json", change), ("no_change_captions.json", no_change),
                            ("splits.json", split_ids), ("type_mapping.json", type_map)):
            if not isinstance(value, dict):
                raise BenchmarkError(f"{source / what}: expected a JSON object")
        native_type: dict[str, str] = {}
        for label, ids in type_map.items():
            TAXONOMY.map_native("clevr_change", label)  # unknown labels are an error
            if not isinstance(ids, list):
                raise BenchmarkError(f"{source / 'type_mapping.json'}: {label!r} must list image ids")
            for image_id in ids:
                native_type[str(image_id)] = label.strip().lower()

        planned: list[PlannedPair] = []
        for split in splits:
            indices = split_ids.get(split, [])
            if not isinstance(indices, list):
                raise BenchmarkError(f"{source / 'splits.json'}: {split!r} must be a list of indices")
            for index in indices:
                if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(listing):
                    raise BenchmarkError(f"{source / 'splits.json'}: index {index!r} is outside images/ "
                                         f"({len(listing)} files)")
                planned.extend(self._pairs(source, listing[index], split, change, no_change, native_type))
        return planned

    def _pairs(self, source: Path, before_name: str, split: str, change: dict, no_change: dict,
               native_type: dict[str, str]) -> list[PlannedPair]:
        where = f"{source}: {before_name}"
        number = before_name.rsplit(".", 1)[0].split("_")[-1]
        image_id = before_name.split("_")[-1]  # '000123.png', as the authors' evaluation names pairs
        if before_name not in change or before_name not in no_change:
            raise BenchmarkError(f"{where}: no captions in change_captions.json / no_change_captions.json")
        label = native_type.get(image_id)
        if label is None:
            raise BenchmarkError(f"{where}: {image_id} is not in type_mapping.json")
        mapped = TAXONOMY.map_native("clevr_change", label)
        distractor = TAXONOMY.map_native("clevr_change", "distractor")
        before = safe_path(source / "images", before_name, where)
        common = dict(scene_id=number, split=split, domain="render", setting="tabletop", before=before,
                      license="CC BY 4.0 (CLEVR-Change)", source=self.url)
        return [
            PlannedPair(pair_id=image_id, after=safe_path(source / "sc_images", f"CLEVR_semantic_{number}.png", where),
                        captions=_string_list(change[before_name], where), change_types=list(mapped.change_types),
                        native_change_type=label, distractor=mapped.distractor,
                        provenance={"importer": self.name, "before": before_name, "native_type": label}, **common),
            PlannedPair(pair_id=image_id + DISTRACTOR_SUFFIX,
                        after=safe_path(source / "nsc_images", f"CLEVR_nonsemantic_{number}.png", where),
                        captions=_string_list(no_change[before_name], where),
                        change_types=list(distractor.change_types), native_change_type="distractor",
                        distractor=distractor.distractor,
                        provenance={"importer": self.name, "before": before_name, "native_type": "distractor"},
                        **common),
        ]

    def subsets(self, records: list[PairRecord]) -> dict[str, list[str]]:
        return semantic_distractor_subsets(records, semantic_change_keys())
