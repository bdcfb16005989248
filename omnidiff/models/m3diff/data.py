"""Training samples for M3Diff from one or more stores: one sample per (pair, reference caption).

Captions come through ``Store.records`` (so human annotations in the store's log apply); images are read
lazily a Parquet row group at a time, so a large store is never held in memory. Sample order is the
sorted (store, pair id, caption index), independent of shard layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
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


@dataclass(frozen=True)
class RowLocation:
    shard: Path
    row_group: int
    offset: int


class PairSamples:
    """The samples of ``split`` across ``stores``, and their images on demand."""

    def __init__(self, roots: list[Path], split: str = "train") -> None:
        if not roots:
            raise M3DiffError("train m3diff: give at least one --data STORE")
        self.roots = [Path(r) for r in roots]
        self.split = split
        stores = [Store.open(root) for root in self.roots]
        samples: list[Sample] = []
        self.locations: list[dict[str, RowLocation]] = []
        for index, store in enumerate(stores):
            captions, benchmarks = {}, {}
            for rec in store.records(split=split, columns=["pair_id", "captions", "benchmark"]):
                captions[rec.pair_id] = [c.strip() for c in rec.captions if c and c.strip()]
                benchmarks[rec.pair_id] = rec.benchmark
            for pair_id in sorted(captions):
                samples.extend(Sample(index, pair_id, caption, benchmarks[pair_id]) for caption in captions[pair_id])
            self.locations.append(self._index_rows(store, split))
        if not samples:
            raise M3DiffError(f"train m3diff: no captioned {split} pairs in {', '.join(map(str, self.roots))}")
        self.samples = samples

    @staticmethod
    def _index_rows(store: Store, split: str) -> dict[str, RowLocation]:
        where: dict[str, RowLocation] = {}
        for shard in store.shards:
            if shard.split != split:
                continue
            path = store.root / shard.file
            parquet = pq.ParquetFile(path)
            for group in range(parquet.num_row_groups):
                ids = parquet.read_row_group(group, columns=["pair_id"]).column("pair_id").to_pylist()
                for offset, pair_id in enumerate(ids):
                    where[pair_id] = RowLocation(path, group, offset)
        return where

    def __len__(self) -> int:
        return len(self.samples)

    def images(self, sample: Sample) -> tuple[Image.Image, Image.Image]:
        location = self.locations[sample.store_index][sample.pair_id]
        group = pq.ParquetFile(location.shard).read_row_group(location.row_group, columns=["image_before", "image_after"])
        row = group.slice(location.offset, 1).to_pylist()[0]
        try:
            return (decode_image(row["image_before"]["bytes"]).convert("RGB"),
                    decode_image(row["image_after"]["bytes"]).convert("RGB"))
        except Exception as exc:  # PIL raises several types on corrupt bytes
            raise M3DiffError(f"train m3diff: pair {sample.pair_id}: cannot decode its images ({exc})") from None

    def fingerprint(self) -> list[str]:
        """What identifies the training data for the resume check."""
        return [str(root.resolve()) for root in self.roots] + [f"{self.split}:{len(self.samples)}"]
