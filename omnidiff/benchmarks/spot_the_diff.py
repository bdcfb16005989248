"""Spot-the-Diff (Jhamtani and Berg-Kirkpatrick, EMNLP 2018): street-scene pairs from VIRAT videos.

Native layout: ``annotations/{train,val,test}.json`` (lists of ``{"img_id", "sentences"}``, one
entry per annotator, so an ``img_id`` can repeat) and the images ``resized_images/<id>.png``
(before) and ``<id>_2.png`` (after). Protocol: the entries of one ``img_id`` are merged and every
sentence, empty ones included, is a separate reference, exactly as the authors' ``gtfile.json``.
Pair ids are the native ``img_id`` so that the authors' prediction files score against a store;
CLIP4IDC and FINER-MLLM name pairs ``<img_id>.png``, which resolves to the same pair. Headline: total.
"""

from __future__ import annotations

from pathlib import Path

from omnidiff.benchmarks.base import Benchmark, BenchmarkError, PlannedPair, read_json, safe_path

NATIVE_SPLITS = {"train": "train", "val": "val", "test": "test"}
IMAGE_DIRS = ("resized_images", "images", ".")


def _image_dir(source: Path) -> Path:
    for name in IMAGE_DIRS:
        folder = source / name
        if folder.is_dir() and any(folder.glob("*.png")):
            return folder
    raise BenchmarkError(f"{source}: no images found (expected {' or '.join(IMAGE_DIRS)} with <id>.png, <id>_2.png)")


def _annotation_file(source: Path, split: str) -> Path:
    for folder in (source / "annotations", source / "data" / "annotations", source):
        path = folder / f"{NATIVE_SPLITS[split]}.json"
        if path.is_file():
            return path
    raise BenchmarkError(f"{source}: annotations/{NATIVE_SPLITS[split]}.json not found")


def merge_entries(entries: object, where: str) -> dict[str, list[str]]:
    """img_id -> all sentences of its entries, in file order."""
    if not isinstance(entries, list):
        raise BenchmarkError(f"{where}: expected a list of {{img_id, sentences}}")
    merged: dict[str, list[str]] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "img_id" not in entry or "sentences" not in entry:
            raise BenchmarkError(f"{where}: entry {i} lacks img_id or sentences")
        img_id, sentences = entry["img_id"], entry["sentences"]
        if isinstance(img_id, bool) or not isinstance(img_id, (str, int)):
            raise BenchmarkError(f"{where}: entry {i} has an img_id that is not a string")
        if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
            raise BenchmarkError(f"{where}: entry {i} has sentences that are not a list of strings")
        merged.setdefault(str(img_id), []).extend(sentences)
    return merged


class SpotTheDiff(Benchmark):
    name = "spot_the_diff"
    title = "Spot-the-Diff"
    short_title = "Spot-the-Diff"
    citation = ("Jhamtani and Berg-Kirkpatrick. Learning to Describe Differences Between Pairs of Similar "
                "Images. EMNLP 2018.")
    url = "https://github.com/harsh19/spot-the-diff"
    split_sizes = {"train": 8566, "val": 1493, "test": 1270}
    protocol = "entries of an img_id merged; every sentence a reference; subsets: total"
    headline_note = "all test pairs, every annotator's sentence a reference (the authors' gtfile.json)"
    source_hint = "a checkout of harsh19/spot-the-diff with resized_images/ downloaded"
    prompt = ("These are two frames of the same street scene taken at different times. "
              "In one short sentence, describe a difference between them.")

    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        images = _image_dir(source)
        planned: list[PlannedPair] = []
        seen: dict[str, str] = {}
        for split in splits:
            path = _annotation_file(source, split)
            merged = merge_entries(read_json(path, "annotation file"), str(path))
            for img_id, sentences in merged.items():
                if img_id in seen:
                    raise BenchmarkError(f"{path}: img_id {img_id!r} is also in the {seen[img_id]} split")
                seen[img_id] = split
                where = f"{path}: img_id {img_id!r}"
                planned.append(PlannedPair(
                    pair_id=img_id, scene_id=img_id, split=split,
                    before=safe_path(images, f"{img_id}.png", where),
                    after=safe_path(images, f"{img_id}_2.png", where),
                    captions=sentences, domain="real", setting="street",
                    provenance={"importer": self.name, "native_split": NATIVE_SPLITS[split],
                                "annotation_file": path.name, "img_id": img_id},
                    license="research use; see the Spot-the-Diff repository and the VIRAT dataset terms",
                    source=self.url,
                ))
        return planned
