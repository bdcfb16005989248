"""The benchmarks: one module each (native layout, protocol, prompt), one registry line each (``registry.py``)."""

from __future__ import annotations

from omnidiff.benchmarks.base import Benchmark, BenchmarkError, ExportSummary, PlannedPair
from omnidiff.benchmarks.registry import benchmark_classes, get_benchmark, list_benchmarks

__all__ = ["Benchmark", "BenchmarkError", "ExportSummary", "PlannedPair", "benchmark_classes", "get_benchmark",
           "list_benchmarks", "store_benchmark", "store_protocol"]


def store_benchmark(store) -> str | None:
    """The benchmark a store holds: the one ``prepare`` recorded, else the only one its rows name."""
    name = store.info.get("benchmark")
    if name:
        return name
    held = set(store.table(["benchmark"])["benchmark"].to_pylist())
    return held.pop() if len(held) == 1 else None


def store_protocol(
    store_path, benchmark: str | None = None, split: str | None = None
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(references, protocol subsets) of a prepared store, for ``omnidiff score --benchmark``.

    The benchmark defaults to the one recorded in the store's manifest by ``prepare``.
    """
    from annotations import Store

    store = Store.open(store_path)
    name = benchmark or store_benchmark(store)
    if not name:
        raise BenchmarkError(f"{store_path}: the store does not say which benchmark it holds; pass --benchmark")
    bench = get_benchmark(name)
    columns = ["pair_id", "captions", "change_types", "distractor", "domain", "split", "native_change_type"]
    records = list(store.records(split=split, columns=columns))
    if not records:
        raise BenchmarkError(f"{store_path}: no pairs" + (f" in split {split!r}" if split else ""))
    return {r.pair_id: bench.references(r) for r in records}, bench.subsets(records)
