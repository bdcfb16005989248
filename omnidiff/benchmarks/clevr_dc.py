"""CLEVR-DC (Kim et al., ICCV 2021, "Viewpoint-Agnostic Change Captioning with Cycle Consistency").

Native layout (hsgkim/clevr-dc): ``bef/<id>.png`` and ``aft/<id>.png``, ``captions.json`` (the unpadded id
-> captions) and ``split.json`` (``train``/``val``/``test`` integer ids). The ids come in six blocks of
8,000, one per action, in the order of the taxonomy (and the dataset's README): color, material (texture),
add, remove, move, distractor. ``prepare`` also reads the tree that DIRL and MEDIC users make from it
(``images/``, ``sc_images/`` with zero-padded names, ``splits.json``, ``change_captions.json`` keyed by
``%06d.png``), and checks every block's assumed action against the wording of its captions, so that a
download whose blocks are in another order is refused rather than scored under the wrong labels.

Protocol: semantic changes, distractor, total, per action. The headline is ``total``: DIRL scores all
4,800 test pairs, distractors included (in a file it calls ``sc_results.json``), and so do the numbers
compared with it. Prediction ids: DIRL writes ``%06d.png``, MEDIC ``%d.png``; both resolve to the pair.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

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
from omnidiff.benchmarks.clevr_change import SHORT_CLEVR_PROMPT
from omnidiff.benchmarks.native_files import image_number, read_split_numbers, write_json, write_png
from omnidiff.benchmarks.staging import staged_folder

IDS_PER_ACTION = 8000
# the order in which caption wording is tried: no-change phrasing first, attribute changes last
WORDING_ORDER = ("distractor", "add", "remove", "move", "color", "material")


def actions() -> list[str]:
    """The six actions in block order (from the taxonomy)."""
    return TAXONOMY.native_labels("clevr_dc")


def action_of(image_id: int) -> str:
    block = image_id // IDS_PER_ACTION
    labels = actions()
    if not 0 <= block < len(labels):
        raise BenchmarkError(f"CLEVR-DC id {image_id} is outside the six blocks of {IDS_PER_ACTION}")
    return labels[block]


def semantic_change_keys() -> list[str]:
    return [TAXONOMY.map_native("clevr_dc", a).change_types[0] for a in actions()
            if not TAXONOMY.map_native("clevr_dc", a).distractor]


@lru_cache(maxsize=1)
def _wording() -> tuple[tuple[str, tuple[re.Pattern, ...]], ...]:
    return tuple((a, tuple(re.compile(p, re.IGNORECASE) for p in TAXONOMY.map_native("clevr_dc", a).wording))
                 for a in WORDING_ORDER)


def reads_as(caption: str) -> str | None:
    """The action a caption's wording names, or None when it names none."""
    for action, patterns in _wording():
        if any(p.search(caption) for p in patterns):
            return action
    return None


def check_blocks(planned: list[PlannedPair], where: Path) -> None:
    """Refuse a download whose blocks' captions read as another action than the block's position says."""
    by_block: dict[str, Counter[str]] = {}
    for pair in planned:
        counts = by_block.setdefault(pair.native_change_type or "", Counter())
        for caption in pair.captions:
            read = reads_as(caption)
            if read is not None:
                counts[read] += 1
    for block, counts in by_block.items():
        if not counts:
            continue  # no caption says anything checkable
        read, n = counts.most_common(1)[0]
        if read != block and n > counts.get(block, 0):
            index = actions().index(block)
            share = 100 * n / sum(counts.values())
            raise BenchmarkError(
                f"{where}: CLEVR-DC ids {index * IDS_PER_ACTION}-{(index + 1) * IDS_PER_ACTION - 1} should be the "
                f"{block!r} block, but {share:.0f}% of their captions read as {read!r}; the blocks are not in the "
                f"order {', '.join(actions())} (refused: the labels would be wrong)")


def _index_folder(folder: Path) -> dict[int, str]:
    """id -> file name, from names ending in ``<digits>.<ext>`` (sorted, so the first of duplicates wins)."""
    found: dict[int, str] = {}
    for name in sorted(p.name for p in folder.iterdir() if p.is_file()):
        number = image_number(name)
        if number is not None:
            found.setdefault(number, name)
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
        raise BenchmarkError(f"{where}: no captions for id {image_id} in the captions file")
    return list(value)


class ClevrDC(Benchmark):
    name = "clevr_dc"
    title = "CLEVR-DC (drastic viewpoint changes)"
    short_title = "CLEVR-DC"
    citation = ("Kim, Kim, Lee, Park and Kim. Viewpoint-Agnostic Change Captioning with Cycle Consistency. "
                "ICCV 2021.")
    url = "https://github.com/hsgkim/clevr-dc"
    split_sizes = {"train": 40800, "val": 2400, "test": 4800}
    protocol = "semantic changes, distractor, total, per action (color, material, add, remove, move)"
    headline = "total"
    headline_note = "all test pairs, distractors included, as DIRL scores them (in a file it calls sc_results.json)"
    table_views = {"semantic": "semantic pairs", "distractor": "distractor pairs"}
    source_hint = "hsgkim/clevr-dc with bef/ and aft/ extracted, or the images/ + sc_images/ tree of DIRL/MEDIC"
    export_format = "clevr-dc"
    prompt = SHORT_CLEVR_PROMPT + " The camera may have moved between the two images; ignore that."

    # -- prepare ------------------------------------------------------------------------------
    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        if (source / "bef").is_dir() and (source / "aft").is_dir():
            planned = self._plan_release(source, splits)
        elif (source / "images").is_dir() and (source / "sc_images").is_dir():
            planned = self._plan_dirl_tree(source, splits)
        else:
            raise BenchmarkError(f"{source}: neither bef/ and aft/ (hsgkim/clevr-dc) nor images/ and sc_images/ "
                                 "(the DIRL/MEDIC tree) found")
        check_blocks(planned, source)
        return planned

    def _plan_release(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        chosen = read_split_numbers(source / "split.json", splits)
        captions = read_json(source / "captions.json", "captions.json")
        before, after = _index_folder(source / "bef"), _index_folder(source / "aft")
        planned = []
        for split, image_id in chosen:
            where = f"{source}: id {image_id}"
            if image_id not in before or image_id not in after:
                raise BenchmarkError(f"{where}: image not found in bef/ and aft/")
            planned.append(self._pair(source, split, image_id, safe_path(source / "bef", before[image_id], where),
                                      safe_path(source / "aft", after[image_id], where),
                                      _captions_for(captions, image_id, before[image_id], where), "hsgkim/clevr-dc"))
        return planned

    def _plan_dirl_tree(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        """DIRL/MEDIC: the release renamed to zero-padded ``%06d.png`` (ids resolved by name; missing files are named)."""
        chosen = read_split_numbers(source / "splits.json", splits)
        captions = read_json(source / "change_captions.json", "change_captions.json")
        padded = "{:06d}.png".format
        return [self._pair(source, split, image_id, safe_path(source / "images", padded(image_id), str(source)),
                           safe_path(source / "sc_images", padded(image_id), str(source)),
                           _captions_for(captions, image_id, padded(image_id), f"{source}: id {image_id}"),
                           "DIRL/MEDIC tree")
                for split, image_id in chosen]

    def _pair(self, source: Path, split: str, image_id: int, before: Path, after: Path, captions: list[str],
              layout: str) -> PlannedPair:
        action = action_of(image_id)
        mapped = TAXONOMY.map_native("clevr_dc", action)
        return PlannedPair(
            pair_id=f"{image_id:06d}", scene_id=f"{image_id:06d}", split=split, before=before, after=after,
            captions=captions, domain="render", setting="tabletop", change_types=mapped.imported_change_types,
            native_change_type=action, distractor=mapped.distractor,
            provenance={"importer": self.name, "id": image_id, "action": action, "layout": layout},
            license="see the CLEVR-DC repository", source=self.url,
        )

    def id_candidates(self, foreign_id: str) -> list[str]:
        """DIRL's ``%06d.png`` and MEDIC's ``%d.png`` (and bare numbers) name the pair ``%06d``."""
        number = image_number(foreign_id)
        return super().id_candidates(foreign_id) + ([] if number is None else [f"{number:06d}"])

    def subsets(self, records: list[PairRecord]) -> dict[str, list[str]]:
        return semantic_distractor_subsets(records, semantic_change_keys())

    # -- export -------------------------------------------------------------------------------
    def export(self, store: Store, out: Path) -> ExportSummary:
        """hsgkim/clevr-dc's layout; each action's pairs numbered from the start of its 8,000-id block."""
        rows = store.table(["pair_id", "benchmark", "native_change_type", "split"]).to_pylist()
        rows = [r for r in rows if r["benchmark"] == self.name]
        if not rows:
            raise BenchmarkError(f"{store.root}: no clevr_dc pairs to export (render with --preset clevr-dc)")
        labels = actions()
        skipped: Counter[str] = Counter()
        ids: dict[str, int] = {}
        for block, action in enumerate(labels):
            members = sorted((r for r in rows if r["native_change_type"] == action), key=lambda r: r["pair_id"])
            if len(members) > IDS_PER_ACTION:
                skipped[f"{action} pairs beyond the {IDS_PER_ACTION:,} ids of its block"] += len(members) - IDS_PER_ACTION
            for k, row in enumerate(members[:IDS_PER_ACTION]):
                ids[row["pair_id"]] = block * IDS_PER_ACTION + k
        unplaced = sum(1 for r in rows if r["native_change_type"] not in labels)
        if unplaced:
            skipped[f"pairs whose action is not one of {', '.join(labels)} (the layout has no block for it)"] = unplaced
        if not ids:
            raise BenchmarkError(f"{store.root}: nothing to export in CLEVR-DC's layout "
                                 f"({'; '.join(f'{n} {r}' for r, n in skipped.items())})")
        split_of = {r["pair_id"]: r["split"] for r in rows}
        with staged_folder(out, "exporting") as tmp:
            (tmp / "bef").mkdir()
            (tmp / "aft").mkdir()
            captions: dict[int, list[str]] = {}
            for record in store.records(pair_ids=set(ids)):
                n = ids[record.pair_id]
                write_png(tmp / "bef" / f"{n}.png", record.image_before, record.pair_id)
                write_png(tmp / "aft" / f"{n}.png", record.image_after, record.pair_id)
                captions[n] = list(record.captions)
            write_json(tmp / "captions.json", {str(n): captions[n] for n in sorted(captions)})
            write_json(tmp / "split.json", {s: sorted(n for pid, n in ids.items() if split_of[pid] == s) for s in SPLITS})
            (tmp / "README.md").write_text(_export_readme(store, ids, labels, dict(skipped)), encoding="utf-8")
        return ExportSummary(Path(out), len(ids), dict(skipped))


def _export_readme(store: Store, ids: dict[str, int], labels: list[str], skipped: dict[str, int]) -> str:
    counts = Counter(n // IDS_PER_ACTION for n in ids.values())
    blocks = "".join(f"| {b * IDS_PER_ACTION}-{(b + 1) * IDS_PER_ACTION - 1} | {a} | {counts.get(b, 0)} |\n"
                     for b, a in enumerate(labels))
    left_out = "".join(f"- {n} {reason}\n" for reason, n in skipped.items()) or "- nothing\n"
    return (
        f"# CLEVR-DC layout, exported from the store {store.manifest.get('name', store.root.name)!r}\n\n"
        f"{len(ids)} pairs in the layout of hsgkim/clevr-dc (Kim et al., ICCV 2021): `bef/<id>.png`, `aft/<id>.png`, "
        "`captions.json` (unpadded id -> captions) and `split.json` (integer ids per split). As in the release, "
        f"the id says the action: each action has a block of {IDS_PER_ACTION:,} ids, and this export numbers an "
        "action's pairs from the start of its block (so a small export leaves gaps).\n\n"
        "| ids | action | pairs here |\n|---|---|---:|\n" + blocks + "\nLeft out:\n" + left_out
    )
