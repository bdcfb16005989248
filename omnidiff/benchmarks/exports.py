"""``omnidiff export STORE --format F --out DIR``: a store in another project's layout.

The native layouts are each benchmark's own (``export`` beside ``prepare`` in its module, so the two
cannot drift apart); the format name is the benchmark's ``export_format``. ``lmms-eval`` writes a task
folder for lmms-eval (:mod:`omnidiff.benchmarks.lmms_eval`).
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
    from omnidiff.benchmarks.lmms_eval import FORMAT

    return [*native_exporters(), FORMAT]


def export_store(store_path: Path, fmt: str, out: Path, benchmark: str | None = None) -> ExportSummary:
    """``benchmark`` picks the benchmark of a store that holds several (lmms-eval); native layouts are their own."""
    from omnidiff.benchmarks.lmms_eval import FORMAT, export_task_folder

    exporters = native_exporters()
    key = _normal(fmt) if isinstance(fmt, str) else ""
    if key == FORMAT:
        return export_task_folder(Path(store_path), Path(out), benchmark)
    if key not in exporters:
        raise BenchmarkError(f"unknown export format {fmt!r}; available: {', '.join(export_formats())}")
    store = Store.open(store_path)
    return exporters[key].export(store, Path(out))
