"""Prediction files made by other groups' code name pairs their own way; map their ids onto a store's.

Spot-the-Diff's authors use the bare ``img_id``, CLIP4IDC and FINER-MLLM ``<img_id>.png``; on CLEVR-DC DIRL
writes ``%06d.png`` and MEDIC ``%d.png``. Each benchmark says which store ids a foreign id may stand for
(``Benchmark.id_candidates``); an id that is a store id is kept. An id that fits two pairs, or none, or two
ids that fit the same pair, are errors: a guess would score the wrong caption against a pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from omnidiff.benchmarks.base import Benchmark, BenchmarkError


@dataclass
class ResolvedPredictions:
    predictions: dict[str, str]  # store pair id -> caption
    note: str | None  # what was normalised, for the scores' notes


def resolve_prediction_ids(bench: Benchmark, predictions: Mapping[str, str], known: Iterable[str]) -> ResolvedPredictions:
    known = set(known)
    resolved: dict[str, str] = {}
    origin: dict[str, str] = {}
    renamed: list[tuple[str, str]] = []
    for pid, caption in predictions.items():
        target = pid
        if pid not in known:
            fits = [c for c in dict.fromkeys(bench.id_candidates(pid)) if c in known]
            if len(fits) > 1:
                raise BenchmarkError(f"prediction id {pid!r} fits {len(fits)} pairs of the {bench.label} store "
                                     f"({', '.join(repr(f) for f in fits)}); refusing to guess")
            if not fits:
                tried = bench.id_candidates(pid)
                also = f" (nor as {', '.join(repr(t) for t in tried)})" if tried else ""
                raise BenchmarkError(f"prediction id {pid!r} is not a pair of the {bench.label} store{also}")
            target = fits[0]
            renamed.append((pid, target))
        if target in resolved:
            raise BenchmarkError(f"prediction ids {origin[target]!r} and {pid!r} both name pair {target!r}")
        resolved[target] = caption
        origin[target] = pid
    note = None
    if renamed:
        examples = ", ".join(f"{a!r} -> {b!r}" for a, b in renamed[:3])
        note = (f"{len(renamed)} of {len(predictions)} prediction ids named pairs in another group's style and were "
                f"mapped to the store's ids ({examples}{', ...' if len(renamed) > 3 else ''})")
    return ResolvedPredictions(resolved, note)
