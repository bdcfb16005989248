"""Which training sample sits at each position of a run: the store mixture, the seeded order, each rank's slice.

A run is a sequence of sample positions 0, 1, 2, ...; optimiser step ``s`` consumes positions
``[s * G, (s + 1) * G)`` for the global batch ``G``, and rank ``r`` of ``W`` takes its ``G / W`` of them, in
micro-batches of ``--batch-size``. The order is a pure function of the seed, the stores and their weights,
never of the number of ranks or of how far a previous attempt got, which is what lets a run resume with
another number of ranks (only the position is saved).

- Without weights the stores are one concatenated pool and epoch ``e`` is a permutation of it drawn from
  ``seed + e`` (every sample once per epoch).
- With weights (``--data STORE:WEIGHT`` for every store) each position first draws a store with probability
  ``w_i / sum(w)`` (blocks of draws seeded by position, so the order does not depend on the run's length),
  then takes that store's next sample in its own seeded order, starting over when it is exhausted. An epoch is
  then the pooled sample count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from omnidiff.models.m3diff.errors import M3DiffError

DRAW_BLOCK = 4096
STORE_STREAM = 1_000_003  # keeps each store's order seeds apart from the pool's and from each other


@dataclass(frozen=True)
class DataSource:
    path: Path
    weight: float | None


def parse_source(text: str) -> DataSource:
    """``STORE`` or ``STORE:WEIGHT`` (a positive number after the last colon; a path may hold colons)."""
    head, sep, tail = str(text).rpartition(":")
    if sep and head:
        try:
            weight = float(tail)
        except ValueError:
            return DataSource(Path(text), None)
        if not math.isfinite(weight) or weight <= 0:
            raise M3DiffError(f"train m3diff: --data {text}: the weight must be a positive number")
        return DataSource(Path(head), weight)
    return DataSource(Path(text), None)


def parse_sources(texts: list[str]) -> list[DataSource]:
    sources = [parse_source(t) for t in texts]
    weighted = [s.weight is not None for s in sources]
    if any(weighted) and not all(weighted):
        raise M3DiffError("train m3diff: give a weight to every --data store (STORE:WEIGHT) or to none")
    return sources


class SampleOrder:
    """``order[p]``: the index (into the pooled sample list) of the sample at position ``p``."""

    def __init__(self, store_sizes: list[int], seed: int, weights: list[float] | None = None) -> None:
        if not store_sizes or min(store_sizes) < 0 or sum(store_sizes) == 0:
            raise M3DiffError("train m3diff: no samples to order")
        self.sizes, self.seed = list(store_sizes), seed
        self.offsets = [sum(store_sizes[:i]) for i in range(len(store_sizes))]
        self.weights = None if weights is None else torch.tensor(weights, dtype=torch.float64)
        if self.weights is not None and any(n == 0 for n in store_sizes):
            raise M3DiffError("train m3diff: a weighted --data store has no samples")
        self._permutations: dict[tuple[int, int], list[int]] = {}
        self._blocks: dict[int, list[int]] = {}
        self._drawn: dict[int, list[int]] = {0: [0] * len(store_sizes)}  # block -> samples per store before it

    @property
    def epoch_size(self) -> int:
        return sum(self.sizes)

    def _permutation(self, stream: int, epoch: int, size: int) -> list[int]:
        key = (stream, epoch)
        if key not in self._permutations:
            seed = self.seed + epoch if stream < 0 else self.seed * STORE_STREAM + stream * 7919 + epoch
            self._permutations[key] = torch.randperm(size, generator=torch.Generator().manual_seed(seed)).tolist()
        return self._permutations[key]

    def _block(self, block: int) -> list[int]:
        if block not in self._blocks:
            generator = torch.Generator().manual_seed(self.seed * STORE_STREAM + 104729 * (block + 1))
            self._blocks[block] = torch.multinomial(self.weights, DRAW_BLOCK, replacement=True, generator=generator).tolist()
        return self._blocks[block]

    def _counts_before(self, block: int) -> list[int]:
        """How many samples each store gave before ``block`` (counted block by block from the last one known)."""
        known = max(b for b in self._drawn if b <= block)
        counts = list(self._drawn[known])
        for b in range(known, block):
            for store in self._block(b):
                counts[store] += 1
            self._drawn[b + 1] = list(counts)
        return self._drawn[block]

    def __getitem__(self, position: int) -> int:
        if position < 0:
            raise IndexError(position)
        if self.weights is None:
            epoch, offset = divmod(position, self.epoch_size)
            return self._permutation(-1, epoch, self.epoch_size)[offset]
        block, within = divmod(position, DRAW_BLOCK)
        draws = self._block(block)
        store = draws[within]
        taken = self._counts_before(block)[store] + draws[:within].count(store)
        epoch, offset = divmod(taken, self.sizes[store])
        return self.offsets[store] + self._permutation(store, epoch, self.sizes[store])[offset]


def rank_positions(step: int, global_batch: int, world: int, rank: int) -> range:
    """Rank ``rank``'s contiguous slice of step ``step``'s global batch."""
    per_rank = global_batch // world
    start = step * global_batch + rank * per_rank
    return range(start, start + per_rank)


def accumulation_steps(global_batch: int, batch_size: int, world: int) -> int:
    if global_batch < 1 or batch_size < 1 or global_batch % (batch_size * world):
        raise M3DiffError(f"train m3diff: --global-batch-size {global_batch} is not a multiple of --batch-size "
                          f"{batch_size} x {world} rank(s)")
    return global_batch // (batch_size * world)
