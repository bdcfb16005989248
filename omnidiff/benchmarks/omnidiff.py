"""OmniDiff (Liu et al., ICCV 2025): the benchmark this toolkit builds; its native form is a store.

``prepare`` copies the chosen splits of a store made by ``omnidiff render``/``ingest`` into a new
store (records as they are, human annotations applied). Protocol: Real and Render separately,
total, and per change type (the 12 core types and any extension type present). The paper publishes
OmniDiff-Real and OmniDiff-Render as separate tables (the leaderboard's own tables for them); the
headline ``total`` scores both together. Under a data root the benchmark is a prepared
``benchmarks/omnidiff`` store, or else the rendered and the ingested stores together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

from annotations import TAXONOMY, PairRecord, Store
from annotations.data_root import is_store, real_store, render_store
from annotations.errors import StoreError
from omnidiff.benchmarks.base import BATCH_PAIRS, Benchmark, BenchmarkError, ProgressFn, change_type_subsets, check_splits
from omnidiff.benchmarks.staging import check_new_folder


class OmniDiff(Benchmark):
    name = "omnidiff"
    title = "OmniDiff (fine-grained IDC, Real and Render)"
    short_title = "OmniDiff"
    citation = ("Liu et al. OmniDiff: A Comprehensive Benchmark for Fine-grained Image Difference Captioning. "
                "ICCV 2025 (arXiv 2503.11093).")
    url = "https://arxiv.org/abs/2503.11093"
    split_sizes: dict[str, int] = {}  # whatever the store built by this toolkit holds
    sizes_note = "the published set has 15,598 pairs (224 real and 100 synthetic scenarios)"
    protocol = "domain/real, domain/render, total, per change type"
    headline_note = "Real and Render together; the paper reports OmniDiff-Real and OmniDiff-Render apart"
    table_views = {"domain/real": "OmniDiff-Real", "domain/render": "OmniDiff-Render"}
    source_hint = "a store made by omnidiff render or omnidiff ingest"
    prompt = (
        "The first image shows a scene before a change and the second the same scene after it. "
        "Describe in detail, in about 60 words, every difference between them: objects that appeared, "
        "disappeared, were removed, replaced, moved, turned, resized or recoloured, changes of pose, "
        "written text, the number of objects, the lighting and the camera viewpoint. Say where in the "
        "scene each change is."
    )

    def stores_under(self, data_root: Path) -> list[Path]:
        """A prepared ``benchmarks/omnidiff`` store, else the rendered and the ingested stores together."""
        prepared = super().stores_under(data_root)
        if prepared:
            return prepared
        return [p for p in (render_store(data_root, self.name), real_store(data_root)) if is_store(p)]

    def prepare_hint(self, root_option: str = "") -> str:
        return f"omnidiff render --scenes N{root_option} or omnidiff ingest pairs SRC{root_option}"

    def prepare(self, source: Path, out: Path, *, splits: Sequence[str] | None = None,
                progress: ProgressFn | None = None) -> Store:
        source, out = Path(source), Path(out)
        check_new_folder(out)
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
