"""OmniDiff (Liu et al., ICCV 2025): the benchmark this toolkit builds; its native form is a store.

``prepare`` copies the chosen splits of a store made by ``omnidiff render``/``ingest`` into a new
store (records as they are, human annotations applied). Protocol: Real and Render separately,
total, and per change type (the 12 core types and any extension type present).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

from annotations import TAXONOMY, PairRecord, Store
from annotations.errors import StoreError
from omnidiff.benchmarks.base import BATCH_PAIRS, Benchmark, BenchmarkError, ProgressFn, change_type_subsets, check_splits


class OmniDiff(Benchmark):
    name = "omnidiff"
    title = "OmniDiff (fine-grained IDC, Real and Render)"
    citation = ("Liu et al. OmniDiff: A Comprehensive Benchmark for Fine-grained Image Difference Captioning. "
                "ICCV 2025 (arXiv 2503.11093).")
    url = "https://arxiv.org/abs/2503.11093"
    split_sizes: dict[str, int] = {}  # whatever the store built by this toolkit holds
    sizes_note = "the published set has 15,598 pairs (224 real and 100 synthetic scenarios)"
    protocol = "domain/real, domain/render, total, per change type"

    def prepare(self, source: Path, out: Path, *, splits: Sequence[str] | None = None,
                progress: ProgressFn | None = None) -> Store:
        source, out = Path(source), Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise BenchmarkError(f"{out}: already exists and is not an empty folder; choose a new --out")
        try:
            store = Store.open(source)
        except StoreError as exc:
            raise BenchmarkError(f"OmniDiff source must be a store made by this toolkit: {exc}") from None
        chosen = check_splits(splits)
        total = sum(len(store.pair_ids(split=s)) for s in chosen)
        if total == 0:
            raise BenchmarkError(f"{source}: no pairs in split(s) {', '.join(chosen)}")

        def batches() -> Iterator[list[PairRecord]]:
            batch: list[PairRecord] = []
            for split in chosen:
                for record in store.records(split=split):
                    batch.append(record)
                    if len(batch) == BATCH_PAIRS:
                        yield batch
                        batch = []
            if batch:
                yield batch

        return self._write_store(out, source, chosen, batches(), total, progress)

    def subsets(self, records: list[PairRecord]) -> dict[str, list[str]]:
        present = {ct for r in records for ct in r.change_types}
        keys = [k for k in TAXONOMY.keys if k in present]
        out = {
            "total": [r.pair_id for r in records],
            "domain/real": [r.pair_id for r in records if r.domain == "real"],
            "domain/render": [r.pair_id for r in records if r.domain == "render"],
        }
        out.update(change_type_subsets(records, keys))
        return out
