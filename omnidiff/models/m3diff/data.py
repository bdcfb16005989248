"""Training samples for M3Diff from one or more stores: one sample per (pair, reference caption).

Captions come through ``Store.records`` (so human annotations in the store's log apply); images come
through ``Store.images``, which reads only the pair's row group, so a large store is never held in
memory. Sample order is the sorted (store, pair id, caption index), independent of shard layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from annotations import Store
from annotations.schema import decode_image
from omnidiff.models.m3diff.errors import M3DiffError


@dataclass(frozen=True)
class Sample:
    store_index: int
    pair_id: str
    caption: str
    benchmark: str  # whose prompt (omnidiff.harness.prompts.prompt_for) the sample is trained with


class PairSamples:
    """The samples of ``split`` across ``stores``, and their images on demand."""

    def __init__(self, roots: list[Path], split: str = "train") -> None:
        if not roots:
            raise M3DiffError("train m3diff: give at least one --data STORE")
        self.roots = [Path(r) for r in roots]
        self.split = split
        self.stores = [Store.open(root) for root in self.roots]
        samples: list[Sample] = []
        for index, store in enumerate(self.stores):
            captions, benchmarks = {}, {}
            for rec in store.records(split=split, columns=["pair_id", "captions", "benchmark"]):
                captions[rec.pair_id] = [c.strip() for c in rec.captions if c and c.strip()]
                benchmarks[rec.pair_id] = rec.benchmark
            for pair_id in sorted(captions):
                samples.extend(Sample(index, pair_id, caption, benchmarks[pair_id]) for caption in captions[pair_id])
        if not samples:
            raise M3DiffError(f"train m3diff: no captioned {split} pairs in {', '.join(map(str, self.roots))}")
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def images(self, sample: Sample) -> tuple[Image.Image, Image.Image]:
        row = self.stores[sample.store_index].images([sample.pair_id])[sample.pair_id]
        try:
            return (decode_image(row["image_before"]).convert("RGB"), decode_image(row["image_after"]).convert("RGB"))
        except Exception as exc:  # PIL raises several types on corrupt bytes
            raise M3DiffError(f"train m3diff: pair {sample.pair_id}: cannot decode its images ({exc})") from None

    def fingerprint(self) -> list[str]:
        """What identifies the training data for the resume check."""
        return [str(root.resolve()) for root in self.roots] + [f"{self.split}:{len(self.samples)}"]
