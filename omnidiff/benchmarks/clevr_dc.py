"""CLEVR-DC (Kim et al., ICCV 2021, "Viewpoint-Agnostic Change Captioning with Cycle Consistency").

Native layout: ``bef/`` and ``aft/`` (one image per id; ``<id>.png``, zero-padded ``<id:06d>.png``
or a ``CLEVR_*_<id:06d>.png`` name are all found), ``captions.json`` (id -> a caption or a list
of captions; the key may be the id, the zero-padded id or the image file name; a JSON list
indexed by id also works) and ``split.json`` (``train``/``val``/``test`` integer ids). The ids come
in six blocks of 8,000, one per action, in the order of the dataset's README: color, material
(texture), add, remove, move, distractor. Protocol: semantic changes, distractor, total, per action.
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

ACTIONS = ("color", "material", "add", "remove", "move", "distractor")
IDS_PER_ACTION = 8000


def action_of(image_id: int) -> str:
    block = image_id // IDS_PER_ACTION
    if not 0 <= block < len(ACTIONS):
        raise BenchmarkError(f"CLEVR-DC id {image_id} is outside the six blocks of {IDS_PER_ACTION}")
    return ACTIONS[block]


def semantic_change_keys() -> list[str]:
    return [TAXONOMY.map_native("clevr_dc", a).change_types[0] for a in ACTIONS if a != "distractor"]


def _index_folder(folder: Path) -> dict[int, str]:
    """id -> file name, from names ending in ``<digits>.<ext>`` (sorted, so the first of duplicates wins)."""
    found: dict[int, str] = {}
    for name in sorted(p.name for p in folder.iterdir() if p.is_file()):
        stem = name.rsplit(".", 1)[0]
        digits = stem.split("_")[-1]
        if digits.isdigit():
            found.setdefault(int(digits), name)
    return found


def _captions_for(captions: object, image_id: int, image_name: str, where: str) -> list[str]:
    value = None
    if isinstance(captions, list):
        value = captions[image_id] if 0 <= image_id < len(captions) else None
    elif isinstance(captions, dict):
        for key in (str(image_id), f"{image_id:06d}", image_name, f"{image_id:06d}.png", f"{image_id}.png"):
            if key in captions:
                value = captions[key]
                break
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise BenchmarkError(f"{where}: no captions for id {image_id} in captions.json")
    return list(value)


class ClevrDC(Benchmark):
    name = "clevr_dc"
    title = "CLEVR-DC (drastic viewpoint changes)"
    citation = ("Kim, Kim, Lee, Park and Kim. Viewpoint-Agnostic Change Captioning with Cycle Consistency. "
                "ICCV 2021.")
    url = "https://github.com/hsgkim/clevr-dc"
    split_sizes = {"train": 40800, "val": 2400, "test": 4800}
    protocol = "semantic changes, distractor, total, per action (color, material, add, remove, move)"

    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        for folder in ("bef", "aft"):
            if not (source / folder).is_dir():
                raise BenchmarkError(f"{source}: {folder}/ folder not found")
        split_ids = read_json(source / "split.json", "split.json")
        captions = read_json(source / "captions.json", "captions.json")
        if not isinstance(split_ids, dict):
            raise BenchmarkError(f"{source / 'split.json'}: expected a JSON object")
        before_names, after_names = _index_folder(source / "bef"), _index_folder(source / "aft")
        planned: list[PlannedPair] = []
        for split in splits:
            ids = split_ids.get(split, [])
            if not isinstance(ids, list):
                raise BenchmarkError(f"{source / 'split.json'}: {split!r} must be a list of ids")
            for image_id in ids:
                if isinstance(image_id, bool) or not isinstance(image_id, int):
                    raise BenchmarkError(f"{source / 'split.json'}: id {image_id!r} is not an integer")
                where = f"{source}: id {image_id}"
                if image_id not in before_names or image_id not in after_names:
                    raise BenchmarkError(f"{where}: image not found in bef/ and aft/")
                action = action_of(image_id)
                mapped = TAXONOMY.map_native("clevr_dc", action)
                planned.append(PlannedPair(
                    pair_id=f"{image_id:06d}", scene_id=f"{image_id:06d}", split=split,
                    before=safe_path(source / "bef", before_names[image_id], where),
                    after=safe_path(source / "aft", after_names[image_id], where),
                    captions=_captions_for(captions, image_id, before_names[image_id], where),
                    domain="render", setting="tabletop", change_types=list(mapped.change_types),
                    native_change_type=action, distractor=mapped.distractor,
                    provenance={"importer": self.name, "id": image_id, "action": action},
                    license="see the CLEVR-DC repository", source=self.url,
                ))
        return planned

    def subsets(self, records: list[PairRecord]) -> dict[str, list[str]]:
        return semantic_distractor_subsets(records, semantic_change_keys())
