"""LoRA dropout whose mask belongs to the sample, not to the batch it happens to sit in.

``nn.Dropout`` draws one mask for the whole micro-batch from the global generator, so the mask a sample gets
depends on which rank it runs on, what else is in its micro-batch and how far the generator has advanced:
two ranks with batch 2 and one process with batch 4 would train on different masks, and so would a resumed
run. Here each sample's mask comes from its own generator, seeded by the run's seed, the sample's position in
the run and the module, and is drawn over the sample's real (unpadded) length only; padding never shifts a
mask. The same masks come back when gradient checkpointing recomputes a forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

MIX_A, MIX_B, MASK63 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, (1 << 63) - 1


@dataclass
class SampleSeeds:
    """Set by the trainer around each micro-batch: one seed and one real length per row."""

    seeds: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def set(self, seeds: list[int], lengths: list[int]) -> None:
        self.seeds, self.lengths = list(seeds), list(lengths)


def sample_seed(run_seed: int, position: int) -> int:
    return (run_seed * MIX_A + (position + 1) * MIX_B) & MASK63


class SampleSeededDropout(nn.Module):
    """Inverted dropout on [batch, length, width] inputs with per-sample, per-module masks."""

    def __init__(self, p: float, index: int, seeds: SampleSeeds) -> None:
        super().__init__()
        self.p, self.index, self.holder = float(p), index, seeds

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        seeds, lengths = self.holder.seeds, self.holder.lengths
        if x.dim() != 3 or len(seeds) != x.shape[0] or len(lengths) != x.shape[0]:
            raise RuntimeError(f"sample-seeded dropout: {len(seeds)} seeds for an input of shape {tuple(x.shape)}")
        keep = torch.ones(x.shape, dtype=torch.bool, device=x.device)
        for row, (seed, length) in enumerate(zip(seeds, lengths)):
            generator = torch.Generator(device=x.device).manual_seed((seed + self.index * MIX_A) & MASK63)
            keep[row, :length] = torch.rand((length, x.shape[2]), generator=generator, device=x.device) >= self.p
        return x * keep.to(x.dtype) / (1.0 - self.p)


def install(model: nn.Module, seeds: SampleSeeds) -> int:
    """Replace peft's ``lora_dropout`` ``nn.Dropout`` modules; returns how many were replaced."""
    count = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, nn.ModuleDict):
            continue
        for name, dropout in list(dropouts.items()):
            if isinstance(dropout, nn.Dropout):
                dropouts[name] = SampleSeededDropout(dropout.p, count, seeds)
                count += 1
    return count
