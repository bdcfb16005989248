"""Benchmark loaders and their scoring protocols, one module each."""

from __future__ import annotations

from omnidiff.benchmarks.base import Benchmark, BenchmarkError, PlannedPair
from omnidiff.benchmarks.birds_to_words import BirdsToWords
from omnidiff.benchmarks.clevr_change import ClevrChange
from omnidiff.benchmarks.clevr_dc import ClevrDC
from omnidiff.benchmarks.iedit import IEdit
from omnidiff.benchmarks.omnidiff import OmniDiff
from omnidiff.benchmarks.spot_the_diff import SpotTheDiff

_REGISTRY: dict[str, type[Benchmark]] = {
    cls.name: cls for cls in (OmniDiff, ClevrChange, ClevrDC, SpotTheDiff, IEdit, BirdsToWords)
}


def canonical_name(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def get_benchmark(name: str) -> Benchmark:
    """The benchmark called ``name`` (``clevr-change`` and ``clevr_change`` both work)."""
    cls = _REGISTRY.get(canonical_name(name)) if isinstance(name, str) else None
    if cls is None:
        known = ", ".join(n.replace("_", "-") for n in _REGISTRY)
        raise BenchmarkError(f"unknown benchmark {name!r}: expected one of {known}")
    return cls()


def list_benchmarks() -> list[Benchmark]:
    return [cls() for cls in _REGISTRY.values()]


__all__ = ["Benchmark", "BenchmarkError", "PlannedPair", "canonical_name", "get_benchmark", "list_benchmarks"]


def store_protocol(
    store_path, benchmark: str | None = None, split: str | None = None
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(references, protocol subsets) of a prepared store, for ``omnidiff score --benchmark``.

    The benchmark defaults to the one recorded in the store's manifest by ``prepare``.
    """
    from annotations import Store

    store = Store.open(store_path)
    name = benchmark or store.info.get("benchmark")
    if not name:
        raise BenchmarkError(f"{store_path}: the store does not say which benchmark it holds; pass --benchmark")
    bench = get_benchmark(name)
    columns = ["pair_id", "captions", "change_types", "distractor", "domain", "split", "native_change_type"]
    records = list(store.records(split=split, columns=columns))
    if not records:
        raise BenchmarkError(f"{store_path}: no pairs" + (f" in split {split!r}" if split else ""))
    return {r.pair_id: bench.references(r) for r in records}, bench.subsets(records)
