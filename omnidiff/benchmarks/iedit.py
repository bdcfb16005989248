"""IEdit (Tan et al., ACL 2019, "Expressing Visual Relationships via Language"): photo-edit requests.

Native layout: ``{train,valid,test}.json`` (lists of ``{"img0", "img1", "sents", "uid"}``) beside
the images, which are found under ``images/`` or the source folder itself by the names in the JSON.
Protocol: every sentence is a reference (1 in train, 3 in valid and test). Pair id: ``uid``.
Headline: total.
"""

from __future__ import annotations

from pathlib import Path

from omnidiff.benchmarks.base import Benchmark, BenchmarkError, PlannedPair, read_json, safe_path

NATIVE_SPLITS = {"train": "train", "val": "valid", "test": "test"}
IMAGE_DIRS = ("images", ".")


def _annotation_file(source: Path, split: str) -> Path:
    for folder in (source, source / "dataset" / "adobe", source / "annotations"):
        path = folder / f"{NATIVE_SPLITS[split]}.json"
        if path.is_file():
            return path
    raise BenchmarkError(f"{source}: {NATIVE_SPLITS[split]}.json not found")


def _locate(source: Path, name: str, where: str) -> Path:
    candidates = [safe_path(source / d, name, where) for d in IMAGE_DIRS]
    return next((c for c in candidates if c.is_file()), candidates[0])


class IEdit(Benchmark):
    name = "iedit"
    title = "IEdit (image editing requests)"
    short_title = "IEdit"
    citation = ("Tan, Dernoncourt, Lin, Bui and Bansal. Expressing Visual Relationships via Language. "
                "ACL 2019.")
    url = "https://github.com/airsplay/VisualRelationships"
    split_sizes = {"train": 3061, "val": 383, "test": 495}
    protocol = "every sentence a reference (1 in train, 3 in valid/test); subsets: total"
    headline_note = "all test pairs, three references each"
    source_hint = "dataset/adobe/ of airsplay/VisualRelationships with the images in images/"
    prompt = ("The second image is an edited version of the first. "
              "In one short sentence, describe the edit that was made.")

    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        planned: list[PlannedPair] = []
        seen: set[str] = set()
        for split in splits:
            path = _annotation_file(source, split)
            entries = read_json(path, "annotation file")
            if not isinstance(entries, list):
                raise BenchmarkError(f"{path}: expected a list of {{img0, img1, sents, uid}}")
            for i, entry in enumerate(entries):
                where = f"{path}: entry {i}"
                if not isinstance(entry, dict) or not {"img0", "img1", "sents", "uid"} <= entry.keys():
                    raise BenchmarkError(f"{where}: needs img0, img1, sents and uid")
                uid, sents = entry["uid"], entry["sents"]
                if not isinstance(uid, str) or not uid:
                    raise BenchmarkError(f"{where}: uid must be a non-empty string")
                if uid in seen:
                    raise BenchmarkError(f"{where}: uid {uid!r} appears twice")
                seen.add(uid)
                if not isinstance(sents, list) or not sents or not all(isinstance(s, str) for s in sents):
                    raise BenchmarkError(f"{where}: sents must be a non-empty list of strings")
                planned.append(PlannedPair(
                    pair_id=uid, scene_id=uid, split=split,
                    before=_locate(source, entry["img0"], where), after=_locate(source, entry["img1"], where),
                    captions=list(sents), domain="real", setting="photo edit",
                    provenance={"importer": self.name, "native_split": NATIVE_SPLITS[split],
                                "annotation_file": path.name, "img0": entry["img0"], "img1": entry["img1"]},
                    license="research use; see the VisualRelationships repository (images from Reddit/Photoshop requests)",
                    source=self.url,
                ))
        return planned
