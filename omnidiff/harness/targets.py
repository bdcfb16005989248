"""Which benchmarks ``omnidiff eval`` runs, on which stores: one named store (``--data``), or every benchmark
of the registry whose store is found under the data root.

Under a data root each benchmark says where its stores are (``Benchmark.stores_under``): a prepared
``benchmarks/<name>/`` store, and for OmniDiff the rendered and the ingested stores together, which are
then scored as one benchmark (its Real and Render subsets apart, as its protocol says). A benchmark with no
store there gets one line saying how to make it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotations import SPLITS
from annotations.benchmark_names import benchmark_key
from annotations.errors import OmniDiffError

DEFAULT_SPLIT = "test"


@dataclass
class EvalTarget:
    """One benchmark to evaluate: its pairs of one split, from one or more stores (metadata records only)."""

    bench: Any  # omnidiff.benchmarks.Benchmark
    split: str
    parts: list[tuple[Any, list[Any]]] = field(default_factory=list)  # (Store, records) in store order
    note: str | None = None

    @property
    def records(self) -> list[Any]:
        return [r for _, records in self.parts for r in records]

    @property
    def stores(self) -> list[Any]:
        return [store for store, _ in self.parts]


def store_pairs(store, split: str) -> dict[str, list]:
    """Metadata records of a split (no images), grouped by benchmark, in store order."""
    from annotations import METADATA_COLUMNS

    grouped: dict[str, list] = {}
    for rec in store.records(split=split, columns=list(METADATA_COLUMNS)):
        grouped.setdefault(rec.benchmark, []).append(rec)
    return grouped


def targets_in_store(data: Path, split: str | None, names: tuple[str, ...]) -> list[EvalTarget]:
    """``--data STORE``: the named benchmarks (default: every benchmark the store holds in the split)."""
    from annotations import Store
    from omnidiff.benchmarks import get_benchmark

    split = split or DEFAULT_SPLIT
    store = Store.open(data)
    by_benchmark = store_pairs(store, split)
    keys = [benchmark_key(b) for b in names] or sorted(by_benchmark)
    if not keys:
        raise OmniDiffError(f"{data}: no pairs in split {split!r}")
    benches = {key: get_benchmark(key) for key in keys}  # unknown names fail before any work
    _refuse_training_only([b for b in benches.values() if b.training_only and names])
    keys = [k for k in keys if not benches[k].training_only]
    if not keys:
        raise OmniDiffError(f"{data}: only training-source pairs; nothing to evaluate")
    for key in keys:
        if not by_benchmark.get(benches[key].name):
            held = ", ".join(sorted(by_benchmark)) or "none"
            raise OmniDiffError(f"{data}: no {benches[key].name} pairs in split {split!r} (benchmarks there: {held})")
    return [EvalTarget(benches[k], split, [(store, by_benchmark[benches[k].name])]) for k in keys]


def targets_under_root(root: Path, split: str | None, names: tuple[str, ...],
                       root_option: str = "") -> tuple[list[EvalTarget], list[str]]:
    """Every registered benchmark (or the named ones) whose store is under ``root``, and one line per missing one.

    Without an explicit ``split`` a benchmark is evaluated on its test split; a store that holds no test
    pairs (a one-scene render may put its scene in train) is evaluated on the split it has, and says so.
    """
    from annotations import Store
    from omnidiff.benchmarks import get_benchmark, list_benchmarks

    if names:
        benches = [get_benchmark(n) for n in dict.fromkeys(benchmark_key(n) for n in names)]
        _refuse_training_only([b for b in benches if b.training_only])
    else:
        benches = [b for b in list_benchmarks() if not b.training_only]
    targets, missing = [], []
    for bench in benches:
        paths = bench.stores_under(root)
        if not paths:
            missing.append(f"{bench.label}: no store under {root}; make it with: {bench.prepare_hint(root_option)}")
            continue
        stores = [Store.open(p) for p in paths]
        chosen, note = _split_for(bench, stores, split)
        if chosen is None:
            held = ", ".join(str(p) for p in paths)
            missing.append(f"{bench.label}: {held} holds no {bench.name} pairs" + (f" in split {split!r}" if split else ""))
            continue
        parts = [(s, store_pairs(s, chosen).get(bench.name, [])) for s in stores]
        target = EvalTarget(bench, chosen, [(s, recs) for s, recs in parts if recs], note)
        _check_unique_ids(target)
        targets.append(target)
    return targets, missing


def _split_for(bench, stores, split: str | None) -> tuple[str | None, str | None]:
    counts = {s: 0 for s in SPLITS}
    for store in stores:
        for name, records in store_pairs_by_split(store, bench.name).items():
            counts[name] += records
    if split is not None:
        return (split, None) if counts.get(split) else (None, None)
    if counts[DEFAULT_SPLIT]:
        return DEFAULT_SPLIT, None
    for name in ("val", "train"):
        if counts[name]:
            where = ", ".join(str(s.root) for s in stores)
            return name, (f"{bench.label}: {where} holds no {DEFAULT_SPLIT} pairs; evaluating its {name} split "
                          f"({counts[name]} pairs; pass --split to choose)")
    return None, None


def store_pairs_by_split(store, benchmark: str) -> dict[str, int]:
    """Pairs of ``benchmark`` per split, from the metadata column only."""
    table = store.table(["benchmark", "split"])
    counts: dict[str, int] = {}
    for bench, split in zip(table["benchmark"].to_pylist(), table["split"].to_pylist()):
        if bench == benchmark:
            counts[split] = counts.get(split, 0) + 1
    return counts


def _check_unique_ids(target: EvalTarget) -> None:
    seen: dict[str, Any] = {}
    for store, records in target.parts:
        for rec in records:
            if rec.pair_id in seen and seen[rec.pair_id] is not store:
                raise OmniDiffError(f"pair id {rec.pair_id!r} is in both {seen[rec.pair_id].root} and {store.root}; "
                                    f"{target.bench.label} cannot be scored from both")
            seen[rec.pair_id] = store


def _refuse_training_only(benches: list) -> None:
    if benches:
        raise OmniDiffError(f"{', '.join(b.name for b in benches)}: a training source only (no evaluation protocol); "
                            "train on it with `omnidiff train m3diff --data STORE`")
