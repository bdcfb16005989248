"""``omnidiff export STORE --format F --out DIR``: a store in another project's layout.

The native layouts are each benchmark's own (``export`` beside ``prepare`` in its module, so the two
cannot drift apart); the format name is the benchmark's ``export_format``.
"""

from __future__ import annotations

from pathlib import Path

from annotations import Store
from omnidiff.benchmarks.base import Benchmark, BenchmarkError, ExportSummary
from omnidiff.benchmarks.registry import list_benchmarks


def _normal(fmt: str) -> str:
    return fmt.strip().lower().replace("_", "-")


def native_exporters() -> dict[str, Benchmark]:
    return {b.export_format: b for b in list_benchmarks() if b.export_format}


def export_formats() -> list[str]:
    return list(native_exporters())


def export_store(store_path: Path, fmt: str, out: Path) -> ExportSummary:
    exporters = native_exporters()
    key = _normal(fmt) if isinstance(fmt, str) else ""
    if key not in exporters:
        raise BenchmarkError(f"unknown export format {fmt!r}; available: {', '.join(export_formats())}")
    store = Store.open(store_path)
    return exporters[key].export(store, Path(out))
