"""Benchmark names: the one normaliser every layer uses (store rows, the registry, prompts, presets, the CLI).

A benchmark has a *key* (``clevr_change``: the value of a store's ``benchmark`` column, the results
folder name, the registry's name) and a *label* (``clevr-change``: the form the command line shows).
Users may type either, in any case, with surrounding spaces; :func:`benchmark_key` turns both into the
key and refuses what can never be one (a path, an empty string), so the layers cannot disagree.
"""

from __future__ import annotations

import re

from annotations.errors import OmniDiffError

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class BenchmarkNameError(OmniDiffError):
    """Text that cannot be a benchmark name."""


def benchmark_key(name: object) -> str:
    """``'CLEVR-Change'``, ``' clevr_change '`` -> ``'clevr_change'``; anything else that is no name is an error."""
    if not isinstance(name, str):
        raise BenchmarkNameError(f"benchmark name {name!r} is not text")
    key = name.strip().lower().replace("-", "_")
    if not _KEY.match(key):
        raise BenchmarkNameError(f"{name!r} is not a benchmark name (letters, digits, '-' or '_', starting with a letter)")
    return key


def benchmark_label(name: str) -> str:
    """The command-line form of a benchmark name: ``clevr_change`` -> ``clevr-change``."""
    return benchmark_key(name).replace("_", "-")


def is_benchmark_key(value: object) -> bool:
    """True when ``value`` is already in key form (what a store row must hold)."""
    return isinstance(value, str) and bool(_KEY.match(value))
