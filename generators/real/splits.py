"""Seeded train/val/test assignment by scene: all pairs of one camera, video or folder share a split."""

from __future__ import annotations

import random
from collections.abc import Iterable

from annotations.errors import OmniDiffError
from annotations.schema import SPLITS


def parse_ratios(text: str) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` -> a normalised (train, val, test) triple."""
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise OmniDiffError(f"--split-ratios {text!r}: expected three numbers like 0.8,0.1,0.1") from None
    if len(parts) != 3 or any(p < 0 for p in parts) or sum(parts) <= 0:
        raise OmniDiffError(f"--split-ratios {text!r}: expected three non-negative numbers like 0.8,0.1,0.1")
    total = sum(parts)
    return tuple(p / total for p in parts)  # type: ignore[return-value]


def assign_splits(
    scenes: Iterable[str],
    seed: int,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    forced: str | None = None,
    known: dict[str, str] | None = None,
) -> dict[str, str]:
    """Scene -> split. Scenes already in the store keep theirs; new ones are shuffled with ``seed``
    (from sorted order, so listing order never matters) and cut by ``ratios`` (largest remainder)."""
    if forced is not None and forced not in SPLITS:
        raise OmniDiffError(f"--split {forced!r}: choose one of {', '.join(SPLITS)}")
    known = dict(known or {})
    new = sorted(set(scenes) - set(known))
    result = {s: known[s] for s in set(scenes) & set(known)}
    if forced is not None:
        result.update({s: forced for s in new})
        return result
    random.Random(seed).shuffle(new)
    exact = [r * len(new) for r in ratios]
    counts = [int(x) for x in exact]
    for i in sorted(range(3), key=lambda i: (-(exact[i] - counts[i]), i))[: len(new) - sum(counts)]:
        counts[i] += 1
    start = 0
    for split, count in zip(SPLITS, counts):
        for scene in new[start : start + count]:
            result[scene] = split
        start += count
    return result
