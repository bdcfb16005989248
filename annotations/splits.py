"""Train/val/test by scene, for synthetic and real pairs alike: one ratio parser, one seeded assignment.

The assignment: the scenes to place are sorted, shuffled by a ``random.Random(seed)`` and cut by
largest remainder, so the shares are exact (not drawn) and listing order never matters. Scenes that
already have a split keep it, and the cut aims at the ratios over old and new scenes together, so a
store filled one scene at a time still approaches the ratios. The synthetic generator applies it to
fixed blocks of consecutive scene indices (``SCENE_BLOCK``), so a scene's split depends only on the seed
and its block: the same for any ``--scenes`` count, any ``--shard``, any rerun.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping

from annotations.errors import OmniDiffError
from annotations.schema import SPLITS

Ratios = tuple[float, float, float]
DEFAULT_RATIOS: Ratios = (0.8, 0.1, 0.1)
SCENE_BLOCK = 20


def parse_split_ratios(text: str, option: str = "--split-ratios") -> Ratios:
    """Three train,val,test shares: fractions that add up to 1 (``0.8,0.1,0.1``) or whole-number weights
    (``8,1,1``, ``80,10,10``), normalised. Fractions that do not add up to 1 are refused (a typo, most
    likely), as are negative, infinite and NaN values and an all-zero triple."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise OmniDiffError(f"{option} {text!r}: expected three numbers, e.g. 0.8,0.1,0.1") from None
    if len(values) != 3:
        raise OmniDiffError(f"{option} {text!r}: expected three numbers (train,val,test), e.g. 0.8,0.1,0.1")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise OmniDiffError(f"{option} {text!r}: shares must be finite and not negative")
    total = sum(values)
    if total <= 0:
        raise OmniDiffError(f"{option} {text!r}: at least one share must be above 0")
    whole = all(v == int(v) for v in values)
    if not whole and abs(total - 1.0) > 1e-6:
        raise OmniDiffError(f"{option} {text!r}: fractions must add up to 1 (or give whole-number weights like 8,1,1)")
    return tuple(v / total for v in values)  # type: ignore[return-value]


def check_ratios(ratios: Iterable[float]) -> Ratios:
    """The same rules for ratios given in code (a tuple of three finite shares adding up to 1)."""
    values = tuple(float(v) for v in ratios)
    if len(values) != 3 or not all(math.isfinite(v) and v >= 0 for v in values) or abs(sum(values) - 1.0) > 1e-6:
        raise OmniDiffError(f"split ratios {values!r}: need three finite, non-negative shares that add up to 1")
    return values  # type: ignore[return-value]


def _largest_remainder(ratios: Iterable[float], n: int) -> list[int]:
    exact = [r * n for r in ratios]
    counts = [int(x) for x in exact]
    for i in sorted(range(len(counts)), key=lambda i: (-(exact[i] - counts[i]), i))[: n - sum(counts)]:
        counts[i] += 1
    return counts


def assign_splits(
    scenes: Iterable[str],
    seed: int | str,
    ratios: Ratios = DEFAULT_RATIOS,
    forced: str | None = None,
    known: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Scene -> split for every scene in ``scenes``; ``known`` scenes keep their split, ``forced`` puts
    every new scene in one split, else new scenes are placed by the seeded cut described above."""
    if forced is not None and forced not in SPLITS:
        raise OmniDiffError(f"--split {forced!r}: choose one of {', '.join(SPLITS)}")
    ratios = check_ratios(ratios)
    known = dict(known or {})
    wanted = set(scenes)
    result = {s: known[s] for s in wanted & set(known)}
    new = sorted(wanted - set(known))
    if forced is not None:
        result.update({s: forced for s in new})
        return result
    if not new:
        return result
    held = Counter(known.values())
    target = _largest_remainder(ratios, len(known) + len(new))
    need = [max(0, t - held.get(split, 0)) for t, split in zip(target, SPLITS)]
    counts = _largest_remainder([n / sum(need) for n in need], len(new)) if sum(need) else _largest_remainder(ratios, len(new))
    random.Random(seed).shuffle(new)
    start = 0
    for split, count in zip(SPLITS, counts):
        for scene in new[start:start + count]:
            result[scene] = split
        start += count
    return result


def scene_split(seed: int, namespace: str, scene_index: int, ratios: Ratios = DEFAULT_RATIOS) -> str:
    """The split of one synthetic scene: the assignment above over its block of ``SCENE_BLOCK`` indices."""
    block = scene_index // SCENE_BLOCK
    names = [str(i) for i in range(block * SCENE_BLOCK, (block + 1) * SCENE_BLOCK)]
    return assign_splits(names, f"{namespace}/{seed}/split-block-{block}", ratios)[str(scene_index)]
