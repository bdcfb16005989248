"""Multi-scale Differential Perception (MDP): the paper's plug-in between the vision encoder and the projector.

For every tapped encoder layer i, with patch features F1 (before) and F2 (after), each [B, L, C]:

1. channel gate ``lam = sigmoid(W_m [F1 ; F2])`` computed per token (``W_m``: 2C -> C); the gate is shared by
   both images, ``F1' = lam * F1`` and ``F2' = lam * F2``, so that the subtraction in step 2 compares the same
   re-weighted channels of the two images (``gate="per_image"``: the paper's notation also allows one gate per
   image, ``lam_k``: ``W_m``: 2C -> 2C split into ``lam_1`` and ``lam_2``);
2. difference feature ``dF = W_p [F1' ; F2' ; F1' - F2']`` (``W_p``: 3C -> C);
3. fusion, with weights shared by the two images (the pair is symmetric): pre-norm residual blocks,
   ``H = F' + SelfAttn(LN(F'))``, ``H = H + CrossAttn(LN(H), LN(dF))`` (queries from the image, keys and
   values from the difference feature: attention over all positions is what tolerates small misalignment),
   then ``H = H + MLP(LN(H))`` when ``fusion_mlp_ratio > 0``;
4. multi-scale: each layer's fused tokens of both images are average-pooled into one vector, an MLP
   (C -> C * ``scale_mlp_ratio`` -> 1) scores it, a softmax over the layers gives per-pair weights, and the
   weighted sum of the layers (per image) goes on to the projector and the language model
   (``layer_weights="per_channel"``: the MLP ends in C outputs, one score per channel, and the softmax over the
   layers is taken per channel, the product of ``Score^i`` with the features read element-wise).

Where the paper is silent the choices above (per-token shared gate, pre-norm residuals, shared fusion
weights, softmax layer weights over pooled pairs) are this project's, each a field of :class:`MDPConfig`.
The module sees hidden states as the ``LlavaOnevisionModel`` selects them: ``hidden_states[k]`` is the output
of encoder layer k (1-based), the paper's layers 17, 20, 23, 26 of SigLIP-SO400M.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


GATES = ("shared", "per_image")
LAYER_WEIGHTS = ("scalar", "per_channel")


@dataclass(frozen=True)
class MDPConfig:
    """Sizes of the MDP module; ``hidden_size`` is the vision encoder's width C."""

    hidden_size: int
    layers: tuple[int, ...] = (17, 20, 23, 26)
    num_heads: int = 16
    fusion_mlp_ratio: float = 2.0
    scale_mlp_ratio: float = 0.25
    layer_norm_eps: float = 1e-6
    init_std: float = 0.02
    gate: str = "shared"  # or "per_image"
    layer_weights: str = "scalar"  # or "per_channel"

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("MDP needs at least one tapped layer")
        if self.gate not in GATES:
            raise ValueError(f"MDP gate {self.gate!r}: expected one of {', '.join(GATES)}")
        if self.layer_weights not in LAYER_WEIGHTS:
            raise ValueError(f"MDP layer_weights {self.layer_weights!r}: expected one of {', '.join(LAYER_WEIGHTS)}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"MDP hidden_size {self.hidden_size} is not divisible by num_heads {self.num_heads}")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["layers"] = list(self.layers)
        return data


class ChannelGate(nn.Module):
    """``lam = sigmoid(W_m [F1 ; F2])``, one gate per token and channel: shared by both images, or one per image."""

    def __init__(self, hidden_size: int, per_image: bool = False) -> None:
        super().__init__()
        self.per_image = per_image
        self.proj = nn.Linear(2 * hidden_size, (2 if per_image else 1) * hidden_size)

    def forward(self, before: torch.Tensor, after: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lam = torch.sigmoid(self.proj(torch.cat([before, after], dim=-1)))
        if self.per_image:
            lam_before, lam_after = lam.chunk(2, dim=-1)
            return lam_before * before, lam_after * after
        return lam * before, lam * after


class DifferenceProjection(nn.Module):
    """``dF = W_p [F1' ; F2' ; F1' - F2']``."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(3 * hidden_size, hidden_size)

    def forward(self, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.cat([before, after, before - after], dim=-1))


class Attention(nn.Module):
    """Multi-head attention through SDPA (flash/efficient kernels on CUDA); queries and keys may differ."""

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q_proj = nn.Linear(hidden_size, hidden_size)
        self.k_proj = nn.Linear(hidden_size, hidden_size)
        self.v_proj = nn.Linear(hidden_size, hidden_size)
        self.o_proj = nn.Linear(hidden_size, hidden_size)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        return x.view(batch, length, self.num_heads, width // self.num_heads).transpose(1, 2)

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        q, k, v = self._heads(self.q_proj(query)), self._heads(self.k_proj(context)), self._heads(self.v_proj(context))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.o_proj(out.transpose(1, 2).reshape(query.shape))


class DifferenceFusion(nn.Module):
    """Fuse the difference feature back into one image's tokens: self-attention, cross-attention, MLP."""

    def __init__(self, config: MDPConfig) -> None:
        super().__init__()
        width, eps = config.hidden_size, config.layer_norm_eps
        self.norm_self = nn.LayerNorm(width, eps=eps)
        self.self_attn = Attention(width, config.num_heads)
        self.norm_query = nn.LayerNorm(width, eps=eps)
        self.norm_context = nn.LayerNorm(width, eps=eps)
        self.cross_attn = Attention(width, config.num_heads)
        self.mlp: nn.Module | None = None
        if config.fusion_mlp_ratio > 0:
            inner = max(1, int(width * config.fusion_mlp_ratio))
            self.norm_mlp = nn.LayerNorm(width, eps=eps)
            self.mlp = nn.Sequential(nn.Linear(width, inner), nn.GELU(approximate="tanh"), nn.Linear(inner, width))

    def forward(self, tokens: torch.Tensor, difference: torch.Tensor) -> torch.Tensor:
        normed = self.norm_self(tokens)
        hidden = tokens + self.self_attn(normed, normed)
        hidden = hidden + self.cross_attn(self.norm_query(hidden), self.norm_context(difference))
        if self.mlp is not None:
            hidden = hidden + self.mlp(self.norm_mlp(hidden))
        return hidden


class DifferentialPerceptionBlock(nn.Module):
    """Steps 1-3 for one tapped layer."""

    def __init__(self, config: MDPConfig) -> None:
        super().__init__()
        self.gate = ChannelGate(config.hidden_size, per_image=config.gate == "per_image")
        self.difference = DifferenceProjection(config.hidden_size)
        self.fusion = DifferenceFusion(config)

    def forward(self, before: torch.Tensor, after: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gated_before, gated_after = self.gate(before, after)
        difference = self.difference(gated_before, gated_after)
        return self.fusion(gated_before, difference), self.fusion(gated_after, difference)


class ScaleWeighting(nn.Module):
    """Step 4: per-pair softmax weights over the layers (one per layer, or one per layer and channel) from
    average-pooled features and an MLP; returns [B, K, 1] or [B, K, C]."""

    def __init__(self, config: MDPConfig) -> None:
        super().__init__()
        inner = max(1, int(config.hidden_size * config.scale_mlp_ratio))
        scores = config.hidden_size if config.layer_weights == "per_channel" else 1
        self.mlp = nn.Sequential(nn.Linear(config.hidden_size, inner), nn.GELU(approximate="tanh"), nn.Linear(inner, scores))

    def forward(self, per_layer: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        pooled = torch.stack([torch.cat([b, a], dim=1).mean(dim=1) for b, a in per_layer], dim=1)  # [B, K, C]
        return torch.softmax(self.mlp(pooled).float(), dim=1).to(pooled.dtype)  # softmax over the K layers


class MultiScaleDifferentialPerception(nn.Module):
    """The whole MDP: one block per tapped layer, then the weighted multi-scale sum."""

    def __init__(self, config: MDPConfig) -> None:
        super().__init__()
        self.config = config
        self.blocks = nn.ModuleList(DifferentialPerceptionBlock(config) for _ in config.layers)
        self.scale = ScaleWeighting(config)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Small normal weights, zero biases, unit LayerNorms (never zero projections: every part must learn)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=self.config.init_std)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, before: list[torch.Tensor], after: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """``before[k]``/``after[k]``: [B, L, C] features of tapped layer k; returns the fused [B, L, C] pair."""
        if len(before) != len(self.blocks) or len(after) != len(self.blocks):
            raise ValueError(f"MDP expects {len(self.blocks)} layers, got {len(before)} and {len(after)}")
        per_layer = [block(b, a) for block, b, a in zip(self.blocks, before, after)]
        weights = self.scale(per_layer).unsqueeze(2)  # [B, K, 1, 1 or C]
        fused_before = (weights * torch.stack([b for b, _ in per_layer], dim=1)).sum(dim=1)
        fused_after = (weights * torch.stack([a for _, a in per_layer], dim=1)).sum(dim=1)
        return fused_before, fused_after
