"""M3Diff configuration: LLaVA-OneVision's config plus the MDP fields, and the named presets."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import LlavaOnevisionConfig

from omnidiff.models.m3diff.mdp import MDPConfig

DEFAULT_HUB_ID = "IVC-liuyuan/M3Diff"
PAPER_MDP_LAYERS = (17, 20, 23, 26)


@strict
class M3DiffConfig(LlavaOnevisionConfig):
    """``mdp_layers`` are 1-based encoder layers (``hidden_states[k]``); they also become ``vision_feature_layer``
    so that LLaVA-OneVision's own feature selection hands exactly those layers to the MDP projector."""

    model_type = "m3diff"

    mdp_layers: list[int] | None = None
    mdp_num_heads: int = 16
    mdp_fusion_mlp_ratio: float = 2.0
    mdp_scale_mlp_ratio: float = 0.25
    mdp_gate: str = "shared"
    mdp_layer_weights: str = "scalar"

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        if self.mdp_layers is None:
            self.mdp_layers = list(PAPER_MDP_LAYERS)
        self.mdp_layers = [int(k) for k in self.mdp_layers]
        depth = self.vision_config.num_hidden_layers
        bad = [k for k in self.mdp_layers if not 1 <= k <= depth]
        if bad:
            raise ValueError(f"mdp_layers {bad} outside the vision encoder's layers 1..{depth}")
        if len(set(self.mdp_layers)) != len(self.mdp_layers):
            raise ValueError(f"mdp_layers has duplicates: {self.mdp_layers}")
        self.vision_feature_layer = list(self.mdp_layers)
        self.vision_feature_select_strategy = "full"
        self.mdp_config()  # refuses unknown gate / layer-weight variants and bad head counts now, not at build time

    def mdp_config(self) -> MDPConfig:
        return MDPConfig(
            hidden_size=self.vision_config.hidden_size,
            layers=tuple(self.mdp_layers),
            num_heads=self.mdp_num_heads,
            fusion_mlp_ratio=self.mdp_fusion_mlp_ratio,
            scale_mlp_ratio=self.mdp_scale_mlp_ratio,
            layer_norm_eps=getattr(self.vision_config, "layer_norm_eps", 1e-6),
            gate=self.mdp_gate,
            layer_weights=self.mdp_layer_weights,
        )

    @property
    def image_tokens_per_image(self) -> int:
        """Multi-image mode: one 384-px view per image, (image/patch)^2 tokens plus the newline token."""
        side = self.vision_config.image_size // self.vision_config.patch_size
        return side * side + 1


def paper_config() -> M3DiffConfig:
    """The real architecture: SigLIP-SO400M (26 layers, LLaVA-OneVision drops the last) + Qwen2-7B."""
    return M3DiffConfig(
        vision_config=dict(
            model_type="siglip_vision_model", hidden_size=1152, intermediate_size=4304, patch_size=14,
            image_size=384, num_hidden_layers=26, num_attention_heads=16, vision_use_head=False,
        ),
        text_config=dict(
            model_type="qwen2", hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
            num_attention_heads=28, num_key_value_heads=4, vocab_size=152128, max_position_embeddings=32768,
            rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False,
        ),
        image_token_index=151646,
        video_token_index=151647,
        mdp_layers=list(PAPER_MDP_LAYERS),
        mdp_num_heads=16,
        image_grid_pinpoints=[[384, 384]],
    )


def tiny_config(vocab_size: int, image_token_index: int, video_token_index: int, mdp_layers: list[int] | None = None,
                **mdp_options: str) -> M3DiffConfig:
    """A few small layers with the same structure, for tests and ``preset=tiny-random`` (milliseconds on CPU);
    ``mdp_options``: ``mdp_gate``, ``mdp_layer_weights``."""
    return M3DiffConfig(
        vision_config=dict(
            model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, patch_size=8, image_size=32,
            num_hidden_layers=5, num_attention_heads=2, vision_use_head=False,
        ),
        text_config=dict(
            model_type="qwen2", hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
            num_key_value_heads=1, vocab_size=vocab_size, max_position_embeddings=1024, tie_word_embeddings=False,
        ),
        image_token_index=image_token_index,
        video_token_index=video_token_index,
        mdp_layers=list(mdp_layers or [2, 4, 5]),
        mdp_num_heads=2,
        image_grid_pinpoints=[[32, 32]],
        **mdp_options,
    )


def _register() -> None:
    """Let ``AutoConfig`` (used by ``AutoTokenizer`` on a checkpoint folder) recognise ``model_type: m3diff``."""
    from transformers import AutoConfig

    AutoConfig.register("m3diff", M3DiffConfig, exist_ok=True)


_register()
