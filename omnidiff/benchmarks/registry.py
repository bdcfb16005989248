"""The benchmark registry: one line per benchmark, each naming the module that declares it whole.

A benchmark module holds everything about its benchmark: title, citation, native layout (``prepare``
and, where the benchmark has one, ``export``), references, protocol subsets, the published headline
subset and the prompt. Adding a benchmark is one new module plus one line: a line in ``BUNDLED`` below,
or, from another package, an entry point of the group ``omnidiff.benchmarks`` whose name is the
benchmark's key and whose value is the class path (``toy = "my_pkg.toy:ToyBenchmark"``).
"""

from __future__ import annotations

import importlib
from importlib import metadata

from annotations.benchmark_names import benchmark_key, benchmark_label
from annotations.errors import OmniDiffError
from omnidiff.benchmarks.base import Benchmark, BenchmarkError

ENTRY_POINT_GROUP = "omnidiff.benchmarks"

# One line per bundled benchmark, in the order they are listed and evaluated.
BUNDLED: tuple[str, ...] = (
    "omnidiff.benchmarks.omnidiff:OmniDiff",
    "omnidiff.benchmarks.clevr_change:ClevrChange",
    "omnidiff.benchmarks.clevr_dc:ClevrDC",
    "omnidiff.benchmarks.spot_the_diff:SpotTheDiff",
    "omnidiff.benchmarks.iedit:IEdit",
    "omnidiff.benchmarks.birds_to_words:BirdsToWords",
)


def _load(target: str, declared_name: str | None = None) -> type[Benchmark]:
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise BenchmarkError(f"benchmark {declared_name or target!r}: cannot import {target} ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, Benchmark)):
        raise BenchmarkError(f"benchmark {declared_name or target!r}: {target} is not a Benchmark subclass")
    name = getattr(cls, "name", None)
    try:
        key = benchmark_key(name)
    except OmniDiffError:
        raise BenchmarkError(f"benchmark {target}: its name {name!r} is not a benchmark name") from None
    if key != name or (declared_name is not None and benchmark_key(declared_name) != key):
        raise BenchmarkError(f"benchmark {target}: its name {name!r} must be the key {declared_name or key!r}")
    return cls


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def benchmark_classes() -> dict[str, type[Benchmark]]:
    """Every registered benchmark by key: the bundled ones first, then entry points (which cannot shadow them)."""
    classes: dict[str, type[Benchmark]] = {}
    for target in BUNDLED:
        cls = _load(target)
        classes[cls.name] = cls
    for ep in _entry_points():
        if benchmark_key(ep.name) not in classes:
            cls = _load(ep.value, ep.name)
            classes[cls.name] = cls
    return classes


def get_benchmark(name: str) -> Benchmark:
    """The benchmark called ``name`` (``clevr-change``, ``CLEVR_Change`` and ``clevr_change`` all work)."""
    classes = benchmark_classes()
    try:
        key = benchmark_key(name)
    except OmniDiffError:
        key = None
    if key not in classes:
        known = ", ".join(benchmark_label(n) for n in classes)
        raise BenchmarkError(f"unknown benchmark {name!r}: expected one of {known}")
    return classes[key]()


def list_benchmarks() -> list[Benchmark]:
    return [cls() for cls in benchmark_classes().values()]
