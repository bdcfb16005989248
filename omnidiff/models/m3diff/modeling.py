"""M3Diff on top of transformers' LLaVA-OneVision, as a plug-in (subclass and compose; no copied code).

LLaVA-OneVision selects ``hidden_states[k]`` for every k in ``config.vision_feature_layer`` (here the MDP
layers), concatenates them on the channel axis and calls ``multi_modal_projector``. M3Diff swaps that
projector for :class:`DifferentialProjector`, a subclass with the same ``linear_1``/``linear_2`` weights (so
checkpoint keys stay LLaVA-OneVision's) and an ``mdp`` child that turns the per-layer features of each
(before, after) image pair into the fused features the projector expects. Every sample carries exactly
two images, before then after, in multi-image mode (one view per image), so image ``2i`` and ``2i+1`` of
the flattened batch form pair ``i``.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from transformers.models.llava_onevision.modeling_llava_onevision import (
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionMultiModalProjector,
)

from omnidiff.models.m3diff.config import M3DiffConfig
from omnidiff.models.m3diff.mdp import MultiScaleDifferentialPerception


class ImagePairingError(ValueError):
    """The vision features do not come in (before, after) pairs."""


class DifferentialProjector(LlavaOnevisionMultiModalProjector):
    """MDP, then LLaVA-OneVision's two-layer projector on one layer's width."""

    def __init__(self, config: M3DiffConfig) -> None:
        single_layer = SimpleNamespace(
            vision_feature_layer=-1,
            vision_config=config.vision_config,
            text_config=config.text_config,
            projector_hidden_act=config.projector_hidden_act,
            multimodal_projector_bias=config.multimodal_projector_bias,
        )
        super().__init__(single_layer)
        self.num_layers = len(config.mdp_layers)
        self.mdp = MultiScaleDifferentialPerception(config.mdp_config())

    def forward(self, image_features: torch.Tensor) -> torch.Tensor:
        """``image_features``: [2B, L, K*C], the K tapped layers concatenated; returns [2B, L, D]."""
        images, length, width = image_features.shape
        if images % 2:
            raise ImagePairingError(f"M3Diff needs (before, after) image pairs; got {images} images")
        per_layer = image_features.view(images // 2, 2, length, self.num_layers, width // self.num_layers)
        before = [per_layer[:, 0, :, k] for k in range(self.num_layers)]
        after = [per_layer[:, 1, :, k] for k in range(self.num_layers)]
        fused_before, fused_after = self.mdp(before, after)
        fused = torch.stack([fused_before, fused_after], dim=1).reshape(images, length, -1)
        return super().forward(fused)


def _check_two_images_per_sample(_module, args, kwargs):
    """Images that are not exactly two per sample would be tiled into several views each (any-res mode) and
    the MDP would pair up the wrong feature maps: refuse them."""
    if kwargs.get("pixel_values") is None and (len(args) < 2 or args[1] is None):
        return None
    counts = kwargs.get("batch_num_images")
    counts = [] if counts is None else [int(n) for n in counts]
    if not counts or any(n != 2 for n in counts):
        raise ImagePairingError(f"M3Diff needs exactly two images (before, after) per sample; got {counts or 'no counts'}")
    return None


class M3DiffForConditionalGeneration(LlavaOnevisionForConditionalGeneration):
    """LLaVA-OneVision with the MDP projector; everything else (generation, caching, losses) is inherited."""

    config_class = M3DiffConfig
    config: M3DiffConfig

    def __init__(self, config: M3DiffConfig) -> None:
        super().__init__(config)
        self.model.multi_modal_projector = DifferentialProjector(config)
        self.post_init()
        # A pre-hook rather than a forward override: generate() validates its kwargs against forward's signature.
        self.register_forward_pre_hook(_check_two_images_per_sample, with_kwargs=True)

    @property
    def mdp(self) -> MultiScaleDifferentialPerception:
        return self.model.multi_modal_projector.mdp


def mdp_parameter_names(model: torch.nn.Module) -> list[str]:
    """Names of the MDP parameters (for tests and for the optimiser's parameter groups)."""
    return sorted(name for name, _ in model.named_parameters() if ".mdp." in name)
