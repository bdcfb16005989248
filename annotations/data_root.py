"""The data root: where the commands put and find stores when no ``--out``/``--data`` is given.

``--data-root`` (default ``$OMNIDIFF_DATA``, else ``data/``)::

    data/omnidiff-render/        omnidiff render                 (data/<preset>-render/ for the other presets)
    data/real/                   omnidiff ingest pairs/video/timelapse
    data/benchmarks/<name>/      omnidiff benchmarks prepare <name>

so that ``omnidiff render --scenes 324`` and ``omnidiff eval --model NAME`` work as typed, in any folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from annotations.benchmark_names import benchmark_label
from annotations.layout import MANIFEST

ENV_VAR = "OMNIDIFF_DATA"
DEFAULT_ROOT = "data"
REAL_FOLDER = "real"
BENCHMARKS_FOLDER = "benchmarks"


def data_root(option: Path | str | None = None) -> Path:
    """``--data-root`` when given, else ``$OMNIDIFF_DATA``, else ``data/`` (relative to the working folder)."""
    if option is not None and str(option).strip():
        return Path(option)
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env) if env else Path(DEFAULT_ROOT)


def render_store(root: Path, preset: str) -> Path:
    """``data/omnidiff-render`` for the omnidiff preset, ``data/clevr-change-render`` for clevr-change..."""
    return Path(root) / f"{benchmark_label(preset)}-render"


def real_store(root: Path) -> Path:
    return Path(root) / REAL_FOLDER


def benchmark_store(root: Path, benchmark: str) -> Path:
    return Path(root) / BENCHMARKS_FOLDER / benchmark_label(benchmark)


def is_store(path: Path) -> bool:
    return (Path(path) / MANIFEST).is_file()
